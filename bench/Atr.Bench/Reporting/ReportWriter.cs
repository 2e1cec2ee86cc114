using System.Globalization;
using System.Text;
using Atr.Bench.Results;
using Atr.Bench.Scenarios;
using Atr.Bench.Targets;

namespace Atr.Bench.Reporting;

/// <summary>
/// <c>atr-bench report</c>: medians (and min–max) over runs per target and scenario, as SVG charts and a markdown
/// fragment (docs/benchmarks/results.md) that is also copied into the docs page between its results markers.
/// </summary>
internal static class ReportWriter
{
    public const string BeginMarker = "<!-- benchmark results: written by `bench/run.sh report`, do not edit by hand -->";
    public const string EndMarker = "<!-- end of benchmark results -->";

    private static readonly string[] AtrTargets = ["atr", "atr-signalr"];

    public static async Task<IReadOnlyList<string>> WriteAsync(IReadOnlyList<string> files, string outputDirectory, string page, CancellationToken cancellationToken)
    {
        if (files.Count == 0)
        {
            throw new ArgumentException("No results files to report on (bench/results/*.jsonl).");
        }

        var records = files.SelectMany(ResultsFile.Read).ToArray();
        var written = new List<string>();
        Directory.CreateDirectory(outputDirectory);

        async Task Write(string name, string content)
        {
            var path = Path.Combine(outputDirectory, name);
            await File.WriteAllTextAsync(path, content, cancellationToken).ConfigureAwait(false);
            written.Add(path);
        }

        var charts = new List<(string File, string Caption)>();
        foreach (var (file, caption, svg) in Charts(records))
        {
            await Write(file, svg).ConfigureAwait(false);
            charts.Add((file, caption));
        }

        var fragment = Markdown(records, files, charts, Path.GetRelativePath(Path.GetDirectoryName(Path.GetFullPath(page))!, Path.GetFullPath(outputDirectory)));
        await Write("results.md", fragment).ConfigureAwait(false);

        if (File.Exists(page))
        {
            var text = await File.ReadAllTextAsync(page, cancellationToken).ConfigureAwait(false);
            var begin = text.IndexOf(BeginMarker, StringComparison.Ordinal);
            var end = text.IndexOf(EndMarker, StringComparison.Ordinal);
            if (begin >= 0 && end > begin)
            {
                text = text[..(begin + BeginMarker.Length)] + "\n\n" + fragment + "\n" + text[end..];
                await File.WriteAllTextAsync(page, text, cancellationToken).ConfigureAwait(false);
                written.Add(page);
            }
        }

        return written;
    }

    private static IEnumerable<(string File, string Caption, string Svg)> Charts(IReadOnlyList<MeasurementRecord> records)
    {
        var load = records.Where(record => record.Load is not null).ToArray();
        var cpuScenario = load.Any(record => record.Scenario == ScenarioDefaults.Fanout) ? ScenarioDefaults.Fanout : load.FirstOrDefault()?.Scenario;
        if (cpuScenario is not null)
        {
            var rows = load.Where(record => record.Scenario == cpuScenario).ToArray();
            var targets = Targets(rows);
            var rates = rows.Select(record => record.Parameters.Rate).Distinct().Order().ToArray();
            yield return (
                "cpu-per-delivery.svg",
                $"Server CPU per delivered message ({cpuScenario}), by offered rate: lower is better",
                SvgChart.Bars(
                    $"Server CPU per delivery, {cpuScenario} (µs, lower is better)",
                    "µs of server CPU per delivery",
                    rates.Select(rate => $"{rate:N0}/s").ToArray(),
                    targets,
                    (g, s) => Spread.Of(Pick(rows, targets[s], rates[g]).Select(record => record.Load!.ServerCpuMicrosPerDelivery))));

            yield return (
                $"{cpuScenario}-p99.svg",
                $"p99 publish → receive latency ({cpuScenario}) by offered rate",
                SvgChart.Lines(
                    $"p99 latency by rate, {cpuScenario} (ms, log scale)",
                    "offered deliveries/s",
                    "p99 latency (ms)",
                    rates.Select(rate => (double)rate).ToArray(),
                    targets,
                    (s, x) => Spread.Of(Pick(rows, targets[s], rates[x]).Select(record => record.Load!.Latency.P99))));
        }

        var big = load.Where(record => record.Scenario == ScenarioDefaults.BigScope).ToArray();
        if (big.Length > 0)
        {
            var targets = Targets(big);
            yield return (
                "bigscope-last-client.svg",
                "Publish → last client of a 5,000-client scope (bigscope), p50 and p99",
                SvgChart.Bars(
                    "Last client of a big scope reached (ms, lower is better)",
                    "ms until the last client has the event",
                    ["p50", "p99"],
                    targets,
                    (g, s) => Spread.Of(big.Where(record => record.Target == targets[s]).Select(record => g == 0 ? record.Load!.LastClient.P50 : record.Load!.LastClient.P99))));
        }

        var idle = records.Where(record => record.Idle is not null).ToArray();
        if (idle.Length > 0)
        {
            var targets = Targets(idle);
            yield return (
                "idle-rss-per-connection.svg",
                "Server memory per idle connection (slope of RSS over the ramp)",
                SvgChart.Bars(
                    "RSS per idle connection (KiB, lower is better)",
                    "KiB of RSS per connection",
                    ["idle"],
                    targets,
                    (_, s) => Spread.Of(idle.Where(record => record.Target == targets[s]).Select(record => record.Idle!.RssPerConnectionBytes / 1024))));
        }
    }

    /// <summary>Where the servers ran: the figures mean "one core of the server" only if every record was pinned.</summary>
    private static string Pinning(MeasurementRecord[] records)
    {
        var pinned = records.Where(record => record.Parameters.Pinned).ToArray();
        if (pinned.Length == records.Length && pinned.Select(record => (record.Parameters.ServerCpus, record.Parameters.LoadCpus)).Distinct().Count() == 1)
        {
            return $"Servers pinned to CPU {pinned[0].Parameters.ServerCpus}; redis-server, publishers and the load tool's clients to CPU {pinned[0].Parameters.LoadCpus}.";
        }

        return Invariant($"Pinning: {pinned.Length} of {records.Length} measurements had the server on CPUs of its own; the others shared CPUs with the load, so their CPU and latency figures include that contention.");
    }

    private static string Markdown(MeasurementRecord[] records, IReadOnlyList<string> files, IReadOnlyList<(string File, string Caption)> charts, string chartDirectory)
    {
        var md = new StringBuilder();
        var machine = records.Length > 0 ? records[0].Machine : null;
        md.AppendLine(Invariant($"Measured {records.Min(record => record.Time):yyyy-MM-dd} to {records.Max(record => record.Time):yyyy-MM-dd} from {string.Join(", ", files.Select(Path.GetFileName))}."));
        if (machine is not null)
        {
            md.AppendLine(Invariant($"Machine: {machine.CpuModel}, {machine.Nproc} cores, Linux {machine.Kernel}, {machine.Dotnet}, Node {machine.Node}, commit {machine.GitCommit}."));
        }

        md.AppendLine(Pinning(records));

        md.AppendLine("Each cell is the median over runs, with min–max in parentheses when runs differ. Latencies in ms; CPU in µs of server CPU (user + system) per delivered message.");
        md.AppendLine();

        foreach (var (file, caption) in charts)
        {
            md.AppendLine(Invariant($"![{caption}]({chartDirectory.Replace('\\', '/')}/{file})"));
            md.AppendLine();
        }

        foreach (var scenario in records.Where(record => record.Load is not null).Select(record => record.Scenario).Distinct())
        {
            var rows = records.Where(record => record.Scenario == scenario && record.Load is not null).ToArray();
            var first = rows[0].Parameters;
            md.AppendLine(Invariant($"### {scenario}"));
            md.AppendLine();
            md.AppendLine(Invariant($"{first.Clients:N0} clients in {first.Scopes:N0} scopes ({first.ClientsPerScope:0.#} per scope), {first.PayloadBytes}-byte events, {first.WarmupSeconds:0.#} s warm-up + {(first.Events is { } events ? $"{events:N0} events" : $"{first.DurationSeconds:0.#} s")} per rate."));
            md.AppendLine();
            md.AppendLine("| target | offered/s | delivered/s | p50 | p99 | p99.9 | last client p50 | last client p99 | CPU µs/delivery | server cores | load cores | RSS MiB | lost | dup | runs |");
            md.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
            foreach (var target in Targets(rows))
            {
                foreach (var rate in rows.Where(record => record.Target == target).Select(record => record.Parameters.Rate).Distinct().Order())
                {
                    var at = Pick(rows, target, rate).ToArray();
                    string Cell(Func<LoadFigures, double> figure, string format) => Spread.Of(at.Select(record => figure(record.Load!)))?.Format(format) ?? "–";
                    md.AppendLine(string.Create(
                        CultureInfo.InvariantCulture,
                        $"| {target} | {rate:N0} | {Cell(l => l.DeliveredPerSecond, "N0")} | {Cell(l => l.Latency.P50, "0.##")} | {Cell(l => l.Latency.P99, "0.##")} | {Cell(l => l.Latency.P999, "0.##")} | " +
                        $"{Cell(l => l.LastClient.P50, "0.##")} | {Cell(l => l.LastClient.P99, "0.##")} | {Cell(l => l.ServerCpuMicrosPerDelivery, "0.00")} | {Cell(l => l.ServerCores, "0.00")} | {Cell(l => l.LoadCores, "0.00")} | " +
                        $"{Cell(l => l.ServerRssBytes / 1048576.0, "0")} | {at.Sum(record => record.Load!.Lost)} | {at.Sum(record => record.Load!.Duplicated)} | {at.Length} |"));
                }
            }

            md.AppendLine();
            RatiosLoad(md, rows);
        }

        var idle = records.Where(record => record.Idle is not null).ToArray();
        if (idle.Length > 0)
        {
            md.AppendLine("### idle");
            md.AppendLine();
            md.AppendLine("| target | connections | RSS per connection KiB | RSS at the end MiB | all open | runs |");
            md.AppendLine("| --- | ---: | ---: | ---: | --- | ---: |");
            foreach (var target in Targets(idle))
            {
                var at = idle.Where(record => record.Target == target).ToArray();
                md.AppendLine(string.Create(
                    CultureInfo.InvariantCulture,
                    $"| {target} | {at.Max(record => record.Idle!.TargetConnections):N0} | {Spread.Of(at.Select(record => record.Idle!.RssPerConnectionBytes / 1024))!.Format("0.00")} | " +
                    $"{Spread.Of(at.Select(record => record.Idle!.Steps.Count > 0 ? record.Idle.Steps[^1].RssBytes / 1048576.0 : 0))!.Format("0")} | " +
                    $"{(at.All(record => record.Idle!.AllOpen) ? "yes" : $"no ({at.Count(record => !record.Idle!.AllOpen)} of {at.Length} runs)")} | {at.Length} |"));
            }

            md.AppendLine();
            var peers = Targets(idle).Except(AtrTargets).ToArray();
            foreach (var atr in AtrTargets.Where(name => idle.Any(record => record.Target == name)))
            {
                var own = Spread.Of(idle.Where(record => record.Target == atr).Select(record => record.Idle!.RssPerConnectionBytes));
                foreach (var peer in peers)
                {
                    var theirs = Spread.Of(idle.Where(record => record.Target == peer).Select(record => record.Idle!.RssPerConnectionBytes));
                    if (own is { Median: > 0 } && theirs is not null)
                    {
                        md.AppendLine(Invariant($"- {peer} holds an idle connection in {theirs.Median / own.Median:0.0#}× the memory {atr} does."));
                    }
                }
            }

            md.AppendLine();
        }

        var failures = records.Where(record => record.Error is not null).ToArray();
        if (failures.Length > 0)
        {
            md.AppendLine("### Failures");
            md.AppendLine();
            foreach (var failure in failures)
            {
                md.AppendLine(Invariant($"- {failure.Target} {failure.Scenario} run {failure.Run}: {failure.Error!.Split('\n')[0]}"));
            }

            md.AppendLine();
        }

        return md.ToString();
    }

    /// <summary>Atr against each peer at the highest rate both were measured at: how many times Atr's figure the peer needs.</summary>
    private static void RatiosLoad(StringBuilder md, IReadOnlyList<MeasurementRecord> rows)
    {
        var targets = Targets(rows);
        var peers = targets.Except(AtrTargets).ToArray();
        var lines = new List<string>();
        foreach (var atr in AtrTargets.Where(targets.Contains))
        {
            foreach (var peer in peers)
            {
                // Compare where both kept up (no saturation in any run); failing that, where both were measured.
                var both = rows.Where(record => record.Target == atr).Select(record => record.Parameters.Rate)
                    .Intersect(rows.Where(record => record.Target == peer).Select(record => record.Parameters.Rate))
                    .ToArray();
                var sustained = both.Where(rate => !Pick(rows, atr, rate).Concat(Pick(rows, peer, rate)).Any(record => record.Load!.Saturated)).ToArray();
                var common = (sustained.Length > 0 ? sustained : both).DefaultIfEmpty(-1).Max();
                if (common < 0)
                {
                    continue;
                }

                double? Ratio(Func<LoadFigures, double> figure)
                {
                    var own = Spread.Of(Pick(rows, atr, common).Select(record => figure(record.Load!)));
                    var theirs = Spread.Of(Pick(rows, peer, common).Select(record => figure(record.Load!)));
                    return own is { Median: > 0 } && theirs is not null ? theirs.Median / own.Median : null;
                }

                lines.Add(string.Create(
                    CultureInfo.InvariantCulture,
                    $"| {atr} vs {peer} | {common:N0} | {Format(Ratio(l => l.ServerCpuMicrosPerDelivery))} | {Format(Ratio(l => l.Latency.P99))} | {Format(Ratio(l => l.LastClient.P99))} |"));
            }
        }

        if (lines.Count == 0)
        {
            return;
        }

        md.AppendLine("Peer ÷ Atr at the highest rate both sustained (no loss, p99 under the limit) or, failing that, both ran; above 1, Atr needs less:");
        md.AppendLine();
        md.AppendLine("| comparison | at /s | CPU per delivery | p99 | last client p99 |");
        md.AppendLine("| --- | ---: | ---: | ---: | ---: |");
        foreach (var line in lines)
        {
            md.AppendLine(line);
        }

        md.AppendLine();
    }

    private static string Format(double? ratio) => ratio is { } value ? Invariant($"{value:0.0#}×") : "–";

    private static IEnumerable<MeasurementRecord> Pick(IEnumerable<MeasurementRecord> rows, string target, int rate)
        => rows.Where(record => record.Target == target && record.Parameters.Rate == rate);

    /// <summary>The targets present, in the command line's canonical order.</summary>
    private static string[] Targets(IEnumerable<MeasurementRecord> rows)
    {
        var present = rows.Select(record => record.Target).ToHashSet();
        return TargetNames.All.Select(TargetNames.Name).Where(present.Contains).Concat(present.Except(TargetNames.All.Select(TargetNames.Name)).Order()).ToArray();
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
