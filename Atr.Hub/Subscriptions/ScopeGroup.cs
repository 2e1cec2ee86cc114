using Atr.Hub.History;

namespace Atr.Hub.Subscriptions;

/// <summary>The local recipients of one scope, whether the node is subscribed to it, and the tail of its history.</summary>
internal sealed class ScopeGroup(string scope, int historySize = 0)
{
    private readonly Lock _lock = new();
    private readonly HashSet<IEventRecipient> _members = [];
    private IEventRecipient[]? _snapshot = [];

    public string Scope { get; } = scope;

    /// <summary>
    /// Orders what reaches the members: each event is added to <see cref="Tail"/> and delivered under
    /// it, and a recovering member joins under it with the tail as it stands, so every event is either
    /// in what the member recovers or delivered to it, never both, never neither.
    /// </summary>
    public Lock DeliveryLock { get; } = new();

    /// <summary>The last events delivered, for members that recover; null when history is off. Under <see cref="DeliveryLock"/>.</summary>
    public ScopeTail? Tail { get; } = historySize > 0 ? new ScopeTail(historySize) : null;

    /// <summary>
    /// Events from the backplane held back while the tail is filled from history: when the node
    /// subscribes (seeding) or after it lost the backplane (refilling). Null otherwise. Under <see cref="DeliveryLock"/>.
    /// </summary>
    public List<EventFrame>? Parked { get; set; }

    /// <summary>
    /// Set once the tail was filled from a history read and nothing parked was newer than the read:
    /// events the read returned may still arrive from the subscription, whose messages and the read's
    /// reply come on different connections, in no set order. Until the first event the tail lacks
    /// arrives, the backplane's events the tail holds are dropped, so none is delivered twice. Under
    /// <see cref="DeliveryLock"/>.
    /// </summary>
    public bool ReadOverlap { get; set; }

    /// <summary>Where the events missed while the backplane was away begin: the id of the last event delivered before, <see cref="GapFromStart"/>, or null when unknown. Under <see cref="DeliveryLock"/>.</summary>
    public string? GapAfter { get; set; }

    /// <summary>
    /// Whether this scope's own subscription was lost while the node's others were not (on a Redis
    /// Cluster, its shard failed or its slot moved): what arrives is parked until its gap is filled. Under <see cref="DeliveryLock"/>.
    /// </summary>
    public bool Lost { get; set; }

    /// <summary>Completed once the tail holds the scope's history from Redis; a member recovering with <c>since</c> waits for it.</summary>
    public TaskCompletionSource Seeded { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>A gap that begins before anything the history holds: the scope had nothing when the node subscribed.</summary>
    public const string GapFromStart = "";

    /// <summary>Serializes subscribe and unsubscribe of this scope, which await the backplane.</summary>
    public SemaphoreSlim Gate { get; } = new(1, 1);

    /// <summary>Whether the backplane subscription is in place. Changed only under <see cref="Gate"/>.</summary>
    public bool Subscribed { get; set; }

    /// <summary>Whether the group was emptied and removed; a new group takes its place. Changed only under <see cref="Gate"/>.</summary>
    public bool Retired { get; set; }

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _members.Count;
            }
        }
    }

    /// <summary>Under <see cref="DeliveryLock"/>: queues <paramref name="frame"/> to every member.</summary>
    /// <returns>How many members queued it.</returns>
    public int DeliverToMembers(EventFrame frame)
    {
        var queued = 0;
        foreach (var recipient in Members())
        {
            if (recipient.Deliver(frame))
            {
                queued++;
            }
        }

        return queued;
    }

    /// <summary>Adds a member that recovers: under <see cref="DeliveryLock"/>, so the tail it gets and the events delivered to it meet exactly.</summary>
    /// <returns>The tail when it joined, oldest first.</returns>
    public EventFrame[] AddRecovering(IEventRecipient recipient)
    {
        lock (DeliveryLock)
        {
            Add(recipient);
            return Tail?.Snapshot() ?? [];
        }
    }

    public void Add(IEventRecipient recipient)
    {
        lock (_lock)
        {
            if (_members.Add(recipient))
            {
                _snapshot = null;
            }
        }
    }

    public int Remove(IEventRecipient recipient)
    {
        lock (_lock)
        {
            if (_members.Remove(recipient))
            {
                _snapshot = null;
            }

            return _members.Count;
        }
    }

    /// <summary>
    /// The members as an array that is never changed afterwards. It is rebuilt only after a
    /// membership change, so a steady scope costs nothing per event beyond the loop over it.
    /// </summary>
    public IEventRecipient[] Members()
    {
        var snapshot = Volatile.Read(ref _snapshot);
        if (snapshot is not null)
        {
            return snapshot;
        }

        lock (_lock)
        {
            return _snapshot ??= [.. _members];
        }
    }
}
