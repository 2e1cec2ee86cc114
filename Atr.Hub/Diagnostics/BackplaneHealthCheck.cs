using Atr.Hub.Backplane;
using Atr.Hub.Connections;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Atr.Hub.Diagnostics;

/// <summary>Readiness: the node is not stopping and its backplane delivers events.</summary>
internal sealed class BackplaneHealthCheck(IBackplane backplane, ConnectionManager connections) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (connections.IsStopping)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy("The node is shutting down."));
        }

        return Task.FromResult(backplane.IsDelivering
            ? HealthCheckResult.Healthy($"Backplane {backplane.Name} delivering.")
            : HealthCheckResult.Unhealthy(backplane.Problem ?? $"Backplane {backplane.Name} is not delivering."));
    }
}
