namespace Atr.Hub.Connections;

/// <summary>
/// One clock for a set of the node's connections: it ticks while it has any, stops when the last
/// leaves, and each tick gets all of them at once, in a snapshot made again only after the set changed;
/// a tick that outlasts the period is not joined by the next.
/// </summary>
/// <remarks>
/// A timer per connection wakes the thread pool once per connection and firing; one clock visits
/// them all in a single pass (docs/benchmarks.md, "Keep-alive on one clock"). The clock belongs to no
/// connection, so it does not carry the context of the one that started it (its activity, its log
/// scope) into every tick.
/// </remarks>
internal sealed class NodeClock<T> : IDisposable
    where T : class
{
    private readonly Lock _lock = new();
    private readonly HashSet<T> _members = [];
    private readonly TimeProvider _time;
    private readonly TimeSpan _period;
    private readonly Action<T[]> _tick;
    private T[]? _snapshot = [];
    private ITimer? _timer;
    private int _ticking;
    private bool _disposed;

    public NodeClock(TimeProvider time, TimeSpan period, Action<T[]> tick)
    {
        _time = time;
        _period = period;
        _tick = tick;
    }

    /// <summary>How many members the clock has.</summary>
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

    /// <summary>Adds a member, starting the clock if it was the first; nothing once the clock is disposed.</summary>
    public void Add(T member)
    {
        lock (_lock)
        {
            if (_disposed || !_members.Add(member))
            {
                return;
            }

            _snapshot = null;
            _timer ??= Start();
        }
    }

    /// <summary>Removes a member; the clock stops with the last.</summary>
    public void Remove(T member)
    {
        lock (_lock)
        {
            if (_members.Remove(member))
            {
                _snapshot = null;
                if (_members.Count == 0)
                {
                    _timer?.Dispose();
                    _timer = null;
                }
            }
        }
    }

    /// <summary>Every member now.</summary>
    public T[] Snapshot()
    {
        lock (_lock)
        {
            return _snapshot ??= [.. _members];
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
            _timer?.Dispose();
            _timer = null;
            _members.Clear();
            _snapshot = [];
        }
    }

    private ITimer Start()
    {
        var restore = !ExecutionContext.IsFlowSuppressed();
        if (restore)
        {
            ExecutionContext.SuppressFlow();
        }

        try
        {
            return _time.CreateTimer(static s => ((NodeClock<T>)s!).Tick(), this, _period, _period);
        }
        finally
        {
            if (restore)
            {
                ExecutionContext.RestoreFlow();
            }
        }
    }

    private void Tick()
    {
        // A tick that outlasts the period is not joined by the next one.
        if (Interlocked.Exchange(ref _ticking, 1) != 0)
        {
            return;
        }

        try
        {
            _tick(Snapshot());
        }
        finally
        {
            Volatile.Write(ref _ticking, 0);
        }
    }
}
