using System.Diagnostics;
using System.Net.WebSockets;
using Atr.Hub.Tests.Infrastructure;
using Atr.Testing;
using Microsoft.AspNetCore.SignalR.Client;
using StackExchange.Redis;
using Xunit;
using Xunit.Abstractions;

namespace Atr.Hub.Tests.Reliability;

/// <summary>
/// Redis crashing again and again under two loaded nodes costs their clients nothing but the events
/// published while it was down, and each client hears that it missed some.
/// </summary>
public sealed class RedisKillCycleTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly int Crashes = ReliabilityScale.Of(5);
    private static readonly int Events = ReliabilityScale.Of(20_000);
    private const int Scopes = 5;
    private static readonly int RawPerScopeAndNode = ReliabilityScale.Of(4);
    private const int SignalRPerScopeAndNode = 1;
    private const int PublishWindow = 100;
    private const int AttemptsWhileDown = 20;

    // Every scope subscribed again within 2 s of Redis coming back (docs/protocol.md says about a second).
    private static readonly TimeSpan ResubscribeLimit = TimeSpan.FromSeconds(2);

    private readonly RedisServer _redis = new();

    public Task InitializeAsync() => _redis.InitializeAsync();

    public Task DisposeAsync() => _redis.DisposeAsync();

    [Fact]
    public async Task FiftyClientsOnTwoNodesGetEveryAcceptedEventExactlyOnceThroughFiveRedisCrashes()
    {
        var run = Stopwatch.StartNew();
        await using var nodeA = await HubHost.StartAsync(_redis.Configuration);
        await using var nodeB = await HubHost.StartAsync(_redis.Configuration);
        HubHost[] nodes = [nodeA, nodeB];
        await UntilReadinessAsync(nodes, 200, "both nodes are ready");

        await using var publisher = await ConnectPublisherAsync(_redis.Configuration);
        await using var clients = new RecordedClients();

        // Per scope and node: four raw clients and one SignalR client, 50 in all (at scale 1).
        for (var scope = 0; scope < Scopes; scope++)
        {
            foreach (var (node, nodeName) in new[] { (nodeA, "A"), (nodeB, "B") })
            {
                for (var i = 0; i < RawPerScopeAndNode; i++)
                {
                    await clients.ConnectRawAsync(node.BaseUri, $"organization.{scope}", $"raw {i} on {nodeName}, organization.{scope}");
                }

                for (var i = 0; i < SignalRPerScopeAndNode; i++)
                {
                    await clients.ConnectSignalRAsync(node.BaseUri, $"organization.{scope}", $"SignalR {i} on {nodeName}, organization.{scope}");
                }
            }
        }

        var recorders = clients.Recorders;
        Assert.Equal(Scopes * 2 * (RawPerScopeAndNode + SignalRPerScopeAndNode), recorders.Count);
        var clientsPerNode = recorders.Count / nodes.Length;

        // What Redis accepted (PUBLISH returned), per scope in publish order; each event is published once.
        var accepted = Enumerable.Range(0, Scopes).Select(_ => new List<long>()).ToArray();
        var acceptedBeforeCrash = new int[Crashes][];
        var rejected = 0;
        var acceptedTotal = 0;
        var resubscribed = new List<long>();
        var subscriber = publisher.GetSubscriber();
        long seq = 0;

        async Task PublishWhileUpAsync(long until)
        {
            while (seq < until)
            {
                var batch = new List<(long Seq, Task<long> Receivers)>();
                for (var i = 0; i < PublishWindow && seq < until; i++, seq++)
                {
                    batch.Add((seq, subscriber.PublishAsync(Channel(seq), Payload(seq))));
                }

                await Task.WhenAll(batch.Select(b => b.Receivers)).DefaultTimeout();
                foreach (var (published, receivers) in batch)
                {
                    // Both nodes are subscribed to every scope while Redis is up.
                    Assert.Equal(2, await receivers);
                    accepted[published % Scopes].Add(published);
                    acceptedTotal++;
                }
            }
        }

        for (var cycle = 0; cycle <= Crashes; cycle++)
        {
            await PublishWhileUpAsync(Events * (cycle + 1L) / (Crashes + 1));
            if (cycle == Crashes)
            {
                break;
            }

            // Every client heard of the previous outage before the next one.
            await TestTimeouts.UntilAsync(() => recorders.All(r => r.ResyncCount >= cycle), $"every client received resync {cycle}");

            // The kill comes once both nodes have read every accepted event from Redis: an event
            // still in Redis's output buffer when it dies is lost by Redis itself (pub/sub keeps
            // nothing), which is not what this test measures. Their clients may still be far behind.
            await TestTimeouts.UntilAsync(() => nodes.All(n => n.Metrics.EventsReceived == acceptedTotal), "both nodes read every accepted event");
            acceptedBeforeCrash[cycle] = accepted.Select(a => a.Count).ToArray();

            await _redis.CrashAsync();
            await UntilReadinessAsync(nodes, 503, "both nodes report the outage");
            await TestTimeouts.UntilAsync(() => !publisher.IsConnected, "the publisher noticed the outage");

            // The publisher carries on; Redis is not there to accept anything.
            for (var i = 0; i < AttemptsWhileDown; i++, seq++)
            {
                await Assert.ThrowsAsync<RedisConnectionException>(() => subscriber.PublishAsync(Channel(seq), Payload(seq)).DefaultTimeout());
                rejected++;
            }

            // Timed from the restart on, Redis's own start included: an upper bound on the time
            // since it accepted connections.
            var back = Stopwatch.StartNew();
            await _redis.RestartAsync();
            var answering = back.ElapsedMilliseconds;
            await TestTimeouts.UntilAsync(
                async () =>
                {
                    for (var scope = 0; scope < Scopes; scope++)
                    {
                        if (await _redis.SubscriberCountAsync($"atr:organization.{scope}") != 2)
                        {
                            return false;
                        }
                    }

                    return true;
                },
                "both nodes subscribed every scope again");
            resubscribed.Add(back.ElapsedMilliseconds);
            output.WriteLine($"crash {cycle + 1}: {Scopes} scopes × 2 nodes subscribed again (PUBSUB NUMSUB) {back.ElapsedMilliseconds} ms after the restart began; Redis answered PING after {answering} ms");

            await UntilReadinessAsync(nodes, 200, "both nodes are ready again");
            await TestTimeouts.UntilAsync(() => publisher.IsConnected, "the publisher reconnected");
        }

        await TestTimeouts.UntilAsync(
            () => recorders.All(r => r.Count >= accepted[int.Parse(r.Scope["organization.".Length..], System.Globalization.CultureInfo.InvariantCulture)].Count),
            "every client received every accepted event of its scope");
        await TestTimeouts.UntilAsync(() => recorders.All(r => r.ResyncCount >= Crashes), "every client received the last resync");

        output.WriteLine($"published {seq} events: {acceptedTotal} accepted by Redis, {rejected} refused while it was down; {recorders.Count} clients, {Crashes} crashes, {run.Elapsed.TotalSeconds:F1} s");
        output.WriteLine($"resubscribed {string.Join(", ", resubscribed)} ms after each restart began (limit {ResubscribeLimit.TotalMilliseconds} ms)");

        foreach (var recorder in recorders)
        {
            var scope = int.Parse(recorder.Scope["organization.".Length..], System.Globalization.CultureInfo.InvariantCulture);

            // Exactly once and in publish order: the received sequence is the accepted one.
            Assert.True(accepted[scope].SequenceEqual(recorder.Sequence), $"{recorder.Name}: received {recorder.Count} events, expected the {accepted[scope].Count} accepted, in order");
            Assert.Empty(recorder.Unexpected);

            // One outage signal per outage, each after everything accepted before that crash.
            var positions = recorder.ResyncPositions;
            Assert.True(positions.Length == Crashes, $"{recorder.Name}: {positions.Length} resyncs for {Crashes} crashes");
            for (var crash = 0; crash < Crashes; crash++)
            {
                Assert.True(positions[crash] >= acceptedBeforeCrash[crash][scope], $"{recorder.Name}: resync {crash + 1} came before events accepted ahead of that crash");
            }
        }

        Assert.All(resubscribed, ms => Assert.True(ms < ResubscribeLimit.TotalMilliseconds, $"resubscribed after {ms} ms"));

        // Both nodes alive, every client still on its first connection.
        await UntilReadinessAsync(nodes, 200, "both nodes are ready");
        foreach (var node in nodes)
        {
            Assert.Equal(200, (int)(await node.Http.GetAsync("/health/live")).StatusCode);
        }

        Assert.All(clients.Raw, c => Assert.Equal(WebSocketState.Open, c.Socket.State));
        Assert.All(clients.SignalR, c => Assert.Equal(HubConnectionState.Connected, c.Connection.State));
        Assert.All(nodes, n => Assert.Equal(clientsPerNode, n.Metrics.Connections));
        Assert.All(nodes, n => Assert.Equal(clientsPerNode, n.Metrics.ConnectionsOpened));
    }

    private static RedisChannel Channel(long seq) => RedisChannel.Literal($"atr:organization.{seq % Scopes}");

    private static RedisValue Payload(long seq) => $$"""{"name":"post.created","seq":{{seq}},"routing_key":"organization.{{seq % Scopes}}.post.created"}""";

    /// <summary>The application server's own connection: a publish while Redis is down fails at once instead of waiting to be sent after the restart.</summary>
    private static async Task<ConnectionMultiplexer> ConnectPublisherAsync(string configuration)
    {
        var options = ConfigurationOptions.Parse(configuration);
        options.AbortOnConnectFail = false;
        options.BacklogPolicy = BacklogPolicy.FailFast;
        options.ReconnectRetryPolicy = new LinearRetry(100);
        return await ConnectionMultiplexer.ConnectAsync(options).DefaultTimeout();
    }

    private static Task UntilReadinessAsync(HubHost[] nodes, int status, string what)
        => TestTimeouts.UntilAsync(
            async () =>
            {
                foreach (var node in nodes)
                {
                    if (await node.ReadinessAsync() != status)
                    {
                        return false;
                    }
                }

                return true;
            },
            what);
}
