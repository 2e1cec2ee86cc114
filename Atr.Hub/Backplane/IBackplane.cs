namespace Atr.Hub.Backplane;

/// <summary>
/// Carries events between publishers and hub nodes. Every payload of a subscribed scope goes to
/// the node's <see cref="Subscriptions.EventDispatcher"/>, in publish order within the scope.
/// </summary>
internal interface IBackplane
{
    /// <summary>A name for logs and the start banner: <c>in-memory</c>, <c>redis</c>.</summary>
    string Name { get; }

    /// <summary>Whether events flow now (always, in memory; Redis: the subscription is up and proven by the node's probe).</summary>
    bool IsDelivering { get; }

    /// <summary>
    /// The Redis servers the node's subscriptions go through — the Redis, or on a cluster each
    /// shard's master — with the scopes subscribed through each; empty in memory.
    /// </summary>
    IReadOnlyList<BackplaneShard> Shards => [];

    /// <summary>Why the backplane cannot be reached, in one line (<c>Redis at 127.0.0.1:6379 is unreachable (connection refused)</c>), once the node has found out; null while it can.</summary>
    string? Problem { get; }

    /// <summary>
    /// The backplane's own upkeep, from the node's start until <paramref name="stoppingToken"/>
    /// (Redis: connect without holding up the start, then keep proving the subscription); completes
    /// at once for a backplane that needs none.
    /// </summary>
    Task RunAsync(CancellationToken stoppingToken);

    /// <summary>Starts receiving the events of <paramref name="scope"/>; completes once the subscription is in place.</summary>
    Task SubscribeAsync(string scope, CancellationToken cancellationToken);

    /// <summary>Stops receiving the events of <paramref name="scope"/>.</summary>
    Task UnsubscribeAsync(string scope);

    /// <summary>Publishes a serialized event to every node subscribed to <paramref name="scope"/>, after appending it to the scope's history.</summary>
    /// <returns>
    /// True when the backplane took it; false when it reached only this node's clients, because the
    /// node is cut off from the backplane.
    /// </returns>
    Task<bool> PublishAsync(string scope, string eventId, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken);
}
