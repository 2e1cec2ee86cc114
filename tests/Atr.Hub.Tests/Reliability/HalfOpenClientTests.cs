using System.Diagnostics;
using System.Net;
using Atr.Hub.Tests.Infrastructure;
using Atr.Testing;
using Xunit;
using Xunit.Abstractions;

namespace Atr.Hub.Tests.Reliability;

/// <summary>Clients that vanish without a FIN are found by the keep-alive and removed, and cost the others nothing.</summary>
public sealed class HalfOpenClientTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Ping = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(3);

    private static readonly int Vanishing = ReliabilityScale.Of(100);

    [Fact]
    public async Task HundredClientsWhosePacketsAreDroppedAreRemovedWithinPingAndTimeout()
    {
        await using var hub = await HubHost.StartAsync(options: o =>
        {
            o.KeepAliveInterval = Ping;
            o.PeerTimeout = Timeout;
        });
        await using var direct = await hub.ConnectAsync("/organization/1");

        // A hundred clients reach the hub through a proxy; then their network goes silent both ways.
        var proxy = new TcpProxy(new IPEndPoint(IPAddress.Loopback, hub.Port));
        var vanishing = new List<WsClient>();
        try
        {
            for (var i = 0; i < Vanishing; i++)
            {
                vanishing.Add(await WsClient.ConnectAsync(new Uri($"ws://127.0.0.1:{proxy.EndPoint.Port}/organization/1")));
            }

            // The hub counts a connection once its upgrade is done, which can be just after the client's.
            await TestTimeouts.UntilAsync(() => hub.Metrics.Connections == Vanishing + 1, "the hub counts every client");
            Assert.Equal(Vanishing + 1, hub.Metrics.Connections);
            proxy.StopBoth();
            var silent = Stopwatch.StartNew();

            await TestTimeouts.UntilAsync(() => hub.Metrics.Connections == 1, "the silent clients are removed");
            output.WriteLine($"{Vanishing} half-open clients removed {silent.ElapsedMilliseconds} ms after their packets stopped (ping {Ping.TotalSeconds} s, timeout {Timeout.TotalSeconds} s)");

            // Within the ping interval and the time its pong may take, with room for a busy CI core.
            Assert.InRange(silent.Elapsed, TimeSpan.Zero, Timeout + Ping + TimeSpan.FromSeconds(2));

            // The client that kept its network got everything meanwhile and still does.
            await hub.PostPublishAsync(new { scope = "organization.1", name = "still.here" });
            Assert.Contains("still.here", await direct.ReceiveAsync(), StringComparison.Ordinal);
        }
        finally
        {
            await proxy.DisposeAsync();
            foreach (var client in vanishing)
            {
                await client.DisposeAsync();
            }
        }
    }
}
