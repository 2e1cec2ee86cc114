using Atr.Hub.Subscriptions;

namespace Atr.Hub.History;

/// <summary>
/// The last events of one scope this node delivered, kept in memory so that a client coming back
/// with <c>since</c> is served without reading Redis: a node reads a scope's history once, when it
/// subscribes to it, and keeps its tail from the events that arrive. Guarded by its group's lock.
/// </summary>
/// <remarks>
/// The tail keeps the events' bytes, not their frames. A frame kept for the tail's whole span (the
/// last 100 events of a scope may span minutes) would be copied by every young-generation collection
/// it lives through, with its payload array and id. With many scopes and many events a second, those
/// survivors made each collection several times longer (docs/benchmarks.md, "The small-scope tail").
/// Here an event costs a copy of its bytes into the scope's ring, and no object outlives its
/// delivery. Frames are made again only when a client recovers (<see cref="Snapshot"/>), once per
/// change of the tail. An event's id is read from its bytes when asked for, unless its frame knew it
/// already.
/// </remarks>
internal sealed class ScopeTail(int capacity)
{
    private const int MinBytes = 4096;

    // Where each kept event is in _bytes, oldest at _start; the events lie in _bytes in that order, wrapping at its end.
    private readonly Entry[] _entries = new Entry[Math.Max(1, capacity)];
    private byte[] _bytes = [];
    private int _start;
    private int _count;
    private EventFrame[]? _frames = [];

    public int Count => _count;

    public void Append(EventFrame frame)
    {
        if (_count == _entries.Length)
        {
            _entries[_start] = default;
            _start = (_start + 1) % _entries.Length;
            _count--;
        }

        var payload = frame.Payload.Span;
        var offset = Place(payload.Length);
        payload.CopyTo(_bytes.AsSpan(offset));
        _entries[(_start + _count) % _entries.Length] = frame.TryGetKnownId(out var id)
            ? new Entry(offset, payload.Length, id, IdKnown: true)
            : new Entry(offset, payload.Length, null, IdKnown: false);
        _count++;
        _frames = null;
    }

    /// <summary>The frames, oldest first; the same array until the tail changes, which its callers only read.</summary>
    public EventFrame[] Snapshot()
    {
        if (_frames is { } frames)
        {
            return frames;
        }

        // One array holds the bytes of every frame of the snapshot.
        var length = 0;
        for (var i = 0; i < _count; i++)
        {
            length += At(i).Length;
        }

        var bytes = new byte[length];
        frames = new EventFrame[_count];
        var offset = 0;
        for (var i = 0; i < _count; i++)
        {
            var entry = At(i);
            _bytes.AsSpan(entry.Offset, entry.Length).CopyTo(bytes.AsSpan(offset));
            var payload = bytes.AsMemory(offset, entry.Length);
            frames[i] = entry.IdKnown ? new EventFrame(payload, entry.Id) : new EventFrame(payload);
            offset += entry.Length;
        }

        return _frames = frames;
    }

    /// <summary>Whether a frame with <paramref name="id"/> is in the tail.</summary>
    public bool Contains(string id)
    {
        for (var i = 0; i < _count; i++)
        {
            if (IdOf(At(i)) == id)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The id of the newest frame that has one, or null.</summary>
    public string? LastId()
    {
        for (var i = _count - 1; i >= 0; i--)
        {
            if (IdOf(At(i)) is { } id)
            {
                return id;
            }
        }

        return null;
    }

    /// <summary>The frames after the one with <paramref name="since"/>, oldest first; null when the tail does not hold it.</summary>
    public static EventFrame[]? After(EventFrame[] frames, string since)
    {
        for (var i = frames.Length - 1; i >= 0; i--)
        {
            if (frames[i].Id == since)
            {
                return frames[(i + 1)..];
            }
        }

        return null;
    }

    private Entry At(int index) => _entries[(_start + index) % _entries.Length];

    private string? IdOf(Entry entry) => entry.IdKnown ? entry.Id : EventFrame.ReadId(_bytes.AsSpan(entry.Offset, entry.Length));

    /// <summary>Where the next event's <paramref name="length"/> bytes go: after the newest, at the start of the ring, or in a larger ring.</summary>
    private int Place(int length)
    {
        if (_count == 0)
        {
            if (_bytes.Length < length)
            {
                _bytes = new byte[Math.Max(MinBytes, 2 * length)];
            }

            return 0;
        }

        var oldest = At(0).Offset;
        var newest = At(_count - 1);
        var end = newest.Offset + newest.Length;
        if (newest.Offset >= oldest)
        {
            // In use: [oldest, end). Room after it, or before it at the start.
            if (_bytes.Length - end >= length)
            {
                return end;
            }

            if (oldest >= length)
            {
                return 0;
            }
        }
        else if (oldest - end >= length)
        {
            // Wrapped, in use: [oldest, length of the ring) and [0, end). Room between the two.
            return end;
        }

        return Grow(length);
    }

    /// <summary>Moves the kept events, in order, to the start of a ring with room for <paramref name="length"/> more bytes.</summary>
    private int Grow(int length)
    {
        var used = 0;
        for (var i = 0; i < _count; i++)
        {
            used += At(i).Length;
        }

        var bytes = new byte[Math.Max(MinBytes, 2 * (used + length))];
        var offset = 0;
        for (var i = 0; i < _count; i++)
        {
            ref var entry = ref _entries[(_start + i) % _entries.Length];
            _bytes.AsSpan(entry.Offset, entry.Length).CopyTo(bytes.AsSpan(offset));
            entry = entry with { Offset = offset };
            offset += entry.Length;
        }

        _bytes = bytes;
        return offset;
    }

    private readonly record struct Entry(int Offset, int Length, string? Id, bool IdKnown);
}
