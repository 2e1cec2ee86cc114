using Atr.Hub.Subscriptions;

namespace Atr.Hub.History;

/// <summary>
/// The last events of one scope this node delivered, kept in memory so that a client coming back
/// with <c>since</c> is served without reading Redis: a node reads a scope's history once, when it
/// subscribes to it, and keeps its tail from the events that arrive. Guarded by its group's lock.
/// </summary>
internal sealed class ScopeTail(int capacity)
{
    private readonly EventFrame?[] _frames = new EventFrame?[Math.Max(1, capacity)];
    private int _start;
    private int _count;

    public int Count => _count;

    public void Append(EventFrame frame)
    {
        _frames[(_start + _count) % _frames.Length] = frame;
        if (_count < _frames.Length)
        {
            _count++;
        }
        else
        {
            _start = (_start + 1) % _frames.Length;
        }
    }

    /// <summary>The frames, oldest first.</summary>
    public EventFrame[] Snapshot()
    {
        var frames = new EventFrame[_count];
        for (var i = 0; i < _count; i++)
        {
            frames[i] = _frames[(_start + i) % _frames.Length]!;
        }

        return frames;
    }

    /// <summary>Whether a frame with <paramref name="id"/> is in the tail.</summary>
    public bool Contains(string id)
    {
        for (var i = 0; i < _count; i++)
        {
            if (_frames[(_start + i) % _frames.Length]!.Id == id)
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
            if (_frames[(_start + i) % _frames.Length]!.Id is { } id)
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
}
