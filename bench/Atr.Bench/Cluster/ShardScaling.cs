using Atr.Bench.Results;

namespace Atr.Bench.Cluster;

/// <summary>
/// <c>cluster-scale</c>: the highest publish rate with history on (Atr's append-and-<c>SPUBLISH</c> script, through
/// <c>Atr.Publishing</c>, pipelined), on a cluster of 1, then 2, then up to N masters, each a fresh cluster: events/s,
/// each master's CPU per event of its own scopes, how busy each master and each CPU was. On a machine where every master
/// shares one CPU the total cannot grow with the masters; the cost per event on a shard says what each adds when it
/// has a core of its own.
/// </summary>
internal static class ShardScaling
{
    public static async Task<IReadOnlyList<ClusterResult>> RunAsync(
        ClusterBenchSettings settings, MachineInfo machine, TextWriter progress, Func<ClusterResult, Task> measured, CancellationToken cancellationToken)
    {
        var results = new List<ClusterResult>();
        for (var run = 1; run <= settings.Runs; run++)
        {
            for (var masters = 1; masters <= settings.Masters; masters++)
            {
                await using var cluster = await LocalCluster.StartAsync(masters, settings.Paths.RedisServer, settings.Pin ? settings.ServerCpus : null, cancellationToken).ConfigureAwait(false);
                var layout = await ScopeLayout.ReadAsync(cluster, settings.Scopes, cancellationToken).ConfigureAwait(false);
                if (run == 1)
                {
                    progress.WriteLine(ClusterMeasurement.Describe(settings, cluster, layout));
                }

                var figures = await ClusterMeasurement.MeasureAsync(cluster, layout, sharded: true, settings.HistorySize, rate: null, settings, cancellationToken).ConfigureAwait(false);
                var result = ClusterMeasurement.Result(settings, machine, run, sharded: true, settings.HistorySize, masters, figures);
                progress.WriteLine(ClusterMeasurement.Summary(result));
                await measured(result).ConfigureAwait(false);
                results.Add(result);
            }
        }

        return results;
    }
}
