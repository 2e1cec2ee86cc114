using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Atr.Hub.Backplane;
using Atr.Hub.Protocol;
using Atr.Hub.Tests.Infrastructure;
using Atr.Hub.Tests.Security;
using Atr.Testing;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Atr.Hub.Tests;

/// <summary>
/// The standalone hub upgrades plain raw handshakes at the connection, ahead of the HTTP layer, and
/// leaves everything else to it: both paths give the same answers.
/// </summary>
public sealed class DirectUpgradeTests
{
    // RFC 6455, section 1.3: the sample key and its answer.
    private const string SampleKey = "dGhlIHNhbXBsZSBub25jZQ==";
    private const string SampleAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

    private static string Handshake(string target = "/organization/1234?access_token=abc", string? extra = null)
        => $"GET {target} HTTP/1.1\r\nHost: 127.0.0.1:7777\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n" +
           $"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: {SampleKey}\r\nOrigin: https://app.example\r\n" +
           $"Authorization: Bearer xyz\r\nUser-Agent: test\r\n{extra}\r\n";

    private static UpgradeRequest? Read(string text, int maxHeaders = 100)
        => UpgradeRequest.TryRead(new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes(text)), UpgradeRequest.Limits.Default with { MaxHeaderCount = maxHeaders });

    [Fact]
    public void APlainHandshakeIsReadWithWhatTheChecksNeedOnly()
    {
        var text = Handshake();

        var request = Read(text);

        Assert.NotNull(request);
        Assert.Equal("/organization/1234", request.Path);
        Assert.Equal("?access_token=abc", request.Query);
        Assert.Equal(SampleKey, request.Key);
        Assert.Equal(Encoding.ASCII.GetByteCount(text), request.Length);
        Assert.Equal("https://app.example", request.Origin);
        Assert.Equal("Bearer xyz", request.Authorization);

        // A client waits for the 101 before it sends a frame: one that does not is left to Kestrel.
        Assert.Null(Read(text + "\x81\x85trailing frame bytes"));
    }

    [Fact]
    public void TheAcceptAnswerIsRfc6455s()
    {
        var answer = new byte[UpgradeRequest.SwitchingProtocolsLength];
        Assert.Equal(
            $"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: {SampleAccept}\r\n\r\n",
            Encoding.ASCII.GetString(answer.AsSpan(0, UpgradeRequest.SwitchingProtocols(SampleKey, answer))));
    }

    [Theory]
    [InlineData("incomplete", "GET /organization/1 HTTP/1.1\r\nHost: h\r\n")]
    [InlineData("POST", "POST /organization/1 HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")]
    [InlineData("HTTP/1.0", "GET /organization/1 HTTP/1.0\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")]
    [InlineData("no Host", "GET /organization/1 HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")]
    [InlineData("two Hosts", "GET /organization/1 HTTP/1.1\r\nHost: h\r\nHost: i\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")]
    [InlineData("a body", "GET /organization/1 HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")]
    [InlineData("no Connection: Upgrade", "GET /organization/1 HTTP/1.1\r\nHost: h\r\nConnection: keep-alive\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")]
    [InlineData("Upgrade: h2c", "GET /organization/1 HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: h2c\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")]
    [InlineData("version 8", "GET /organization/1 HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 8\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")]
    [InlineData("a short key", "GET /organization/1 HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: c2hvcnQ=\r\n\r\n")]
    [InlineData("two keys", "GET /organization/1 HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")]
    [InlineData("an escaped path", "GET /organization%2F1 HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")]
    [InlineData("an absolute target", "GET http://h/organization/1 HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")]
    [InlineData("a folded header", "GET /organization/1 HTTP/1.1\r\nHost: h\r\n continued\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")]
    [InlineData("a space before the colon", "GET /organization/1 HTTP/1.1\r\nHost : h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")]
    [InlineData("a bare LF", "GET /organization/1 HTTP/1.1\r\nHost: h\nX: y\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")]
    [InlineData("a tab in the query", "GET /organization/1?a=\tb HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")]
    [InlineData("a LF in the request line", "GET /organization/1?a\nb HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")]
    [InlineData("an odd Host", "GET /organization/1 HTTP/1.1\r\nHost: h/x@y\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")]
    [InlineData("an empty Host", "GET /organization/1 HTTP/1.1\r\nHost:\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")]
    [InlineData("a byte past ASCII", "GET /organization/1 HTTP/1.1\r\nHost: h\r\nX: caf\u00e9\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")]
    public void AnythingButAPlainHandshakeIsLeftToTheHttpLayer(string why, string text)
    {
        var bytes = Encoding.Latin1.GetBytes(text);

        Assert.True(UpgradeRequest.TryRead(new ReadOnlySequence<byte>(bytes), UpgradeRequest.Limits.Default) is null, why);
    }

    [Fact]
    public void MoreHeadersThanTheHttpLayerTakesAreLeftToIt()
    {
        var extra = string.Concat(Enumerable.Range(0, 100).Select(i => $"X-{i}: {i}\r\n"));

        // Eight header lines.
        Assert.NotNull(Read(Handshake(), maxHeaders: 8));
        Assert.Null(Read(Handshake(), maxHeaders: 7));
        Assert.Null(Read(Handshake(extra: extra)));
        Assert.Null(Read(Handshake(extra: new string('x', UpgradeRequest.MaxLength))));
    }

    [Theory]
    [InlineData("x:abc")]
    [InlineData(":80")]
    [InlineData("[::1")]
    [InlineData("127.0.0.1:")]
    [InlineData("[::]")]
    [InlineData("[::1]x")]
    [InlineData("[::1]:")]
    [InlineData("[g::1]")]
    [InlineData("h:8:0")]
    [InlineData("")]
    [InlineData("h_1.example")]
    public void AHostKestrelRefusesOrJudgesOtherwiseIsLeftToIt(string host)
    {
        Assert.Null(Read(Handshake().Replace("Host: 127.0.0.1:7777", $"Host: {host}", StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData("hub.example")]
    [InlineData("127.0.0.1")]
    [InlineData("[::1]")]
    [InlineData("[::1]:7777")]
    [InlineData("[fe80::1:2]:80")]
    [InlineData("h:99999")]
    public void AHostKestrelTakesIsRead(string host)
    {
        Assert.NotNull(Read(Handshake().Replace("Host: 127.0.0.1:7777", $"Host: {host}", StringComparison.Ordinal)));
    }

    [Fact]
    public void AKeyWithWhitespaceInsideIsLeftToTheWebSocketMiddleware()
    {
        // It decodes to 16 bytes, and the middleware answers it with the hash of the whole text.
        Assert.Null(Read(Handshake().Replace(SampleKey, "dGhlIHNhbXBs ZSBub25jZQ==", StringComparison.Ordinal)));
    }

    [Fact]
    public void ARequestLineOrHeadersPastKestrelsLimitsAreLeftToIt()
    {
        var text = Handshake();
        var requestLine = text.IndexOf("\r\n", StringComparison.Ordinal) + 2;
        var headers = text.Length - requestLine;

        // The request line counts its CRLF; the header lines count theirs, and the final empty line
        // may go 2 bytes past the limit, as Kestrel lets it.
        Assert.NotNull(UpgradeRequest.TryRead(new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes(text)), new UpgradeRequest.Limits(requestLine, headers - 2, 100)));
        Assert.Null(UpgradeRequest.TryRead(new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes(text)), new UpgradeRequest.Limits(requestLine - 1, headers - 2, 100)));
        Assert.Null(UpgradeRequest.TryRead(new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes(text)), new UpgradeRequest.Limits(requestLine, headers - 3, 100)));
    }

    [Fact]
    public async Task AHandshakeIsAnsweredAtTheConnectionOrByKestrelAndBothDeliver()
    {
        foreach (var direct in new[] { true, false })
        {
            await using var hub = await HubHost.StartAsync(directUpgrade: direct);

            var response = await RawHttp.HandshakeAsync(hub.Port, "/organization/1234");

            Assert.Equal(101, response.Status);
            Assert.Contains($"Sec-WebSocket-Accept: {SampleAccept}", response.Head, StringComparison.Ordinal);

            // Kestrel dates every response it writes; the hub's own 101 carries the four lines RFC 6455 needs.
            Assert.Equal(!direct, response.Head.Contains("\r\nDate: ", StringComparison.Ordinal));

            await using var client = await hub.ConnectAsync("/organization/1234");
            await hub.PostPublishAsync(new { scope = "organization.1234", name = "post.created" });
            var frame = JsonDocument.Parse(await client.ReceiveAsync()).RootElement;
            Assert.Equal("organization.1234.post.created", frame.GetProperty("routing_key").GetString());
        }
    }

    [Fact]
    public async Task FramesSentWithTheHandshakeLeaveItToKestrelAndAreReadAfterTheUpgrade()
    {
        await using var hub = await HubHost.StartAsync();
        using var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", hub.Port).DefaultTimeout();
        var stream = client.GetStream();

        // The handshake and an "unsubscribe" text frame in one write, before the 101 (which a client
        // must wait for): the frame is in the hub's first read, and the handshake goes to Kestrel.
        var request = Encoding.ASCII.GetBytes(RawHttp.UpgradeRequest(hub.Port, "/organization/1"));
        var frame = new WebSocketFrame(WebSocketFrame.Text, "unsubscribe"u8.ToArray()).ToBytes();
        await stream.WriteAsync(request.Concat(frame).ToArray()).AsTask().DefaultTimeout();

        // 101, then the close frame for "unsubscribe": 1000 and its reason.
        var received = new List<byte>();
        var buffer = new byte[1024];
        byte[] expected = [0x88, 0x0e, 0x03, 0xe8, .. "Unsubscribed"u8];
        while (received.ToArray().AsSpan().IndexOf(expected) < 0)
        {
            var read = await stream.ReadAsync(buffer).AsTask().DefaultTimeout();
            if (read == 0)
            {
                break;
            }

            received.AddRange(buffer.AsSpan(0, read).ToArray());
        }

        var text = Encoding.Latin1.GetString(received.ToArray());
        Assert.StartsWith("HTTP/1.1 101 ", text, StringComparison.Ordinal);
        Assert.Contains("\r\nDate: ", text, StringComparison.Ordinal);
        Assert.Contains("\r\n\r\n\x88\x0e\x03\xe8Unsubscribed", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpenedConnectionsAreCountedByTheWayTheyWereUpgraded()
    {
        await using var hub = await HubHost.StartAsync();
        var factory = hub.Services.GetRequiredService<IMeterFactory>();
        var opened = new ConcurrentDictionary<string, long>(StringComparer.Ordinal);
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Scope == factory && instrument.Name == "atr.connections.opened")
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            var key = string.Join(",", tags.ToArray().Select(t => $"{t.Key}={t.Value}"));
            opened[key] = value;
        });
        listener.Start();

        // A plain handshake is upgraded at the connection; one whose version is a list (which the
        // WebSocket middleware reads and the connection-level path leaves to it) through HTTP.
        using var direct = new TcpClient();
        await direct.ConnectAsync("127.0.0.1", hub.Port).DefaultTimeout();
        var directAnswer = await RawHttp.ExchangeAsync(direct.GetStream(), Encoding.ASCII.GetBytes(RawHttp.UpgradeRequest(hub.Port, "/organization/1")));
        using var http = new TcpClient();
        await http.ConnectAsync("127.0.0.1", hub.Port).DefaultTimeout();
        var httpAnswer = await RawHttp.ExchangeAsync(http.GetStream(), Encoding.ASCII.GetBytes(RawHttp.UpgradeRequest(hub.Port, "/organization/1").Replace("Sec-WebSocket-Version: 13", "Sec-WebSocket-Version: 13, 8", StringComparison.Ordinal)));

        Assert.Equal(101, directAnswer.Status);
        Assert.DoesNotContain("\r\nDate: ", directAnswer.Head, StringComparison.Ordinal);
        Assert.Equal(101, httpAnswer.Status);
        Assert.Contains("\r\nDate: ", httpAnswer.Head, StringComparison.Ordinal);
        await TestTimeouts.UntilAsync(
            () =>
            {
                listener.RecordObservableInstruments();
                return opened.GetValueOrDefault("endpoint=raw,upgrade=direct") == 1 && opened.GetValueOrDefault("endpoint=raw,upgrade=http") == 1;
            },
            "atr.connections.opened counted one raw connection of each upgrade");
        Assert.Equal(0, opened.GetValueOrDefault("endpoint=signalr"));
    }

    [Fact]
    public async Task PathsOfTheApplicationsOtherEndpointsAreLeftToRouting()
    {
        await using var hub = await HubHost.StartAsync();

        // A pair of segments, so a scope path in form, but the health endpoint's: routing answers it.
        var response = await RawHttp.HandshakeAsync(hub.Port, "/health/live");

        Assert.Equal(200, response.Status);
        Assert.Contains("Healthy", response.Body, StringComparison.Ordinal);
        Assert.Equal(0, hub.Metrics.ConnectionsOpened);
    }

    [Fact]
    public async Task RefusalsAreAnsweredByTheHttpLayerAndAdmittedTokensUpgradeAtTheConnection()
    {
        await using var hub = await HubHost.StartWithJwtAsync();

        var refused = await RawHttp.HandshakeAsync(hub.Port, "/organization/1");
        var admitted = await RawHttp.HandshakeAsync(hub.Port, "/organization/1?access_token=" + TestTokens.Hs256(["organization.1"]));

        Assert.Equal(401, refused.Status);
        Assert.Contains("WWW-Authenticate: Bearer", refused.Head, StringComparison.Ordinal);
        Assert.Contains("A valid token is required", refused.Body, StringComparison.Ordinal);
        Assert.Equal(101, admitted.Status);
        Assert.DoesNotContain("\r\nDate: ", admitted.Head, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ARefusalDecidedAtTheConnectionAnswersItsOwnHandshakeOnly()
    {
        await using var hub = await HubHost.StartWithJwtAsync();
        using var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", hub.Port).DefaultTimeout();
        var stream = client.GetStream();
        var token = TestTokens.Hs256(["organization.1"]);

        // Refused at the connection and answered by Kestrel, which keeps the connection open; the
        // next handshake on it (another key) is decided afresh.
        var refused = await RawHttp.ExchangeAsync(stream, Encoding.ASCII.GetBytes(RawHttp.UpgradeRequest(hub.Port, "/organization/1")));
        var admitted = await RawHttp.ExchangeAsync(stream, Encoding.ASCII.GetBytes(RawHttp.UpgradeRequest(hub.Port, "/organization/1?access_token=" + token, key: "AQIDBAUGBwgJCgsMDQ4PEA==")));

        Assert.Equal(401, refused.Status);
        Assert.Equal(101, admitted.Status);
    }

    [Fact]
    public async Task ASubscriptionTheBackplaneCannotMakeIsAskedCountedAndAnsweredOnceOnEitherPath()
    {
        foreach (var direct in new[] { true, false })
        {
            var backplane = new FailingBackplane();
            await using var hub = await HubHost.StartAsync(directUpgrade: direct, configure: builder => builder.Services.AddSingleton<IBackplane>(backplane));

            var response = await RawHttp.HandshakeAsync(hub.Port, "/organization/1");

            Assert.Equal(503, response.Status);
            Assert.Contains("Event backplane unavailable", response.Body, StringComparison.Ordinal);
            Assert.Equal(1, backplane.Subscribes);
            Assert.Equal(1, hub.Metrics.SubscriptionFailures);
            Assert.Equal(0, hub.Metrics.ConnectionsOpened);
        }
    }

    [Fact]
    public async Task HostFilteringStillAppliesToEveryHandshake()
    {
        await using var hub = await HubHost.StartAsync(configure: builder => builder.Configuration["AllowedHosts"] = "hub.example");

        var response = await RawHttp.HandshakeAsync(hub.Port, "/organization/1");

        Assert.Equal(400, response.Status);
        Assert.Equal(0, hub.Metrics.ConnectionsOpened);
    }

    [Fact]
    public async Task ARequestAuthenticatorKeepsEveryHandshakeOnTheHttpPath()
    {
        var asked = 0;
        await using var hub = await HubHost.StartAsync(options: o => o.RequestAuthenticator = new CountingAuthenticator(() => Interlocked.Increment(ref asked)));

        var response = await RawHttp.HandshakeAsync(hub.Port, "/organization/1");

        Assert.Equal(101, response.Status);
        Assert.Contains("\r\nDate: ", response.Head, StringComparison.Ordinal);
        Assert.Equal(1, Volatile.Read(ref asked));
    }

    /// <summary>A backplane that cannot subscribe, and counts how often it was asked.</summary>
    private sealed class FailingBackplane : IBackplane
    {
        private int _subscribes;

        public int Subscribes => Volatile.Read(ref _subscribes);

        public string Name => "failing";

        public bool IsDelivering => false;

        public string? Problem => "The backplane cannot subscribe.";

        public Task RunAsync(CancellationToken stoppingToken) => Task.CompletedTask;

        public Task SubscribeAsync(string scope, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _subscribes);
            return Task.FromException(new InvalidOperationException("The backplane cannot subscribe."));
        }

        public Task UnsubscribeAsync(string scope) => Task.CompletedTask;

        public Task<bool> PublishAsync(string scope, string eventId, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken) => Task.FromResult(false);
    }

    private sealed class CountingAuthenticator(Action asked) : IRequestAuthenticator
    {
        public ValueTask<bool> MatchesAsync(Microsoft.AspNetCore.Http.HttpContext context, string scope)
        {
            asked();
            return ValueTask.FromResult(true);
        }
    }
}
