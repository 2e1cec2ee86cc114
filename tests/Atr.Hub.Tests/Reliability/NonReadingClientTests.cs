using System.Diagnostics;
using System.Text.Json;
using Atr.Hub.Tests.Infrastructure;
using Atr.Testing;
using StackExchange.Redis;
using Xunit;
using Xunit.Abstractions;

namespace Atr.Hub.Tests.Reliability;

/// <summary>
/// Clients that stop reading cost the ones that read nothing: they are closed as slow consumers, the
/// node's memory stays within their queue bounds, and its Redis subscription is never cut.
/// </summary>
[Collection(UsesRedis.Name)]
public sealed class NonReadingClientTests(RedisServer redis, ITestOutputHelper output)
{
    private static readonly int NonReaders = ReliabilityScale.Of(200);
    private const int Readers = 20;
    private static readonly int Events = ReliabilityScale.Of(20_000);
    private const int EventBytes = 1024;

    // The default MaxSendQueueBytes, which the node runs with.
    private static readonly long QueueBound = new AtrHubOptions().MaxSendQueueBytes;
    private static readonly long MemoryAllowance = (NonReaders * QueueBound) + (64L * 1024 * 1024);

    // How far the publisher may run ahead of the slowest reader: 256 KiB of events, a quarter of the
    // queue bound, so a reader is never taken for a slow consumer because the test published too fast.
    private const int ReaderLag = 256;
    private const int PublishWindow = 64;

    [Fact]
    public async Task TwoHundredClientsThatNeverReadAreClosedAsSlowConsumersWhileTwentyReadEverything()
    {
        var run = Stopwatch.StartNew();
        var name = $"atr-node-{Guid.NewGuid():N}";
        await using var node = AtrServerProcess.Start(
            ["start", "--server-port", "0", "--redis", $"{redis.Configuration},name={name}"],
            new Dictionary<string, string>
            {
                // A client that never reads never answers a ping either: the peer timeout stays out
                // of the way, so that what closes these clients is their send queue.
                ["Atr__KeepAliveInterval"] = "00:05:00",
                ["Atr__PeerTimeout"] = "00:10:00",

                // The close frame waits behind what fills the client's socket; the node must not abort
                // before the test, at the end, reads its way to it.
                ["Atr__CloseTimeout"] = "00:05:00",
            });
        var baseUri = await node.ListeningAsync();

        var stalled = new List<RawWebSocket>();
        await using var readers = new RecordedClients();
        try
        {
            // A bare socket that did the upgrade and never reads again, with a 4 KiB receive buffer so
            // that the kernel buffers in between fill quickly.
            for (var i = 0; i < NonReaders; i++)
            {
                stalled.Add(await RawWebSocket.ConnectAsync(baseUri.Port, "/organization/1", receiveBufferSize: 4096));
            }

            for (var i = 0; i < Readers; i++)
            {
                await readers.ConnectRawAsync(baseUri, "organization.1", $"reader {i}");
            }

            var recorders = readers.Recorders;

            await TestTimeouts.UntilAsync(async () => (await StatsAsync(node.Http)).GetProperty("connections").GetInt64() == NonReaders + Readers, "the node counts every connection");

            var subscribers = await NodeSubscribersAsync(name);
            Assert.NotEmpty(subscribers);
            Assert.Contains(subscribers, s => s["sub"] != "0");
            var listedAt = Stopwatch.StartNew();

            var baseline = node.ResidentBytes();
            var peakFromBaseline = node.TryResetPeakMemory();

            var subscriber = redis.Client.GetSubscriber();
            var channel = RedisChannel.Literal("atr:organization.1");
            var published = 0;
            while (published < Events)
            {
                var batch = new List<Task>();
                for (var i = 0; i < PublishWindow && published < Events; i++, published++)
                {
                    batch.Add(subscriber.PublishAsync(channel, Payload(published)));
                }

                await Task.WhenAll(batch).DefaultTimeout();
                var ahead = published - ReaderLag;
                await TestTimeouts.UntilAsync(() => recorders.All(r => r.Count >= ahead), "the readers keep up");
            }

            await TestTimeouts.UntilAsync(() => recorders.All(r => r.Count == Events), "every reader received every event");
            var peak = node.PeakResidentBytes();
            var end = node.ResidentBytes();

            await TestTimeouts.UntilAsync(async () => (await StatsAsync(node.Http)).GetProperty("slow_consumer_closures").GetInt64() == NonReaders, "every stalled client is marked a slow consumer");
            var stats = await StatsAsync(node.Http);

            var after = await NodeSubscribersAsync(name);
            var elapsed = listedAt.Elapsed;

            output.WriteLine($"{Events} events of {EventBytes} B to {Readers} readers and {NonReaders} stalled clients in {run.Elapsed.TotalSeconds:F1} s");
            output.WriteLine($"node RSS: {Mib(baseline)} before, {Mib(peak)} peak ({(peakFromBaseline ? "VmHWM reset at the baseline" : "VmHWM since the process started")}), {Mib(end)} at the end; growth {Mib(peak - baseline)}, allowed {Mib(MemoryAllowance)}");
            output.WriteLine($"stats: {stats}");
            foreach (var (before, now) in subscribers.Join(after, s => s["id"], s => s["id"], (b, a) => (b, a)))
            {
                output.WriteLine($"Redis pubsub client id={now["id"]} name={now["name"]} sub={now["sub"]}: age {before["age"]} s → {now["age"]} s over {elapsed.TotalSeconds:F1} s");
            }

            // The readers got everything, in order, and nothing else (a resync would mean the node lost its subscription).
            foreach (var recorder in recorders)
            {
                Assert.True(recorder.Sequence.SequenceEqual(Enumerable.Range(0, Events).Select(i => (long)i)), $"{recorder.Name} missed or reordered events");
                Assert.Equal(0, recorder.ResyncCount);
                Assert.Empty(recorder.Unexpected);
            }

            Assert.All(readers.Raw, r => Assert.False(r.Closed.IsCompleted, "a reader was closed"));
            Assert.True(peak - baseline < MemoryAllowance, $"the node grew by {Mib(peak - baseline)}");

            // The node's subscriber connections are the same ones, older by the whole run.
            Assert.Equal(subscribers.Select(s => s["id"]).Order(), after.Select(s => s["id"]).Order());
            foreach (var (before, now) in subscribers.Join(after, s => s["id"], s => s["id"], (b, a) => (b, a)))
            {
                Assert.InRange(long.Parse(now["age"], System.Globalization.CultureInfo.InvariantCulture), long.Parse(before["age"], System.Globalization.CultureInfo.InvariantCulture) + (long)elapsed.TotalSeconds - 1, long.MaxValue);
            }

            Assert.Equal(NonReaders, stats.GetProperty("slow_consumer_closures").GetInt64());
            Assert.Equal(Events, stats.GetProperty("events_received").GetInt64());

            // Once they read, each stalled client finds the slow-consumer close frame behind what filled its buffers.
            var codes = new int?[NonReaders];
            await Parallel.ForAsync(0, NonReaders, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, cancellationToken) =>
                codes[i] = await stalled[i].ReceiveUntilCloseAsync(cancellationToken).WaitAsync(TestTimeouts.Default, cancellationToken));
            output.WriteLine($"stalled clients' close codes: {string.Join(", ", codes.GroupBy(c => c?.ToString() ?? "none").Select(g => $"{g.Key}×{g.Count()}"))}");
            Assert.All(codes, code => Assert.Equal(AtrCloseCodes.SlowConsumer, code));
        }
        finally
        {
            foreach (var client in stalled)
            {
                await client.DisposeAsync();
            }
        }
    }

    private static RedisValue Payload(int seq)
    {
        var head = FormattableString.Invariant($"{{\"name\":\"post.created\",\"seq\":{seq},\"pad\":\"");
        return head + new string('p', EventBytes - head.Length - 2) + "\"}";
    }

    private static async Task<JsonElement> StatsAsync(HttpClient http)
        => JsonDocument.Parse(await http.GetStringAsync("/stats")).RootElement;

    /// <summary>The node's connections in subscriber mode (<c>CLIENT LIST TYPE pubsub</c>), found by the client name it was given.</summary>
    private async Task<List<IReadOnlyDictionary<string, string>>> NodeSubscribersAsync(string name)
        => [.. (await redis.ClientListAsync("pubsub")).Where(c => c.TryGetValue("name", out var n) && n == name)];

    private static string Mib(long bytes) => $"{bytes / (1024.0 * 1024):F1} MiB";
}
