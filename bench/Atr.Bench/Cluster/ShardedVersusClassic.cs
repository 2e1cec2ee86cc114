using Atr.Bench.Results;

namespace Atr.Bench.Cluster;

/// <summary>
/// <c>cluster-publish</c>: one cluster, events paced at a fixed rate over scopes spread across its masters, published
/// sharded (<c>SPUBLISH</c>, what Atr does on a cluster) and classic (<c>PUBLISH</c>, which the cluster copies to every
/// node over its bus), with history off and on. What each master's CPU pays per event published cluster-wide: sharded,
/// about its share of the scopes; classic, every event on every master.
/// </summary>
internal static class ShardedVersusClassic
{
    public static async Task<IReadOnlyList<ClusterResult>> RunAsync(
        ClusterBenchSettings settings, MachineInfo machine, TextWriter progress, Func<ClusterResult, Task> measured, CancellationToken cancellationToken)
    {
        await using var cluster = await LocalCluster.StartAsync(settings.Masters, settings.Paths.RedisServer, settings.Pin ? settings.ServerCpus : null, cancellationToken).ConfigureAwait(false);
        var layout = await ScopeLayout.ReadAsync(cluster, settings.Scopes, cancellationToken).ConfigureAwait(false);
        progress.WriteLine(ClusterMeasurement.Describe(settings, cluster, layout));

        var results = new List<ClusterResult>();
        for (var run = 1; run <= settings.Runs; run++)
        {
            foreach (var historySize in new[] { 0, settings.HistorySize })
            {
                foreach (var sharded in new[] { true, false })
                {
                    var figures = await ClusterMeasurement.MeasureAsync(cluster, layout, sharded, historySize, settings.Rate, settings, cancellationToken).ConfigureAwait(false);
                    var result = ClusterMeasurement.Result(settings, machine, run, sharded, historySize, cluster.Masters.Count, figures);
                    progress.WriteLine(ClusterMeasurement.Summary(result));
                    await measured(result).ConfigureAwait(false);
                    results.Add(result);
                }
            }
        }

        return results;
    }
}
