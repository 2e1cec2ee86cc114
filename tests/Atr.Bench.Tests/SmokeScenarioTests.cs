using Atr.Bench.Scenarios;
using Atr.Bench.Targets;
using Xunit;
using Xunit.Abstractions;

namespace Atr.Bench.Tests;

/// <summary>
/// The load tool's smoke scenario, in-process, against real servers it starts itself (a redis-server, atr-server,
/// the Node ws peer and its .NET counterpart): every published event reaches every client of its scope exactly once. Timings are reported,
/// never asserted.
/// </summary>
public sealed class SmokeScenarioTests(ITestOutputHelper output)
{
    // The tool's own waits are bounded (start 90 s, connect 60 s, probes 60 s, drain 15 s); this bounds the whole.
    private static readonly TimeSpan RunLimit = TimeSpan.FromMinutes(4);

    [Theory]
    [InlineData("atr")]
    [InlineData("atr-signalr")]
    [InlineData("ws")]
    [InlineData("dotnet-ws")]
    public async Task SmokeDeliversEveryEventToEveryClientOfItsScopeExactlyOnce(string target)
    {
        var paths = new ToolPaths { RepositoryRoot = ToolPaths.FindRepositoryRoot(AppContext.BaseDirectory) };
        var settings = ScenarioDefaults.For(ScenarioDefaults.Smoke, paths) with
        {
            Targets = [TargetNames.Parse(target)],
            Pin = false,
            ResultsDirectory = null,
            ProgressSeconds = 0,
        };
        using var log = new StringWriter();
        using var limit = new CancellationTokenSource(RunLimit);

        var records = await BenchRunner.RunAsync(settings, log, limit.Token).WaitAsync(RunLimit + TimeSpan.FromSeconds(30));
        output.WriteLine(log.ToString());

        var record = Assert.Single(records);
        Assert.Null(record.Error);
        var load = Assert.IsType<Results.LoadFigures>(record.Load);
        Assert.Equal(2000, load.EventsPublished);
        Assert.Equal(2000 * (settings.Clients / settings.Scopes), load.ExpectedDeliveries);
        Assert.Equal(load.ExpectedDeliveries, load.Delivered);
        Assert.Equal(0, load.Lost);
        Assert.Equal(0, load.Duplicated);
        Assert.Equal(settings.Clients, load.ConnectionsOpen);
    }
}
