using System.Globalization;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Atr.Hub.Tests.Infrastructure;
using Atr.Testing;
using Xunit;

namespace Atr.Hub.Tests;

/// <summary>The raw endpoint's answers to what clients send, and to requests it refuses.</summary>
public sealed class WebSocketProtocolTests
{
    [Theory]
    [InlineData("/organization/1234*")]
    [InlineData("/organization/12*")]
    [InlineData("/organization/1234/")]
    [InlineData("/organization//1234")]
    [InlineData("//organization/1234")]
    [InlineData("/organization/1234%2F")]
    [InlineData("/organization%2F1234")]
    [InlineData("/organization/12.34")]
    [InlineData("/organization.1234")]
    [InlineData("/organization")]
    [InlineData("/organization/1234/user")]
    [InlineData("/organization/12%3F")]
    [InlineData("/organization/%2A")]
    [InlineData("/organization/12%2034")]
    [InlineData("/organization/caf%C3%A9")]
    [InlineData("/organization/1234567890123456789012345678901234567890123456789012345678901234567890")]
    public async Task MalformedScopePathIsRefusedWith400BeforeTheUpgrade(string target)
    {
        await using var hub = await HubHost.StartAsync();

        var response = await RawHttp.HandshakeAsync(hub.Port, target);

        Assert.Equal(400, response.Status);
        Assert.Contains("Malformed scope path", response.Body, StringComparison.Ordinal);
        Assert.Contains("text/plain", response.Head, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(0, hub.Metrics.ConnectionsOpened);
    }

    [Theory]
    [InlineData("/", "")]
    [InlineData("/organization/1234", "organization.1234")]
    [InlineData("/organization/1234/user/42", "organization.1234.user.42")]
    [InlineData("/Org_a-1/X-y_Z", "Org_a-1.X-y_Z")]
    public async Task WellFormedPathsUpgradeAndListenToTheirScope(string path, string scope)
    {
        await using var hub = await HubHost.StartAsync();
        await using var client = await hub.ConnectAsync(path);

        var response = await hub.PostPublishAsync(new { scope, name = "post.created" });
        response.EnsureSuccessStatusCode();

        var frame = JsonDocument.Parse(await client.ReceiveAsync()).RootElement;
        Assert.Equal(scope.Length == 0 ? "post.created" : scope + ".post.created", frame.GetProperty("routing_key").GetString());
    }

    [Fact]
    public async Task PlainGetAnswersTheOneLineBanner()
    {
        await using var hub = await HubHost.StartAsync();

        var response = await hub.Http.GetAsync("/");

        Assert.Equal(200, (int)response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Single(body.TrimEnd('\n').Split('\n'));
        Assert.Contains("Atr", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BinaryFrameClosesTheConnectionWith1003()
    {
        await using var hub = await HubHost.StartAsync();
        await using var client = await hub.ConnectAsync("/organization/1");

        await client.Socket.SendAsync(new byte[] { 1, 2, 3 }, WebSocketMessageType.Binary, true, CancellationToken.None).DefaultTimeout();

        Assert.Equal(WebSocketCloseStatus.InvalidMessageType, await client.Closed.DefaultTimeout());
    }

    [Fact]
    public async Task MessageOverTheInboundLimitClosesTheConnectionWith1009()
    {
        await using var hub = await HubHost.StartAsync(options: o => o.MaxInboundMessageBytes = 4096);
        await using var client = await hub.ConnectAsync("/organization/1");

        await client.SendTextAsync(new string('x', 4097));

        Assert.Equal(WebSocketCloseStatus.MessageTooBig, await client.Closed.DefaultTimeout());
    }

    [Fact]
    public async Task MessageAtTheInboundLimitIsAcceptedAndIgnored()
    {
        await using var hub = await HubHost.StartAsync(options: o => o.MaxInboundMessageBytes = 4096);
        await using var client = await hub.ConnectAsync("/organization/1");

        await client.SendTextAsync(new string('x', 4096));
        await client.SendTextAsync("""{"action":"do.something.42"}""");
        await hub.PostPublishAsync(new { scope = "organization.1", name = "still.here" });

        Assert.Contains("still.here", await client.ReceiveAsync(), StringComparison.Ordinal);
        Assert.Equal(WebSocketState.Open, client.Socket.State);
    }

    [Fact]
    public async Task UnsubscribeEndsTheSubscriptionWith1000()
    {
        await using var hub = await HubHost.StartAsync();
        await using var client = await hub.ConnectAsync("/organization/1");

        await client.SendTextAsync("unsubscribe");

        Assert.Equal(WebSocketCloseStatus.NormalClosure, await client.Closed.DefaultTimeout());
        await TestTimeouts.UntilAsync(() => hub.Metrics.Connections == 0, "the hub dropped the connection");
    }

    [Fact]
    public async Task ClientCloseIsAnsweredAndTheConnectionLeavesItsScope()
    {
        await using var hub = await HubHost.StartAsync();
        var client = await hub.ConnectAsync("/organization/1");

        await client.Socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None).DefaultTimeout();

        Assert.Equal(WebSocketState.Closed, client.Socket.State);
        await TestTimeouts.UntilAsync(() => hub.Metrics.Connections == 0, "the hub dropped the connection");
        await client.DisposeAsync();
    }

    [Fact]
    public async Task SilentPeerIsDroppedAfterThePeerTimeout()
    {
        await using var hub = await HubHost.StartAsync(options: o =>
        {
            o.KeepAliveInterval = TimeSpan.FromMilliseconds(300);
            o.PeerTimeout = TimeSpan.FromMilliseconds(900);
        });

        // A ClientWebSocket that never calls ReceiveAsync never reads the server's pings, so it never answers them.
        using var silent = new ClientWebSocket();
        await silent.ConnectAsync(hub.WebSocketUri("/organization/1"), CancellationToken.None).DefaultTimeout();
        await TestTimeouts.UntilAsync(() => hub.Metrics.ConnectionsOpened == 1, "the hub accepted the connection");

        await TestTimeouts.UntilAsync(() => hub.Metrics.Connections == 0, "the hub dropped the silent peer");
    }

    [Fact]
    public async Task AnsweringPeerIsKeptAlivePastThePeerTimeout()
    {
        await using var hub = await HubHost.StartAsync(options: o =>
        {
            o.KeepAliveInterval = TimeSpan.FromMilliseconds(500);
            o.PeerTimeout = TimeSpan.FromMilliseconds(2500);
        });
        await using var client = await hub.ConnectAsync("/organization/1");

        // A peer timeout and more go by (seven pings); the reading client answers every one. The
        // delay is the span being observed, not a wait for something to happen: nothing signals
        // "still alive". Each pong has 2 s to arrive, generous on a loaded machine.
        await TestTimeouts.UntilAsync(() => hub.Metrics.ConnectionsOpened == 1, "the hub accepted the connection");
        await Task.Delay(TimeSpan.FromMilliseconds(3500));

        Assert.Equal(1, hub.Metrics.Connections);
        await hub.PostPublishAsync(new { scope = "organization.1", name = "alive" });
        Assert.Contains("alive", await client.ReceiveAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ConnectionsOpenedTogetherArePingedAtTheirOwnIntervals(bool directUpgrade)
    {
        // Every client of a node that restarted connects within a second or two; pinged at one
        // interval, they would all be pinged in the same instant, every interval, and the events of
        // that instant would wait behind thousands of pings and pongs.
        var interval = TimeSpan.FromSeconds(4);
        await using var hub = await HubHost.StartAsync(
            options: o =>
            {
                o.KeepAliveInterval = interval;
                o.PeerTimeout = TimeSpan.FromSeconds(12);
            },
            directUpgrade: directUpgrade);
        var clients = await Task.WhenAll(Enumerable.Range(0, 30).Select(_ => RawWebSocket.ConnectAsync(hub.Port, "/organization/1")));
        try
        {
            // Each connection's interval is the time between two of its pings.
            var pings = await Task.WhenAll(clients.Select(c => c.ReceivePingsAsync(2))).WaitAsync(TestTimeouts.Default);
            var intervals = pings.Select(p => TimeProvider.System.GetElapsedTime(p[0], p[1]).TotalSeconds).Order().ToArray();

            // Drawn between three quarters of the interval and the interval, 3 to 4 s, and kept by the
            // keep-alive clock, which ticks every 250 ms: 30 draws land on some 4 or 5 ticks, 0.75 to
            // 1 s apart (timer and scheduling delays on a busy machine add to both ends). Pinged at
            // one interval, they would all be within a tick of each other.
            Assert.All(intervals, seconds => Assert.InRange(seconds, 2.5, 6.0));
            Assert.True(intervals[^1] - intervals[0] > 0.4, $"the connections ping at their own intervals: {string.Join(", ", intervals.Select(s => s.ToString("F3", CultureInfo.InvariantCulture)))} s");
        }
        finally
        {
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task ShutdownClosesEveryClientWith1001AndRefusesNewOnes()
    {
        var hub = await HubHost.StartAsync();
        var clients = new[] { await hub.ConnectAsync("/organization/1"), await hub.ConnectAsync("/") };

        var stopping = hub.App.StopAsync();
        foreach (var client in clients)
        {
            Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, await client.Closed.DefaultTimeout());
        }

        await stopping.DefaultTimeout();
        await hub.App.DisposeAsync();
        foreach (var client in clients)
        {
            await client.DisposeAsync();
        }
    }

    [Fact]
    public async Task FramesAreTextAndOnePerEvent()
    {
        await using var hub = await HubHost.StartAsync();
        using var socket = new ClientWebSocket();
        await socket.ConnectAsync(hub.WebSocketUri("/organization/1"), CancellationToken.None).DefaultTimeout();

        await hub.PostPublishAsync(new[] { new { scope = "organization.1", name = "a.one" }, new { scope = "organization.1", name = "a.two" } });

        var buffer = new byte[8192];
        foreach (var expected in new[] { "a.one", "a.two" })
        {
            var result = await socket.ReceiveAsync(buffer, CancellationToken.None).DefaultTimeout();
            Assert.Equal(WebSocketMessageType.Text, result.MessageType);
            Assert.True(result.EndOfMessage);
            Assert.Equal(expected, JsonDocument.Parse(Encoding.UTF8.GetString(buffer, 0, result.Count)).RootElement.GetProperty("name").GetString());
        }
    }
}
