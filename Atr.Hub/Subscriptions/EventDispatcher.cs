using Atr.Hub.Diagnostics;
using Atr.Publishing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Atr.Hub.Subscriptions;

/// <summary>
/// Takes each payload from the backplane, checks it once and queues the same frame to every local
/// recipient of its scope. Runs on the backplane's read loop, so it never awaits.
/// </summary>
internal sealed partial class EventDispatcher(
    ScopeRegistry groups,
    HubMetrics metrics,
    TimeProvider timeProvider,
    IOptions<AtrHubOptions> options,
    ILogger<EventDispatcher> logger)
{
    private static readonly TimeSpan DropLogInterval = TimeSpan.FromSeconds(10);

    // Publishers refuse larger events; one that arrives anyway (another language's PUBLISH) is dropped
    // before any client, as it could cost every busy client of its scope its connection.
    private readonly long _maxEventBytes = options.Value.MaxEventBytes;

    // One line per interval however fast garbage arrives: a flood must not become a log flood.
    private readonly LogThrottle _drops = new(timeProvider, DropLogInterval);

    /// <summary>Delivers one payload of <paramref name="scope"/>; the memory must stay unchanged afterwards.</summary>
    /// <param name="scope">The scope it was published to.</param>
    /// <param name="payload">The event JSON.</param>
    /// <param name="fromBackplane">
    /// Whether it came from the backplane, and waits (parked) while the scope's history fills a gap;
    /// an event published on this node while it is cut off from Redis is delivered at once.
    /// </param>
    public void Dispatch(string scope, ReadOnlyMemory<byte> payload, bool fromBackplane = true)
    {
        metrics.EventReceived();
        if (payload.Length > _maxEventBytes || !EventPayload.IsValid(payload.Span))
        {
            Dropped(scope, payload.Length);
            return;
        }

        if (!groups.TryGet(scope, out var group))
        {
            return;
        }

        var frame = new EventFrame(payload);
        int queued;

        // One lock per event of a scope: the tail and the members see the same events in the same order.
        lock (group.DeliveryLock)
        {
            if (fromBackplane && group.Parked is { } parked)
            {
                parked.Add(frame);
                return;
            }

            if (fromBackplane && group.ReadOverlap)
            {
                // Published after the node subscribed and before its history read: the read delivered it.
                if (frame.Id is { } id && group.Tail!.Contains(id))
                {
                    return;
                }

                group.ReadOverlap = false;
            }

            group.Tail?.Append(frame);
            queued = group.DeliverToMembers(frame);
        }

        metrics.FramesQueuedBy(queued);
    }

    private void Dropped(string scope, int length)
    {
        metrics.PayloadDropped();
        if (_drops.Count(out var dropped))
        {
            LogPayloadDropped(logger, dropped, scope, length);
        }
    }
}
