using System.Threading.Tasks.Sources;
using Atr.Hub.Diagnostics;
using Atr.Hub.Subscriptions;

namespace Atr.Hub.Connections;

/// <summary>
/// One connection's bounded queue of frames: filled by the dispatcher without waiting, drained by
/// the connection's single send loop. When the loop is idle and nothing is queued, the dispatcher
/// is handed the frame to write itself (<see cref="Result.Write"/>), as a bare WebSocket server
/// writes in the turn that read the event: no thread hop for a client that keeps up. Frames that
/// arrive while that write is under way queue behind it for the loop. A client is a slow consumer when its queue stays over the
/// byte limit for the grace period, or grows past <see cref="HardLimitFactor"/> times it: a burst
/// of events larger than the limit passes through a client that reads, one that stopped reading is
/// closed within the grace period of the events that keep coming.
/// </summary>
/// <remarks>
/// Built for the fan-out path, where it runs once per recipient per event: enqueueing and waking
/// the send loop allocate nothing (the loop waits on this object itself, a reusable
/// <see cref="IValueTaskSource{TResult}"/>), and an idle connection holds no more than the object:
/// the frame list is made on the first frame and let go after a burst that grew it.
/// </remarks>
internal sealed class SendQueue(long maxBytes, TimeSpan grace, TimeProvider time) : IValueTaskSource<bool>
{
    /// <summary>How many times the byte limit a queue may hold, over the limit for less than the grace period.</summary>
    public const int HardLimitFactor = 4;

    /// <summary>Frames sent are counted in groups of at most this many: one shared counter per frame would be contended.</summary>
    public const int CountedTogether = 64;

    // A list that grew past this during a burst is dropped once drained rather than kept for life.
    private const int KeptCapacity = 64;

    private readonly Lock _lock = new();
    private Queue<EventFrame>? _frames;
    private List<EventFrame>? _held;
    private int _peak;
    private ManualResetValueTaskSourceCore<bool> _wake = new() { RunContinuationsAsynchronously = true };
    private bool _waiting;

    // A frame is being written by the caller of TryEnqueue (Result.Write): the send loop stays parked until EndWrite.
    private bool _writing;
    private long _pendingBytes;
    private int _completed;

    // When the queue went over maxBytes (a TimeProvider timestamp); 0 while it is under.
    private long _overSince;

    public enum Result
    {
        /// <summary>The frame will be sent.</summary>
        Queued,

        /// <summary>The queue is over its limit: the client reads too slowly.</summary>
        Overflow,

        /// <summary>The connection is closing; the frame is dropped.</summary>
        Completed,

        /// <summary>
        /// Nothing is queued and the send loop is idle: the caller writes the frame now, without
        /// waiting for the socket, and calls <see cref="EndWrite"/> once the write has completed.
        /// </summary>
        Write,
    }

    /// <summary>Bytes of frames queued and not yet handed to the socket.</summary>
    public long PendingBytes => Volatile.Read(ref _pendingBytes);

    public bool IsCompleted => Volatile.Read(ref _completed) != 0;

    /// <summary>
    /// Queues a frame, or hands it back to be written at once (<see cref="Result.Write"/>); never
    /// waits. The send loop resumes on the thread pool, never on the caller.
    /// </summary>
    public Result TryEnqueue(EventFrame frame)
    {
        if (IsCompleted)
        {
            return Result.Completed;
        }

        var length = frame.Payload.Length;
        var pending = Interlocked.Add(ref _pendingBytes, length);

        // A frame larger than the whole limit still goes to a client that has nothing queued.
        if (pending > maxBytes && pending != length && IsSlow(pending))
        {
            Interlocked.Add(ref _pendingBytes, -length);
            return Result.Overflow;
        }

        bool wake;
        lock (_lock)
        {
            if (IsCompleted)
            {
                Interlocked.Add(ref _pendingBytes, -length);
                return Result.Completed;
            }

            if (_held is { } held)
            {
                // Recovering: live frames wait behind the history the connection missed.
                held.Add(frame);
                return Result.Queued;
            }

            if (_waiting && !_writing && _frames is null or { Count: 0 })
            {
                _writing = true;
                return Result.Write;
            }

            var frames = _frames ??= new Queue<EventFrame>();
            frames.Enqueue(frame);
            _peak = Math.Max(_peak, frames.Count);
            wake = _waiting && !_writing;
            if (wake)
            {
                _waiting = false;
            }
        }

        if (wake)
        {
            _wake.SetResult(true);
        }

        return Result.Queued;
    }

    /// <summary>
    /// Holds the frames queued from now on back from the send loop, until <see cref="Resume"/>: a
    /// connection that recovers what it missed gets the history first, then what arrived meanwhile.
    /// </summary>
    public void Hold()
    {
        lock (_lock)
        {
            _held ??= [];
        }
    }

    /// <summary>Queues <paramref name="first"/>, then the frames held since <see cref="Hold"/>, in that order, and stops holding.</summary>
    public void Resume(IReadOnlyList<EventFrame> first)
    {
        bool wake;
        lock (_lock)
        {
            var held = _held;
            _held = null;
            if (IsCompleted)
            {
                return;
            }

            var frames = _frames ??= new Queue<EventFrame>();
            foreach (var frame in first)
            {
                Interlocked.Add(ref _pendingBytes, frame.Payload.Length);
                frames.Enqueue(frame);
            }

            foreach (var frame in held ?? [])
            {
                frames.Enqueue(frame);
            }

            _peak = Math.Max(_peak, frames.Count);
            wake = _waiting && !_writing && frames.Count > 0;
            if (wake)
            {
                _waiting = false;
            }
        }

        if (wake)
        {
            _wake.SetResult(true);
        }
    }

    /// <summary>
    /// Writes a frame handed out by <see cref="Result.Write"/> with <paramref name="writer"/>, on
    /// the caller's thread, and ends the write (<see cref="EndWrite"/>) once it is out: at once when
    /// the client keeps up, later on its own when it is behind. A failed write ends that connection
    /// only (<see cref="IFrameWriter.WriteFailed"/>); the caller goes on to the scope's other clients.
    /// </summary>
    public void Write(EventFrame frame, IFrameWriter writer, HubMetrics metrics)
    {
        var length = frame.Payload.Length;
        ValueTask write;
        try
        {
            write = writer.WriteAsync(frame);
        }
        catch (Exception ex)
        {
            writer.WriteFailed(ex);
            EndWrite(length);
            return;
        }

        if (!write.IsCompletedSuccessfully)
        {
            _ = EndWriteAsync(write, length, writer, metrics);
            return;
        }

        write.GetAwaiter().GetResult();
        metrics.FramesSentBy(1);
        EndWrite(length);
    }

    /// <summary>
    /// Ends a write handed out by <see cref="Result.Write"/>: its bytes are off the queue's count,
    /// and the send loop takes over the frames that queued behind it.
    /// </summary>
    /// <param name="bytes">The frame's length.</param>
    public void EndWrite(long bytes)
    {
        Sent(bytes);
        bool wake;
        bool more;
        lock (_lock)
        {
            _writing = false;
            more = !IsCompleted;
            wake = _waiting && (!more || _frames is { Count: > 0 });
            if (wake)
            {
                _waiting = false;
            }
        }

        if (wake)
        {
            // Completed during the write: the send loop closes once the write is out, never before it.
            _wake.SetResult(more);
        }
    }

    /// <summary>
    /// Stops taking frames and wakes the send loop, or leaves the wake to <see cref="EndWrite"/>
    /// while a write is under way; frames still queued are dropped.
    /// </summary>
    /// <returns><see langword="true"/> for the call that completed the queue.</returns>
    public bool Complete()
    {
        if (Interlocked.Exchange(ref _completed, 1) != 0)
        {
            return false;
        }

        bool wake;
        lock (_lock)
        {
            _frames = null;
            _held = null;
            wake = _waiting && !_writing;
            if (wake)
            {
                _waiting = false;
            }
        }

        if (wake)
        {
            _wake.SetResult(false);
        }

        return true;
    }

    /// <summary>
    /// Waits until a frame is queued (<see langword="true"/>) or the queue is completed
    /// (<see langword="false"/>). One caller at a time: the connection's send loop.
    /// </summary>
    public ValueTask<bool> WaitAsync()
    {
        lock (_lock)
        {
            if (IsCompleted)
            {
                return new ValueTask<bool>(false);
            }

            if (_frames is { Count: > 0 } && !_writing)
            {
                return new ValueTask<bool>(true);
            }

            _wake.Reset();
            _waiting = true;
            return new ValueTask<bool>(this, _wake.Version);
        }
    }

    /// <summary>Takes the next frame, if one is queued and the queue is not completed.</summary>
    public bool TryTake([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out EventFrame? frame)
    {
        lock (_lock)
        {
            if (_frames is { } frames && frames.TryDequeue(out frame))
            {
                if (frames.Count == 0 && _peak > KeptCapacity)
                {
                    _frames = null;
                    _peak = 0;
                }

                return true;
            }

            frame = null;
            return false;
        }
    }

    private async Task EndWriteAsync(ValueTask write, int length, IFrameWriter writer, HubMetrics metrics)
    {
        try
        {
            await write.ConfigureAwait(false);
            metrics.FramesSentBy(1);
        }
        catch (Exception ex)
        {
            writer.WriteFailed(ex);
        }
        finally
        {
            EndWrite(length);
        }
    }

    /// <summary>Marks <paramref name="bytes"/> of taken frames as handed to the socket.</summary>
    public void Sent(long bytes)
    {
        if (Interlocked.Add(ref _pendingBytes, -bytes) <= maxBytes && Volatile.Read(ref _overSince) != 0)
        {
            // Back under the limit: the client kept up, and a later burst gets its own grace.
            Volatile.Write(ref _overSince, 0);
        }
    }

    /// <summary>Whether a queue over the limit, holding <paramref name="pending"/> bytes, belongs to a client that does not keep up.</summary>
    private bool IsSlow(long pending)
    {
        if (pending > maxBytes * HardLimitFactor)
        {
            return true;
        }

        var now = time.GetTimestamp();
        var since = Volatile.Read(ref _overSince);
        if (since == 0)
        {
            Interlocked.CompareExchange(ref _overSince, now, 0);
            return false;
        }

        return time.GetElapsedTime(since, now) > grace;
    }

    bool IValueTaskSource<bool>.GetResult(short token) => _wake.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<bool>.GetStatus(short token) => _wake.GetStatus(token);

    void IValueTaskSource<bool>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
        => _wake.OnCompleted(continuation, state, token, flags);
}
