using Atr.Bench.History;
using Atr.Bench.Results;
using Atr.Bench.Targets;
using Xunit;
using Xunit.Abstractions;

namespace Atr.Bench.Tests;

/// <summary>
/// The history benchmarks at a small size against the real redis-server and atr-server they start: what they count
/// is right (nothing lost; one history read for a whole storm). Timings are reported, never asserted.
/// </summary>
public sealed class HistoryBenchTests(ITestOutputHelper output)
{
    private static readonly TimeSpan RunLimit = TimeSpan.FromMinutes(4);

    [Fact]
    public async Task APublishRunMeasuresHistoryOffAndOnAndLosesNothing()
    {
        var settings = Settings(Cli.HistoryCommandLine.Publish) with { Events = 5000, Scopes = 10, Runs = 1 };
        using var log = new StringWriter();
        using var limit = new CancellationTokenSource(RunLimit);

        var results = await PublishThroughput.RunAsync(settings, Machine(settings), log, limit.Token).WaitAsync(RunLimit + TimeSpan.FromSeconds(30));
        output.WriteLine(log.ToString());

        Assert.Equal([0, 100], results.Select(result => result.HistorySize));
        foreach (var result in results)
        {
            var figures = Assert.IsType<PublishFigures>(result.Publish);
            Assert.Equal(figures.Expected, figures.Received);
            Assert.True(figures.EventsPerSecond > 0 && figures.RedisCpuMicrosPerEvent >= 0);
        }

        // With history on, Redis holds each scope's stream: more memory than with history off.
        Assert.True(results[1].Publish!.RedisUsedMemoryBytes > results[0].Publish!.RedisUsedMemoryBytes);
    }

    [Fact]
    public async Task AStormOfReturningClientsGetsEveryMissedEventFromOneHistoryRead()
    {
        var settings = Settings(Cli.HistoryCommandLine.Storm) with { Clients = 200, Events = 20, Runs = 1, ConnectConcurrency = 200 };
        using var log = new StringWriter();
        using var limit = new CancellationTokenSource(RunLimit);

        var results = await RecoveryStorm.RunAsync(settings, Machine(settings), log, limit.Token).WaitAsync(RunLimit + TimeSpan.FromSeconds(30));
        output.WriteLine(log.ToString());

        var storm = Assert.IsType<StormFigures>(Assert.Single(results).Storm);
        Assert.Equal(0, storm.Missing);
        Assert.Equal(0, storm.Duplicated);
        Assert.Equal(0, storm.Disordered);
        Assert.Equal(0, storm.Resyncs);
        Assert.Equal(1, storm.HistoryReads);
    }

    private static HistoryBenchSettings Settings(string scenario) => new()
    {
        Scenario = scenario,
        Paths = new ToolPaths { RepositoryRoot = ToolPaths.FindRepositoryRoot(AppContext.BaseDirectory) },
        Pin = false,
        ResultsDirectory = null,
    };

    private static MachineInfo Machine(HistoryBenchSettings settings) => MachineInfo.Collect(settings.Paths.RepositoryRoot, settings.Paths.Node);
}
