using System.Net.WebSockets;
using System.Text.Json;
using Atr.Hub.Connections;
using Atr.Hub.Tests.Infrastructure;
using Atr.Testing;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;
using Xunit;

namespace Atr.Hub.Tests;

/// <summary>A client that stops reading costs no one else an event, and the hub's memory stays bounded.</summary>
[Collection(UsesRedis.Name)]
public sealed class SlowConsumerTests(RedisServer redis)
{
    private const int QueueLimit = 256 * 1024;
    private const int EventCount = 3000;
    private const int Round = 25;

    [Fact]
    public async Task ClientThatNeverReadsIsClosedWithSlowConsumerWhileTwentyOthersReceiveEveryEvent()
    {
        await using var hub = await HubHost.StartAsync(redis.Configuration, o =>
        {
            o.MaxSendQueueBytes = QueueLimit;

            // Long enough that the slow client, once it starts reading, gets the close frame rather than an abort.
            o.CloseTimeout = TestTimeouts.Default;
        });

        using var slow = await StalledClient.ConnectAsync(hub.WebSocketUri("/organization/1234"));
        var normal = new List<WsClient>();
        for (var i = 0; i < 20; i++)
        {
            normal.Add(await hub.ConnectAsync("/organization/1234"));
        }

        try
        {
            // 3,000 events of 4 KiB: 12 MiB per client, far past the socket buffers and the 256 KiB
            // queue. Published in rounds that the readers keep up with, so only the client that
            // stopped reading falls behind.
            var padding = new string('p', 4096);
            var subscriber = redis.Client.GetSubscriber();
            var peakQueued = 0L;
            for (var round = 0; round < EventCount / Round; round++)
            {
                var publishes = new Task[Round];
                for (var i = 0; i < Round; i++)
                {
                    var seq = (round * Round) + i;
                    publishes[i] = subscriber.PublishAsync(RedisChannel.Literal("atr:organization.1234"), $$"""{"name":"post.created","seq":{{seq}},"pad":"{{padding}}"}""");
                }

                await Task.WhenAll(publishes).DefaultTimeout();
                foreach (var client in normal)
                {
                    for (var i = 0; i < Round; i++)
                    {
                        Assert.Equal((round * Round) + i, JsonDocument.Parse(await client.ReceiveAsync()).RootElement.GetProperty("seq").GetInt32());
                    }
                }

                peakQueued = Math.Max(peakQueued, hub.Metrics.QueuedBytes);
            }

            await TestTimeouts.UntilAsync(() => hub.Metrics.SlowConsumers == 1, "the hub marked the slow consumer");

            // Every connection's queue is capped, so the hub never holds more than the limit (plus one frame) per client.
            Assert.InRange(peakQueued, 0, 21L * (QueueLimit + 8192));

            Assert.Equal((WebSocketCloseStatus)AtrCloseCodes.SlowConsumer, await StalledClient.DrainUntilCloseAsync(slow).DefaultTimeout());
            Assert.Equal("Slow consumer: send queue full", slow.CloseStatusDescription);
        }
        finally
        {
            foreach (var client in normal)
            {
                await client.DisposeAsync();
            }
        }
    }
}
