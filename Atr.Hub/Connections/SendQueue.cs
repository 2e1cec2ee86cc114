using System.Threading.Channels;
using Atr.Hub.Subscriptions;

namespace Atr.Hub.Connections;

/// <summary>
/// One connection's bounded queue of frames: filled by the dispatcher without waiting, drained by
/// the connection's single send loop. Past the byte limit the client is a slow consumer.
/// </summary>
internal sealed class SendQueue(long maxBytes)
{
    private readonly Channel<EventFrame> _frames = Channel.CreateUnbounded<EventFrame>(
        new UnboundedChannelOptions { SingleReader = true, SingleWriter = false, AllowSynchronousContinuations = false });

    private long _pendingBytes;
    private int _completed;

    public enum Result
    {
        /// <summary>The frame will be sent.</summary>
        Queued,

        /// <summary>The queue is over its limit: the client reads too slowly.</summary>
        Overflow,

        /// <summary>The connection is closing; the frame is dropped.</summary>
        Completed,
    }

    /// <summary>Bytes of frames queued and not yet sent.</summary>
    public long PendingBytes => Volatile.Read(ref _pendingBytes);

    public bool IsCompleted => Volatile.Read(ref _completed) != 0;

    /// <summary>Queues a frame; never waits.</summary>
    public Result TryEnqueue(EventFrame frame)
    {
        if (IsCompleted)
        {
            return Result.Completed;
        }

        var length = frame.Payload.Length;
        var pending = Interlocked.Add(ref _pendingBytes, length);

        // A frame larger than the whole limit still goes to a client that has nothing queued.
        if (pending > maxBytes && pending != length)
        {
            Interlocked.Add(ref _pendingBytes, -length);
            return Result.Overflow;
        }

        if (!_frames.Writer.TryWrite(frame))
        {
            Interlocked.Add(ref _pendingBytes, -length);
            return Result.Completed;
        }

        return Result.Queued;
    }

    /// <summary>Stops taking frames; the reader sees the end once it stops reading (queued frames are dropped by it).</summary>
    /// <returns><see langword="true"/> for the call that completed the queue.</returns>
    public bool Complete()
    {
        if (Interlocked.Exchange(ref _completed, 1) != 0)
        {
            return false;
        }

        _frames.Writer.TryComplete();
        return true;
    }

    /// <summary>The next frame to send, or null once the queue is completed; queued frames are dropped after completion.</summary>
    public async ValueTask<EventFrame?> NextAsync()
    {
        var reader = _frames.Reader;
        while (!IsCompleted)
        {
            if (reader.TryRead(out var frame))
            {
                return frame;
            }

            if (!await reader.WaitToReadAsync().ConfigureAwait(false))
            {
                break;
            }
        }

        return null;
    }

    /// <summary>Marks a frame from <see cref="NextAsync"/> as written.</summary>
    public void Sent(EventFrame frame) => Interlocked.Add(ref _pendingBytes, -frame.Payload.Length);
}
