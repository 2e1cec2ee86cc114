using Atr.Hub.Diagnostics;
using Atr.Hub.Subscriptions;
using Atr.Publishing.Redis;
using Microsoft.Extensions.Hosting;
using StackExchange.Redis;

namespace Atr.Hub.Backplane;

/// <summary>
/// Starts connecting to Redis when the node starts, without waiting for it, so readiness reflects
/// Redis from the first moment rather than from the first client; and when the subscriber connection
/// comes back after a loss, tells the clients that events may have been missed.
/// </summary>
internal sealed class BackplaneConnector(RedisConnectionProvider connections, EventDispatcher dispatcher, IBackplane backplane, HubMetrics metrics) : IHostedService
{
    private IConnectionMultiplexer? _multiplexer;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (connections.IsConfigured && backplane is RedisBackplane)
        {
            // Not awaited: a node starts, and reports itself not ready, while Redis is away.
            _ = WatchAsync();
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        if (_multiplexer is not null)
        {
            _multiplexer.ConnectionRestored -= OnRestored;
        }

        return Task.CompletedTask;
    }

    private async Task WatchAsync()
    {
        _multiplexer = await connections.GetConnectionAsync().ConfigureAwait(false);
        _multiplexer.ConnectionRestored += OnRestored;
    }

    private void OnRestored(object? sender, ConnectionFailedEventArgs e)
    {
        metrics.BackplaneReconnected();
        if (e.ConnectionType == ConnectionType.Subscription)
        {
            _ = ResyncAsync();
        }
    }

    private async Task ResyncAsync()
    {
        try
        {
            // A subscribe of the node's own, after the client library's resubscription on the same
            // connection, completes once the scopes are subscribed again: only then is "refetch" safe.
            var barrier = RedisChannel.Literal($"atr-node:{Guid.NewGuid():N}");
            var subscriber = _multiplexer!.GetSubscriber();
            await subscriber.SubscribeAsync(barrier, static (_, _) => { }).ConfigureAwait(false);
            await subscriber.UnsubscribeAsync(barrier).ConfigureAwait(false);
        }
        catch (RedisException)
        {
            // Lost again already: the next restoration sends the signal.
            return;
        }

        dispatcher.BackplaneRestored();
    }
}
