using Microsoft.Extensions.Hosting;

namespace Atr.Hub.Backplane;

/// <summary>
/// Starts connecting to Redis when the node starts, without waiting for it, so readiness reflects
/// Redis from the first moment rather than from the first client; then keeps proving the node's
/// subscription with its probe until the node stops.
/// </summary>
internal sealed class BackplaneConnector(IBackplane backplane) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (backplane is not RedisBackplane redis)
        {
            return;
        }

        try
        {
            await redis.RunAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // The node is stopping.
        }
    }
}
