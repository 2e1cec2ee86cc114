using System.Text.Json;
using System.Threading.Channels;

namespace Atr.Hub.Tests.Infrastructure;

/// <summary>
/// Reads one client's events as they arrive, on its own, and keeps what the reliability tests check:
/// the <c>seq</c> of every event in arrival order (at the event's top level, or its record's), where
/// each <c>atr.resync</c> fell among them, and
/// anything else that arrived.
/// </summary>
internal sealed class EventRecorder
{
    private readonly Lock _lock = new();
    private readonly List<long> _sequence = [];
    private readonly List<int> _resyncs = [];
    private readonly List<string> _unexpected = [];
    private int _count;

    /// <param name="name">The client, for messages.</param>
    /// <param name="scope">The client's scope: a resync must name it.</param>
    /// <param name="frames">The client's frames (<see cref="WsClient.Frames"/>, <c>SignalRClient.Events</c>).</param>
    public EventRecorder(string name, string scope, ChannelReader<string> frames)
    {
        Name = name;
        Scope = scope;

        // Reads until the client's frames end, when its connection closes.
        _ = ReadAsync(frames);
    }

    public string Name { get; }

    public string Scope { get; }

    /// <summary>Events received so far (resyncs not counted).</summary>
    public int Count => Volatile.Read(ref _count);

    public int ResyncCount
    {
        get
        {
            lock (_lock)
            {
                return _resyncs.Count;
            }
        }
    }

    /// <summary>The <c>seq</c> of every event, in arrival order.</summary>
    public long[] Sequence
    {
        get
        {
            lock (_lock)
            {
                return [.. _sequence];
            }
        }
    }

    /// <summary>For each <c>atr.resync</c>, how many events had arrived before it.</summary>
    public int[] ResyncPositions
    {
        get
        {
            lock (_lock)
            {
                return [.. _resyncs];
            }
        }
    }

    /// <summary>Frames that were neither an event with a <c>seq</c> nor a resync of this scope.</summary>
    public string[] Unexpected
    {
        get
        {
            lock (_lock)
            {
                return [.. _unexpected];
            }
        }
    }

    private async Task ReadAsync(ChannelReader<string> frames)
    {
        await foreach (var frame in frames.ReadAllAsync())
        {
            Record(frame);
        }
    }

    private void Record(string frame)
    {
        long? seq = null;
        var resync = false;
        try
        {
            var root = JsonDocument.Parse(frame).RootElement;
            if ((root.TryGetProperty("seq", out var value) || (root.TryGetProperty("record", out var record) && record.ValueKind == JsonValueKind.Object && record.TryGetProperty("seq", out value)))
                && value.TryGetInt64(out var number))
            {
                seq = number;
            }
            else if (root.GetProperty("name").GetString() == "atr.resync")
            {
                resync = root.GetProperty("reason").GetString() == "backplane_interrupted" && root.GetProperty("scope").GetString() == Scope;
            }
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
        {
        }

        lock (_lock)
        {
            if (seq is { } number)
            {
                _sequence.Add(number);
                Volatile.Write(ref _count, _sequence.Count);
            }
            else if (resync)
            {
                _resyncs.Add(_sequence.Count);
            }
            else
            {
                _unexpected.Add(frame.Length > 200 ? frame[..200] + "…" : frame);
            }
        }
    }
}
