using System.CommandLine;
using System.Globalization;
using Atr.Bench.Reporting;
using Atr.Bench.Scenarios;
using Atr.Bench.Targets;

namespace Atr.Bench.Cli;

/// <summary><c>atr-bench &lt;scenario&gt; [options]</c> and <c>atr-bench report [files…]</c>.</summary>
internal static class BenchCommandLine
{
    private static readonly Option<string> Targets = new("--targets") { Description = "Comma-separated targets: atr, atr-signalr, signalr, socketio, ws; also atr-history-off (atr with --history-size 0).", DefaultValueFactory = _ => "atr,atr-signalr,signalr,socketio,ws" };
    private static readonly Option<int?> Runs = new("--runs") { Description = "Repeat the whole set of targets this many times, interleaved (default 1)." };
    private static readonly Option<int?> Clients = new("--clients") { Description = "Clients connected (idle: the ramp's end for every target but atr)." };
    private static readonly Option<int?> Scopes = new("--scopes") { Description = "Scopes the clients are spread over, round-robin." };
    private static readonly Option<string?> Rates = new("--rates") { Description = "Offered deliveries/s per step, comma-separated; k and m suffixes allowed (e.g. 10k,20k)." };
    private static readonly Option<double?> Warmup = new("--warmup") { Description = "Seconds of publishing before each step's measured window." };
    private static readonly Option<double?> FirstWarmup = new("--first-warmup") { Description = "Seconds of publishing before the first rate's measured window, in place of --warmup: long enough for a .NET server's JIT to finish recompiling its hot path (default 20; smoke 0)." };
    private static readonly Option<double?> Duration = new("--duration") { Description = "Seconds of each step's measured window." };
    private static readonly Option<int?> Events = new("--events") { Description = "Publish exactly this many events per step (warm-up included) instead of --warmup + --duration seconds." };
    private static readonly Option<double?> Drain = new("--drain") { Description = "Longest wait in seconds, after a step, for deliveries still on their way." };
    private static readonly Option<int?> Payload = new("--payload") { Description = "Event payload size in bytes (default 200)." };
    private static readonly Option<double?> StopP99 = new("--stop-p99") { Description = "A target stops climbing rates once its p99 exceeds this many ms (default 1000) or it loses events." };
    private static readonly Option<int?> Max = new("--max") { Description = "idle: the ramp's end for atr (default 100000)." };
    private static readonly Option<int?> Step = new("--step") { Description = "idle: connections opened per step (default 1000)." };
    private static readonly Option<double?> Settle = new("--settle") { Description = "idle: longest wait in seconds for RSS to settle after a step (default 3)." };
    private static readonly Option<int?> ConnectConcurrency = new("--connect-concurrency") { Description = "Handshakes under way at once (default 200)." };
    private static readonly Option<int?> PerSourceAddress = new("--per-source-address") { Description = "Connections per source address 127.0.0.x before the next one is used (default 25000)." };
    private static readonly Option<bool> NoPin = new("--no-pin") { Description = "Do not pin servers and the load side to CPUs with taskset." };
    private static readonly Option<string> ServerCpus = new("--server-cpus") { Description = "taskset CPU list of the servers under test.", DefaultValueFactory = _ => "0" };
    private static readonly Option<string> LoadCpus = new("--load-cpus") { Description = "taskset CPU list of redis-server and the publishers (run the tool itself there too).", DefaultValueFactory = _ => "1" };
    private static readonly Option<string?> ResultsDirectory = new("--results") { Description = "Folder of the results files (default bench/results)." };
    private static readonly Option<bool> NoResults = new("--no-results") { Description = "Write no results file." };
    private static readonly Option<double> Progress = new("--progress") { Description = "Seconds between progress lines on stderr; 0 for none.", DefaultValueFactory = _ => 1 };
    private static readonly Option<string?> Repository = new("--repo") { Description = "The repository root (default: found from the working directory)." };
    private static readonly Option<string?> AtrServer = new("--atr-server") { Description = "The atr-server.dll to run (default Atr.Server/bin/<configuration>/net10.0/atr-server.dll)." };
    private static readonly Option<string> Node = new("--node") { Description = "The node executable.", DefaultValueFactory = _ => "node" };

    private static readonly Argument<string[]> ReportFiles = new("files") { Description = "Results files (.jsonl); default: every file in bench/results.", Arity = ArgumentArity.ZeroOrMore };
    private static readonly Option<string?> ReportOutput = new("--out") { Description = "Folder of the charts and the markdown fragment (default docs/benchmarks)." };
    private static readonly Option<string?> ReportPage = new("--page") { Description = "The docs page whose results section is replaced (default docs/benchmarks.md)." };

    public static Task<int> InvokeAsync(string[] args) => Create().Parse(args).InvokeAsync();

    public static RootCommand Create()
    {
        var root = new RootCommand("Atr's load tool: one scenario against Atr and its peers, side by side, with results in bench/results.");
        foreach (var scenario in ScenarioDefaults.Names)
        {
            var command = new Command(scenario, ScenarioDefaults.Describe(scenario));
            foreach (var option in ScenarioOptions())
            {
                command.Options.Add(option);
            }

            command.SetAction(async (result, cancellationToken) =>
            {
                BenchSettings settings;
                try
                {
                    settings = Settings(scenario, result);
                }
                catch (Exception ex) when (ex is ArgumentException or FormatException)
                {
                    // A mistyped option deserves its message, not a stack trace.
                    Console.Error.WriteLine($"atr-bench {scenario}: {ex.Message}");
                    return 2;
                }

                var records = await BenchRunner.RunAsync(settings, Console.Error, cancellationToken).ConfigureAwait(false);
                return records.Any(record => record.Error is not null) ? 1 : 0;
            });
            root.Subcommands.Add(command);
        }

        foreach (var command in HistoryCommandLine.Create().Concat(ClusterCommandLine.Create()))
        {
            root.Subcommands.Add(command);
        }

        var report = new Command("report", "Reads results files and writes SVG charts and a markdown fragment of medians (docs/benchmarks/), and the docs page's results section.");
        report.Arguments.Add(ReportFiles);
        report.Options.Add(ReportOutput);
        report.Options.Add(ReportPage);
        report.Options.Add(Repository);
        report.SetAction(async (result, cancellationToken) =>
        {
            var repository = ToolPaths.FindRepositoryRoot(result.GetValue(Repository));
            var files = result.GetValue(ReportFiles) is { Length: > 0 } given
                ? given
                : Directory.GetFiles(Path.Combine(repository, "bench", "results"), "*.jsonl").Order(StringComparer.Ordinal).ToArray();
            var written = await ReportWriter.WriteAsync(
                files,
                result.GetValue(ReportOutput) ?? Path.Combine(repository, "docs", "benchmarks"),
                result.GetValue(ReportPage) ?? Path.Combine(repository, "docs", "benchmarks.md"),
                cancellationToken).ConfigureAwait(false);
            foreach (var path in written)
            {
                Console.WriteLine(path);
            }

            return 0;
        });
        root.Subcommands.Add(report);
        return root;
    }

    /// <summary>The scenario's defaults with every option given on the command line applied.</summary>
    public static BenchSettings Settings(string scenario, ParseResult result)
    {
        var repository = ToolPaths.FindRepositoryRoot(result.GetValue(Repository));
        var paths = new ToolPaths { RepositoryRoot = repository, AtrServerDll = result.GetValue(AtrServer), Node = result.GetValue(Node)! };
        var defaults = ScenarioDefaults.For(scenario, paths);
        var serverCpus = result.GetValue(ServerCpus)!;
        var loadCpus = result.GetValue(LoadCpus)!;
        var pin = !result.GetValue(NoPin);
        if (pin && WhyNotPinned(serverCpus, loadCpus) is { } reason)
        {
            Console.Error.WriteLine($"note: servers and load are not pinned to CPUs: {reason}. The load then takes CPU from the server under test.");
            pin = false;
        }

        var settings = defaults with
        {
            Targets = TargetNames.ParseList(result.GetValue(Targets)!),
            Runs = result.GetValue(Runs) ?? defaults.Runs,
            Clients = result.GetValue(Clients) ?? defaults.Clients,
            Scopes = result.GetValue(Scopes) ?? defaults.Scopes,
            Rates = result.GetValue(Rates) is { } rates ? ParseRates(rates) : defaults.Rates,
            Warmup = Seconds(result.GetValue(Warmup)) ?? defaults.Warmup,
            FirstWarmup = Seconds(result.GetValue(FirstWarmup)) ?? defaults.FirstWarmup,
            Duration = Seconds(result.GetValue(Duration)) ?? defaults.Duration,
            Events = result.GetValue(Events) ?? defaults.Events,
            Drain = Seconds(result.GetValue(Drain)) ?? defaults.Drain,
            PayloadBytes = result.GetValue(Payload) ?? defaults.PayloadBytes,
            StopP99 = result.GetValue(StopP99) is { } ms ? TimeSpan.FromMilliseconds(ms) : defaults.StopP99,
            Max = result.GetValue(Max) ?? defaults.Max,
            Step = result.GetValue(Step) ?? defaults.Step,
            Settle = Seconds(result.GetValue(Settle)) ?? defaults.Settle,
            ConnectConcurrency = result.GetValue(ConnectConcurrency) ?? defaults.ConnectConcurrency,
            ConnectionsPerSourceAddress = result.GetValue(PerSourceAddress) ?? defaults.ConnectionsPerSourceAddress,
            Pin = pin,
            ServerCpus = serverCpus,
            LoadCpus = loadCpus,
            ResultsDirectory = result.GetValue(NoResults) ? null : result.GetValue(ResultsDirectory) ?? Path.Combine(repository, "bench", "results"),
            ProgressSeconds = result.GetValue(Progress),
        };
        if (settings.Clients < 1 || settings.Scopes < 1 || settings.Scopes > settings.Clients && scenario != ScenarioDefaults.Idle)
        {
            throw new ArgumentException("--clients and --scopes must be at least 1, and there must be a client for every scope.");
        }

        return settings;
    }

    /// <summary><c>10k,20k,1.5m,500</c> → 10000, 20000, 1500000, 500.</summary>
    public static IReadOnlyList<int> ParseRates(string text) => text
        .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
        .Select(rate => (rate.ToLowerInvariant() switch
        {
            var k when k.EndsWith('k') => (Number: k[..^1], Scale: 1_000),
            var m when m.EndsWith('m') => (Number: m[..^1], Scale: 1_000_000),
            var plain => (Number: plain, Scale: 1),
        }) is var (number, scale) && double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && value > 0
            ? (int)(value * scale)
            : throw new FormatException($"--rates: '{rate}' is not a rate such as 500, 40k or 1.5m."))
        .ToArray();

    private static IEnumerable<Option> ScenarioOptions() =>
    [
        Targets, Runs, Clients, Scopes, Rates, Warmup, FirstWarmup, Duration, Events, Drain, Payload, StopP99, Max, Step, Settle,
        ConnectConcurrency, PerSourceAddress, NoPin, ServerCpus, LoadCpus, ResultsDirectory, NoResults, Progress, Repository, AtrServer, Node,
    ];

    private static TimeSpan? Seconds(double? seconds) => seconds is { } value ? TimeSpan.FromSeconds(value) : null;

    /// <summary>
    /// Why the servers cannot be pinned to <paramref name="serverCpus"/> and the load to <paramref name="loadCpus"/>, or null when
    /// they can: taskset is needed, and both lists must name online CPUs, none in both. The machine's CPUs are counted, not
    /// this process's: the tool itself runs pinned to the load CPUs.
    /// </summary>
    public static string? WhyNotPinned(string serverCpus, string loadCpus)
    {
        if (!(Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':').Any(directory => File.Exists(Path.Combine(directory, "taskset"))))
        {
            return "taskset is not installed (Debian: util-linux)";
        }

        var online = CpuSet.Online();
        if (online.Count < 2)
        {
            return "the machine has one CPU";
        }

        var server = CpuSet.Parse(serverCpus);
        var load = CpuSet.Parse(loadCpus);
        if (!server.IsSubsetOf(online) || !load.IsSubsetOf(online))
        {
            return $"--server-cpus {serverCpus} and --load-cpus {loadCpus} must be among the online CPUs {CpuSet.Format(online)}";
        }

        return server.Overlaps(load) ? $"--server-cpus {serverCpus} and --load-cpus {loadCpus} share a CPU" : null;
    }
}
