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

    private long _nextDropLogTicks;
    private long _droppedSinceLog;

    /// <summary>Delivers one payload of <paramref name="scope"/>; the memory must stay unchanged afterwards.</summary>
    public void Dispatch(string scope, ReadOnlyMemory<byte> payload)
    {
        metrics.EventReceived();
        if (payload.Length > _maxEventBytes || !EventPayload.IsValid(payload.Span))
        {
            Dropped(scope, payload.Length);
            return;
        }

        var recipients = groups.RecipientsOf(scope);
        if (recipients.Length == 0)
        {
            return;
        }

        var frame = new EventFrame(payload);
        var queued = 0;
        foreach (var recipient in recipients)
        {
            if (recipient.Deliver(frame))
            {
                queued++;
            }
        }

        metrics.FramesQueuedBy(queued);
    }

    /// <summary>
    /// Tells every local connection that the node was cut off from the backplane and is back: events
    /// published meanwhile are lost, so clients should refetch what they show. One control event,
    /// <c>atr.resync</c>, goes to each scope through the ordinary path.
    /// </summary>
    public void BackplaneRestored()
    {
        var now = timeProvider.GetUtcNow().ToString(JsonEventSerializer.TimestampFormat, System.Globalization.CultureInfo.InvariantCulture);
        foreach (var group in groups.All)
        {
            var payload = System.Text.Encoding.UTF8.GetBytes(
                $$"""{"name":"{{ResyncEvent}}","occured_at":"{{now}}","reason":"backplane_interrupted","scope":"{{group.Scope}}"}""");
            var frame = new EventFrame(payload);
            foreach (var recipient in group.Members())
            {
                recipient.Deliver(frame);
            }
        }

        LogBackplaneRestored(logger, groups.Count);
    }

    /// <summary>The control event that follows an outage of the backplane: events may have been missed, refetch.</summary>
    public const string ResyncEvent = "atr.resync";

    private void Dropped(string scope, int length)
    {
        metrics.PayloadDropped();
        var dropped = Interlocked.Increment(ref _droppedSinceLog);

        // One line per interval however fast garbage arrives: a flood must not become a log flood.
        var now = timeProvider.GetTimestamp();
        var next = Volatile.Read(ref _nextDropLogTicks);
        if (now >= next && Interlocked.CompareExchange(ref _nextDropLogTicks, now + (long)(DropLogInterval.TotalSeconds * timeProvider.TimestampFrequency), next) == next)
        {
            Interlocked.Add(ref _droppedSinceLog, -dropped);
            LogPayloadDropped(logger, dropped, scope, length);
        }
    }
}
