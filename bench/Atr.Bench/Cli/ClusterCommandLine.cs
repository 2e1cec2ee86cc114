using System.CommandLine;
using Atr.Bench.Cluster;
using Atr.Bench.Results;
using Atr.Bench.Targets;

namespace Atr.Bench.Cli;

/// <summary><c>atr-bench cluster-publish</c> and <c>atr-bench cluster-scale</c>: what publishing costs each shard of a Redis Cluster.</summary>
internal static class ClusterCommandLine
{
    public const string Publish = "cluster-publish";
    public const string Scale = "cluster-scale";

    private static readonly Option<int?> Runs = new("--runs") { Description = "Runs of the whole set (default 3)." };
    private static readonly Option<int?> Masters = new("--masters") { Description = "cluster-publish: the cluster's masters (default 3); cluster-scale: the largest cluster, from 1 master up (default 3)." };
    private static readonly Option<int?> Scopes = new("--scopes") { Description = "Scopes the events go to, round-robin, spread over the masters by their slots (default 300)." };
    private static readonly Option<int?> Rate = new("--rate") { Description = "cluster-publish: events/s, paced, cluster-wide (default 20000)." };
    private static readonly Option<int?> Events = new("--events") { Description = "Events in each measured window (default 200000 for cluster-publish, 300000 for cluster-scale)." };
    private static readonly Option<int?> Warmup = new("--warmup") { Description = "Events published before each window (default: one second's worth for cluster-publish, a tenth of --events for cluster-scale)." };
    private static readonly Option<int?> Subscribers = new("--subscribers") { Description = "Subscriber connections per master, each listening to all of its scopes: the hub nodes each event reaches (default 1)." };
    private static readonly Option<int?> Payload = new("--payload") { Description = "Event size in bytes, about (default 200)." };
    private static readonly Option<int?> InFlight = new("--in-flight") { Description = "Publishes unacknowledged at most (default 1000)." };
    private static readonly Option<int?> HistorySize = new("--history-size") { Description = "The history size when history is on (default 100)." };
    private static readonly CommonOptions Common = new("the masters", "taskset CPU list of every master.", "cluster");

    public static IEnumerable<Command> Create()
    {
        yield return Command(
            Publish,
            "A paced publish rate over scopes spread across a Redis Cluster, sharded (SPUBLISH, what Atr does) and classic (PUBLISH), history off and on: each master's CPU per event.",
            [Runs, Masters, Scopes, Rate, Events, Warmup, Subscribers, Payload, InFlight, HistorySize]);
        yield return Command(
            Scale,
            "The highest publish rate with history on through Atr's publisher, pipelined, on 1, 2 … N masters: events/s, each master's CPU per event and how busy it was.",
            [Runs, Masters, Scopes, Events, Warmup, Subscribers, Payload, InFlight, HistorySize]);
    }

    private static Command Command(string name, string description, Option[] own)
    {
        var command = new Command(name, description);
        foreach (var option in own.Concat(Common.All))
        {
            command.Options.Add(option);
        }

        command.SetAction(async (result, cancellationToken) =>
        {
            ClusterBenchSettings settings;
            try
            {
                settings = Settings(name, result);
            }
            catch (Exception ex) when (ex is ArgumentException or FormatException)
            {
                Console.Error.WriteLine($"atr-bench {name}: {ex.Message}");
                return 2;
            }

            var machine = MachineInfo.Collect(settings.Paths.RepositoryRoot, settings.Paths.Node);
            var file = new ResultsFile(settings.ResultsDirectory, DateTimeOffset.UtcNow);
            IReadOnlyList<ClusterResult> results;
            try
            {
                Func<ClusterResult, Task> append = measured => file.AppendAsync(measured, ClusterResultJson.Default.ClusterResult, cancellationToken);
                results = name == Publish
                    ? await ShardedVersusClassic.RunAsync(settings, machine, Console.Error, append, cancellationToken).ConfigureAwait(false)
                    : await ShardScaling.RunAsync(settings, machine, Console.Error, append, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is InvalidOperationException or TimeoutException or IOException)
            {
                Console.Error.WriteLine($"atr-bench {name}: {ex.Message}");
                return 1;
            }
            finally
            {
                ChildProcesses.KillAll();
            }

            if (file.Path is not null)
            {
                Console.Error.WriteLine($"results: {file.Path}");
            }

            var lost = results.Sum(measured => measured.Figures.Expected - measured.Figures.Received);
            if (lost > 0)
            {
                Console.Error.WriteLine($"atr-bench {name}: {lost:N0} event(s) did not reach their subscriber.");
                return 1;
            }

            return 0;
        });
        return command;
    }

    private static ClusterBenchSettings Settings(string name, ParseResult result)
    {
        var common = Common.Read(result);

        var rate = result.GetValue(Rate) ?? 20_000;
        var events = result.GetValue(Events) ?? (name == Publish ? 200_000 : 300_000);
        var settings = new ClusterBenchSettings
        {
            Scenario = name,
            Paths = new ToolPaths { RepositoryRoot = common.RepositoryRoot },
            Runs = result.GetValue(Runs) ?? 3,
            Masters = result.GetValue(Masters) ?? 3,
            Scopes = result.GetValue(Scopes) ?? 300,
            Rate = rate,
            Events = events,
            Warmup = result.GetValue(Warmup) ?? (name == Publish ? Math.Min(rate, events) : events / 10),
            Subscribers = result.GetValue(Subscribers) ?? 1,
            PayloadBytes = result.GetValue(Payload) ?? 200,
            InFlight = result.GetValue(InFlight) ?? 1000,
            HistorySize = result.GetValue(HistorySize) ?? 100,
            Pin = common.Pin,
            ServerCpus = common.ServerCpus,
            LoadCpus = common.LoadCpus,
            ResultsDirectory = common.ResultsDirectory,
        };
        if (settings.Runs < 1 || settings.Masters < 1 || settings.Scopes < 1 || settings.Rate < 1 || settings.Events < 1 || settings.Warmup < 0
            || settings.Subscribers < 1 || settings.InFlight < 1 || settings.HistorySize < 1)
        {
            throw new ArgumentException("--runs, --masters, --scopes, --rate, --events, --subscribers, --in-flight and --history-size must be at least 1, --warmup at least 0.");
        }

        if (settings.Masters > settings.Scopes)
        {
            throw new ArgumentException($"--scopes ({settings.Scopes}) must be at least --masters ({settings.Masters}): a master with no scope measures nothing.");
        }

        return settings;
    }
}
