using System.Buffers;
using System.Net;
using System.Net.WebSockets;
using Atr.Hub.Diagnostics;
using Atr.Hub.Security;
using Atr.Hub.Subscriptions;
using Microsoft.Extensions.Logging;

namespace Atr.Hub.Connections;

/// <summary>
/// One raw WebSocket client: a bounded send queue filled by the dispatcher, a send loop that drains
/// it, and a receive loop for what the client says; whichever side ends first closes the other.
/// </summary>
internal sealed partial class WebSocketConnection : IEventRecipient, IFrameWriter, IDisposable
{
    private static readonly byte[] UnsubscribeCommand = "unsubscribe"u8.ToArray();

    private readonly Lock _closeLock = new();
    private readonly SendQueue _queue;
    private readonly AtrHubOptions _options;
    private readonly HubMetrics _metrics;
    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;

    // Both under _closeLock. The timer exists only once a close has begun: an idle connection holds
    // no cancellation source, registration or timer for it.
    private WebSocket? _socket;
    private ITimer? _closeTimer;

    // What the send loop writes to, set before it starts: the dispatcher writes there too when the loop is idle.
    private WebSocket? _sender;
    private WebSocketCloseStatus _closeStatus;
    private string _closeDescription = string.Empty;

    public WebSocketConnection(string id, string scope, IPAddress? remoteAddress, AtrHubOptions options, HubMetrics metrics, TimeProvider timeProvider, ILogger logger)
    {
        _timeProvider = timeProvider;
        Id = id;
        Scope = scope;
        RemoteAddress = remoteAddress;
        _options = options;
        _metrics = metrics;
        _logger = logger;
        _queue = new SendQueue(options.MaxSendQueueBytes, options.SlowConsumerGrace, timeProvider);
    }

    public string Id { get; }

    public string Scope { get; }

    /// <summary>Where the client connects from: the place it holds among its address's connections.</summary>
    public IPAddress? RemoteAddress { get; }

    /// <summary>Bytes of frames queued and not yet written to the socket.</summary>
    public long PendingBytes => _queue.PendingBytes;

    private bool Closing => _queue.IsCompleted;

    public void Hold() => _queue.Hold();

    public void Resume(IReadOnlyList<EventFrame> first) => _queue.Resume(first);

    public bool Deliver(EventFrame frame)
    {
        switch (_queue.TryEnqueue(frame))
        {
            case SendQueue.Result.Queued:
                return true;
            case SendQueue.Result.Write:
                _queue.Write(frame, this, _metrics);
                return true;
            case SendQueue.Result.Overflow:
                if (RequestClose((WebSocketCloseStatus)AtrCloseCodes.SlowConsumer, "Slow consumer: send queue full"))
                {
                    _metrics.SlowConsumerClosed();
                    LogSlowConsumer(_logger, Id, Scope, _queue.PendingBytes);
                }

                return false;
            default:
                return false;
        }
    }

    /// <summary>
    /// Ends the connection with a close frame: queued frames are dropped, the close is sent once the
    /// frame being written (if any) is out, and the socket is aborted if the client has not
    /// finished the close handshake within <see cref="AtrHubOptions.CloseTimeout"/>.
    /// </summary>
    /// <returns><see langword="true"/> for the call that started the close.</returns>
    public bool RequestClose(WebSocketCloseStatus status, string description)
    {
        // Status first: the send loop reads it once it sees the queue completed.
        lock (_closeLock)
        {
            if (_queue.IsCompleted)
            {
                return false;
            }

            _closeStatus = status;
            _closeDescription = description;
            _queue.Complete();
            StartCloseTimer();
        }

        return true;
    }

    /// <summary>Runs the connection until it is closed or aborted; never throws for a client going away.</summary>
    /// <param name="socket">The accepted socket.</param>
    /// <param name="expiresAt">When the connection's token expires: it is closed with <see cref="AtrCloseCodes.TokenExpired"/> then.</param>
    /// <param name="batcher">The stream under <paramref name="socket"/>, when it gathers frames for one write per batch.</param>
    /// <param name="lifetime">Told when the connection starts and once it has ended.</param>
    public async Task RunAsync(WebSocket socket, DateTimeOffset? expiresAt = null, IFrameHolder? batcher = null, IConnectionLifetime? lifetime = null)
    {
        using var expiry = ExpiryTimer.Start(_timeProvider, expiresAt, () => RequestClose((WebSocketCloseStatus)AtrCloseCodes.TokenExpired, "Token expired"));
        lock (_closeLock)
        {
            _socket = socket;
            if (_queue.IsCompleted)
            {
                StartCloseTimer();
            }
        }

        lifetime?.Started(this);
        try
        {
            _sender = socket;
            var sending = SendLoopAsync(socket, batcher);

            // The receive loop runs in this method's frame rather than one of its own: every
            // suspended method costs an idle connection its frame for as long as it is open.
            try
            {
                while (true)
                {
                    // A zero-byte read waits for data without holding a buffer, so an idle connection costs
                    // no receive memory. Reads and writes take no token: the close timer's abort ends them.
                    var head = await socket.ReceiveAsync(Memory<byte>.Empty, CancellationToken.None).ConfigureAwait(false);
                    if (head.MessageType == WebSocketMessageType.Close)
                    {
                        // Echo the client's code; the send loop answers the close handshake.
                        RequestClose(socket.CloseStatus ?? WebSocketCloseStatus.NormalClosure, string.Empty);
                        break;
                    }

                    await ReceiveMessageAsync(socket, head).ConfigureAwait(false);
                }
            }
            catch (Exception ex) when (ClientGone.Is(ex))
            {
                // Peer timeout, a dropped TCP connection or an abort after the close timeout.
            }
            finally
            {
                RequestClose(WebSocketCloseStatus.EndpointUnavailable, string.Empty);
            }

            await sending.ConfigureAwait(false);
        }
        finally
        {
            StopCloseTimer();
            if (socket.State != WebSocketState.Closed)
            {
                socket.Abort();
            }

            socket.Dispose();
            LogClosed(_logger, Id, Scope, (int)_closeStatus);
            if (lifetime is not null)
            {
                await lifetime.EndedAsync(this).ConfigureAwait(false);
            }
        }
    }

    public void Dispose() => StopCloseTimer();

    /// <summary>Under <see cref="_closeLock"/>: aborts the socket if the close handshake is not done within <see cref="AtrHubOptions.CloseTimeout"/>.</summary>
    private void StartCloseTimer()
    {
        if (_socket is { } socket && _closeTimer is null)
        {
            // Aborting ends whatever is pending on the socket: a write stuck behind a client that
            // stopped reading, the close handshake, a read.
            _closeTimer = _timeProvider.CreateTimer(static s => ((WebSocket)s!).Abort(), socket, _options.CloseTimeout, Timeout.InfiniteTimeSpan);
        }
    }

    private void StopCloseTimer()
    {
        lock (_closeLock)
        {
            _socket = null;
            _closeTimer?.Dispose();
            _closeTimer = null;
        }
    }

    /// <summary>
    /// The dispatcher's write, the send loop being idle: the WebSocket copies the frame to the
    /// connection's output and returns at once unless the client is behind. The loop parks only
    /// after the last frame of a batch, which it writes with the batcher's holding cleared, so
    /// this frame leaves at once.
    /// </summary>
    ValueTask IFrameWriter.WriteAsync(EventFrame frame)
        => _sender!.SendAsync(frame.Payload, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);

    void IFrameWriter.WriteFailed(Exception exception)
    {
        if (ClientGone.Is(exception))
        {
            RequestClose(WebSocketCloseStatus.EndpointUnavailable, string.Empty);
            return;
        }

        LogWriteFailed(_logger, exception, Id, Scope);
        RequestClose(WebSocketCloseStatus.InternalServerError, "Internal error");
    }

    private async Task SendLoopAsync(WebSocket socket, IFrameHolder? batcher)
    {
        try
        {
            while (await _queue.WaitAsync().ConfigureAwait(false))
            {
                if (!_queue.TryTake(out var frame))
                {
                    continue;
                }

                var sent = 0;
                while (true)
                {
                    // With a frame behind this one, the batcher holds this one back: the batch leaves
                    // with its last frame, in one write. Sent without a token: a cancelable one costs
                    // a registration per frame; the close timer's abort ends a hung write.
                    var more = _queue.TryTake(out var next);
                    batcher?.Holding = more;
                    await socket.SendAsync(frame.Payload, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None).ConfigureAwait(false);
                    _queue.Sent(frame.Payload.Length);
                    if (++sent == SendQueue.CountedTogether || !more)
                    {
                        _metrics.FramesSentBy(sent);
                        sent = 0;
                    }

                    if (!more)
                    {
                        break;
                    }

                    frame = next!;
                }
            }

            if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                await socket.CloseOutputAsync(_closeStatus, _closeDescription, CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ClientGone.Is(ex))
        {
            // The client went away or missed the close timeout: a normal ending.
            RequestClose(WebSocketCloseStatus.EndpointUnavailable, string.Empty);
        }
    }

    /// <summary>Takes in a client message whose first frame has arrived: text is read, binary closes the connection, anything after a close is discarded.</summary>
    private Task ReceiveMessageAsync(WebSocket socket, ValueWebSocketReceiveResult head)
    {
        if (Closing)
        {
            return DiscardMessageAsync(socket, head);
        }

        if (head.MessageType == WebSocketMessageType.Binary)
        {
            RequestClose(WebSocketCloseStatus.InvalidMessageType, "Binary frames are not accepted");
            return DiscardMessageAsync(socket, head);
        }

        return ReadTextMessageAsync(socket, head);
    }

    private async Task ReadTextMessageAsync(WebSocket socket, ValueWebSocketReceiveResult head)
    {
        var limit = _options.MaxInboundMessageBytes;
        var buffer = ArrayPool<byte>.Shared.Rent(limit);
        try
        {
            var count = 0;
            var end = head.EndOfMessage;
            while (!end)
            {
                if (count == limit)
                {
                    RequestClose(WebSocketCloseStatus.MessageTooBig, $"Messages are limited to {limit} bytes");
                    await DiscardMessageAsync(socket, head).ConfigureAwait(false);
                    return;
                }

                var result = await socket.ReceiveAsync(buffer.AsMemory(count, limit - count), CancellationToken.None).ConfigureAwait(false);
                count += result.Count;
                end = result.EndOfMessage;
            }

            var message = buffer.AsSpan(0, count);
            if (message.SequenceEqual(UnsubscribeCommand))
            {
                RequestClose(WebSocketCloseStatus.NormalClosure, "Unsubscribed");
            }
            else
            {
                // The original only logged what clients sent; so does the hub, without the content.
                LogIgnoredMessage(_logger, Id, count);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static async Task DiscardMessageAsync(WebSocket socket, ValueWebSocketReceiveResult head)
    {
        if (head.EndOfMessage)
        {
            return;
        }

        var scratch = ArrayPool<byte>.Shared.Rent(1024);
        try
        {
            ValueWebSocketReceiveResult result;
            do
            {
                result = await socket.ReceiveAsync(scratch.AsMemory(), CancellationToken.None).ConfigureAwait(false);
            }
            while (!result.EndOfMessage && result.MessageType != WebSocketMessageType.Close);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(scratch);
        }
    }
}
