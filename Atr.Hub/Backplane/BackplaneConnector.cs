using Microsoft.Extensions.Hosting;

namespace Atr.Hub.Backplane;

/// <summary>
/// Runs the backplane's upkeep (<see cref="IBackplane.RunAsync"/>) for as long as the node runs:
/// Redis starts connecting when the node starts, without waiting for it, so readiness reflects
/// Redis from the first moment rather than from the first client, and its subscription is proven
/// by the probe until the node stops.
/// </summary>
internal sealed class BackplaneConnector(IBackplane backplane) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await backplane.RunAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // The node is stopping.
        }
    }
}
