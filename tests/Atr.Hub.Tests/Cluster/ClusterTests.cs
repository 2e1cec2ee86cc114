using System.Net;
using System.Text.Json;
using Atr.Hub.Tests.Infrastructure;
using Atr.Publishing.Redis;
using Atr.Testing;
using Microsoft.AspNetCore.SignalR.Client;
using StackExchange.Redis;
using Xunit;
using Xunit.Abstractions;
using static Atr.Hub.Tests.History.HistoryTests;

namespace Atr.Hub.Tests.Cluster;

/// <summary>
/// On a Redis Cluster, hub nodes subscribe each scope with <c>SSUBSCRIBE</c> on the shard that owns
/// its slot, Atr's publishers <c>SPUBLISH</c>, and clients see nothing different.
/// </summary>
[Collection(UsesRedisCluster.Name)]
public sealed class ClusterTests(RedisCluster cluster, ITestOutputHelper output)
{
    [Fact]
    public async Task EveryEventReachesEachClientOfItsScopeOnceThroughTheShardThatOwnsIt()
    {
        var scopes = await ScopesOnEveryShardAsync(cluster, perShard: 8);
        await using var a = await HubHost.StartAsync(cluster.Configuration);
        await using var b = await HubHost.StartAsync(cluster.Configuration);
        var clients = new List<(string Scope, string Name, Func<Task<string>> Receive, Func<Task> Nothing)>();
        var raw = new List<WsClient>();
        var signalR = new List<SignalRClient>();
        try
        {
            for (var i = 0; i < scopes.Count; i++)
            {
                var scope = scopes[i].Scope;
                foreach (var (hub, name) in new[] { (a, "a"), (b, "b") })
                {
                    var client = await hub.ConnectAsync(Path(scope));
                    raw.Add(client);
                    clients.Add((scope, $"raw on {name}, {scope}", client.ReceiveAsync, client.AssertNothingAsync));
                }

                // One SignalR client per scope, on either node in turn.
                var signalRClient = await SignalRClient.ConnectAsync((i % 2 == 0 ? a : b).BaseUri, scope);
                signalR.Add(signalRClient);
                clients.Add((scope, $"SignalR on {(i % 2 == 0 ? "a" : "b")}, {scope}", signalRClient.ReceiveAsync, signalRClient.AssertNothingAsync));
            }

            await TestTimeouts.UntilAsync(async () => await a.ReadinessAsync() == 200 && await b.ReadinessAsync() == 200, "both nodes are ready");

            // Ten rounds of one event per scope, published alternately through either node.
            const int Rounds = 10;
            for (var round = 0; round < Rounds; round++)
            {
                using var response = await (round % 2 == 0 ? a : b).PostPublishAsync(
                    scopes.Select(s => new { scope = s.Scope, name = "cluster.tick", record = new { seq = round } }).ToArray());
                Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            }

            foreach (var (scope, name, receive, _) in clients)
            {
                var received = new List<int>();
                for (var i = 0; i < Rounds; i++)
                {
                    var frame = await receive();
                    Assert.Equal(scope, JsonDocument.Parse(frame).RootElement.GetProperty("routing_key").GetString()![..scope.Length]);
                    received.Add(Seq(frame));
                }

                Assert.True(Enumerable.Range(0, Rounds).SequenceEqual(received), $"{name} received {string.Join(",", received)}");
            }

            // Nothing twice: one bounded wait for all.
            await Task.WhenAll(clients.Select(c => c.Nothing()));

            // Each scope's shard has both nodes subscribed, the others neither; no node subscribed a
            // scope's channel with a classic SUBSCRIBE anywhere (SignalR's own channels are classic, on purpose).
            var masters = scopes.Select(s => s.MasterPort).Distinct().ToArray();
            Assert.Equal(3, masters.Length);
            foreach (var (scope, masterPort) in scopes)
            {
                foreach (var port in masters)
                {
                    Assert.Equal(port == masterPort ? 2 : 0, await cluster.ShardSubscribersAsync(port, "atr:" + scope));
                }
            }

            foreach (var port in cluster.Ports)
            {
                var plain = await cluster.PlainChannelsAsync(port, "atr:*");
                Assert.All(plain, channel => Assert.StartsWith("atr:signalr:", channel, StringComparison.Ordinal));
            }

            // /stats and /health/ready name the three shards, eight scopes through each.
            foreach (var hub in new[] { a, b })
            {
                var stats = JsonDocument.Parse(await hub.Http.GetStringAsync("/stats")).RootElement;
                var shards = stats.GetProperty("shards").EnumerateArray().ToDictionary(s => s.GetProperty("server").GetString()!, s => s.GetProperty("scopes").GetInt32());
                Assert.Equal(masters.Select(p => $"127.0.0.1:{p}").Order(StringComparer.Ordinal), shards.Keys.Order(StringComparer.Ordinal));
                Assert.All(shards.Values, count => Assert.Equal(8, count));

                using var request = new HttpRequestMessage(HttpMethod.Get, "/health/ready");
                request.Headers.Accept.ParseAdd("application/json");
                using var ready = await hub.Http.SendAsync(request);
                var readiness = JsonDocument.Parse(await ready.Content.ReadAsStringAsync()).RootElement;
                output.WriteLine(readiness.GetProperty("description").GetString());
                Assert.Equal("Healthy", readiness.GetProperty("status").GetString());
                Assert.Equal(3, readiness.GetProperty("shards").GetArrayLength());
            }
        }
        finally
        {
            foreach (var client in raw)
            {
                await client.DisposeAsync();
            }

            foreach (var client in signalR)
            {
                await client.DisposeAsync();
            }
        }

        // The last client of each scope gone, the node unsubscribed it (SUNSUBSCRIBE) on its shard.
        foreach (var (scope, masterPort) in scopes.Take(3))
        {
            await TestTimeouts.UntilAsync(async () => await cluster.ShardSubscribersAsync(masterPort, "atr:" + scope) == 0, $"{scope} is unsubscribed");
        }
    }

    [Fact]
    public async Task RedisCliSpublishReachesTheScopesClientsByteForByte()
    {
        var scope = UniqueScope();
        var owner = await cluster.MasterPortOfAsync("atr:" + scope);
        await using var hub = await HubHost.StartAsync(cluster.Configuration);
        await using var raw = await hub.ConnectAsync(Path(scope));
        await using var signalR = await SignalRClient.ConnectAsync(hub.BaseUri, scope);
        var payload = $$"""{"id":"0123456789abcdef0123456789abcdef","name":"post.created","occured_at":"2026-11-27T16:52:25.123+00:00","record":{"id":7,"title":"Grüße <b>&</b>"},"record_type":"Post","routing_key":"{{scope}}.post.created"}""";

        // Asked of another node than the owner: -c follows the MOVED answer to it.
        var other = cluster.Ports.First(p => p != owner);
        var (exitCode, answer) = await RedisCluster.RunRedisCliAsync(["-c", "-p", other.ToString(System.Globalization.CultureInfo.InvariantCulture), "SPUBLISH", "atr:" + scope, payload]);

        Assert.True(exitCode == 0, answer);
        Assert.Equal("1", answer.Trim());
        Assert.Equal(payload, await raw.ReceiveAsync());
        Assert.True(JsonElement.DeepEquals(JsonDocument.Parse(payload).RootElement, JsonDocument.Parse(await signalR.ReceiveAsync()).RootElement));
        await raw.AssertNothingAsync();
    }

    [Fact]
    public async Task AClientBackWithSinceGetsWhatItMissedOnTheClusterAsOnOneRedis()
    {
        var scopes = await ScopesOnEveryShardAsync(cluster, perShard: 1);
        await using var a = await HubHost.StartAsync(cluster.Configuration);
        await using var b = await HubHost.StartAsync(cluster.Configuration);
        foreach (var (scope, _) in scopes)
        {
            await using var reference = await b.ConnectAsync(Path(scope));
            var leaving = await a.ConnectAsync(Path(scope));
            await PublishAsync(a, scope, 0, 5);
            var held = await leaving.ReceiveAsync(5);
            await leaving.DisposeAsync();
            await PublishAsync(a, scope, 5, 7);
            var all = await reference.ReceiveAsync(12);

            // Raw with since, SignalR with SubscribeSince, and GET /history: the same seven events.
            await using var back = await b.ConnectAsync($"{Path(scope)}?since={Id(held[^1])}");
            Assert.Equal(all[5..], await back.ReceiveAsync(7));
            await using var signalR = await SignalRClient.ConnectAsync(a.BaseUri);
            await signalR.Connection.InvokeAsync("SubscribeSince", scope, Id(held[^1])).DefaultTimeout();
            foreach (var expected in all[5..])
            {
                Assert.True(JsonElement.DeepEquals(JsonDocument.Parse(expected).RootElement, JsonDocument.Parse(await signalR.ReceiveAsync()).RootElement));
            }

            var history = JsonDocument.Parse(await a.Http.GetStringAsync($"/history?scope={scope}&since={Id(held[^1])}")).RootElement;
            Assert.Equal(all[5..].Select(Id), history.EnumerateArray().Select(e => e.GetProperty("id").GetString()));

            await PublishAsync(b, scope, 12, 1);
            Assert.Equal(await reference.ReceiveAsync(), await back.ReceiveAsync());
            await back.AssertNothingAsync();

            // The history is one stream, in the scope's own slot: on the shard that owns the channel.
            Assert.Equal(12 + 1, (long)await cluster.ExecuteAsync(await cluster.MasterPortOfAsync("atr:" + scope), "XLEN", "atr:" + scope));
        }
    }

    [Fact]
    public async Task AtrServerPublishesThroughTheClusterAndServesChannelsAndShardMetrics()
    {
        var scope = UniqueScope();
        var owner = await cluster.MasterPortOfAsync("atr:" + scope);
        await using var server = AtrServerProcess.Start(["start", "--server-port", "0", "--redis", cluster.Configuration]);
        var baseUri = await server.ListeningAsync();
        await using var raw = await WsClient.ConnectAsync(server.WebSocketUri(Path(scope)));

        var viaRedis = await AtrServerProcess.RunAsync("publish", "--redis", cluster.Configuration, "--scope", scope, "--name", "post.created", "--record", """{"id":1}""");
        var viaHub = await AtrServerProcess.RunAsync("publish", "--url", baseUri.ToString(), "--scope", scope, "--name", "post.updated", "--record", """{"id":1}""");

        Assert.True(viaRedis.ExitCode == 0, viaRedis.Output);
        Assert.True(viaHub.ExitCode == 0, viaHub.Output);
        Assert.Equal(viaRedis.Output.Trim(), Id(await raw.ReceiveAsync()));
        Assert.Equal(viaHub.Output.Trim(), Id(await raw.ReceiveAsync()));

        // Both are in the scope's history, on its shard.
        var entries = (StreamEntry[])await cluster.Client.GetDatabase().StreamRangeAsync("atr:" + scope);
        Assert.Equal([viaRedis.Output.Trim(), viaHub.Output.Trim()], entries.Select(e => (string)e["id"]!));

        // The registry is one key on one shard; the node reads it like any key.
        await cluster.Client.GetDatabase().SetAddAsync("atr:channels", ["comment.created", "post.created"]);
        var channels = JsonSerializer.Deserialize<string[]>(await server.Http.GetStringAsync("/channels"))!;
        Assert.Contains("comment.created", channels);
        Assert.Contains("post.created", channels);

        // The metric names the shard each subscription goes through: the scope's, once.
        var metrics = await server.Http.GetStringAsync("/metrics");
        var line = metrics.Split('\n').Single(l => l.StartsWith("atr_backplane_subscriptions{", StringComparison.Ordinal) && l.Contains($"shard=\"127.0.0.1:{owner}\"", StringComparison.Ordinal));
        Assert.Equal("1", line[(line.IndexOf('}', StringComparison.Ordinal) + 2)..].Split(' ')[0].Trim());
    }

    /// <summary>Scopes whose channels hash to slots of every master, <paramref name="perShard"/> on each.</summary>
    internal static async Task<List<(string Scope, int MasterPort)>> ScopesOnEveryShardAsync(RedisCluster cluster, int perShard)
    {
        var scopes = new List<(string Scope, int MasterPort)>();
        var counts = new Dictionary<int, int>();
        while (counts.Count < 3 || counts.Values.Any(c => c < perShard))
        {
            var scope = UniqueScope();
            var master = await cluster.MasterPortOfAsync("atr:" + scope);
            if (counts.GetValueOrDefault(master) < perShard)
            {
                counts[master] = counts.GetValueOrDefault(master) + 1;
                scopes.Add((scope, master));
            }
        }

        return scopes;
    }

    /// <summary>Publishes as an Atr publisher in any language does on a cluster: the event appended to the scope's history and <c>SPUBLISH</c>ed, in one script.</summary>
    internal static async Task PublishWithHistoryAsync(IDatabaseAsync redis, string scope, long seq)
    {
        var id = Guid.NewGuid().ToString("N");
        var payload = $$"""{"id":"{{id}}","name":"cluster.tick","seq":{{seq}}}""";
        await redis.ScriptEvaluateAsync(RedisConnectionProvider.AppendAndShardPublishScript, ["atr:" + scope], [id, payload, 100, 600_000]);
    }

    /// <summary>As <see cref="PublishWithHistoryAsync(IDatabaseAsync, string, long)"/>, sent to the cluster's node at <paramref name="port"/> alone.</summary>
    internal static async Task PublishWithHistoryAsync(RedisCluster cluster, int port, string scope, long seq)
    {
        var id = Guid.NewGuid().ToString("N");
        var payload = $$"""{"id":"{{id}}","name":"cluster.tick","seq":{{seq}}}""";
        await cluster.ExecuteAsync(port, "EVAL", RedisConnectionProvider.AppendAndShardPublishScript, 1, "atr:" + scope, id, payload, 100, 600_000);
    }
}
