using Atr.Hub.Backplane;
using Atr.Hub.Connections;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Atr.Hub.Diagnostics;

/// <summary>
/// Readiness: the node is not stopping and its backplane delivers events. The description names the
/// Redis servers (on a cluster, the shards' masters) the node is subscribed through, which are also
/// in the result's data as <see cref="ShardsKey"/>.
/// </summary>
internal sealed class BackplaneHealthCheck(IBackplane backplane, ConnectionManager connections) : IHealthCheck
{
    /// <summary>The key of the result's data that holds the backplane's <see cref="BackplaneShard"/> list.</summary>
    public const string ShardsKey = "shards";

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (connections.IsStopping)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy("The node is shutting down."));
        }

        var shards = backplane.Shards;
        var data = new Dictionary<string, object> { [ShardsKey] = shards };
        var through = shards.Count switch
        {
            0 => string.Empty,
            1 => $" through {Describe(shards[0])}",
            _ => $" through {shards.Count} shards: {string.Join(", ", shards.Select(Describe))}",
        };

        return Task.FromResult(backplane.IsDelivering
            ? HealthCheckResult.Healthy($"Backplane {backplane.Name} delivering{through}.", data)
            : HealthCheckResult.Unhealthy(backplane.Problem ?? $"Backplane {backplane.Name} is not delivering{(shards.Count == 0 ? "." : $"; subscribed{through}.")}", data: data));
    }

    private static string Describe(BackplaneShard shard) => $"{shard.Server} ({shard.Scopes} {(shard.Scopes == 1 ? "scope" : "scopes")})";
}
