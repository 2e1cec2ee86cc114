using System.CommandLine;
using Atr.Bench.History;
using Atr.Bench.Results;
using Atr.Bench.Targets;

namespace Atr.Bench.Cli;

/// <summary><c>atr-bench history-publish</c> and <c>atr-bench history-storm</c>: what history costs, and what it saves.</summary>
internal static class HistoryCommandLine
{
    public const string Publish = "history-publish";
    public const string Storm = "history-storm";

    private static readonly Option<int?> Runs = new("--runs") { Description = "Runs (default 3); history-publish measures history off and on back to back in each." };
    private static readonly Option<int?> Events = new("--events") { Description = "history-publish: events per measurement (default 200000); history-storm: events published while the clients are away (default 50)." };
    private static readonly Option<int?> Scopes = new("--scopes") { Description = "history-publish: scopes the events go to, round-robin (default 50)." };
    private static readonly Option<int?> Payload = new("--payload") { Description = "history-publish: event size in bytes, about (default 200)." };
    private static readonly Option<int?> InFlight = new("--in-flight") { Description = "history-publish: publishes unacknowledged at most (default 1000)." };
    private static readonly Option<int?> HistorySize = new("--history-size") { Description = "The history size when history is on (default 100)." };
    private static readonly Option<int?> Clients = new("--clients") { Description = "history-storm: clients of the one scope (default 5000)." };
    private static readonly Option<int?> ConnectConcurrency = new("--connect-concurrency") { Description = "history-storm: handshakes under way at once (default 500)." };
    private static readonly CommonOptions Common = new("the server side", "taskset CPU list of the side measured: redis-server (history-publish), the hub (history-storm).", "history");
    private static readonly Option<string?> AtrServer = new("--atr-server") { Description = "The atr-server.dll to run (default Atr.Server/bin/<configuration>/net10.0/atr-server.dll)." };

    public static IEnumerable<Command> Create()
    {
        yield return Command(Publish, "One Atr publisher, pipelined, through Redis with history off and on: events/s, redis-server's CPU per event, and its memory.");
        yield return Command(Storm, "5,000 clients of one scope dropped at once, 50 events published, then all back with since: time until the last holds everything, and history reads in Redis.");
    }

    private static Command Command(string name, string description)
    {
        var command = new Command(name, description);
        foreach (var option in new Option[] { Runs, Events, Scopes, Payload, InFlight, HistorySize, Clients, ConnectConcurrency }.Concat(Common.All).Append(AtrServer))
        {
            command.Options.Add(option);
        }

        command.SetAction(async (result, cancellationToken) =>
        {
            HistoryBenchSettings settings;
            try
            {
                settings = Settings(name, result);
            }
            catch (ArgumentException ex)
            {
                Console.Error.WriteLine($"atr-bench {name}: {ex.Message}");
                return 2;
            }

            var machine = MachineInfo.Collect(settings.Paths.RepositoryRoot, settings.Paths.Node);
            var file = new ResultsFile(settings.ResultsDirectory, DateTimeOffset.UtcNow);
            try
            {
                var results = name == Publish
                    ? await PublishThroughput.RunAsync(settings, machine, Console.Error, cancellationToken).ConfigureAwait(false)
                    : await RecoveryStorm.RunAsync(settings, machine, Console.Error, cancellationToken).ConfigureAwait(false);
                foreach (var measured in results)
                {
                    await file.AppendAsync(measured, HistoryResultJson.Default.HistoryResult, cancellationToken).ConfigureAwait(false);
                }
            }
            finally
            {
                ChildProcesses.KillAll();
            }

            if (file.Path is not null)
            {
                Console.Error.WriteLine($"results: {file.Path}");
            }

            return 0;
        });
        return command;
    }

    private static HistoryBenchSettings Settings(string name, ParseResult result)
    {
        var common = Common.Read(result);

        var settings = new HistoryBenchSettings
        {
            Scenario = name,
            Paths = new ToolPaths { RepositoryRoot = common.RepositoryRoot, AtrServerDll = result.GetValue(AtrServer) },
            Runs = result.GetValue(Runs) ?? 3,
            Events = result.GetValue(Events) ?? (name == Publish ? 200_000 : 50),
            Scopes = result.GetValue(Scopes) ?? 50,
            PayloadBytes = result.GetValue(Payload) ?? 200,
            InFlight = result.GetValue(InFlight) ?? 1000,
            HistorySize = result.GetValue(HistorySize) ?? 100,
            Clients = result.GetValue(Clients) ?? 5000,
            ConnectConcurrency = result.GetValue(ConnectConcurrency) ?? 500,
            Pin = common.Pin,
            ServerCpus = common.ServerCpus,
            LoadCpus = common.LoadCpus,
            ResultsDirectory = common.ResultsDirectory,
        };
        if (settings.Runs < 1 || settings.Events < 1 || settings.Scopes < 1 || settings.InFlight < 1 || settings.HistorySize < 1 || settings.Clients < 1 || settings.ConnectConcurrency < 1)
        {
            throw new ArgumentException("--runs, --events, --scopes, --in-flight, --history-size, --clients and --connect-concurrency must be at least 1.");
        }

        if (name == Storm && settings.HistorySize <= settings.Events)
        {
            throw new ArgumentException($"--history-size ({settings.HistorySize}) must be larger than --events ({settings.Events}): the storm measures a gap the history covers.");
        }

        return settings;
    }
}
