namespace Atr.Benchmarks;

/// <summary>
/// A connected client that reads everything at once: writes complete synchronously and are
/// counted, reads wait until the stream is disposed (an idle client that never speaks).
/// </summary>
internal sealed class DiscardStream(FrameSink sink) : Stream
{
    private readonly TaskCompletionSource<int> _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    /// <summary>The largest buffer a read was given: 0 when the WebSocket only waits with zero-byte reads.</summary>
    public int LargestRead { get; private set; }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        sink.Wrote();
        return ValueTask.CompletedTask;
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        sink.Wrote();
        return Task.CompletedTask;
    }

    public override void Write(byte[] buffer, int offset, int count) => sink.Wrote();

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        LargestRead = Math.Max(LargestRead, buffer.Length);
        return new(_closed.Task.WaitAsync(cancellationToken));
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        LargestRead = Math.Max(LargestRead, count);
        return _closed.Task.WaitAsync(cancellationToken);
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override void Flush()
    {
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        _closed.TrySetResult(0);
        base.Dispose(disposing);
    }
}
