using System.Net;
using System.Net.WebSockets;
using System.Text.Json;
using Atr.Hub.Tests.Infrastructure;
using Atr.Testing;
using Xunit;

namespace Atr.Hub.Tests.Reliability;

/// <summary>
/// A burst of legal events larger than a client's send queue passes through every client that reads;
/// a client that stopped reading is still closed as a slow consumer.
/// </summary>
public sealed class BurstTests
{
    // The largest event the hub takes, less a little for the envelope around the record.
    private static readonly int LargestRecord = new AtrHubOptions().MaxEventBytes - 512;

    [Fact]
    public async Task ConcurrentPublishesOfTheLargestEventsCloseNoReadingClient()
    {
        await using var hub = await HubHost.StartAsync();
        var raw = new List<WsClient>();
        for (var i = 0; i < 3; i++)
        {
            raw.Add(await hub.ConnectAsync("/organization/1"));
        }

        await using var signalR = await SignalRClient.ConnectAsync(hub.BaseUri, "organization.1");
        try
        {
            // Two requests of 15 of the largest events at once: about 1.9 MiB for each client, past
            // its 1 MiB queue. Then ten single ones at once.
            var sent = 0;
            foreach (var (requests, perRequest) in new[] { (2, 15), (10, 1) })
            {
                var publishing = Enumerable.Range(0, requests).Select(r => hub.PostPublishAsync(
                    Enumerable.Range(0, perRequest).Select(i => new { scope = "organization.1", name = "big.event", record = new { seq = sent + (r * perRequest) + i, text = new string('x', LargestRecord) } }).ToArray()));
                foreach (var response in await Task.WhenAll(publishing).DefaultTimeout())
                {
                    Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
                    response.Dispose();
                }

                var expected = Enumerable.Range(sent, requests * perRequest).ToHashSet();
                foreach (var client in raw)
                {
                    Assert.Equal(expected, (await client.ReceiveAsync(expected.Count)).Select(Seq).ToHashSet());
                }

                var viaSignalR = new HashSet<int>();
                for (var i = 0; i < expected.Count; i++)
                {
                    viaSignalR.Add(Seq(await signalR.ReceiveAsync()));
                }

                Assert.Equal(expected, viaSignalR);
                sent += expected.Count;
            }

            Assert.Equal(0, hub.Metrics.SlowConsumers);
            Assert.All(raw, client => Assert.Equal(WebSocketState.Open, client.Socket.State));
            Assert.Equal(Microsoft.AspNetCore.SignalR.Client.HubConnectionState.Connected, signalR.Connection.State);
        }
        finally
        {
            foreach (var client in raw)
            {
                await client.DisposeAsync();
            }
        }

        static int Seq(string frame) => JsonDocument.Parse(frame).RootElement.GetProperty("record").GetProperty("seq").GetInt32();
    }

    [Fact]
    public async Task AClientThatStopsReadingIsStillClosedAsASlowConsumer()
    {
        await using var hub = await HubHost.StartAsync(options: o => o.CloseTimeout = TestTimeouts.Default);
        using var stalled = await StalledClient.ConnectAsync(hub.WebSocketUri("/organization/1"));

        // The largest events, one request at a time, until the stalled client is closed.
        var seq = 0;
        await TestTimeouts.UntilAsync(
            async () =>
            {
                using var response = await hub.PostPublishAsync(new { scope = "organization.1", name = "big.event", record = new { seq = seq++, text = new string('x', LargestRecord) } });
                Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
                return hub.Metrics.SlowConsumers == 1;
            },
            "the client that does not read is closed as a slow consumer");

        Assert.Equal((WebSocketCloseStatus)AtrCloseCodes.SlowConsumer, await StalledClient.DrainUntilCloseAsync(stalled).DefaultTimeout());
    }
}
