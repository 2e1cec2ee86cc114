using System.Net.WebSockets;
using Atr.Hub.Connections;
using Atr.Hub.Tests.Infrastructure;
using Atr.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Atr.Hub.Tests;

/// <summary>
/// The hub's one keep-alive clock (<see cref="KeepAliveSweeper"/>) and the stream it pings through
/// (<see cref="KeepAliveStream"/>), on a fake clock: a ping per connection per interval, an answer
/// in any bytes the client sends, an abort for a ping left unanswered, and pings that never split
/// or follow the WebSocket's own frames.
/// </summary>
public sealed class KeepAliveTests : IDisposable
{
    private static readonly byte[] Ping = [0x89, 0x00];
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(4);
    private static readonly TimeSpan PeerTimeout = TimeSpan.FromSeconds(8);

    private readonly FakeTimeProvider _clock = new();
    private readonly KeepAliveSweeper _sweeper;

    public KeepAliveTests()
    {
        _sweeper = new KeepAliveSweeper(Options.Create(new AtrHubOptions { KeepAliveInterval = Interval, PeerTimeout = PeerTimeout }), _clock, NullLogger<KeepAliveSweeper>.Instance);
    }

    public void Dispose() => _sweeper.Dispose();

    [Fact]
    public void TicksAtAQuarterOfTheShorterOfIntervalAndTimeoutAtMostEvery250Milliseconds()
    {
        Assert.Equal(KeepAliveSweeper.MaxTick, _sweeper.Tick);
        Assert.Equal(TimeSpan.FromSeconds(4), _sweeper.Timeout);

        using var fast = new KeepAliveSweeper(
            Options.Create(new AtrHubOptions { KeepAliveInterval = TimeSpan.FromMilliseconds(300), PeerTimeout = TimeSpan.FromMilliseconds(500) }), _clock, NullLogger<KeepAliveSweeper>.Instance);
        Assert.Equal(TimeSpan.FromMilliseconds(50), fast.Tick);
    }

    [Fact]
    public void PingsOncePerIntervalAndDropsAClientThatLeavesAPingUnanswered()
    {
        var (client, stream, socket) = Open();

        // Its own interval is between three quarters of the interval and all of it.
        var start = _clock.GetTimestamp();
        while (client.Written.Count == 0)
        {
            Advance(_sweeper.Tick);
        }

        Assert.InRange(_clock.GetElapsedTime(start), Interval * 0.75, Interval + _sweeper.Tick);
        Assert.Equal([Ping], client.Written);

        // Unanswered: dropped once the rest of the peer timeout is over, not before.
        Advance(_sweeper.Timeout - _sweeper.Tick);
        Assert.Equal(WebSocketState.Open, socket.State);
        Advance(2 * _sweeper.Tick);
        Assert.Equal(WebSocketState.Aborted, socket.State);
        Assert.Single(client.Written);
        Assert.Equal(0, _sweeper.Count);
        Assert.True(client.Disposed);
        GC.KeepAlive(stream);
    }

    [Fact]
    public async Task AnyBytesFromTheClientAnswerAPing()
    {
        var (client, stream, socket) = Open();
        Advance(Interval + _sweeper.Tick);
        Assert.Single(client.Written);

        // A pong (or any frame) arrives: read by the WebSocket, through the stream.
        client.Feed([0x8A, 0x80, 1, 2, 3, 4]);
        Assert.Equal(6, await stream.ReadAsync(new byte[16]).AsTask().DefaultTimeout());

        // Two peer timeouts go by: answered each time, pinged each interval, never dropped.
        var pings = 1;
        for (var elapsed = TimeSpan.Zero; elapsed < 2 * PeerTimeout; elapsed += _sweeper.Tick)
        {
            Advance(_sweeper.Tick);
            if (client.Written.Count > pings)
            {
                pings = client.Written.Count;
                client.Feed([0x8A, 0x80, 1, 2, 3, 4]);
                await stream.ReadAsync(new byte[16]).AsTask().DefaultTimeout();
            }
        }

        Assert.Equal(WebSocketState.Open, socket.State);
        Assert.InRange(pings, 4, 7);
        Assert.Equal(1, _sweeper.Count);
    }

    [Fact]
    public async Task APingWaitsForTheFrameBeingWrittenAndNeverFollowsTheCloseFrame()
    {
        var (client, stream, socket) = Open();
        client.Stall();
        var sending = socket.SendAsync("{\"name\":\"a.b\"}"u8.ToArray(), WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);

        // The ping is due while the event is being written: it waits for its turn, whole frames only.
        Advance(Interval + _sweeper.Tick);
        Assert.Single(client.Written);
        client.Resume();
        await sending.DefaultTimeout();
        Advance(_sweeper.Tick);
        Assert.Equal(2, client.Written.Count);
        Assert.Equal(0x81, client.Written[0][0]);
        Assert.Equal(Ping, client.Written[1]);

        // Answered, then closed by the hub: nothing follows the close frame, though a ping falls due.
        client.Feed([0x8A, 0x80, 1, 2, 3, 4]);
        Assert.Equal(6, await stream.ReadAsync(new byte[16]).AsTask().DefaultTimeout());
        Advance(_sweeper.Tick);
        await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None).DefaultTimeout();
        Assert.Equal(0x88, client.Written[^1][0]);
        var written = client.Written.Count;
        Advance(Interval + _sweeper.Tick);
        Assert.Equal(written, client.Written.Count);
        Assert.Equal(WebSocketState.CloseSent, socket.State);
    }

    [Fact]
    public async Task APingWaitsForAFlushUnderWay()
    {
        var (client, stream, _) = Open();

        // The WebSocket flushes after each frame it writes; a ping in between would flush beside it.
        client.StallFlush();
        var flushing = stream.FlushAsync();
        Advance(Interval + _sweeper.Tick);
        Assert.Empty(client.Written);

        client.Resume();
        await flushing.DefaultTimeout();
        Advance(_sweeper.Tick);
        Assert.Equal([Ping], client.Written);
    }

    [Fact]
    public void AClientStuckBehindAWriteThatNeverEndsIsDroppedAtTheTimeout()
    {
        var (client, _, socket) = Open();
        client.Stall();
        _ = socket.SendAsync("{\"name\":\"a.b\"}"u8.ToArray(), WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);

        // The ping never gets its turn; the wait for an answer runs from its first try all the same.
        Advance(Interval + _sweeper.Tick);
        Advance(_sweeper.Timeout + _sweeper.Tick);
        Assert.Equal(WebSocketState.Aborted, socket.State);
        Assert.DoesNotContain(client.Written, frame => frame.SequenceEqual(Ping));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ConnectionsThatEndLeaveTheClock(bool directUpgrade)
    {
        await using var hub = await HubHost.StartAsync(directUpgrade: directUpgrade);
        var sweeper = hub.Services.GetRequiredService<KeepAliveSweeper>();
        var clients = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => RawWebSocket.ConnectAsync(hub.Port, "/organization/1")));
        await TestTimeouts.UntilAsync(() => sweeper.Count == 20, "the hub watches every connection");

        await Task.WhenAll(clients.Select(async client =>
        {
            await client.SendAsync(WebSocketFrame.CloseWith(1000));
            await client.ReceiveUntilCloseAsync().DefaultTimeout();
            await client.DisposeAsync();
        }));

        await TestTimeouts.UntilAsync(() => hub.Metrics.Connections == 0 && sweeper.Count == 0, "the hub forgets every connection that ended");
    }

    private (FakeClient Client, KeepAliveStream Stream, WebSocket Socket) Open()
    {
        var client = new FakeClient();
        var stream = new KeepAliveStream(client, _sweeper);
        var socket = WebSocket.CreateFromStream(stream, new WebSocketCreationOptions { IsServer = true, KeepAliveInterval = TimeSpan.Zero });
        stream.Watch(socket);
        return (client, stream, socket);
    }

    private void Advance(TimeSpan by)
    {
        // One tick at a time, as a real clock would fire them.
        for (var left = by; left > TimeSpan.Zero; left -= _sweeper.Tick)
        {
            _clock.Advance(left < _sweeper.Tick ? left : _sweeper.Tick);
        }
    }

    /// <summary>The transport under the stream: what was written to the client, frame by frame; what it sends, when fed.</summary>
    private sealed class FakeClient : Stream
    {
        private readonly Queue<byte[]> _incoming = new();
        private TaskCompletionSource? _stalled;
        private TaskCompletionSource? _flushStalled;

        public List<byte[]> Written { get; } = [];

        public bool Disposed { get; private set; }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public void Feed(byte[] bytes) => _incoming.Enqueue(bytes);

        public void Stall() => _stalled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        public void StallFlush() => _flushStalled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Resume()
        {
            _stalled?.TrySetResult();
            _flushStalled?.TrySetResult();
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (!_incoming.TryDequeue(out var bytes))
            {
                return new ValueTask<int>(Task.Delay(Timeout.Infinite, cancellationToken).ContinueWith(_ => 0, TaskScheduler.Default));
            }

            bytes.CopyTo(buffer);
            return new ValueTask<int>(bytes.Length);
        }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Written.Add(buffer.ToArray());
            if (_stalled is { } stalled)
            {
                await stalled.Task.WaitAsync(cancellationToken);
                _stalled = null;
            }
        }

        public override async Task FlushAsync(CancellationToken cancellationToken)
        {
            if (_flushStalled is { } stalled)
            {
                await stalled.Task.WaitAsync(cancellationToken);
                _flushStalled = null;
            }
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            Disposed = true;
            _stalled?.TrySetCanceled();
            _flushStalled?.TrySetCanceled();
            base.Dispose(disposing);
        }
    }
}
