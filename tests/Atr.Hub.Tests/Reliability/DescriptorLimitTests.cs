using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Atr.Hub.Tests.Infrastructure;
using Atr.Testing;
using Xunit;
using Xunit.Abstractions;

namespace Atr.Hub.Tests.Reliability;

/// <summary>
/// At its open-files limit the node refuses new sockets at accept and keeps serving the ones it
/// holds, instead of running out of descriptors (the runtime then cannot start a thread and aborts).
/// </summary>
public sealed class DescriptorLimitTests(ITestOutputHelper output)
{
    // At scale 1 the figures; bench/reliability.sh runs the same at its scale.
    private static readonly int OpenFiles = ReliabilityScale.Of(1024);
    private static readonly int Flood = ReliabilityScale.Of(1100);

    private static readonly TimeSpan DirectUpgradeHandover = Atr.Hub.Protocol.DirectUpgrade.FirstBytesWait;

    [Fact]
    public async Task UnderUlimit1024IdleSocketsAndHandshakesPastTheCeilingAreRefusedAndTheCanaryKeepsReceiving()
    {
        await using var server = AtrServerProcess.Start(["start", "--server-port", "0"], openFiles: OpenFiles);
        var baseUri = await server.ListeningAsync();
        await using var canary = await WsClient.ConnectAsync(server.WebSocketUri("/organization/1"));

        // The publisher and the health checks keep one connection each, open from before the flood.
        using var publisher = new HttpClient { BaseAddress = baseUri, Timeout = TestTimeouts.Default };
        using var health = new HttpClient { BaseAddress = baseUri, Timeout = TestTimeouts.Default };
        Assert.True((await health.GetAsync("/health/live")).IsSuccessStatusCode);
        using var stop = new CancellationTokenSource();
        var published = PublishEveryAsync(publisher, TimeSpan.FromMilliseconds(50), stop.Token);

        var idle = await OpenAsync(server.BaseUri.Port, Flood, handshake: false);
        await TestTimeouts.UntilAsync(() => server.Output.Contains("at accept", StringComparison.Ordinal), "the node says it refuses sockets at accept");
        var idleRefused = await CountClosedAsync(idle);
        output.WriteLine($"{Flood} idle sockets: {idleRefused} closed at accept; RSS {server.ResidentBytes() / 1048576} MiB");
        Assert.False(server.HasExited, server.Output);
        Assert.True((await health.GetAsync("/health/live")).IsSuccessStatusCode);

        var handshakes = await OpenAsync(server.BaseUri.Port, Flood, handshake: true);
        var handshakesRefused = await CountClosedAsync(handshakes);
        output.WriteLine($"{Flood} handshakes: {handshakesRefused} closed at accept");
        Assert.False(server.HasExited, server.Output);
        Assert.True((await health.GetAsync("/health/live")).IsSuccessStatusCode);

        // Held past the moment idle sockets are handed from the connection-level path to Kestrel
        // (DirectUpgrade.FirstBytesWait): that is when a node without a ceiling ran out of
        // descriptors, could not start a thread and aborted.
        var held = System.Diagnostics.Stopwatch.StartNew();
        while (held.Elapsed < DirectUpgradeHandover + TimeSpan.FromSeconds(3))
        {
            Assert.False(server.HasExited, server.Output);
            Assert.True((await health.GetAsync("/health/live")).IsSuccessStatusCode);
            await Task.Delay(TimeSpan.FromMilliseconds(250));
        }

        // Past the ceiling sockets were closed, and the node said so.
        Assert.True(idleRefused + handshakesRefused > 0, "no socket was refused at the ceiling");
        Assert.Contains("at accept", server.Output, StringComparison.Ordinal);

        // The canary got every event published meanwhile, in order.
        stop.Cancel();
        var count = await published;
        var seqs = new List<int>();
        for (var i = 0; i < count; i++)
        {
            seqs.Add(JsonDocument.Parse(await canary.ReceiveAsync()).RootElement.GetProperty("record").GetProperty("seq").GetInt32());
        }

        Assert.Equal(Enumerable.Range(0, count), seqs);
        Assert.False(server.HasExited, server.Output);
        foreach (var socket in idle.Concat(handshakes))
        {
            socket.Dispose();
        }
    }

    private static async Task<int> PublishEveryAsync(HttpClient http, TimeSpan interval, CancellationToken stop)
    {
        var seq = 0;
        while (!stop.IsCancellationRequested)
        {
            using var response = await http.PostAsync(
                new Uri("/publish", UriKind.Relative),
                new StringContent($$$"""{"scope":"organization.1","name":"canary.tick","record":{"seq":{{{seq}}}}}""", Encoding.UTF8, "application/json"),
                CancellationToken.None);
            Assert.Equal(202, (int)response.StatusCode);
            seq++;
            try
            {
                await Task.Delay(interval, stop);
            }
            catch (OperationCanceledException)
            {
            }
        }

        return seq;
    }

    private static async Task<List<Socket>> OpenAsync(int port, int count, bool handshake)
    {
        var sockets = new List<Socket>(count);
        for (var i = 0; i < count; i++)
        {
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
            sockets.Add(socket);
            try
            {
                await socket.ConnectAsync("127.0.0.1", port).DefaultTimeout();
                if (handshake)
                {
                    await socket.SendAsync(Encoding.ASCII.GetBytes(RawHttp.UpgradeRequest(port, "/organization/2")));
                }
            }
            catch (SocketException)
            {
                // Reset at accept already: counted as closed below.
            }
        }

        return sockets;
    }

    /// <summary>How many of <paramref name="sockets"/> the server closed without a word: at accept, past its ceiling.</summary>
    private static async Task<int> CountClosedAsync(List<Socket> sockets)
    {
        var closed = 0;
        var buffer = new byte[1024];
        foreach (var socket in sockets)
        {
            // A refused socket reads its end (0 bytes, or a reset) at once; a held one has nothing to read, or its 101.
            if (!socket.Connected)
            {
                closed++;
                continue;
            }

            if (!socket.Poll(TimeSpan.FromMilliseconds(1), SelectMode.SelectRead))
            {
                continue;
            }

            try
            {
                if (await socket.ReceiveAsync(buffer, SocketFlags.None) == 0)
                {
                    closed++;
                }
            }
            catch (SocketException)
            {
                closed++;
            }
        }

        return closed;
    }
}
