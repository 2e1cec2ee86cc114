using Atr.Publishing.Redis;
using Microsoft.Extensions.Hosting;

namespace Atr.Hub.Backplane;

/// <summary>Starts connecting to Redis when the node starts, without waiting for it, so readiness reflects Redis from the first moment rather than from the first client.</summary>
internal sealed class BackplaneConnector(RedisConnectionProvider connections) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (connections.IsConfigured)
        {
            // Not awaited: a node starts, and reports itself not ready, while Redis is away.
            _ = connections.GetConnectionAsync();
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
