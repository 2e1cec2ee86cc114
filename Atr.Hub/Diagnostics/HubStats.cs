using Atr.Hub.Backplane;

namespace Atr.Hub.Diagnostics;

/// <summary>The <c>GET /stats</c> snapshot of one node; <see cref="Shards"/>: the Redis servers its subscriptions go through.</summary>
internal sealed record HubStats(
    string Backplane,
    long Connections,
    long QueuedBytes,
    int Scopes,
    long ConnectionsOpened,
    long EventsReceived,
    long EventsDropped,
    long EventsPublished,
    long FramesQueued,
    long FramesSent,
    long SlowConsumerClosures,
    long SubscriptionFailures,
    IReadOnlyList<BackplaneShard> Shards);
