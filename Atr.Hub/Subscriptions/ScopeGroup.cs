namespace Atr.Hub.Subscriptions;

/// <summary>The local recipients of one scope, and whether the node is subscribed to it.</summary>
internal sealed class ScopeGroup(string scope)
{
    private readonly Lock _lock = new();
    private readonly HashSet<IEventRecipient> _members = [];
    private IEventRecipient[]? _snapshot = [];

    public string Scope { get; } = scope;

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
