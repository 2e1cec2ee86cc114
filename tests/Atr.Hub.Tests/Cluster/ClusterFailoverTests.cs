using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using Atr.Hub.Tests.Infrastructure;
using Atr.Testing;
using StackExchange.Redis;
using Xunit;
using Xunit.Abstractions;
using static Atr.Hub.Tests.Cluster.ClusterTests;
using static Atr.Hub.Tests.History.HistoryTests;

namespace Atr.Hub.Tests.Cluster;

/// <summary>
/// A master of the cluster killed under the nodes: its replica is promoted, every node subscribes the
/// master's scopes again on it by itself, its clients stay connected, and what was published while it
/// was not subscribed comes from history.
/// </summary>
[Collection(UsesRedisCluster.Name)]
public sealed class ClusterFailoverTests(RedisCluster cluster, ITestOutputHelper output)
{
    [Fact]
    public async Task KillingTheMasterOfAScopesSlotCostsItsClientsNothing()
    {
        var scopes = await ScopesOnEveryShardAsync(cluster, perShard: 2);
        var victimMaster = scopes[0].MasterPort;
        var victims = scopes.Where(s => s.MasterPort == victimMaster).Select(s => s.Scope).ToArray();
        var bystanders = scopes.Where(s => s.MasterPort != victimMaster).Select(s => s.Scope).ToArray();
        var replica = await cluster.ReplicaPortOfAsync(victimMaster);

        await using var a = await HubHost.StartAsync(cluster.Configuration);
        await using var b = await HubHost.StartAsync(cluster.Configuration);
        await using var clients = new RecordedClients();
        await ConnectOnBothAsync(clients, a, b, scopes.Select(s => s.Scope));

        // Each scope's events in publish order, from the test's own publisher: an Atr publisher in
        // any language, appending to history and SPUBLISHing in one script.
        var published = scopes.ToDictionary(s => s.Scope, _ => new List<long>());
        var seq = 0L;
        async Task PublishRoundAsync(IEnumerable<string> to, Func<string, long, Task> publish)
        {
            foreach (var scope in to)
            {
                await publish(scope, seq);
                published[scope].Add(seq++);
            }
        }

        var database = cluster.Client.GetDatabase();
        Task Redis(string scope, long n) => PublishWithHistoryAsync(database, scope, n);
        for (var round = 0; round < 5; round++)
        {
            await PublishRoundAsync(scopes.Select(s => s.Scope), Redis);
        }

        await UntilAllReceivedAsync(clients, published);

        // The replica holds what the master had before it dies: a promoted replica without the last
        // events would be a lost write, which no subscriber can make up for.
        await UntilReplicatedAsync(victimMaster, replica);

        var reconnects = a.Metrics.BackplaneReconnects;
        var killed = Stopwatch.StartNew();
        cluster.Kill(victimMaster);

        // The node knows at once that some of its scopes lost their subscription.
        await TestTimeouts.UntilAsync(async () => await a.ReadinessAsync() == 503, "node a is unready");
        var unreadyAfter = killed.Elapsed;

        // The other shards carry on meanwhile.
        await PublishRoundAsync(bystanders, Redis);

        // Published on the promoted replica as soon as it takes writes, before the nodes move their
        // subscriptions there: these reach the clients only from history.
        await TestTimeouts.UntilAsync(async () => await IsMasterAsync(replica), "the replica is promoted");
        var promotedAfter = killed.Elapsed;
        // Sent to the promoted replica alone: a cluster client may still route the slot to the dead
        // master until it learns the new topology.
        Task OnPromoted(string scope, long n) => PublishWithHistoryAsync(cluster, replica, scope, n);
        var beforeResubscribed = 0;
        for (var round = 0; round < 10; round++)
        {
            if (await cluster.ShardSubscribersAsync(replica, "atr:" + victims[0]) == 0)
            {
                beforeResubscribed++;
            }

            await PublishRoundAsync(victims, OnPromoted);
        }

        var victimRecorders = clients.Recorders.Where(r => victims.Contains(r.Scope)).ToArray();
        await TestTimeouts.UntilAsync(() => victimRecorders.All(r => r.Count == published[r.Scope].Count), "the clients of the killed master's scopes have every event");
        var receivingAgainAfter = killed.Elapsed;
        await TestTimeouts.UntilAsync(async () => await a.ReadinessAsync() == 200 && await b.ReadinessAsync() == 200, "both nodes are ready again");
        var readyAfter = killed.Elapsed;

        // POST /publish on the cluster's new shape, through either node.
        foreach (var hub in new[] { a, b })
        {
            using var response = await RetryPublishAsync(hub, victims[0], seq);
            published[victims[0]].Add(seq++);
        }

        // The test's own client learns where the slot went, as any cluster client does after a failover.
        await cluster.Client.ConfigureAsync();
        await PublishRoundAsync(scopes.Select(s => s.Scope), Redis);
        await UntilAllReceivedAsync(clients, published);
        output.WriteLine(
            $"master {victimMaster} killed: node a unready after {unreadyAfter.TotalSeconds:F2} s, replica {replica} promoted after {promotedAfter.TotalSeconds:F2} s, " +
            $"its scopes' clients had every event again after {receivingAgainAfter.TotalSeconds:F2} s, both nodes ready after {readyAfter.TotalSeconds:F2} s; " +
            $"{beforeResubscribed} of 10 rounds published on the new master before node a's subscription was there; reconnects counted by a: {a.Metrics.BackplaneReconnects - reconnects}.");

        // Every client: every event of its scope exactly once, in order, and no atr.resync: the
        // history on the promoted replica covered the gap.
        AssertEveryEventOnceInOrder(clients, published);
        Assert.True(a.Metrics.BackplaneReconnects > reconnects);

        // The nodes go through the promoted replica now, and subscribe nothing on the dead master.
        var shards = JsonDocument.Parse(await a.Http.GetStringAsync("/stats")).RootElement.GetProperty("shards").EnumerateArray().Select(s => s.GetProperty("server").GetString()).ToArray();
        Assert.Contains($"127.0.0.1:{replica}", shards);
        Assert.DoesNotContain($"127.0.0.1:{victimMaster}", shards);
        foreach (var scope in victims)
        {
            Assert.Equal(2, await cluster.ShardSubscribersAsync(replica, "atr:" + scope));
        }

        // The killed master comes back as the new master's replica: the cluster is whole for the next test.
        await cluster.RestartAsync(victimMaster);
        await cluster.WaitHealthyAsync();
    }

    [Fact]
    public async Task AScopeWhoseSlotMovesToAnotherMasterLosesNothing()
    {
        var scopes = await ScopesOnEveryShardAsync(cluster, perShard: 1);
        var (moving, from) = scopes[0];
        var to = scopes.First(s => s.MasterPort != from).MasterPort;

        await using var a = await HubHost.StartAsync(cluster.Configuration);
        await using var b = await HubHost.StartAsync(cluster.Configuration);
        await using var clients = new RecordedClients();
        await ConnectOnBothAsync(clients, a, b, scopes.Select(s => s.Scope));

        var published = scopes.ToDictionary(s => s.Scope, _ => new List<long>());
        var seq = 0L;
        var database = cluster.Client.GetDatabase();
        async Task PublishRoundAsync()
        {
            // The test's own client follows the MOVED answer to the slot's new owner, as any cluster client does.
            foreach (var (scope, _) in scopes)
            {
                await PublishWithHistoryAsync(database, scope, seq);
                published[scope].Add(seq++);
            }
        }

        for (var round = 0; round < 5; round++)
        {
            await PublishRoundAsync();
        }

        await UntilAllReceivedAsync(clients, published);

        var moved = Stopwatch.StartNew();
        await cluster.MoveSlotAsync("atr:" + moving, to);
        var movedAfter = moved.Elapsed;
        for (var round = 0; round < 10; round++)
        {
            await PublishRoundAsync();
        }

        await UntilAllReceivedAsync(clients, published);
        var receivedAfter = moved.Elapsed;
        await TestTimeouts.UntilAsync(async () => await cluster.ShardSubscribersAsync(to, "atr:" + moving) == 2, "both nodes subscribe the scope on its new master");
        await TestTimeouts.UntilAsync(async () => await a.ReadinessAsync() == 200 && await b.ReadinessAsync() == 200, "both nodes are ready");
        output.WriteLine(
            $"slot of {moving} moved from {from} to {to} in {movedAfter.TotalSeconds:F2} s; its clients had every event of the 10 rounds published after {receivedAfter.TotalSeconds:F2} s; " +
            $"reconnects counted by a: {a.Metrics.BackplaneReconnects}.");

        Assert.Equal(0, await cluster.ShardSubscribersAsync(from, "atr:" + moving));
        AssertEveryEventOnceInOrder(clients, published);

        // The history moved with the slot.
        Assert.Equal(published[moving].Count, (long)await cluster.ExecuteAsync(to, "XLEN", "atr:" + moving));
    }

    private async Task UntilReplicatedAsync(int master, int replica)
    {
        var target = Offset((string)(await cluster.ExecuteAsync(master, "INFO", "replication"))!, "master_repl_offset");
        await TestTimeouts.UntilAsync(
            async () => Offset((string)(await cluster.ExecuteAsync(replica, "INFO", "replication"))!, "slave_repl_offset") >= target,
            "the replica has every write of its master");

        static long Offset(string info, string field)
            => long.Parse(info.Split('\n').Single(l => l.StartsWith(field + ":", StringComparison.Ordinal))[(field.Length + 1)..].Trim(), CultureInfo.InvariantCulture);
    }

    private async Task<bool> IsMasterAsync(int port)
    {
        try
        {
            return ((string)(await cluster.ExecuteAsync(port, "INFO", "replication"))!).Contains("role:master", StringComparison.Ordinal);
        }
        catch (RedisException)
        {
            return false;
        }
    }

    /// <summary>POST /publish until the node's publisher has learnt where the slot went (it may answer 503 first).</summary>
    private static async Task<HttpResponseMessage> RetryPublishAsync(HubHost hub, string scope, long seq)
    {
        HttpResponseMessage? response = null;
        await TestTimeouts.UntilAsync(
            async () =>
            {
                response?.Dispose();
                response = await hub.PostPublishAsync(new { scope, name = "cluster.tick", record = new { seq } });
                return response.StatusCode == HttpStatusCode.Accepted;
            },
            "POST /publish is accepted");
        return response!;
    }

    /// <summary>Raw clients of each scope on both nodes and a SignalR client on the first; returns once both nodes are ready.</summary>
    private static async Task ConnectOnBothAsync(RecordedClients clients, HubHost a, HubHost b, IEnumerable<string> scopes)
    {
        foreach (var scope in scopes)
        {
            await clients.ConnectRawAsync(a.BaseUri, scope, $"raw on a, {scope}");
            await clients.ConnectRawAsync(b.BaseUri, scope, $"raw on b, {scope}");
            await clients.ConnectSignalRAsync(a.BaseUri, scope, $"SignalR on a, {scope}");
        }

        await TestTimeouts.UntilAsync(async () => await a.ReadinessAsync() == 200 && await b.ReadinessAsync() == 200, "both nodes are ready");
    }

    /// <summary>Every client got every event of its scope exactly once, in order, with no <c>atr.resync</c>, and no raw client was closed.</summary>
    private static void AssertEveryEventOnceInOrder(RecordedClients clients, Dictionary<string, List<long>> published)
    {
        foreach (var recorder in clients.Recorders)
        {
            Assert.True(published[recorder.Scope].SequenceEqual(recorder.Sequence), $"{recorder.Name} received {string.Join(",", recorder.Sequence)}; published {string.Join(",", published[recorder.Scope])}");
            Assert.Equal(0, recorder.ResyncCount);
            Assert.Empty(recorder.Unexpected);
        }

        Assert.All(clients.Raw, client => Assert.False(client.Closed.IsCompleted, "a raw client was closed"));
    }

    private static Task UntilAllReceivedAsync(RecordedClients clients, Dictionary<string, List<long>> published)
        => TestTimeouts.UntilAsync(() => clients.Recorders.All(r => r.Count >= published[r.Scope].Count), "every client has every event");
}
