using System.Diagnostics;
using System.Globalization;
using Atr.Bench.Clients;
using Atr.Bench.Measurement;
using Atr.Bench.Results;
using Atr.Bench.Targets;

namespace Atr.Bench.Scenarios;

/// <summary>
/// idle: open connections step by step with no traffic, sample the server's RSS once it settles after each step,
/// and fit a line: its slope is the memory one more idle connection costs.
/// </summary>
internal static class IdleScenario
{
    private static readonly TimeSpan SettlePoll = TimeSpan.FromMilliseconds(250);

    /// <summary>The ramp's end for a target: <see cref="BenchSettings.Max"/> for atr, <see cref="BenchSettings.Clients"/> for the others.</summary>
    public static int TargetConnections(TargetKind kind, BenchSettings settings) => kind == TargetKind.Atr ? settings.Max : settings.Clients;

    public static async Task<IdleFigures> RunAsync(TargetKind kind, BenchSettings settings, ProgressReporter progress, DeliveryStats stats, CancellationToken cancellationToken)
    {
        await using var redis = await RedisInstance.StartAsync(settings.Paths.RedisServer, settings.Pin ? settings.LoadCpus : null, cancellationToken).ConfigureAwait(false);
        await using var server = await TargetServer.StartAsync(kind, settings, redis, cancellationToken).ConfigureAwait(false);
        var pid = server.Process.Id;
        var scopes = Enumerable.Range(0, settings.Scopes).Select(index => new ScopeTracker(index)).ToArray();
        await using var pool = new ClientPool(server.ClientUri, server.Protocol, server.SignalRMethod, stats, settings.ConnectionsPerSourceAddress, settings.ConnectConcurrency);

        var target = TargetConnections(kind, settings);
        progress.Watch(pid);
        var cpuStart = ProcessSampler.CpuSeconds(pid);
        progress.Phase("baseline", pool);
        var baseline = await SettledRssAsync(pid, settings.Settle, cancellationToken).ConfigureAwait(false);
        var steps = new List<IdleStep>();
        var failures = 0;
        string? firstError = null;
        while (pool.Clients.Count < target)
        {
            var count = Math.Min(settings.Step, target - pool.Clients.Count);
            progress.Phase(string.Create(CultureInfo.InvariantCulture, $"ramp to {pool.Clients.Count + count:N0} of {target:N0}"));
            var errors = await pool.OpenAsync(count, scopes, cancellationToken).ConfigureAwait(false);
            failures += errors.Count;
            firstError ??= errors.Count > 0 ? errors[0] : null;
            var rss = await SettledRssAsync(pid, settings.Settle, cancellationToken).ConfigureAwait(false);
            steps.Add(new IdleStep(pool.OpenCount, rss));
            if (errors.Count == count)
            {
                // Nothing connects any more: the server or the machine is at a limit.
                progress.Say($"no connection opened in this step: {firstError}");
                break;
            }
        }

        var open = pool.OpenCount;
        progress.Quiet();
        if (failures > 0)
        {
            progress.Say($"{failures} connections failed, e.g.: {firstError}");
        }

        return new IdleFigures
        {
            TargetConnections = target,
            BaselineRssBytes = baseline,
            Steps = steps,
            RssPerConnectionBytes = Math.Round(Slope(steps), 1),
            ConnectionsOpen = open,
            ConnectFailures = failures,
            AllOpen = failures == 0 && open == target,
            ServerCpuSeconds = Math.Round(ProcessSampler.CpuSeconds(pid) - cpuStart, 3),
            LoadRssBytes = ProcessSampler.RssBytes(Environment.ProcessId),
        };
    }

    /// <summary>The least-squares slope of RSS against connections.</summary>
    public static double Slope(IReadOnlyList<IdleStep> steps)
    {
        if (steps.Count < 2)
        {
            return 0;
        }

        var meanX = steps.Average(step => (double)step.Connections);
        var meanY = steps.Average(step => (double)step.RssBytes);
        var covariance = steps.Sum(step => (step.Connections - meanX) * (step.RssBytes - meanY));
        var variance = steps.Sum(step => (step.Connections - meanX) * (step.Connections - meanX));
        return variance == 0 ? 0 : covariance / variance;
    }

    /// <summary>RSS once two samples a quarter second apart differ by less than 0.5 % (or after <paramref name="limit"/>).</summary>
    private static async Task<long> SettledRssAsync(int pid, TimeSpan limit, CancellationToken cancellationToken)
    {
        var waited = Stopwatch.StartNew();
        using var timer = new PeriodicTimer(SettlePoll);
        var previous = ProcessSampler.RssBytes(pid);
        while (waited.Elapsed < limit)
        {
            await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false);
            var current = ProcessSampler.RssBytes(pid);
            if (Math.Abs(current - previous) < previous * 0.005)
            {
                return current;
            }

            previous = current;
        }

        return previous;
    }
}
