namespace Atr.Hub.Diagnostics;

/// <summary>The <c>GET /stats</c> snapshot of one node.</summary>
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
    long SubscriptionFailures);
