using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using Atr.Hub.Tests.Infrastructure;
using Atr.Testing;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;
using Xunit;
using Xunit.Abstractions;

namespace Atr.Hub.Tests.Reliability;

/// <summary>
/// Ten thousand hostile peers, and garbage published on Redis, against one node while twenty clients
/// receive a steady stream: each peer gets its documented answer, the twenty lose nothing, the
/// garbage is dropped and counted, and the node logs no unhandled exception.
/// </summary>
[Collection(UsesRedis.Name)]
public sealed class FuzzTests(RedisServer redis, ITestOutputHelper output)
{
    private static readonly int BadPeers = ReliabilityScale.Of(10_000);
    private const int Concurrency = 32;
    private const int RawReceivers = 16;
    private const int SignalRReceivers = 4;
    private const int Round = 10;
    private const int GarbageEveryRounds = 3;
    private const int GiganticPayloads = 6;
    private const int GiganticBytes = 8 * 1024 * 1024;

    [Fact]
    public async Task TenThousandBadPeersGetTheirDocumentedAnswersWhileTwentyClientsLoseNoEvent()
    {
        var seed = int.TryParse(Environment.GetEnvironmentVariable("ATR_FUZZ_SEED"), out var chosen) ? chosen : Random.Shared.Next();
        output.WriteLine($"seed {seed} (ATR_FUZZ_SEED={seed} repeats this run)");
        var random = new Random(seed);

        var capture = new CapturingLoggerProvider();
        var unobserved = new ConcurrentQueue<Exception>();
        void OnUnobserved(object? sender, UnobservedTaskExceptionEventArgs e) => unobserved.Enqueue(e.Exception);

        // Whatever earlier tests left unobserved surfaces now, before this test listens.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        TaskScheduler.UnobservedTaskException += OnUnobserved;
        try
        {
            await using var hub = await HubHost.StartAsync(redis.Configuration, configure: builder =>
            {
                builder.Logging.AddProvider(capture);
                builder.Logging.AddFilter<CapturingLoggerProvider>(null, LogLevel.Warning);
            });

            await using var clients = new RecordedClients();
            for (var i = 0; i < RawReceivers; i++)
            {
                await clients.ConnectRawAsync(hub.BaseUri, "organization.1", $"raw {i}");
            }

            for (var i = 0; i < SignalRReceivers; i++)
            {
                await clients.ConnectSignalRAsync(hub.BaseUri, "organization.1", $"SignalR {i}");
            }

            // The whole plan is drawn before anything runs, so the order peers finish in cannot change it.
            var peers = Enumerable.Range(0, BadPeers).Select(_ => BadPeer.Draw(random, hub.Port)).ToArray();
            var stream = new SteadyStream(redis.Client.GetSubscriber(), hub, clients, new Random(random.Next()));

            var fuzz = Stopwatch.StartNew();
            var answers = new string[BadPeers];
            var done = 0;
            using var fuzzing = new CancellationTokenSource();
            var streaming = stream.RunAsync(() => Volatile.Read(ref done), fuzzing.Token);
            try
            {
                await Parallel.ForAsync(0, BadPeers, new ParallelOptions { MaxDegreeOfParallelism = Concurrency }, async (i, cancellationToken) =>
                {
                    try
                    {
                        answers[i] = await peers[i].RunAsync(hub.Port, cancellationToken);
                    }
                    catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException or InvalidOperationException or TimeoutException)
                    {
                        answers[i] = $"error {ex.GetType().Name}: {ex.Message}";
                    }

                    Interlocked.Increment(ref done);
                });
            }
            finally
            {
                await fuzzing.CancelAsync();
            }

            await streaming.DefaultTimeout();
            fuzz.Stop();

            await TestTimeouts.UntilAsync(() => clients.Recorders.All(r => r.Count >= stream.Published), "every client received every event");
            await TestTimeouts.UntilAsync(() => hub.Metrics.PayloadsDropped >= stream.Garbage, "every garbage payload was dropped");
            var stats = await hub.Http.GetStringAsync("/stats");

            // The bad peers are all gone; the twenty remain.
            await TestTimeouts.UntilAsync(() => hub.Metrics.Connections == RawReceivers + SignalRReceivers, "the node dropped every bad peer");

            output.WriteLine($"{BadPeers} bad peers, {Concurrency} at a time, in {fuzz.Elapsed.TotalSeconds:F1} s; meanwhile {stream.Published} events to {clients.Recorders.Count} clients and {stream.Garbage} garbage payloads ({GiganticPayloads} of 8 MiB) on Redis");
            output.WriteLine($"stats: {stats}");
            foreach (var category in peers.Select((p, i) => (p.Category, Answer: answers[i])).GroupBy(p => p.Category).OrderBy(g => g.Key, StringComparer.Ordinal))
            {
                output.WriteLine($"  {category.Key,-22} {category.Count(),5}: {string.Join(", ", category.GroupBy(p => p.Answer).OrderByDescending(g => g.Count()).Select(g => $"{g.Key} ×{g.Count()}"))}");
            }

            output.WriteLine($"  garbage on Redis: {string.Join(", ", stream.GarbageKinds.OrderBy(k => k.Key, StringComparer.Ordinal).Select(k => $"{k.Key} ×{k.Value}"))}");

            var warnings = capture.Entries.Where(e => e.Level is >= LogLevel.Warning and <= LogLevel.Critical).ToList();
            foreach (var group in warnings.GroupBy(e => (e.Level, e.Category, e.Exception?.GetType().Name)))
            {
                output.WriteLine($"  log {group.Key.Level} {group.Key.Category} {group.Key.Name}: ×{group.Count()}, e.g. {group.First().Message}");
            }

            var wrong = peers.Select((p, i) => (Peer: p, Index: i, Answer: answers[i])).Where(p => !p.Peer.Documented.Contains(p.Answer)).ToList();
            foreach (var (peer, index, answer) in wrong.Take(20))
            {
                output.WriteLine($"  peer {index} {peer.Category} ({peer.Variant}): answered '{answer}', documented {string.Join(" or ", peer.Documented)}");
            }

            Assert.True(wrong.Count == 0, $"{wrong.Count} bad peers got an answer other than the documented one");

            // The twenty got every event, in order, and nothing else.
            foreach (var recorder in clients.Recorders)
            {
                Assert.True(recorder.Sequence.SequenceEqual(Enumerable.Range(0, stream.Published).Select(i => (long)i)), $"{recorder.Name} missed or reordered events");
                Assert.Empty(recorder.Unexpected);
            }

            Assert.Equal(stream.Garbage, hub.Metrics.PayloadsDropped);
            Assert.Equal(0, hub.Metrics.SlowConsumers);
            Assert.All(clients.Raw, c => Assert.False(c.Closed.IsCompleted, "a receiving client was closed"));
            Assert.All(clients.SignalR, c => Assert.Equal(HubConnectionState.Connected, c.Connection.State));

            var failures = warnings.Where(e => e.Level >= LogLevel.Error && e.Exception is not null).ToList();
            Assert.True(failures.Count == 0, $"The node logged {failures.Count} errors with exceptions; the first: {failures.FirstOrDefault()}");
        }
        finally
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            TaskScheduler.UnobservedTaskException -= OnUnobserved;
        }

        Assert.True(unobserved.IsEmpty, $"Unobserved task exceptions: {string.Join("; ", unobserved)}");
    }

    /// <summary>
    /// Publishes valid events to the clients' scope in rounds that wait for every client to catch
    /// up, with a garbage payload every few rounds and the 8 MiB ones spread over the fuzz run.
    /// </summary>
    private sealed class SteadyStream(ISubscriber subscriber, HubHost hub, RecordedClients clients, Random random)
    {
        private static readonly RedisChannel Channel = RedisChannel.Literal("atr:organization.1");

        public int Published { get; private set; }

        public int Garbage { get; private set; }

        public Dictionary<string, int> GarbageKinds { get; } = new(StringComparer.Ordinal);

        /// <summary>Runs until <paramref name="stop"/>, and past it until every 8 MiB payload went out.</summary>
        public async Task RunAsync(Func<int> peersDone, CancellationToken stop)
        {
            var rounds = 0;
            var gigantic = 0;
            while (!stop.IsCancellationRequested || gigantic < GiganticPayloads)
            {
                var batch = new Task[Round];
                for (var i = 0; i < Round; i++)
                {
                    batch[i] = subscriber.PublishAsync(Channel, $$"""{"name":"post.created","seq":{{Published++}}}""");
                }

                await Task.WhenAll(batch).DefaultTimeout();

                if (++rounds % GarbageEveryRounds == 0)
                {
                    var (kind, payload) = SmallGarbage(random);
                    await PublishGarbageAsync(kind, payload);
                }

                // Spread over the run; one at a time, each dropped before the next, so that Redis never
                // holds several for the node (its pub/sub output limit is 32 MB).
                if (gigantic < GiganticPayloads && (stop.IsCancellationRequested || peersDone() >= (gigantic + 1) * BadPeers / (GiganticPayloads + 1)))
                {
                    var (kind, payload) = Gigantic(gigantic++);
                    await PublishGarbageAsync(kind, payload);
                    var dropped = Garbage;
                    await TestTimeouts.UntilAsync(() => hub.Metrics.PayloadsDropped >= dropped, $"the {kind} was dropped");
                }

                var published = Published;
                await TestTimeouts.UntilAsync(
                    () =>
                    {
                        if (clients.Raw.Any(c => c.Closed.IsCompleted) || clients.SignalR.Any(c => c.Connection.State != HubConnectionState.Connected))
                        {
                            throw new Xunit.Sdk.XunitException($"A receiving client was disconnected after {published} events; stats: {hub.Metrics.SlowConsumers} slow consumers");
                        }

                        return clients.Recorders.All(r => r.Count >= published);
                    },
                    "the clients received the round");
            }
        }

        private async Task PublishGarbageAsync(string kind, byte[] payload)
        {
            await subscriber.PublishAsync(Channel, payload).DefaultTimeout();
            Garbage++;
            GarbageKinds[kind] = GarbageKinds.GetValueOrDefault(kind) + 1;
        }

        private static (string Kind, byte[] Payload) Gigantic(int index)
        {
            if (index % 2 == 0)
            {
                var junk = new byte[GiganticBytes];
                junk.AsSpan().Fill((byte)'x');
                return ("8 MiB not JSON", junk);
            }

            // A well-formed event, but larger than any client's send queue may hold.
            var head = "{\"name\":\"post.created\",\"pad\":\""u8;
            var payload = new byte[GiganticBytes];
            head.CopyTo(payload);
            payload.AsSpan(head.Length, GiganticBytes - head.Length - 2).Fill((byte)'p');
            "\"}"u8.CopyTo(payload.AsSpan(GiganticBytes - 2));
            return ("8 MiB event object", payload);
        }

        private static (string Kind, byte[] Payload) SmallGarbage(Random random)
        {
            var depth = 65 + random.Next(100);
            (string Kind, Func<byte[]> Make)[] kinds =
            [
                ("not JSON", () => [(byte)'#', .. Encoding.ASCII.GetBytes(new string('z', random.Next(0, 100)))]),
                ("truncated object", () => Encoding.UTF8.GetBytes("""{"name":"post.created","seq":""")),
                ("array", () => """["post.created"]"""u8.ToArray()),
                ("string", () => "\"post.created\""u8.ToArray()),
                ("number", () => "42"u8.ToArray()),
                ("null", () => "null"u8.ToArray()),
                ("no name", () => """{"routing_key":"organization.1.post.created"}"""u8.ToArray()),
                ("name not a string", () => random.Next(3) switch { 0 => """{"name":42}"""u8.ToArray(), 1 => """{"name":null}"""u8.ToArray(), _ => """{"name":{"a":1}}"""u8.ToArray() }),
                ("name only nested", () => """{"record":{"name":"post.created"}}"""u8.ToArray()),
                ("two objects", () => """{"name":"a"}{"name":"b"}"""u8.ToArray()),
                ("trailing garbage", () => """{"name":"a"} x"""u8.ToArray()),
                ("not UTF-8", () => [.. """{"name":"a"""u8, 0xFF, .. "\"}"u8]),
                ("empty", () => []),
                ("whitespace", () => "  \n\t "u8.ToArray()),
                ("nested past 64", () => Encoding.ASCII.GetBytes("{\"name\":\"a\",\"x\":" + new string('[', depth) + new string(']', depth) + "}")),
                ("byte order mark", () => [0xEF, 0xBB, 0xBF, .. """{"name":"a"}"""u8]),
                ("random bytes", () =>
                {
                    var bytes = new byte[random.Next(1, 500)];
                    random.NextBytes(bytes);
                    bytes[0] = (byte)'#';
                    return bytes;
                }),
            ];
            var (kind, make) = kinds[random.Next(kinds.Length)];
            return (kind, make());
        }
    }
}
