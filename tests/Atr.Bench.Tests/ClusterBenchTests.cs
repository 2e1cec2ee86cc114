using Atr.Bench.Cluster;
using Atr.Bench.Results;
using Atr.Bench.Targets;
using Xunit;
using Xunit.Abstractions;

namespace Atr.Bench.Tests;

/// <summary>
/// The Redis Cluster benchmarks at a small size against the real redis-server cluster they start: every event reaches
/// its subscriber, and each master does what its scopes ask of it and no more. Timings are reported, never asserted.
/// </summary>
public sealed class ClusterBenchTests(ITestOutputHelper output)
{
    private static readonly TimeSpan RunLimit = TimeSpan.FromMinutes(4);

    [Fact]
    public async Task ShardedPublishesReachOnlyTheMasterOfTheirScopeAndClassicOnesLoseNothingEither()
    {
        var settings = Settings(Cli.ClusterCommandLine.Publish) with { Events = 3000, Warmup = 300 };
        using var log = new StringWriter();
        using var limit = new CancellationTokenSource(RunLimit);

        var results = await ShardedVersusClassic.RunAsync(settings, Machine(settings), log, _ => Task.CompletedTask, limit.Token).WaitAsync(RunLimit + TimeSpan.FromSeconds(30));
        output.WriteLine(log.ToString());

        Assert.Equal([(0, "sharded"), (0, "classic"), (100, "sharded"), (100, "classic")], results.Select(result => (result.HistorySize, result.Mode)));
        foreach (var result in results)
        {
            var figures = result.Figures;
            Assert.Equal(figures.Expected, figures.Received);
            Assert.Equal(3, figures.PerMaster.Count);
            Assert.Equal(settings.Scopes, figures.PerMaster.Sum(master => master.Scopes));
            Assert.Equal(settings.Events, figures.PerMaster.Sum(master => master.Events));
            foreach (var master in figures.PerMaster)
            {
                Assert.True(master.Scopes > 0, $"master {master.Port} owns none of {settings.Scopes} scopes");
                Assert.Equal(master.Expected, master.Received);

                // Each master runs the publish of its own scopes' events, and holds the subscriptions of its own scopes;
                // sharded, no other master hears of them, classic, the bus brings every other master's to each.
                if (result.Mode == "sharded")
                {
                    Assert.Equal((master.Events, 0L), (master.ShardPublishCalls, master.PublishCalls));
                    Assert.Equal((master.Scopes, 0), (master.ShardChannels, master.Channels));
                    Assert.Equal(0, master.BusPublishesReceived);
                }
                else
                {
                    Assert.Equal((master.Events, 0L), (master.PublishCalls, master.ShardPublishCalls));
                    Assert.Equal((master.Scopes, 0), (master.Channels, master.ShardChannels));
                    Assert.Equal(settings.Events - master.Events, master.BusPublishesReceived);
                    Assert.Equal(1.0, master.HandledShare);
                }

                Assert.Equal(result.HistorySize > 0 ? master.Events : 0, master.ScriptCalls);
            }

            Assert.Equal(figures.PerMaster.Sum(master => master.BusPublishesSent), figures.PerMaster.Sum(master => master.BusPublishesReceived));
            Assert.Equal(result.HistorySize > 0, figures.History is not null);
        }
    }

    [Fact]
    public async Task AScalingRunGrowsTheClusterFromOneMasterAndLosesNothing()
    {
        var settings = Settings(Cli.ClusterCommandLine.Scale) with { Events = 3000, Warmup = 300 };
        using var log = new StringWriter();
        using var limit = new CancellationTokenSource(RunLimit);

        var results = await ShardScaling.RunAsync(settings, Machine(settings), log, _ => Task.CompletedTask, limit.Token).WaitAsync(RunLimit + TimeSpan.FromSeconds(30));
        output.WriteLine(log.ToString());

        Assert.Equal([1, 2, 3], results.Select(result => result.Masters));
        foreach (var result in results)
        {
            var figures = result.Figures;
            Assert.Equal(("sharded", 100), (result.Mode, result.HistorySize));
            Assert.Equal(figures.Expected, figures.Received);
            Assert.Equal(result.Masters, figures.PerMaster.Count);
            Assert.All(figures.PerMaster, master => Assert.Equal((master.Events, master.Events, master.Expected), (master.ShardPublishCalls, master.ScriptCalls, master.Received)));

            // Every scope's history is a stream on its master, trimmed near the history size.
            var history = Assert.IsType<HistoryFootprint>(figures.History);
            Assert.Equal(settings.Scopes, history.Streams);
            Assert.InRange(history.EntriesMedian, 1, 2 * result.HistorySize);
            Assert.True(history.BytesPerEntry > 0);
        }
    }

    private static ClusterBenchSettings Settings(string scenario) => new()
    {
        Scenario = scenario,
        Paths = new ToolPaths { RepositoryRoot = ToolPaths.FindRepositoryRoot(AppContext.BaseDirectory) },
        Runs = 1,
        Masters = 3,
        Pin = false,
        ResultsDirectory = null,
    };

    private static MachineInfo Machine(ClusterBenchSettings settings) => MachineInfo.Collect(settings.Paths.RepositoryRoot, settings.Paths.Node);
}
