using System.Buffers;
using System.Runtime.CompilerServices;

namespace Atr.Hub.Connections;

/// <summary>
/// The stream under a raw connection's <see cref="System.Net.WebSockets.WebSocket"/>: while the send
/// loop has more frames queued it sets <see cref="Holding"/>, and the frames the WebSocket writes are
/// gathered here, then go out with the last frame of the batch in one write and one flush, so a
/// burst of events costs the server one socket send instead of one per event.
/// </summary>
/// <remarks>
/// The WebSocket flushes after every frame, and Kestrel's upgraded stream flushes on every write
/// (one pass through its output pipe each, and a send unless the socket's sender is behind). Every
/// write and flush reaches this stream one at a time, in its turn at the <see cref="KeepAliveStream"/>
/// above it (the WebSocket's frames, and the keep-alive clock's pings between them), so gathered
/// bytes keep their order: a keep-alive frame written during a batch leaves with it (the
/// batch ends with the next frame, which the send loop is about to write), one written outside a
/// batch passes straight through. A batch is sent early once it reaches
/// <see cref="FlushThreshold"/>. The buffer is rented for the batch only: an idle connection holds none.
/// </remarks>
internal sealed class FrameBatcher(Stream inner) : Stream, IFrameHolder
{
    /// <summary>The most bytes gathered before they are written anyway.</summary>
    public const int FlushThreshold = 16 * 1024;

    private byte[]? _buffer;
    private int _count;

    /// <summary>Whether more frames follow the next one: the send loop sets it before each frame.</summary>
    public bool Holding
    {
        get => Volatile.Read(ref field);
        set => Volatile.Write(ref field, value);
    }

    public override bool CanRead => inner.CanRead;

    public override bool CanSeek => false;

    public override bool CanWrite => inner.CanWrite;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var holding = Holding;
        if (_count + buffer.Length <= FlushThreshold && (holding || _count > 0))
        {
            Gather(buffer.Span);
            return holding ? ValueTask.CompletedTask : WriteGatheredAsync(cancellationToken);
        }

        return _count == 0 ? inner.WriteAsync(buffer, cancellationToken) : WriteGatheredThenAsync(buffer, cancellationToken);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override Task FlushAsync(CancellationToken cancellationToken)
        => _count > 0 ? Task.CompletedTask : inner.FlushAsync(cancellationToken);

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        => inner.ReadAsync(buffer, cancellationToken);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => inner.ReadAsync(buffer, offset, count, cancellationToken);

    public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("The WebSocket writes asynchronously.");

    public override void Flush() => inner.Flush();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        // A batch cut short by an abort is dropped with the connection. Its buffer is left to the
        // collector rather than returned: a write racing the abort may still be using it.
        if (disposing)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }

    private void Gather(ReadOnlySpan<byte> bytes)
    {
        _buffer ??= ArrayPool<byte>.Shared.Rent(FlushThreshold);
        bytes.CopyTo(_buffer.AsSpan(_count));
        _count += bytes.Length;
    }

    private ValueTask WriteGatheredAsync(CancellationToken cancellationToken)
    {
        var write = inner.WriteAsync(_buffer.AsMemory(0, _count), cancellationToken);
        if (!write.IsCompletedSuccessfully)
        {
            return ReleaseAfterAsync(write);
        }

        write.GetAwaiter().GetResult();
        Release();
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
            Release();
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask WriteGatheredThenAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken)
    {
        await WriteGatheredAsync(cancellationToken).ConfigureAwait(false);
        await inner.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
    }

    private void Release()
    {
        var buffer = _buffer;
        _buffer = null;
        _count = 0;
        if (buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
