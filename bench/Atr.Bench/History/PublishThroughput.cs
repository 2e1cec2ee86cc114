using System.Diagnostics;
using System.Globalization;
using Atr.Bench.Measurement;
using Atr.Bench.Results;
using Atr.Bench.Targets;
using Atr.Publishing;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace Atr.Bench.History;

/// <summary>
/// <c>history-publish</c>: one Atr publisher, pipelined, through Redis, with history off (<c>PUBLISH</c>) and on (the
/// append-and-publish script), run after run. redis-server has the server CPU to itself — it is what is measured —
/// and a subscriber to every scope's channel stands in for a hub node, so each publish also fans out once.
/// </summary>
internal static class PublishThroughput
{
    private static readonly TimeSpan ReceiveTimeout = TimeSpan.FromSeconds(60);

    public static async Task<IReadOnlyList<HistoryResult>> RunAsync(HistoryBenchSettings settings, MachineInfo machine, TextWriter progress, CancellationToken cancellationToken)
    {
        await using var redis = await RedisInstance.StartAsync(settings.Paths.RedisServer, settings.Pin ? settings.ServerCpus : null, cancellationToken).ConfigureAwait(false);
        progress.WriteLine(settings.Pin
            ? $"redis-server on CPU {settings.ServerCpus}; the publisher and the subscriber on CPU {settings.LoadCpus}"
            : "CPUs: not pinned");
        var results = new List<HistoryResult>();
        for (var run = 1; run <= settings.Runs; run++)
        {
            foreach (var historySize in new[] { 0, settings.HistorySize })
            {
                await redis.Client.GetServer(redis.Endpoint).FlushAllDatabasesAsync().ConfigureAwait(false);
                var figures = await MeasureAsync(redis, historySize, settings, cancellationToken).ConfigureAwait(false);
                var result = HistoryResult.Measured(settings, machine, run, historySize, publish: figures);
                progress.WriteLine(Summary(result));
                results.Add(result);
            }
        }

        return results;
    }

    public static string Summary(HistoryResult result)
    {
        var figures = result.Publish!;
        return string.Create(CultureInfo.InvariantCulture,
            $"history {(result.HistorySize == 0 ? "off" : "on (" + result.HistorySize + ")"),-9} run {result.Run}: {figures.EventsPerSecond:N0} events/s, " +
            $"redis {figures.RedisCpuMicrosPerEvent:0.00} µs CPU/event ({figures.RedisCores:0.00} cores), load side {figures.LoadCores:0.00} cores, " +
            $"used_memory {figures.RedisUsedMemoryBytes / 1048576.0:0.0} MiB, received {figures.Received:N0}/{figures.Expected:N0}");
    }

    private static async Task<PublishFigures> MeasureAsync(RedisInstance redis, int historySize, HistoryBenchSettings settings, CancellationToken cancellationToken)
    {
        var services = new ServiceCollection().AddAtrPublishing(options =>
        {
            options.Redis = redis.Endpoint;
            options.HistorySize = historySize;
        });
        await using var provider = services.BuildServiceProvider();
        var publisher = provider.GetRequiredService<IEventPublisher>();
        var factory = provider.GetRequiredService<EventFactory>();

        // The subscriber a hub node would be: every scope's channel, on its own connection.
        var warmup = Math.Min(settings.Events / 10, 20_000);
        var expected = (long)warmup + settings.Events;
        long received = 0;
        var all = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var subscriberConnection = await ConnectionMultiplexer.ConnectAsync(redis.Endpoint).ConfigureAwait(false);
        var subscriber = subscriberConnection.GetSubscriber();
        for (var scope = 0; scope < settings.Scopes; scope++)
        {
            (await subscriber.SubscribeAsync(RedisChannel.Literal("atr:" + ScopeName(scope))).ConfigureAwait(false)).OnMessage(_ =>
            {
                if (Interlocked.Increment(ref received) == expected)
                {
                    all.TrySetResult();
                }
            });
        }

        // Events are made before the clock starts: the window measures publishing, not building records.
        var pad = new Dictionary<string, string> { ["pad"] = new string('x', Math.Max(0, settings.PayloadBytes - 150)) };
        var events = new AtrEvent[warmup + settings.Events];
        for (var i = 0; i < events.Length; i++)
        {
            events[i] = factory.Create(ScopeName(i % settings.Scopes), "bench.tick", pad);
        }

        await PublishAsync(publisher, events.AsMemory(0, warmup), settings.InFlight, cancellationToken).ConfigureAwait(false);
        var redisCpu = ProcessSampler.CpuSeconds(redis.Process.Id);
        var ownCpu = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        await PublishAsync(publisher, events.AsMemory(warmup), settings.InFlight, cancellationToken).ConfigureAwait(false);
        var seconds = clock.Elapsed.TotalSeconds;
        var redisSeconds = ProcessSampler.CpuSeconds(redis.Process.Id) - redisCpu;
        var ownSeconds = (Process.GetCurrentProcess().TotalProcessorTime - ownCpu).TotalSeconds;

        // Every publish was acknowledged; the subscriber may still be reading the last of them.
        await Task.WhenAny(all.Task, Task.Delay(ReceiveTimeout, cancellationToken)).ConfigureAwait(false);
        var memory = await redis.Client.GetServer(redis.Endpoint).InfoAsync("memory").ConfigureAwait(false);
        var usedMemory = memory.SelectMany(group => group).FirstOrDefault(pair => pair.Key == "used_memory").Value;

        return new PublishFigures
        {
            Events = settings.Events,
            Scopes = settings.Scopes,
            PayloadBytes = PayloadSize(provider, events[0]),
            InFlight = settings.InFlight,
            Seconds = Math.Round(seconds, 3),
            EventsPerSecond = Math.Round(settings.Events / seconds),
            RedisCpuMicrosPerEvent = Math.Round(redisSeconds * 1e6 / settings.Events, 3),
            RedisCores = Math.Round(redisSeconds / seconds, 3),
            LoadCores = Math.Round(ownSeconds / seconds, 3),
            RedisUsedMemoryBytes = long.TryParse(usedMemory, NumberStyles.Integer, CultureInfo.InvariantCulture, out var bytes) ? bytes : 0,
            Received = Interlocked.Read(ref received),
            Expected = expected,
        };
    }

    /// <summary>Publishes <paramref name="events"/> in order with at most <paramref name="inFlight"/> unacknowledged.</summary>
    private static async Task PublishAsync(IEventPublisher publisher, ReadOnlyMemory<AtrEvent> events, int inFlight, CancellationToken cancellationToken)
    {
        var pending = new Task?[Math.Max(1, inFlight)];
        for (var i = 0; i < events.Length; i++)
        {
            var slot = i % pending.Length;
            if (pending[slot] is { } earlier)
            {
                await earlier.ConfigureAwait(false);
            }

            pending[slot] = publisher.PublishAsync(events.Span[i], cancellationToken);
        }

        foreach (var task in pending)
        {
            if (task is not null)
            {
                await task.ConfigureAwait(false);
            }
        }
    }

    private static int PayloadSize(IServiceProvider provider, AtrEvent atrEvent)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        provider.GetRequiredService<IEventSerializer>().Serialize(atrEvent, buffer);
        return buffer.WrittenCount;
    }

    private static string ScopeName(int index) => $"organization.{index + 1}";
}
