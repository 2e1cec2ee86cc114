using System.Buffers;
using System.Net.Sockets;
using System.Runtime.CompilerServices;

namespace Atr.Bench.Clients;

/// <summary>
/// The client's byte stream over its socket. Reads wait with a zero-byte receive, so the stream holds no buffer while
/// the connection is idle (the <see cref="BenchClient"/> above keeps its own message buffer); once data is there, one
/// receive pulls up to 4 KiB into a pooled buffer that serves the WebSocket's small reads (frame header, payload) until
/// it is drained. Under load a single system call then brings many frames instead of two calls per frame.
/// </summary>
internal sealed class PooledReadStream(Socket socket) : Stream
{
    private const int ChunkSize = 4096;

    private byte[]? _chunk;
    private int _start;
    private int _end;

    public override bool CanRead => true;

    public override bool CanWrite => true;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    // A read that waits for data suspends; the pooling builder reuses its state machine box instead of allocating
    // one per wait.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.IsEmpty)
        {
            return 0;
        }

        if (_chunk is null)
        {
            await socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            var chunk = ArrayPool<byte>.Shared.Rent(ChunkSize);
            int received;
            try
            {
                received = await socket.ReceiveAsync(chunk, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                ArrayPool<byte>.Shared.Return(chunk);
                throw;
            }

            if (received == 0)
            {
                ArrayPool<byte>.Shared.Return(chunk);
                return 0;
            }

            (_chunk, _start, _end) = (chunk, 0, received);
        }

        var count = Math.Min(buffer.Length, _end - _start);
        _chunk.AsSpan(_start, count).CopyTo(buffer.Span);
        _start += count;
        if (_start == _end)
        {
            ArrayPool<byte>.Shared.Return(_chunk);
            _chunk = null;
        }

        return count;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (!buffer.IsEmpty)
        {
            var sent = await socket.SendAsync(buffer, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            buffer = buffer[sent..];
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            socket.Dispose();
        }

        base.Dispose(disposing);
    }
}
