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
internal sealed class KeepAliveStream(Stream inner, KeepAliveSweeper sweeper) : Stream
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

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

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

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        => _turn.Wait(0, CancellationToken.None) ? WriteInTurn(buffer, cancellationToken) : WriteAfterPingAsync(buffer, cancellationToken);

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    // The WebSocket flushes after each frame it writes: that takes the turn too, or a ping between
    // its write and its flush would flush the transport's pipe beside it.
    public override Task FlushAsync(CancellationToken cancellationToken)
        => _turn.Wait(0, CancellationToken.None) ? FlushInTurn(cancellationToken) : FlushAfterPingAsync(cancellationToken);

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("The WebSocket reads asynchronously.");

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("The WebSocket writes asynchronously.");

    public override void Flush() => throw new NotSupportedException("The WebSocket flushes asynchronously.");

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

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
            write = inner.WriteAsync(PingFrame);
        }
        catch (Exception ex)
        {
            _turn.Release();
            if (ClientGone.Is(ex))
            {
                // Gone: its receive loop ends it.
                return false;
            }

            throw;
        }

        if (!write.IsCompletedSuccessfully)
        {
            _ = ReleaseAfterPingAsync(write);
            return true;
        }

        try
        {
            write.GetAwaiter().GetResult();
        }
        finally
        {
            _turn.Release();
        }

        return true;
    }

    private async Task ReleaseAfterPingAsync(ValueTask write)
    {
        try
        {
            await write.ConfigureAwait(false);
        }
        catch (Exception ex) when (ClientGone.Is(ex))
        {
            // Gone: its receive loop ends it.
        }
        finally
        {
            _turn.Release();
        }
    }

    private ValueTask WriteInTurn(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken)
    {
        if (!buffer.IsEmpty && (buffer.Span[0] & 0x0F) == CloseOpcode)
        {
            _closing = true;
        }

        ValueTask write;
        try
        {
            write = inner.WriteAsync(buffer, cancellationToken);
        }
        catch
        {
            _turn.Release();
            throw;
        }

        if (!write.IsCompletedSuccessfully)
        {
            return ReleaseAfterAsync(write);
        }

        try
        {
            write.GetAwaiter().GetResult();
        }
        finally
        {
            _turn.Release();
        }

        return ValueTask.CompletedTask;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask ReleaseAfterAsync(ValueTask write)
    {
        try
        {
            await write.ConfigureAwait(false);
        }
        finally
        {
            _turn.Release();
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask WriteAfterPingAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken)
    {
        await _turn.WaitAsync(cancellationToken).ConfigureAwait(false);
        await WriteInTurn(buffer, cancellationToken).ConfigureAwait(false);
    }

    private Task FlushInTurn(CancellationToken cancellationToken)
    {
        Task flush;
        try
        {
            flush = inner.FlushAsync(cancellationToken);
        }
        catch
        {
            _turn.Release();
            throw;
        }

        if (!flush.IsCompleted)
        {
            return ReleaseAfterFlushAsync(flush);
        }

        _turn.Release();
        return flush;
    }

    private async Task ReleaseAfterFlushAsync(Task flush)
    {
        try
        {
            await flush.ConfigureAwait(false);
        }
        finally
        {
            _turn.Release();
        }
    }

    private async Task FlushAfterPingAsync(CancellationToken cancellationToken)
    {
        await _turn.WaitAsync(cancellationToken).ConfigureAwait(false);
        await FlushInTurn(cancellationToken).ConfigureAwait(false);
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
