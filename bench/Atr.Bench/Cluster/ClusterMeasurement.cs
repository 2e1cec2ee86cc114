using System.Diagnostics;
using System.Globalization;
using Atr.Bench.Measurement;
using Atr.Bench.Results;
using Atr.Publishing;

namespace Atr.Bench.Cluster;

/// <summary>
/// One measurement on a running cluster, the same for both scenarios: subscribers on each master for the channels of
/// the scopes it owns (what hub nodes hold: one connection per node and master), a publisher, a probe until every path
/// delivers, a warm-up, then the window: each master's CPU, the publish commands it ran, the messages its subscribers
/// received.
/// </summary>
internal static class ClusterMeasurement
{
    private static readonly TimeSpan DeliveryTimeout = TimeSpan.FromSeconds(60);

    /// <param name="sharded">SPUBLISH and SSUBSCRIBE (Atr's own publisher), or PUBLISH and SUBSCRIBE.</param>
    /// <param name="rate">Events/s, paced; null publishes as fast as <see cref="ClusterBenchSettings.InFlight"/> allows.</param>
    public static async Task<ClusterFigures> MeasureAsync(
        LocalCluster cluster, ScopeLayout layout, bool sharded, int historySize, double? rate, ClusterBenchSettings settings, CancellationToken cancellationToken)
    {
        var masters = cluster.Masters;
        await cluster.OnEveryMasterAsync(["FLUSHALL"], cancellationToken).ConfigureAwait(false);
        var subscribers = masters.Select(_ => new List<ShardSubscriber>()).ToArray();
        try
        {
            for (var master = 0; master < masters.Count; master++)
            {
                for (var node = 0; node < settings.Subscribers; node++)
                {
                    subscribers[master].Add(await ShardSubscriber.StartAsync(masters[master].Port, layout.ChannelsOf(master), sharded, cancellationToken).ConfigureAwait(false));
                }
            }

            await using var publisher = await ClusterPublisher.StartAsync(sharded, cluster.Configuration, historySize).ConfigureAwait(false);

            // Events are made before the clock starts: the window measures publishing, not building records. Event i goes
            // to scope i mod scopes: first one to each scope (the probe), then the warm-up, then the window.
            var scopes = layout.Scopes.Count;
            var pad = new Dictionary<string, string> { ["pad"] = new string('x', Math.Max(0, settings.PayloadBytes - 150)) };
            var events = new AtrEvent[scopes + settings.Warmup + settings.Events];
            for (var i = 0; i < events.Length; i++)
            {
                events[i] = publisher.Events.Create(layout.Scopes[i % scopes], "bench.tick", pad);
            }

            await PublishAsync(publisher, events.AsMemory(0, scopes), settings.InFlight, rate: null, cancellationToken).ConfigureAwait(false);
            await DeliveredAsync(subscribers, Deliveries(layout.EventsPerMaster(0, scopes), settings), failOnTimeout: true, cancellationToken).ConfigureAwait(false);
            await PublishAsync(publisher, events.AsMemory(scopes, settings.Warmup), settings.InFlight, rate, cancellationToken).ConfigureAwait(false);
            await DeliveredAsync(subscribers, Deliveries(layout.EventsPerMaster(0, scopes + settings.Warmup), settings), failOnTimeout: true, cancellationToken).ConfigureAwait(false);

            await cluster.OnEveryMasterAsync(["CONFIG", "RESETSTAT"], cancellationToken).ConfigureAwait(false);
            var busBefore = await BusPublishesAsync(masters, cancellationToken).ConfigureAwait(false);
            var cpuBefore = masters.Select(master => ProcessSampler.CpuSeconds(master.Process.Id)).ToArray();
            var ownBefore = Process.GetCurrentProcess().TotalProcessorTime;
            var machineBefore = CpuTimes.Read();
            var clock = Stopwatch.StartNew();
            await PublishAsync(publisher, events.AsMemory(scopes + settings.Warmup), settings.InFlight, rate, cancellationToken).ConfigureAwait(false);
            var seconds = clock.Elapsed.TotalSeconds;
            var cpu = masters.Select((master, index) => ProcessSampler.CpuSeconds(master.Process.Id) - cpuBefore[index]).ToArray();
            var ownSeconds = (Process.GetCurrentProcess().TotalProcessorTime - ownBefore).TotalSeconds;
            var busy = CpuTimes.Read().BusySince(machineBefore);

            // Every publish was acknowledged; the subscribers may still be reading the last ones.
            var expected = Deliveries(layout.EventsPerMaster(0, events.Length), settings);
            await DeliveredAsync(subscribers, expected, failOnTimeout: false, cancellationToken).ConfigureAwait(false);

            var busAfter = await BusPublishesAsync(masters, cancellationToken).ConfigureAwait(false);

            var windowEvents = layout.EventsPerMaster(scopes + settings.Warmup, settings.Events);
            var cpuTotal = cpu.Sum();
            var perMaster = new List<MasterFigures>();
            for (var master = 0; master < masters.Count; master++)
            {
                var admin = masters[master].Admin;
                var commands = await admin.TextAsync(["INFO", "commandstats"], cancellationToken).ConfigureAwait(false);
                var memory = await admin.TextAsync(["INFO", "memory"], cancellationToken).ConfigureAwait(false);
                var shardChannels = (object?[])(await admin.ExecuteAsync(["PUBSUB", "SHARDCHANNELS", ScopeLayout.ChannelPrefix + "*"], cancellationToken).ConfigureAwait(false))!;
                var channels = (object?[])(await admin.ExecuteAsync(["PUBSUB", "CHANNELS", ScopeLayout.ChannelPrefix + "*"], cancellationToken).ConfigureAwait(false))!;
                var publishCalls = Field(commands, "cmdstat_publish:calls=");
                var shardPublishCalls = Field(commands, "cmdstat_spublish:calls=");
                var busReceived = busAfter[master].Received - busBefore[master].Received;
                perMaster.Add(new MasterFigures
                {
                    Port = masters[master].Port,
                    Scopes = layout.ScopesOf(master),
                    Events = windowEvents[master],
                    EventShare = Math.Round((double)windowEvents[master] / settings.Events, 4),
                    CpuSeconds = Math.Round(cpu[master], 3),
                    Cores = Math.Round(cpu[master] / seconds, 3),
                    CpuMicrosPerEvent = Math.Round(cpu[master] * 1e6 / settings.Events, 3),
                    CpuMicrosPerOwnEvent = windowEvents[master] > 0 ? Math.Round(cpu[master] * 1e6 / windowEvents[master], 3) : 0,
                    CpuShare = cpuTotal > 0 ? Math.Round(cpu[master] / cpuTotal, 4) : 0,
                    PublishCalls = publishCalls,
                    ShardPublishCalls = shardPublishCalls,
                    BusPublishesReceived = busReceived,
                    BusPublishesSent = busAfter[master].Sent - busBefore[master].Sent,
                    HandledShare = Math.Round((double)(publishCalls + shardPublishCalls + busReceived) / settings.Events, 4),
                    ScriptCalls = Field(commands, "cmdstat_eval:calls=") + Field(commands, "cmdstat_evalsha:calls="),
                    ShardChannels = shardChannels.Length,
                    Channels = channels.Length,
                    Received = subscribers[master].Sum(subscriber => subscriber.Received),
                    Expected = expected[master],
                    UsedMemoryBytes = Field(memory, "used_memory:"),
                });
            }

            return new ClusterFigures
            {
                Events = settings.Events,
                Scopes = scopes,
                PayloadBytes = publisher.Serialize(events[0]).Length,
                OfferedRate = rate,
                InFlight = settings.InFlight,
                Seconds = Math.Round(seconds, 3),
                EventsPerSecond = Math.Round(settings.Events / seconds),
                LoadCores = Math.Round(ownSeconds / seconds, 3),
                CpuBusy = busy,
                Subscribers = settings.Subscribers,
                Received = subscribers.Sum(perMaster => perMaster.Sum(subscriber => subscriber.Received)),
                Expected = (long)events.Length * settings.Subscribers,
                PerMaster = perMaster,
                History = historySize > 0 ? await FootprintAsync(cluster, layout, cancellationToken).ConfigureAwait(false) : null,
            };
        }
        finally
        {
            foreach (var subscriber in subscribers.SelectMany(perMaster => perMaster))
            {
                await subscriber.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    public static ClusterResult Result(ClusterBenchSettings settings, MachineInfo machine, int run, bool sharded, int historySize, int masters, ClusterFigures figures) => new()
    {
        Time = DateTimeOffset.UtcNow,
        Machine = machine,
        Scenario = settings.Scenario,
        Run = run,
        Mode = sharded ? "sharded" : "classic",
        HistorySize = historySize,
        Masters = masters,
        Pinned = settings.Pin,
        ServerCpus = settings.Pin ? settings.ServerCpus : null,
        LoadCpus = settings.Pin ? settings.LoadCpus : null,
        Figures = figures,
    };

    /// <summary>Where the cluster runs, and how the scopes fell on its masters.</summary>
    public static string Describe(ClusterBenchSettings settings, LocalCluster cluster, ScopeLayout layout)
        => $"Redis Cluster of {cluster.Masters.Count} master(s) on {string.Join(", ", cluster.Masters.Select(m => $"{m.Port} (slots {m.FirstSlot}-{m.LastSlot})"))}; " +
           $"scopes per master {string.Join("/", Enumerable.Range(0, cluster.Masters.Count).Select(layout.ScopesOf))}; " +
           (settings.Pin ? $"redis-server on CPU {settings.ServerCpus}, the publisher and the subscribers on CPU {settings.LoadCpus}" : "CPUs: not pinned");

    /// <summary>One line per measurement, on stderr as it finishes.</summary>
    public static string Summary(ClusterResult result)
    {
        var figures = result.Figures;
        var masters = figures.PerMaster;
        var history = figures.History is { } footprint
            ? string.Create(CultureInfo.InvariantCulture, $"; history {footprint.BytesPerEntry:0} B/entry ({footprint.EntriesMedian} entries, {footprint.BytesMedian:N0} B per stream)")
            : string.Empty;
        return string.Create(CultureInfo.InvariantCulture,
            $"{result.Masters} master(s), {result.Mode,-7}, history {(result.HistorySize == 0 ? "off" : "on (" + result.HistorySize + ")")}, " +
            $"{figures.Subscribers} subscriber(s) per master, run {result.Run}: " +
            $"{figures.EventsPerSecond:N0} events/s{(figures.OfferedRate is null ? string.Empty : " paced")}; per master µs CPU/event (share of the CPU, of the events handled): " +
            $"{string.Join(", ", masters.Select(m => $"{m.CpuMicrosPerEvent:0.00} ({m.CpuShare:P0}, {m.HandledShare:P0})"))}; " +
            $"µs/own event {string.Join("/", masters.Select(m => m.CpuMicrosPerOwnEvent.ToString("0.00", CultureInfo.InvariantCulture)))}, " +
            $"cores {string.Join("/", masters.Select(m => m.Cores.ToString("0.00", CultureInfo.InvariantCulture)))}; " +
            $"PUBLISH {string.Join("/", masters.Select(m => m.PublishCalls))}, SPUBLISH {string.Join("/", masters.Select(m => m.ShardPublishCalls))}; " +
            $"{string.Join(", ", figures.CpuBusy.Select(c => $"CPU {c.Cpu} {c.Busy:P0} busy"))}, load {figures.LoadCores:0.00} cores; " +
            $"received {figures.Received:N0}/{figures.Expected:N0}{history}");
    }

    /// <summary>Publishes <paramref name="events"/> in order, at most <paramref name="inFlight"/> unacknowledged; paced at <paramref name="rate"/> events/s when given (the batch due every 1 ms tick).</summary>
    private static async Task PublishAsync(ClusterPublisher publisher, ReadOnlyMemory<AtrEvent> events, int inFlight, double? rate, CancellationToken cancellationToken)
    {
        var pending = new Task?[Math.Max(1, inFlight)];
        using var tick = rate is null ? null : new PeriodicTimer(TimeSpan.FromMilliseconds(1));
        var start = Stopwatch.GetTimestamp();
        var sent = 0;
        while (sent < events.Length)
        {
            var due = rate is { } perSecond ? (int)Math.Min(events.Length, Stopwatch.GetElapsedTime(start).TotalSeconds * perSecond) : events.Length;
            for (; sent < due; sent++)
            {
                var slot = sent % pending.Length;
                if (pending[slot] is { } earlier)
                {
                    await earlier.ConfigureAwait(false);
                }

                pending[slot] = publisher.PublishAsync(events.Span[sent], cancellationToken);
            }

            if (sent < events.Length)
            {
                await tick!.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        foreach (var task in pending)
        {
            if (task is not null)
            {
                await task.ConfigureAwait(false);
            }
        }
    }

    /// <summary>Each master's events times the subscribers each event reaches there.</summary>
    private static long[] Deliveries(long[] events, ClusterBenchSettings settings) => [.. events.Select(count => count * settings.Subscribers)];

    /// <summary>Waits until each master's subscribers have received <paramref name="expected"/> messages between them, a minute at most.</summary>
    /// <exception cref="InvalidOperationException">A subscription failed (disconnected, refused).</exception>
    /// <exception cref="TimeoutException">With <paramref name="failOnTimeout"/>: they did not all arrive within the minute.</exception>
    private static async Task DeliveredAsync(IReadOnlyList<List<ShardSubscriber>> subscribers, long[] expected, bool failOnTimeout, CancellationToken cancellationToken)
    {
        var elapsed = Stopwatch.StartNew();
        while (true)
        {
            if (subscribers.SelectMany(perMaster => perMaster).FirstOrDefault(subscriber => subscriber.Failure is not null) is { } failed)
            {
                throw new InvalidOperationException(failed.Failure);
            }

            if (subscribers.Select((perMaster, master) => Received(perMaster) >= expected[master]).All(done => done))
            {
                return;
            }

            if (elapsed.Elapsed > DeliveryTimeout)
            {
                if (failOnTimeout)
                {
                    var counts = string.Join(", ", subscribers.Select((perMaster, master) => $"{Received(perMaster):N0}/{expected[master]:N0}"));
                    throw new TimeoutException($"The subscribers did not receive every event within {DeliveryTimeout.TotalSeconds} s: {counts}.");
                }

                // Counted as lost: the figures say how many.
                return;
            }

            await Task.Delay(10, cancellationToken).ConfigureAwait(false);
        }

        static long Received(List<ShardSubscriber> perMaster) => perMaster.Sum(subscriber => subscriber.Received);
    }

    /// <summary>
    /// Each master's classic publishes received from the others over the cluster bus, and sent to them, so far
    /// (<c>CLUSTER INFO</c>: <c>cluster_stats_messages_publish_received</c>, <c>…_sent</c>).
    /// </summary>
    /// <remarks>
    /// The bus brings a classic publish to the other masters a little after its subscriber had it: the counters are read
    /// until two readings 50 ms apart agree (5 s at most), so that a window counts its own publishes and no others.
    /// </remarks>
    private static async Task<(long Received, long Sent)[]> BusPublishesAsync(IReadOnlyList<ClusterMaster> masters, CancellationToken cancellationToken)
    {
        var counts = await ReadAsync().ConfigureAwait(false);
        for (var settling = Stopwatch.StartNew(); settling.Elapsed < TimeSpan.FromSeconds(5);)
        {
            await Task.Delay(50, cancellationToken).ConfigureAwait(false);
            var again = await ReadAsync().ConfigureAwait(false);
            if (again.SequenceEqual(counts))
            {
                break;
            }

            counts = again;
        }

        return counts;

        async Task<(long Received, long Sent)[]> ReadAsync()
        {
            var read = new (long Received, long Sent)[masters.Count];
            for (var master = 0; master < masters.Count; master++)
            {
                var info = await masters[master].Admin.TextAsync(["CLUSTER", "INFO"], cancellationToken).ConfigureAwait(false);
                read[master] = (Field(info, "cluster_stats_messages_publish_received:"), Field(info, "cluster_stats_messages_publish_sent:"));
            }

            return read;
        }
    }

    /// <summary>What the history streams hold: every scope's <c>XLEN</c> and <c>MEMORY USAGE</c> on its master.</summary>
    private static async Task<HistoryFootprint> FootprintAsync(LocalCluster cluster, ScopeLayout layout, CancellationToken cancellationToken)
    {
        var entries = new List<long>();
        var bytes = new List<long>();
        for (var scope = 0; scope < layout.Scopes.Count; scope++)
        {
            var admin = cluster.Masters[layout.OwnerOf(scope)].Admin;
            var key = ScopeLayout.ChannelPrefix + layout.Scopes[scope];
            entries.Add(await admin.IntegerAsync(["XLEN", key], cancellationToken).ConfigureAwait(false));
            bytes.Add(await admin.IntegerAsync(["MEMORY", "USAGE", key, "SAMPLES", "0"], cancellationToken).ConfigureAwait(false));
        }

        return new HistoryFootprint
        {
            Streams = entries.Count,
            EntriesMedian = Median(entries),
            BytesMedian = Median(bytes),
            BytesPerEntry = Math.Round((double)bytes.Sum() / Math.Max(1, entries.Sum()), 1),
        };

        static long Median(List<long> values) => values.Order().ElementAt(values.Count / 2);
    }

    /// <summary>The number after <paramref name="prefix"/> in an <c>INFO</c> answer (<c>cmdstat_spublish:calls=</c>, <c>used_memory:</c>), 0 when absent.</summary>
    private static long Field(string info, string prefix)
    {
        var at = info.IndexOf(prefix, StringComparison.Ordinal);
        if (at < 0)
        {
            return 0;
        }

        var digits = info.AsSpan(at + prefix.Length);
        var length = digits.IndexOfAnyExceptInRange('0', '9');
        return long.Parse(length < 0 ? digits : digits[..length], CultureInfo.InvariantCulture);
    }
}
