using System.Net;
using System.Text.Json;
using Atr.Hub.Tests.Infrastructure;
using Atr.Testing;
using StackExchange.Redis;
using Xunit;
using Xunit.Abstractions;
using static Atr.Hub.Tests.History.HistoryTests;

namespace Atr.Hub.Tests.History;

/// <summary>A node that loses its Redis subscription fills its clients' gap from history by itself, and says atr.resync only where history cannot.</summary>
public sealed class NodeRecoveryTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly RedisServer _redis = new();

    public Task InitializeAsync() => _redis.InitializeAsync();

    public Task DisposeAsync() => _redis.DisposeAsync();

    [Theory]
    [InlineData(20, false)]
    [InlineData(250, true)]
    public async Task ANodeCutOffFromRedisGivesItsClientsWhatOtherNodesPublishedMeanwhile(int duringTheCut, bool pastTheHistory)
    {
        // A history of 10 is trimmed by whole stream nodes (100 entries): 250 events push the gap out of it.
        Action<AtrHubOptions> options = o => o.HistorySize = pastTheHistory ? 10 : 100;
        var scope = UniqueScope();
        await using var proxy = new TcpProxy(new IPEndPoint(IPAddress.Loopback, _redis.Port));
        await using var cut = await HubHost.StartAsync($"127.0.0.1:{proxy.EndPoint.Port}", options);
        await using var other = await HubHost.StartAsync(_redis.Configuration, options);
        await using var reference = await other.ConnectAsync(Path(scope));
        await using var raw = await cut.ConnectAsync(Path(scope));
        await using var signalR = await SignalRClient.ConnectAsync(cut.BaseUri, scope);
        await TestTimeouts.UntilAsync(async () => await cut.ReadinessAsync() == 200, "the node is ready");

        await PublishAsync(other, scope, 0, 3);
        var before = await reference.ReceiveAsync(3);
        Assert.Equal(before, await raw.ReceiveAsync(3));
        foreach (var frame in before)
        {
            Assert.Equal(Seq(frame), Seq(await signalR.ReceiveAsync()));
        }

        proxy.Cut();
        await TestTimeouts.UntilAsync(async () => await cut.ReadinessAsync() == 503, "the node knows it lost Redis");
        for (var seq = 3; seq < 3 + duringTheCut; seq += 50)
        {
            await PublishAsync(other, scope, seq, Math.Min(50, 3 + duringTheCut - seq));
        }

        proxy.Resume();
        await TestTimeouts.UntilAsync(async () => await cut.ReadinessAsync() == 200, "the node is back");
        await PublishAsync(other, scope, 3 + duringTheCut, 2);
        var published = (await reference.ReceiveAsync(duringTheCut + 2)).ToArray();

        if (!pastTheHistory)
        {
            // Every event once and in order, byte for byte, and no atr.resync.
            Assert.Equal(published, await raw.ReceiveAsync(published.Length));
            foreach (var frame in published)
            {
                Assert.Equal(Seq(frame), Seq(await signalR.ReceiveAsync()));
            }
        }
        else
        {
            // The gap is past the history: atr.resync first, then what was published after the cut ended.
            foreach (var received in new Func<Task<string>>[] { raw.ReceiveAsync, signalR.ReceiveAsync })
            {
                var resync = JsonDocument.Parse(await received()).RootElement;
                Assert.Equal("atr.resync", resync.GetProperty("name").GetString());
                Assert.Equal("backplane_interrupted", resync.GetProperty("reason").GetString());
                Assert.Equal(published[^2..].Select(Seq), [Seq(await received()), Seq(await received())]);
            }
        }

        await raw.AssertNothingAsync();
        await signalR.AssertNothingAsync();
    }

    [Fact]
    public async Task APublishPastRedissOutputLimitCostsTheClientsOfOtherScopesNothing()
    {
        var attacked = UniqueScope();
        var innocent = UniqueScope();
        await using var hub = await HubHost.StartAsync(_redis.Configuration);
        await using var other = await HubHost.StartAsync(_redis.Configuration);
        await using var victim = await hub.ConnectAsync(Path(attacked));
        await using var bystander = await hub.ConnectAsync(Path(innocent));
        await PublishAsync(other, innocent, 0, 1);
        Assert.Equal(0, Seq(await bystander.ReceiveAsync()));
        var reconnects = hub.Metrics.BackplaneReconnects;

        // 33 MiB on one scope's channel: past client-output-buffer-limit pubsub (32 MiB), so Redis
        // cuts the node's subscriber. Events published meanwhile to other scopes are in history.
        var attack = _redis.PublishAsync("atr:" + attacked, new string('x', 33 * 1024 * 1024));
        for (var seq = 1; seq <= 20; seq++)
        {
            await PublishAsync(other, innocent, seq, 1);
        }

        await attack.DefaultTimeout();
        await TestTimeouts.UntilAsync(() => hub.Metrics.BackplaneReconnects > reconnects, "Redis cut the node's subscriber and it came back");
        await PublishAsync(other, innocent, 21, 1);
        output.WriteLine($"reconnects: {hub.Metrics.BackplaneReconnects - reconnects}; dropped payloads: {hub.Metrics.PayloadsDropped}");

        // Every event of the other scope, once, in order, and no atr.resync; the giant payload reached no one.
        Assert.Equal(Enumerable.Range(1, 21), (await bystander.ReceiveAsync(21)).Select(Seq));
        await bystander.AssertNothingAsync();
        await victim.AssertNothingAsync();
    }
}
