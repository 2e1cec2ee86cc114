using System.CommandLine;
using Atr.Bench.Targets;

namespace Atr.Bench.Cli;

/// <summary>
/// The options the history and cluster commands share, read the same way: CPU pinning, the results folder and the
/// repository root. Only the descriptions differ, by what runs on the server CPUs and where the results go.
/// </summary>
/// <param name="serverSide">What <c>--no-pin</c> keeps off the server CPUs, e.g. <c>the masters</c>.</param>
/// <param name="serverCpusDescription"><c>--server-cpus</c>'s description.</param>
/// <param name="resultsFolder">The results folder under <c>bench/results</c>.</param>
internal sealed class CommonOptions(string serverSide, string serverCpusDescription, string resultsFolder)
{
    private readonly Option<bool> noPin = new("--no-pin") { Description = $"Do not pin {serverSide} and the load side to CPUs with taskset." };
    private readonly Option<string> serverCpus = new("--server-cpus") { Description = serverCpusDescription, DefaultValueFactory = _ => "0" };
    private readonly Option<string> loadCpus = new("--load-cpus") { Description = "taskset CPU list of the load side (run the tool itself there too).", DefaultValueFactory = _ => "1" };
    private readonly Option<string?> resultsDirectory = new("--results") { Description = $"Folder of the results files (default bench/results/{resultsFolder})." };
    private readonly Option<bool> noResults = new("--no-results") { Description = "Write no results file." };
    private readonly Option<string?> repository = new("--repo") { Description = "The repository root (default: found from the working directory)." };

    /// <summary>The options, in the order the help lists them.</summary>
    public IEnumerable<Option> All => [noPin, serverCpus, loadCpus, resultsDirectory, noResults, repository];

    /// <summary>The options' values; pinning is dropped, with a note on stderr, when the machine cannot pin as asked.</summary>
    public CommonValues Read(ParseResult result)
    {
        var root = ToolPaths.FindRepositoryRoot(result.GetValue(repository));
        var server = result.GetValue(serverCpus)!;
        var load = result.GetValue(loadCpus)!;
        var pin = !result.GetValue(noPin);
        if (pin && BenchCommandLine.WhyNotPinned(server, load) is { } reason)
        {
            Console.Error.WriteLine($"note: not pinned to CPUs: {reason}.");
            pin = false;
        }

        return new CommonValues
        {
            RepositoryRoot = root,
            Pin = pin,
            ServerCpus = server,
            LoadCpus = load,
            ResultsDirectory = result.GetValue(noResults) ? null : result.GetValue(resultsDirectory) ?? Path.Combine(root, "bench", "results", resultsFolder),
        };
    }
}
