using System.Diagnostics;
using System.Net;
using System.Net.WebSockets;
using Atr.Hub.Tests.Infrastructure;
using Atr.Testing;
using Xunit;
using Xunit.Abstractions;

namespace Atr.Hub.Tests.Reliability;

/// <summary>
/// A node whose Redis subscription goes silent while its TCP connection stays up (a "zombie")
/// notices it through its probe, reports itself not ready, and recovers by itself.
/// </summary>
public sealed class SubscriptionProbeTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan Probe = TimeSpan.FromSeconds(1);

    // Readiness is polled, and CI shares two noisy cores: room for a late poll, not for a late probe.
    private static readonly TimeSpan Slack = TimeSpan.FromSeconds(1.5);

    private readonly RedisServer _redis = new();

    public Task InitializeAsync() => _redis.InitializeAsync();

    public Task DisposeAsync() => _redis.DisposeAsync();

    [Fact]
    public async Task SilentSubscriberTurnsTheNodeUnreadyWithinTwoProbeIntervalsAndIsReplaced()
    {
        // Every connection of the node to Redis goes through the proxy; the test talks to Redis directly.
        await using var proxy = new TcpProxy(new IPEndPoint(IPAddress.Loopback, _redis.Port));
        await using var hub = await HubHost.StartAsync($"127.0.0.1:{proxy.EndPoint.Port}", o => o.ProbeInterval = Probe);
        await using var client = await hub.ConnectAsync("/organization/1");
        await TestTimeouts.UntilAsync(async () => await hub.ReadinessAsync() == 200, "the node is ready");

        // Redis → node bytes stop; every socket stays open, and Redis still counts the subscription.
        proxy.StopFromTarget();
        var silent = Stopwatch.StartNew();
        await TestTimeouts.UntilAsync(async () => await hub.ReadinessAsync() != 200, "the node reports itself not ready");
        output.WriteLine($"unready {silent.ElapsedMilliseconds} ms after the subscription went silent (probe interval {Probe.TotalMilliseconds} ms)");
        Assert.InRange(silent.Elapsed, TimeSpan.Zero, 2 * Probe + Slack);
        Assert.Equal(WebSocketState.Open, client.Socket.State);

        // The silent connection is closed rather than left to wake up later and deliver twice.
        await TestTimeouts.UntilAsync(async () => await _redis.SubscriberCountAsync("atr:organization.1") == 0, "the silent subscriber is closed");

        proxy.Resume();
        var resumed = Stopwatch.StartNew();
        await TestTimeouts.UntilAsync(async () => await hub.ReadinessAsync() == 200, "the node is ready again by itself");
        output.WriteLine($"ready {resumed.ElapsedMilliseconds} ms after the path came back");
        Assert.Equal(1, await _redis.SubscriberCountAsync("atr:organization.1"));

        // Nothing was published meanwhile, which the scope's history shows: no atr.resync. What is
        // published next arrives, once.
        await _redis.PublishAsync("atr:organization.1", """{"name":"after.zombie"}""");
        Assert.Equal("after.zombie", EventFrame.Name(await client.ReceiveAsync()));
        await client.AssertNothingAsync();
        Assert.Equal(WebSocketState.Open, client.Socket.State);
    }

    [Fact]
    public async Task IdleNodeStaysReadyOnItsProbesAlone()
    {
        await using var hub = await HubHost.StartAsync(_redis.Configuration, o => o.ProbeInterval = Probe);
        await using var client = await hub.ConnectAsync("/organization/1");
        await TestTimeouts.UntilAsync(async () => await hub.ReadinessAsync() == 200, "the node is ready");

        // Nothing is published for many probe intervals: the probes keep the subscription proven.
        await UntilProbesAsync(hub, count: 4);

        // Probes go to the node's own channel, never to a client.
        await client.AssertNothingAsync();
    }

    /// <summary>Waits for <paramref name="count"/> of the node's own PUBLISHes on Redis, then checks it is still ready.</summary>
    private async Task UntilProbesAsync(HubHost hub, int count)
    {
        var seen = 0;
        var probeChannels = new TaskCompletionSource();
        var subscriber = _redis.Client.GetSubscriber();
        await subscriber.SubscribeAsync(StackExchange.Redis.RedisChannel.Pattern("atr:atr-node:*"), (_, _) =>
        {
            if (Interlocked.Increment(ref seen) == count)
            {
                probeChannels.TrySetResult();
            }
        });
        await probeChannels.Task.DefaultTimeout();
        Assert.Equal(200, await hub.ReadinessAsync());
    }
}
