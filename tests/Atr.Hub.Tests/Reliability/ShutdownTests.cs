using System.Diagnostics;
using System.Net.WebSockets;
using Atr.Hub.Tests.Infrastructure;
using Atr.Testing;
using Xunit;
using Xunit.Abstractions;

namespace Atr.Hub.Tests.Reliability;

/// <summary>SIGTERM with thousands of clients: not ready at once, new handshakes refused, every client closed with 1001, paced.</summary>
public sealed class ShutdownTests(ITestOutputHelper output)
{
    private static readonly int Clients = ReliabilityScale.Of(2_000);
    private static readonly int CloseRate = ReliabilityScale.Of(2_000);

    [Fact]
    public async Task SigtermWithThousandsOfClientsClosesEveryOneWith1001PacedAndExitsInTime()
    {
        await using var server = AtrServerProcess.Start(
            ["start", "--server-host", "127.0.0.1", "--server-port", "0"],
            new Dictionary<string, string> { ["Atr__ShutdownCloseRate"] = CloseRate.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        var port = (await server.ListeningAsync()).Port;

        var clients = new WsClient[Clients];
        try
        {
            // Connected in bounded parallel batches: a handshake storm is not what this test is about.
            for (var i = 0; i < Clients; i += 100)
            {
                var batch = Enumerable.Range(i, 100).Select(async j => clients[j] = await WsClient.ConnectAsync(server.WebSocketUri($"/organization/{j % 50}")));
                await Task.WhenAll(batch);
            }

            var closedAt = new TimeSpan[Clients];
            var clock = Stopwatch.StartNew();
            var closes = clients.Select(async (client, i) =>
            {
                var status = await client.Closed.WaitAsync(TestTimeouts.Default);
                closedAt[i] = clock.Elapsed;
                return status;
            }).ToArray();

            await server.TerminateAsync();

            // As soon as the first client is told, the node is unready and refuses newcomers with 503.
            await Task.WhenAny(closes);
            using (var ready = await server.Http.GetAsync("/health/ready"))
            {
                Assert.Equal(503, (int)ready.StatusCode);
            }

            Assert.Equal(503, (await RawHttp.HandshakeAsync(port, "/organization/1")).Status);

            var statuses = await Task.WhenAll(closes);
            Assert.All(statuses, status => Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, status));
            Assert.Equal(0, await server.WaitForExitAsync().WaitAsync(TestTimeouts.Default));
            var exited = clock.Elapsed;

            // Paced: at CloseRate per second, the closes spread over about Clients / CloseRate seconds,
            // rather than landing in the same millisecond.
            var spread = closedAt.Max() - closedAt.Min();
            output.WriteLine($"{Clients} clients closed with 1001 over {spread.TotalMilliseconds:F0} ms (rate {CloseRate}/s); process exited {exited.TotalMilliseconds:F0} ms after SIGTERM");
            Assert.InRange(spread, TimeSpan.FromSeconds(0.5 * Clients / CloseRate), TimeSpan.FromSeconds(10));
            Assert.InRange(exited, TimeSpan.Zero, TimeSpan.FromSeconds(10));
        }
        finally
        {
            foreach (var client in clients.Where(c => c is not null))
            {
                await client.DisposeAsync();
            }
        }
    }
}
