using Atr.Hub.Connections;
using Atr.Hub.Tests.Infrastructure;
using Atr.Testing;
using StackExchange.Redis;
using Xunit;

namespace Atr.Hub.Tests;

/// <summary>Frames written in batches reach clients exactly as one write per frame would: whole, in order, between keep-alives.</summary>
[Collection(UsesRedis.Name)]
public sealed class FrameBatchingTests(RedisServer redis)
{
    [Fact]
    public async Task BurstOfMixedSizesArrivesWholeAndInOrderWhileKeepAlivesRun()
    {
        const int count = 600;
        await using var hub = await HubHost.StartAsync(redis.Configuration, o =>
        {
            // Pings every 50 ms land in the middle of batches.
            o.KeepAliveInterval = TimeSpan.FromMilliseconds(50);
            o.PeerTimeout = TestTimeouts.Default;

            // About 7 MiB per client arrives at once: this test is about order, not slow consumers.
            o.MaxSendQueueBytes = 64 * 1024 * 1024;
        });
        var clients = new[]
        {
            await hub.ConnectAsync("/organization/1234"),
            await hub.ConnectAsync("/organization/1234"),
            await hub.ConnectAsync("/organization/1234"),
        };

        try
        {
            // Sizes around every boundary: tiny, a few KiB, just under and over the batch limit, far over it.
            int[] sizes = [10, 100, 4_000, FrameBatcher.FlushThreshold - 200, FrameBatcher.FlushThreshold + 10, 3 * FrameBatcher.FlushThreshold, 1];
            var payloads = new string[count];
            for (var i = 0; i < count; i++)
            {
                payloads[i] = $$"""{"name":"post.created","seq":{{i}},"pad":"{{new string((char)('a' + (i % 26)), sizes[i % sizes.Length])}}"}""";
            }

            // Pipelined, so each connection's queue holds many frames at once.
            var subscriber = redis.Client.GetSubscriber();
            await Task.WhenAll(payloads.Select(p => subscriber.PublishAsync(RedisChannel.Literal("atr:organization.1234"), p))).DefaultTimeout();

            foreach (var client in clients)
            {
                for (var i = 0; i < count; i++)
                {
                    Assert.Equal(payloads[i], await client.ReceiveAsync());
                }
            }

            await TestTimeouts.UntilAsync(() => hub.Metrics.FramesSent == 3L * count, "every frame was counted as sent");
            await clients[0].AssertNothingAsync();
        }
        finally
        {
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }
        }
    }
}
