namespace Atr.Bench.Measurement;

/// <summary>
/// One scope: what was published to it, how many clients listen, and for each recent event how many of them
/// it reached and when the last one got it (the "all clients of a scope reached" latency).
/// </summary>
internal sealed class ScopeTracker
{
    // Room for the events of a scope still on their way: 1,024 events at 32 events/s per scope is half a minute.
    private const int Slots = 1024;

    private readonly long[] _slotSeq = new long[Slots];
    private readonly int[] _slotCount = new int[Slots];
    private readonly long[] _slotLast = new long[Slots];
    private long _published;

    public ScopeTracker(int index)
    {
        Name = $"organization.{index + 1}";
        Path = $"organization/{index + 1}";
    }

    /// <summary>The scope key, e.g. <c>organization.1</c>.</summary>
    public string Name { get; }

    /// <summary>The scope as a raw WebSocket path, e.g. <c>organization/1</c>.</summary>
    public string Path { get; }

    /// <summary>The clients connected to this scope (the recipients of each event).</summary>
    public int Recipients { get; set; }

    /// <summary>The last sequence number published to this scope (events are numbered from 1).</summary>
    public long Published => Volatile.Read(ref _published);

    /// <summary>The next sequence number, for the publisher.</summary>
    public long NextSeq() => Interlocked.Increment(ref _published);

    /// <summary>Notes that one client received <paramref name="seq"/>; returns the time its last recipient got it once all have.</summary>
    public long? Reached(long seq, long receivedTimestamp)
    {
        var slot = (int)(seq & (Slots - 1));
        lock (_slotSeq)
        {
            if (_slotSeq[slot] != seq)
            {
                _slotSeq[slot] = seq;
                _slotCount[slot] = 0;
                _slotLast[slot] = 0;
            }

            _slotLast[slot] = Math.Max(_slotLast[slot], receivedTimestamp);
            return ++_slotCount[slot] == Recipients ? _slotLast[slot] : null;
        }
    }
}
