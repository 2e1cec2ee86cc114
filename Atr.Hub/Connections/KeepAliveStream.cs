using System.Net.WebSockets;
using System.Runtime.CompilerServices;

namespace Atr.Hub.Connections;

/// <summary>
/// The stream right under a raw connection's WebSocket, through which the hub's one keep-alive
/// clock (<see cref="KeepAliveSweeper"/>) pings the client and sees it answer: every read that
/// brings bytes counts as a sign of life, a pong or anything else, and a ping is a frame written
/// here between two of the WebSocket's own.
/// </summary>
/// <remarks>
/// The WebSocket writes each frame in one write and then flushes, under its own send lock; each of
/// those takes a turn here, and so does a ping, so frames never interleave and flushes never overlap, and it is skipped while a frame is being written (the
/// clock tries again at its next tick; the answer is awaited from the first try either way, so a
/// client stuck behind a write that never ends is still dropped). Once the WebSocket has written
/// its close frame, no ping follows it. A zero-byte read, the way an idle connection waits for
/// data, passes through untouched: an idle connection keeps no suspended method here.
/// </remarks>
internal sealed class KeepAliveStream(Stream inner, KeepAliveSweeper sweeper) : AsyncOnlyStream
{
    // FIN and opcode 0x9, no payload; a server's frames are not masked (RFC 6455 §5.5.2).
    private static readonly byte[] PingFrame = [0x89, 0x00];

    private const int CloseOpcode = 0x8;

    private readonly SemaphoreSlim _turn = new(1, 1);
    private WebSocket? _socket;
    private int _received;
    private volatile bool _closing;
    private volatile bool _disposed;

    // Set by Watch, then read and written only by the sweeper's sweeps (one at a time), in its timestamps.
    private long _interval;
    private long _nextPing;
    private long _deadline;
    private int _receivedAtPing;
    private bool _pinged;

    /// <summary>Starts pinging the client of <paramref name="socket"/>, the WebSocket over this stream, at its own interval.</summary>
    public void Watch(WebSocket socket)
    {
        _socket = socket;
        _interval = sweeper.NextInterval();
        _nextPing = sweeper.Now + _interval;
        sweeper.Watch(this);
    }

    /// <summary>
    /// The sweeper's look at this connection, at <paramref name="now"/>: a ping when its interval is
    /// up, and an abort when a ping went unanswered for <paramref name="timeout"/>.
    /// </summary>
    /// <returns>False once the connection is aborted: the sweeper forgets it.</returns>
    internal bool Visit(long now, long timeout)
    {
        if (_deadline != 0)
        {
            if (Volatile.Read(ref _received) != _receivedAtPing)
            {
                _deadline = 0;
            }
            else if (now >= _deadline)
            {
                Abort();
                return false;
            }
            else
            {
                _pinged = _pinged || TryPing();
                return true;
            }
        }

        if (now >= _nextPing)
        {
            _nextPing = now + _interval;
            _receivedAtPing = Volatile.Read(ref _received);
            _deadline = now + timeout;
            _pinged = TryPing();
        }

        return true;
    }

    /// <summary>Ends the connection: its WebSocket is aborted, which ends whatever is pending on it.</summary>
    internal void Abort() => _socket?.Abort();

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var read = inner.ReadAsync(buffer, cancellationToken);
        if (buffer.IsEmpty)
        {
            return read;
        }

        if (read.IsCompletedSuccessfully)
        {
            // Its result is taken once: a pooled source may be reused the moment it is.
            return new ValueTask<int>(Counted(read.Result));
        }

        return CountedAsync(read);
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        => _turn.Wait(0, CancellationToken.None) ? InTurn(buffer, flush: false, cancellationToken) : AfterTurnAsync(buffer, flush: false, cancellationToken);

    // The WebSocket flushes after each frame it writes: that takes the turn too, or a ping between
    // its write and its flush would flush the transport's pipe beside it.
    public override Task FlushAsync(CancellationToken cancellationToken) => FlushInTurnAsync(cancellationToken).AsTask();

    protected override void Dispose(bool disposing)
    {
        if (disposing && !_disposed)
        {
            _disposed = true;
            sweeper.Forget(this);
            inner.Dispose();
        }

        base.Dispose(disposing);
    }

    private bool TryPing()
    {
        if (_closing || _disposed || !_turn.Wait(0))
        {
            return false;
        }

        // The close frame may have been written between the look above and the turn.
        if (_closing)
        {
            _turn.Release();
            return false;
        }

        ValueTask write;
        try
        {
            write = InTurn(PingFrame, flush: false, CancellationToken.None);
        }
        catch (Exception ex) when (ClientGone.Is(ex))
        {
            // Gone: its receive loop ends it.
            return false;
        }

        if (!write.IsCompletedSuccessfully)
        {
            _ = ObservedAsync(write);
        }

        return true;
    }

    private ValueTask FlushInTurnAsync(CancellationToken cancellationToken)
        => _turn.Wait(0, CancellationToken.None) ? InTurn(default, flush: true, cancellationToken) : AfterTurnAsync(default, flush: true, cancellationToken);

    /// <summary>
    /// A write (or, with <paramref name="flush"/>, a flush) in the turn the caller holds, which it
    /// gives back once done, whether it succeeded or not. A close frame ends the pings.
    /// </summary>
    private ValueTask InTurn(ReadOnlyMemory<byte> frame, bool flush, CancellationToken cancellationToken)
    {
        if (!frame.IsEmpty && (frame.Span[0] & 0x0F) == CloseOpcode)
        {
            _closing = true;
        }

        ValueTask done;
        try
        {
            done = flush ? new ValueTask(inner.FlushAsync(cancellationToken)) : inner.WriteAsync(frame, cancellationToken);
        }
        catch
        {
            _turn.Release();
            throw;
        }

        if (!done.IsCompletedSuccessfully)
        {
            return ReleaseAfterAsync(done);
        }

        try
        {
            done.GetAwaiter().GetResult();
        }
        finally
        {
            _turn.Release();
        }

        return ValueTask.CompletedTask;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask ReleaseAfterAsync(ValueTask done)
    {
        try
        {
            await done.ConfigureAwait(false);
        }
        finally
        {
            _turn.Release();
        }
    }

    // Behind a ping whose write is still under way: the client is behind, and so is this.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask AfterTurnAsync(ReadOnlyMemory<byte> frame, bool flush, CancellationToken cancellationToken)
    {
        await _turn.WaitAsync(cancellationToken).ConfigureAwait(false);
        await InTurn(frame, flush, cancellationToken).ConfigureAwait(false);
    }

    private static async Task ObservedAsync(ValueTask ping)
    {
        try
        {
            await ping.ConfigureAwait(false);
        }
        catch (Exception ex) when (ClientGone.Is(ex))
        {
            // Gone: its receive loop ends it.
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<int> CountedAsync(ValueTask<int> read) => Counted(await read.ConfigureAwait(false));

    private int Counted(int count)
    {
        if (count > 0)
        {
            Interlocked.Increment(ref _received);
        }

        return count;
    }
}
