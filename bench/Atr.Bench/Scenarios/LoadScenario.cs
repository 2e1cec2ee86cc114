using System.Diagnostics;
using System.Globalization;
using Atr.Bench.Clients;
using Atr.Bench.Measurement;
using Atr.Bench.Load;
using Atr.Bench.Results;
using Atr.Bench.Targets;

namespace Atr.Bench.Scenarios;

/// <summary>
/// fanout, bigscope, smallscopes and smoke on one target: connect the clients, make sure every one of them receives,
/// then one step per rate (warm-up, steady window, drain), climbing until the target saturates.
/// </summary>
internal static class LoadScenario
{
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan ProbeInterval = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan DrainPoll = TimeSpan.FromMilliseconds(20);

    public static async Task RunAsync(
        TargetKind kind, int run, BenchSettings settings, Func<LoadFigures, int, Task> onStep, ProgressReporter progress, DeliveryStats stats, CancellationToken cancellationToken)
    {
        await using var redis = await RedisInstance.StartAsync(settings.Paths.RedisServer, settings.Pin ? settings.LoadCpus : null, cancellationToken).ConfigureAwait(false);
        await using var server = await TargetServer.StartAsync(kind, settings, redis, cancellationToken).ConfigureAwait(false);
        await using var publisher = await server.CreatePublisherAsync(settings, redis, cancellationToken).ConfigureAwait(false);

        progress.Watch(server.Process.Id);
        var scopes = Enumerable.Range(0, settings.Scopes).Select(index => new ScopeTracker(index)).ToArray();
        await using var pool = new ClientPool(server.ClientUri, server.Protocol, server.SignalRMethod, stats, settings.ConnectionsPerSourceAddress, settings.ConnectConcurrency);
        progress.Phase("connecting", pool);
        var errors = await pool.OpenAsync(settings.Clients, scopes, cancellationToken).ConfigureAwait(false);
        if (errors.Count > 0)
        {
            throw new InvalidOperationException($"{errors.Count} of {settings.Clients} clients could not connect, e.g.: {errors[0]}{Environment.NewLine}{server.Process.Tail}");
        }

        var paced = new PacedPublisher(publisher, scopes, settings.PayloadBytes);
        progress.Phase("probing");
        await WaitUntilEveryClientReceivesAsync(paced, pool, stats, cancellationToken).ConfigureAwait(false);

        var first = true;
        foreach (var rate in settings.Rates)
        {
            var warmup = first ? settings.FirstWarmup : settings.Warmup;
            first = false;
            var figures = await RunStepAsync(rate, warmup, settings, server, redis, pool, paced, scopes, stats, progress, cancellationToken).ConfigureAwait(false);
            await onStep(figures, rate).ConfigureAwait(false);
            if (figures.Saturated)
            {
                progress.Say(string.Create(CultureInfo.InvariantCulture, $"stops climbing at {rate:N0} deliveries/s: p99 {figures.Latency.P99} ms, {figures.Lost} lost, {figures.ConnectionsOpen} of {settings.Clients} open"));
                break;
            }
        }

        progress.Quiet();
    }

    /// <summary>
    /// Publishes probes (sequence 0, not counted) to every scope until each client got one: a client connected is not yet
    /// a client subscribed everywhere between the publisher and it (a hub's Redis subscription, a Socket.IO room).
    /// </summary>
    private static async Task WaitUntilEveryClientReceivesAsync(PacedPublisher paced, ClientPool pool, DeliveryStats stats, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        using var timer = new PeriodicTimer(ProbeInterval);
        while (stats.ProbesSeen < pool.Clients.Count)
        {
            if (deadline.Elapsed > ProbeTimeout)
            {
                throw new InvalidOperationException($"Only {stats.ProbesSeen} of {pool.Clients.Count} clients received a probe event within {ProbeTimeout.TotalSeconds} s.");
            }

            var waiting = pool.Clients.Where(client => !client.ProbeSeen).Select(client => client.Scope).Distinct();
            await paced.ProbeAsync(waiting, cancellationToken).ConfigureAwait(false);
            await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task<LoadFigures> RunStepAsync(
        int rate,
        TimeSpan warmup,
        BenchSettings settings,
        TargetServer server,
        RedisInstance redis,
        ClientPool pool,
        PacedPublisher paced,
        IReadOnlyList<ScopeTracker> scopes,
        DeliveryStats stats,
        ProgressReporter progress,
        CancellationToken cancellationToken)
    {
        var label = string.Create(CultureInfo.InvariantCulture, $"{rate:N0} deliveries/s");
        var publishedBefore = scopes.Select(scope => scope.Published).ToArray();
        var missingBefore = pool.Clients.Sum(client => client.Missing);
        var duplicatesBefore = pool.Clients.Sum(client => client.Duplicates);
        var deliveredBefore = stats.Delivered;

        progress.Phase($"{label} warm-up");
        var publishing = paced.RunAsync(settings.EventsPerSecond(rate), settings.Events, warmup + settings.Duration, cancellationToken);
        if (warmup > TimeSpan.Zero)
        {
            await Task.WhenAny(publishing, Task.Delay(warmup, cancellationToken)).ConfigureAwait(false);
        }

        // The steady window.
        stats.Latency.Reset();
        stats.LastClient.Reset();
        var windowStart = Stopwatch.GetTimestamp();
        var cpuStart = ProcessSampler.CpuSeconds(server.Process.Id);
        var redisCpuStart = ProcessSampler.CpuSeconds(redis.Process.Id);
        var loadCpuStart = ProcessSampler.CpuSeconds(Environment.ProcessId);
        var deliveredStart = stats.Delivered;
        progress.Phase($"{label} steady");
        await publishing.ConfigureAwait(false);
        var window = Stopwatch.GetElapsedTime(windowStart).TotalSeconds;
        var cpu = ProcessSampler.CpuSeconds(server.Process.Id) - cpuStart;
        var redisCpu = ProcessSampler.CpuSeconds(redis.Process.Id) - redisCpuStart;
        var loadCpu = ProcessSampler.CpuSeconds(Environment.ProcessId) - loadCpuStart;
        var deliveredInWindow = stats.Delivered - deliveredStart;
        var rss = ProcessSampler.RssBytes(server.Process.Id);
        var latency = stats.Latency.Snapshot();
        var lastClient = stats.LastClient.Snapshot();

        // Drain: wait for what is still on its way, up to the drain time.
        progress.Phase($"{label} drain");
        var expected = scopes.Select((scope, i) => (scope.Published - publishedBefore[i]) * scope.Recipients).Sum();
        var drain = Stopwatch.StartNew();
        using (var poll = new PeriodicTimer(DrainPoll))
        {
            while (stats.Delivered - deliveredBefore < expected && drain.Elapsed < settings.Drain && pool.OpenCount > 0)
            {
                await poll.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        var lost = pool.Clients.Sum(client => client.Missing) - missingBefore;
        var duplicated = pool.Clients.Sum(client => client.Duplicates) - duplicatesBefore;
        var open = pool.OpenCount;
        var perDelivery = deliveredInWindow > 0 ? cpu * 1e6 / deliveredInWindow : 0;
        return new LoadFigures
        {
            EventsPublished = scopes.Select((scope, i) => scope.Published - publishedBefore[i]).Sum(),
            ExpectedDeliveries = expected,
            Delivered = stats.Delivered - deliveredBefore,
            DeliveredPerSecond = Math.Round(window > 0 ? deliveredInWindow / window : 0, 1),
            WindowSeconds = Math.Round(window, 3),
            Latency = latency,
            LastClient = lastClient,
            Lost = lost,
            Duplicated = duplicated,
            ServerCpuSeconds = Math.Round(cpu, 3),
            ServerCpuMicrosPerDelivery = Math.Round(perDelivery, 3),
            ServerCores = Math.Round(window > 0 ? cpu / window : 0, 3),
            LoadCores = Math.Round(window > 0 ? loadCpu / window : 0, 3),
            RedisCpuMicrosPerDelivery = Math.Round(deliveredInWindow > 0 ? redisCpu * 1e6 / deliveredInWindow : 0, 3),
            ServerRssBytes = rss,
            ConnectionsOpen = open,
            Saturated = latency.P99 > settings.StopP99.TotalMilliseconds || lost > 0 || open < pool.Clients.Count,
        };
    }
}
