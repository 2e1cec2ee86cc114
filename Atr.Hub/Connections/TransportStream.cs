using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;

namespace Atr.Hub.Connections;

/// <summary>
/// The stream under a WebSocket the hub upgraded at the connection (see
/// <see cref="Protocol.DirectUpgrade"/>): reads and writes go straight to the connection's transport
/// pipes. While <see cref="Holding"/> is set, written frames stay in the output pipe unflushed and
/// leave with the first frame written after it is cleared, in one flush and one socket send.
/// </summary>
/// <remarks>
/// A zero-byte read waits for data without taking any, so an idle connection holds no receive
/// buffer (the socket transport itself waits for data before it rents one). Every write and flush
/// reaches this stream one at a time, in its turn at the <see cref="KeepAliveStream"/> above it (the
/// WebSocket's frames, and the keep-alive clock's pings between them), so gathered bytes keep their
/// order and flushes of the output pipe never overlap. A batch is flushed early once it reaches <see cref="FrameBatcher.FlushThreshold"/>.
/// Disposing (the WebSocket's abort) cancels a pending read or flush, so a write stuck behind a
/// client that stopped reading ends; the connection itself is closed by whoever owns it.
/// </remarks>
internal sealed class TransportStream(IDuplexPipe transport) : AsyncOnlyStream, IFrameHolder
{
    private volatile bool _disposed;

    public bool Holding
    {
        get => Volatile.Read(ref field);
        set => Volatile.Write(ref field, value);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var input = transport.Input;
        var result = await input.ReadAsync(cancellationToken).ConfigureAwait(false);
        var data = result.Buffer;
        if (result.IsCanceled)
        {
            input.AdvanceTo(data.Start);
            throw new OperationCanceledException("The connection was aborted.");
        }

        if (data.IsEmpty || buffer.IsEmpty)
        {
            // End of stream, or a zero-byte read: data is there, and stays for the read that takes it.
            input.AdvanceTo(data.Start);
            return 0;
        }

        var count = (int)Math.Min(data.Length, buffer.Length);
        data.Slice(0, count).CopyTo(buffer.Span);
        input.AdvanceTo(data.GetPosition(count));
        return count;
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var output = transport.Output;
        output.Write(buffer.Span);
        return Holding && output.UnflushedBytes < FrameBatcher.FlushThreshold ? ValueTask.CompletedTask : FlushOutputAsync(cancellationToken);
    }

    // Writes flush as they go; the WebSocket's flush after each of them has nothing left to do.
    public override Task FlushAsync(CancellationToken cancellationToken)
        => Holding || transport.Output.UnflushedBytes == 0 ? Task.CompletedTask : FlushOutputAsync(cancellationToken).AsTask();

    protected override void Dispose(bool disposing)
    {
        if (disposing && !_disposed)
        {
            _disposed = true;
            transport.Input.CancelPendingRead();
            transport.Output.CancelPendingFlush();
        }

        base.Dispose(disposing);
    }

    private ValueTask FlushOutputAsync(CancellationToken cancellationToken)
    {
        var flush = transport.Output.FlushAsync(cancellationToken);
        if (flush.IsCompletedSuccessfully)
        {
            ThrowIfEnded(flush.Result);
            return ValueTask.CompletedTask;
        }

        return AwaitFlushAsync(flush);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private static async ValueTask AwaitFlushAsync(ValueTask<FlushResult> flush)
        => ThrowIfEnded(await flush.ConfigureAwait(false));

    private static void ThrowIfEnded(FlushResult result)
    {
        if (result.IsCanceled)
        {
            throw new OperationCanceledException("The connection was aborted.");
        }

        if (result.IsCompleted)
        {
            throw new IOException("The client closed the connection.");
        }
    }
}
