using System.Globalization;
using Atr.Bench.Measurement;
using Atr.Bench.Results;
using Atr.Bench.Targets;

namespace Atr.Bench.Scenarios;

/// <summary>Runs one scenario on every target, <see cref="BenchSettings.Runs"/> times interleaved, and records each measurement.</summary>
internal static class BenchRunner
{
    public static async Task<IReadOnlyList<MeasurementRecord>> RunAsync(BenchSettings settings, TextWriter progress, CancellationToken cancellationToken)
    {
        var machine = MachineInfo.Collect(settings.Paths.RepositoryRoot, settings.Paths.Node);
        var file = new ResultsFile(settings.ResultsDirectory, DateTimeOffset.UtcNow);
        var records = new List<MeasurementRecord>();
        progress.WriteLine($"{settings.Scenario}: {ScenarioDefaults.Describe(settings.Scenario)}");
        progress.WriteLine($"targets {string.Join(", ", settings.Targets.Select(TargetNames.Name))}; {settings.Runs} run(s); results: {file.Path ?? "not written"}");
        progress.WriteLine(settings.Pin ? $"servers on CPU {settings.ServerCpus}; redis-server, publishers and clients on CPU {settings.LoadCpus}" : "CPUs: not pinned");

        try
        {
            for (var run = 1; run <= settings.Runs; run++)
            {
                foreach (var kind in settings.Targets)
                {
                    var measured = await RunTargetAsync(kind, run, settings, machine, progress, cancellationToken).ConfigureAwait(false);
                    foreach (var record in measured)
                    {
                        await file.AppendAsync(record, cancellationToken).ConfigureAwait(false);
                        records.Add(record);
                    }
                }
            }
        }
        finally
        {
            ChildProcesses.KillAll();
        }

        progress.WriteLine();
        foreach (var record in records)
        {
            progress.WriteLine(Summary(record));
        }

        if (file.Path is not null)
        {
            progress.WriteLine($"results: {file.Path}");
        }

        return records;
    }

    /// <summary>One line per measurement, for the terminal.</summary>
    public static string Summary(MeasurementRecord record)
    {
        var head = $"{record.Target,-12} {record.Scenario} run {record.Run}";
        if (record.Error is not null)
        {
            return $"{head}: FAILED {record.Error.Split(Environment.NewLine)[0]}";
        }

        if (record.Idle is { } idle)
        {
            return string.Create(CultureInfo.InvariantCulture,
                $"{head}: {idle.ConnectionsOpen:N0}/{idle.TargetConnections:N0} open{(idle.AllOpen ? string.Empty : " (NOT all open)")}, " +
                $"{idle.RssPerConnectionBytes / 1024:0.00} KiB RSS per connection, RSS {idle.BaselineRssBytes / 1048576.0:0} → {(idle.Steps.Count > 0 ? idle.Steps[^1].RssBytes : 0) / 1048576.0:0} MiB (load side {idle.LoadRssBytes / 1048576.0:0} MiB)");
        }

        var load = record.Load!;
        return string.Create(CultureInfo.InvariantCulture,
            $"{head} @ {record.Parameters.Rate:N0}/s: {load.DeliveredPerSecond:N0} delivered/s, p50 {load.Latency.P50} ms, p99 {load.Latency.P99} ms, p99.9 {load.Latency.P999} ms, " +
            $"last client p50 {load.LastClient.P50} / p99 {load.LastClient.P99} ms, {load.ServerCpuMicrosPerDelivery:0.00} µs CPU/delivery ({load.ServerCores:0.00} cores; load side {load.LoadCores:0.00}), " +
            $"RSS {load.ServerRssBytes / 1048576.0:0} MiB, delivered {load.Delivered:N0}/{load.ExpectedDeliveries:N0}, lost {load.Lost}, dup {load.Duplicated}");
    }

    private static async Task<IReadOnlyList<MeasurementRecord>> RunTargetAsync(
        TargetKind kind, int run, BenchSettings settings, MachineInfo machine, TextWriter output, CancellationToken cancellationToken)
    {
        var name = TargetNames.Name(kind);
        var stats = new DeliveryStats();
        var records = new List<MeasurementRecord>();
        var idle = settings.Scenario == ScenarioDefaults.Idle;
        await using var progress = new ProgressReporter(output, settings.ProgressSeconds, name, settings.Scenario, run, idle ? null : stats);
        MeasurementRecord Record(int rate) => new()
        {
            Time = DateTimeOffset.UtcNow,
            Machine = machine,
            Target = name,
            Scenario = settings.Scenario,
            Run = run,
            Parameters = Parameters(settings, kind, rate),
        };

        try
        {
            if (idle)
            {
                var figures = await IdleScenario.RunAsync(kind, settings, progress, stats, cancellationToken).ConfigureAwait(false);
                records.Add(Record(0) with { Idle = figures });
            }
            else
            {
                await LoadScenario.RunAsync(
                    kind,
                    run,
                    settings,
                    (figures, rate) =>
                    {
                        var record = Record(rate) with { Load = figures };
                        records.Add(record);
                        progress.Say(Summary(record));
                        return Task.CompletedTask;
                    },
                    progress,
                    stats,
                    cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // One target failing (it crashed, it refused clients) does not stop the others: the failure is a result too.
            progress.Say($"failed: {ex.Message}");
            records.Add(Record(0) with { Error = ex.Message });
        }

        return records;
    }

    private static RunParameters Parameters(BenchSettings settings, TargetKind kind, int rate) => new()
    {
        Clients = settings.Scenario == ScenarioDefaults.Idle ? IdleScenario.TargetConnections(kind, settings) : settings.Clients,
        Scopes = settings.Scopes,
        ClientsPerScope = Math.Round(settings.ClientsPerScope, 3),
        Rate = rate,
        EventsPerSecond = Math.Round(settings.EventsPerSecond(rate), 3),
        Rates = settings.Rates,
        WarmupSeconds = settings.Warmup.TotalSeconds,
        FirstWarmupSeconds = settings.FirstWarmup.TotalSeconds,
        DurationSeconds = settings.Duration.TotalSeconds,
        Events = settings.Events,
        DrainSeconds = settings.Drain.TotalSeconds,
        PayloadBytes = settings.PayloadBytes,
        StopP99Ms = settings.StopP99.TotalMilliseconds,
        Max = settings.Max,
        Step = settings.Step,
        Pinned = settings.Pin,
        ServerCpus = settings.ServerCpus,
        LoadCpus = settings.LoadCpus,
        Configuration = settings.Paths.Configuration,
    };
}
