using System.Net.WebSockets;
using System.Text.Json;
using Atr.Hub.Security;
using Atr.Hub.Tests.Infrastructure;
using Atr.Testing;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Atr.Hub.Tests.Security;

/// <summary>Token expiry, Origins, per-address limits and floods of refused handshakes.</summary>
public sealed class ConnectionPolicyTests
{
    [Fact]
    public async Task ConnectionsAreClosedWhenTheirTokenExpiresOnBothEndpoints()
    {
        await using var hub = await HubHost.StartWithJwtAsync();
        var token = TestTokens.Hs256(["organization.1"], expiresIn: TimeSpan.FromSeconds(3));
        var expires = DateTimeOffset.UtcNow.AddSeconds(3);

        await using var raw = await hub.ConnectAsync("/organization/1?access_token=" + token);
        await using var signalR = await SignalRClient.ConnectWithTokenAsync(hub.BaseUri, token, "organization.1");
        var signalRClosed = new TaskCompletionSource<Exception?>(TaskCreationOptions.RunContinuationsAsynchronously);
        signalR.Connection.Closed += e =>
        {
            signalRClosed.TrySetResult(e);
            return Task.CompletedTask;
        };

        Assert.Equal((WebSocketCloseStatus)AtrCloseCodes.TokenExpired, await raw.Closed.DefaultTimeout());
        var reason = await signalRClosed.Task.DefaultTimeout();
        Assert.InRange(DateTimeOffset.UtcNow, expires.AddSeconds(-1), expires.AddSeconds(5));
        Assert.Contains("Token expired", reason?.Message, StringComparison.Ordinal);

        await hub.PostPublishAsync(TestTokens.Hs256(publish: true), new { scope = "organization.1", name = "after.expiry" });
        await raw.AssertNothingAsync();
        await signalR.AssertNothingAsync();
        Assert.Equal(0, hub.Metrics.FramesQueued);
    }

    [Theory]
    [InlineData("https://evil.example", 403)]
    [InlineData("https://app.example", 101)]
    [InlineData("https://APP.example/", 101)]
    [InlineData(null, 101)]
    public async Task OnlyListedOriginsMayOpenBrowserConnections(string? origin, int expected)
    {
        await using var hub = await HubHost.StartAsync(options: o => o.AllowedOrigins.Add("https://app.example"));

        var response = await RawHttp.HandshakeAsync(hub.Port, "/organization/1", origin is null ? null : $"Origin: {origin}\r\n");

        Assert.Equal(expected, response.Status);
        if (expected == 403)
        {
            Assert.Contains("Origin not allowed", response.Body, StringComparison.Ordinal);
            Assert.Equal(0, hub.Metrics.ConnectionsOpened);
        }
    }

    [Fact]
    public async Task SignalRRefusesAForeignOrigin()
    {
        await using var hub = await HubHost.StartAsync(options: o => o.AllowedOrigins.Add("https://app.example"));

        var foreign = new HubConnectionBuilder()
            .WithUrl(new Uri(hub.BaseUri, "/hub?scope=organization.1"), o => o.Headers["Origin"] = "https://evil.example")
            .Build();
        await SignalRClient.AssertRefusedAsync(foreign, "foreign Origin");
        await using var allowed = await SignalRClient.ConnectAsync(hub.BaseUri, "organization.1");

        Assert.Equal(HubConnectionState.Connected, allowed.Connection.State);
    }

    [Fact]
    public async Task ConnectionsPerAddressAreCappedWith429()
    {
        // Every socket counts, from its accept: SignalR without negotiation is one, as a raw client is.
        await using var hub = await HubHost.StartAsync(options: o => o.MaxConnectionsPerIp = 2);
        var first = await hub.ConnectAsync("/organization/1");
        await using var second = WebSocketsOnly(new Uri(hub.BaseUri, "/hub?scope=organization.1"));
        await second.StartAsync().DefaultTimeout();

        var third = await RawHttp.HandshakeAsync(hub.Port, "/organization/1");
        await SignalRClient.AssertRefusedAsync(WebSocketsOnly(new Uri(hub.BaseUri, "/hub")), "over the cap");

        Assert.Equal(429, third.Status);
        Assert.Contains("Too many connections", third.Body, StringComparison.Ordinal);

        // A place frees up when a connection leaves.
        await first.DisposeAsync();
        await TestTimeouts.UntilAsync(() => hub.Metrics.Connections == 1, "the first connection left");
        await using var again = await hub.ConnectAsync("/organization/1");
    }

    [Fact]
    public async Task SocketsThatNeverFinishAHandshakeCountTowardTheirAddressesLimit()
    {
        await using var hub = await HubHost.StartAsync(options: o => o.MaxConnectionsPerIp = 2);
        using var silent = new System.Net.Sockets.TcpClient();
        using var half = new System.Net.Sockets.TcpClient();
        await silent.ConnectAsync("127.0.0.1", hub.Port).DefaultTimeout();
        await half.ConnectAsync("127.0.0.1", hub.Port).DefaultTimeout();
        await half.GetStream().WriteAsync("GET /organization/1 HTTP/1.1\r\nHost: 127.0.0.1\r\n"u8.ToArray()).AsTask().DefaultTimeout();

        // A socket is counted once the server runs its connection, not at the kernel's accept: the
        // third must not overtake the first two to the count.
        var limiter = hub.Services.GetRequiredService<ConnectionLimiter>();
        await TestTimeouts.UntilAsync(() => !limiter.HasRoom(System.Net.IPAddress.Loopback), "both sockets hold a place");

        var refused = await RawHttp.HandshakeAsync(hub.Port, "/organization/1");

        Assert.Equal(429, refused.Status);
        Assert.Equal(0, hub.Metrics.ConnectionsOpened);
    }

    private static HubConnection WebSocketsOnly(Uri uri) => new HubConnectionBuilder()
        .WithUrl(uri, o =>
        {
            o.SkipNegotiation = true;
            o.Transports = Microsoft.AspNetCore.Http.Connections.HttpTransportType.WebSockets;
        })
        .Build();

    [Fact]
    public async Task FloodOfRefusedHandshakesCostsAuthorizedClientsNoEvent()
    {
        await using var hub = await HubHost.StartWithJwtAsync();
        var token = TestTokens.Hs256(["organization.1"]);
        await using var raw = await hub.ConnectAsync("/organization/1?access_token=" + token);
        await using var signalR = await SignalRClient.ConnectWithTokenAsync(hub.BaseUri, token, "organization.1");
        var publisher = TestTokens.Hs256(publish: true);
        string[] attempts = ["/organization/1", "/organization/1?access_token=garbage", "/organization/1?access_token=" + TestTokens.Hs256(["organization.2"]), "/organization/1?access_token=" + TestTokens.AlgNone(["organization.1"])];

        var refused = 0;
        var flood = Task.WhenAll(Enumerable.Range(0, 20).Select(async worker =>
        {
            for (var i = 0; i < 100; i++)
            {
                var response = await RawHttp.HandshakeAsync(hub.Port, attempts[(worker + i) % attempts.Length]);
                if (response.Status is 401 or 403)
                {
                    Interlocked.Increment(ref refused);
                }
            }
        }));

        for (var i = 0; i < 200; i++)
        {
            await hub.PostPublishAsync(publisher, new { scope = "organization.1", name = "post.created", record = new { seq = i } });
        }

        await flood.DefaultTimeout();
        Assert.Equal(2000, refused);
        for (var i = 0; i < 200; i++)
        {
            Assert.Equal(i, JsonDocument.Parse(await raw.ReceiveAsync()).RootElement.GetProperty("record").GetProperty("seq").GetInt32());
            Assert.Equal(i, JsonDocument.Parse(await signalR.ReceiveAsync()).RootElement.GetProperty("record").GetProperty("seq").GetInt32());
        }

        Assert.Equal(2, hub.Metrics.ConnectionsOpened);
    }
}
