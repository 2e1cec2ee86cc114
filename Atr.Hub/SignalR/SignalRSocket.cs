using System.Buffers;
using System.IO.Pipelines;
using System.Net.WebSockets;
using System.Security.Claims;
using System.Security.Cryptography;
using Atr.Hub.Connections;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.Http.Connections.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.WebUtilities;

namespace Atr.Hub.SignalR;

/// <summary>
/// A SignalR connection carried by the hub's own WebSocket transport: SignalR's
/// <c>HubConnectionHandler</c> runs the protocol over it (handshake, invocations, pings, close) as
/// it does over SignalR's transports, but what it writes goes to the <see cref="WebSocket"/> in the
/// writer's own turn, one message per flush, with no pipe and send loop between them.
/// </summary>
/// <remarks>
/// SignalR's WebSockets transport puts a pipe between the hub and the socket and sends from a loop of
/// its own: every event written to a connection is copied into that pipe and then sent by another
/// thread. Here <see cref="Transport"/>'s output is <see cref="Output"/>, which hands the bytes
/// to the WebSocket at once; the input side keeps a pipe, fed by the receive loop, since SignalR parses
/// what clients send from one. The hub's single writer (<c>HubConnectionContext</c>'s write lock) is
/// the socket's single writer.
/// </remarks>
internal sealed class SignalRSocket : ConnectionContext, IDuplexPipe,
    IConnectionIdFeature, IConnectionItemsFeature, IConnectionTransportFeature, IConnectionLifetimeFeature,
    IConnectionUserFeature, IConnectionHeartbeatFeature, IHttpContextFeature, IHttpTransportFeature, ITransferFormatFeature
{
    private static readonly PipeOptions InputOptions = new(pauseWriterThreshold: 64 * 1024, resumeWriterThreshold: 32 * 1024, useSynchronizationContext: false);

    private readonly WebSocket _socket;
    private readonly TimeSpan _closeTimeout;
    private readonly TimeProvider _time;
    private readonly Pipe _input = new(InputOptions);
    private readonly CancellationTokenSource _closed = new();
    private readonly Lock _lock = new();
    private (Action<object> Action, object State)[] _heartbeats = [];
    private HttpContext? _httpContext;
    private ITimer? _endTimer;
    private bool _ending;
    private bool _done;

    public SignalRSocket(HttpContext httpContext, WebSocket socket, TimeSpan closeTimeout, TimeProvider time)
    {
        _httpContext = httpContext;
        _socket = socket;
        _closeTimeout = closeTimeout;
        _time = time;
        Transport = this;
        ConnectionId = WebEncoders.Base64UrlEncode(RandomNumberGenerator.GetBytes(16));
        User = httpContext.User;
        Output = new SocketWriter(this);
        ConnectionClosed = _closed.Token;

        var features = new FeatureCollection(10);
        features.Set<IConnectionIdFeature>(this);
        features.Set<IConnectionItemsFeature>(this);
        features.Set<IConnectionTransportFeature>(this);
        features.Set<IConnectionLifetimeFeature>(this);
        features.Set<IConnectionUserFeature>(this);
        features.Set<IConnectionHeartbeatFeature>(this);
        features.Set<IHttpContextFeature>(this);
        features.Set<IHttpTransportFeature>(this);
        features.Set<ITransferFormatFeature>(this);
        Features = features;
    }

    public override string ConnectionId { get; set; }

    public override IFeatureCollection Features { get; }

    public override IDictionary<object, object?> Items { get; set; } = new Dictionary<object, object?>();

    public override IDuplexPipe Transport { get; set; }

    public override CancellationToken ConnectionClosed { get; set; }

    public ClaimsPrincipal? User { get; set; }

    HttpContext? IHttpContextFeature.HttpContext
    {
        get => _httpContext;
        set => _httpContext = value;
    }

    HttpTransportType IHttpTransportFeature.TransportType => HttpTransportType.WebSockets;

    public TransferFormat SupportedFormats => TransferFormat.Text | TransferFormat.Binary;

    /// <summary>The format of the hub protocol the handshake chose: JSON goes in text messages, MessagePack in binary ones.</summary>
    public TransferFormat ActiveFormat { get; set; } = TransferFormat.Text;

    PipeReader IDuplexPipe.Input => _input.Reader;

    /// <summary>What the hub writes: each flush is one WebSocket message.</summary>
    public PipeWriter Output { get; }

    /// <summary>Whether the node asked the connection to end (it is stopping).</summary>
    public bool Ending => Volatile.Read(ref _ending);

    public void OnHeartbeat(Action<object> action, object state)
    {
        lock (_lock)
        {
            _heartbeats = [.. _heartbeats, (action, state)];
        }
    }

    /// <summary>One beat of the node's heartbeat clock: SignalR's keep-alive ping and client timeout look at the time.</summary>
    public void Beat()
    {
        foreach (var (action, state) in Volatile.Read(ref _heartbeats))
        {
            action(state);
        }
    }

    public override void Abort(ConnectionAbortedException abortReason) => _socket.Abort();

    /// <summary>
    /// Ends the connection as a client that leaves would: the hub stops reading, says goodbye with a
    /// close message that allows a reconnect, and the socket closes with 1001. A client that does not
    /// read can hold that goodbye up (a send to it waits, and the hub's writes take turns): it has the
    /// close timeout, then its socket is aborted.
    /// </summary>
    public void End()
    {
        Volatile.Write(ref _ending, true);
        lock (_lock)
        {
            // Not once the run is over: its timer would outlive it.
            if (!_done)
            {
                _endTimer ??= _time.CreateTimer(static s => ((SignalRSocket)s!)._socket.Abort(), this, _closeTimeout, Timeout.InfiniteTimeSpan);
            }
        }

        _input.Reader.CancelPendingRead();
    }

    /// <summary>
    /// Runs the connection: what the client sends is fed to <paramref name="hub"/> until either side
    /// ends it; then the socket is closed (1000, 1001 when the node stops, 1011 when the hub failed)
    /// and given the close timeout for the client's answer before it is aborted.
    /// </summary>
    public async Task RunAsync(ConnectionHandler hub)
    {
        var receiving = ReceiveAsync();
        var status = WebSocketCloseStatus.NormalClosure;
        try
        {
            await hub.OnConnectedAsync(this).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // SignalR has logged what failed (a hub filter, OnDisconnectedAsync); the client is told with 1011.
            status = WebSocketCloseStatus.InternalServerError;
        }

        try
        {
            await CloseAsync(Ending ? WebSocketCloseStatus.EndpointUnavailable : status, receiving).WaitAsync(_closeTimeout, _time).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is TimeoutException || ClientGone.Is(ex))
        {
        }
        finally
        {
            // The hub reads no more: a receive loop waiting for room in the input pipe ends too.
            _socket.Abort();
            lock (_lock)
            {
                _done = true;
                _endTimer?.Dispose();
            }

            await _input.Reader.CompleteAsync().ConfigureAwait(false);
            await receiving.ConfigureAwait(false);
            Output.Complete();
            _closed.Cancel();
        }
    }

    // The close frame, then the client's answer to it.
    private async Task CloseAsync(WebSocketCloseStatus status, Task receiving)
    {
        if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
        {
            await _socket.CloseOutputAsync(status, null, CancellationToken.None).ConfigureAwait(false);
        }

        await receiving.ConfigureAwait(false);
    }

    private async Task ReceiveAsync()
    {
        var writer = _input.Writer;
        Exception? error = null;
        try
        {
            while (true)
            {
                // An idle connection holds no buffer: the first bytes of a message are waited for with none.
                var peek = await _socket.ReceiveAsync(Memory<byte>.Empty, CancellationToken.None).ConfigureAwait(false);
                if (peek.MessageType == WebSocketMessageType.Close)
                {
                    break;
                }

                var received = await _socket.ReceiveAsync(writer.GetMemory(), CancellationToken.None).ConfigureAwait(false);
                if (received.MessageType == WebSocketMessageType.Close)
                {
                    break;
                }

                writer.Advance(received.Count);
                var flushed = await writer.FlushAsync().ConfigureAwait(false);
                if (flushed.IsCompleted)
                {
                    break;
                }
            }
        }
        catch (Exception ex) when (ClientGone.Is(ex))
        {
            error = ex;
        }
        finally
        {
            await writer.CompleteAsync().ConfigureAwait(false);
            if (error is not null)
            {
                // The socket broke: the hub aborts rather than waiting for a read that ends the connection.
                _closed.Cancel();
            }
        }
    }

    /// <summary>
    /// The hub's output: bytes written and then flushed are sent as one WebSocket message; a write of
    /// a whole message (SignalR's pre-serialized invocations) is sent without a copy.
    /// </summary>
    private sealed class SocketWriter(SignalRSocket owner) : PipeWriter
    {
        private static readonly FlushResult Done = new(isCanceled: false, isCompleted: true);

        private byte[]? _buffer;
        private int _written;
        private bool _sending;
        private bool _flushCanceled;
        private bool _completed;

        public override void Advance(int bytes) => _written += bytes;

        public override Memory<byte> GetMemory(int sizeHint = 0) => Reserve(sizeHint).AsMemory(_written);

        public override Span<byte> GetSpan(int sizeHint = 0) => Reserve(sizeHint).AsSpan(_written);

        public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
        {
            if (_written == 0)
            {
                return new ValueTask<FlushResult>(_completed ? Done : default);
            }

            var buffer = _buffer!;
            var length = _written;
            _buffer = null;
            _written = 0;
            return SendAsync(buffer.AsMemory(0, length), buffer, cancellationToken);
        }

        public override ValueTask<FlushResult> WriteAsync(ReadOnlyMemory<byte> source, CancellationToken cancellationToken = default)
        {
            if (_written == 0)
            {
                return SendAsync(source, rented: null, cancellationToken);
            }

            source.Span.CopyTo(GetSpan(source.Length));
            Advance(source.Length);
            return FlushAsync(cancellationToken);
        }

        /// <summary>
        /// SignalR cancels the flushes of a connection it aborts, the one under way and those about to
        /// begin. A WebSocket send cannot be canceled alone: from now on, one that would wait for the
        /// client ends with the socket instead; those the socket takes at once still go out (the close message).
        /// </summary>
        public override void CancelPendingFlush()
        {
            // Full fences on both sides: either the send under way is seen here, or it sees the cancel.
            Volatile.Write(ref _flushCanceled, true);
            Interlocked.MemoryBarrier();
            if (Volatile.Read(ref _sending))
            {
                owner._socket.Abort();
            }
        }

        public override void Complete(Exception? exception = null)
        {
            _completed = true;
            if (_buffer is { } buffer)
            {
                _buffer = null;
                _written = 0;
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        private byte[] Reserve(int sizeHint)
        {
            var needed = _written + Math.Max(sizeHint, 1);
            if (_buffer is null || _buffer.Length < needed)
            {
                var grown = ArrayPool<byte>.Shared.Rent(Math.Max(needed, 4096));
                if (_buffer is { } old)
                {
                    old.AsSpan(0, _written).CopyTo(grown);
                    ArrayPool<byte>.Shared.Return(old);
                }

                _buffer = grown;
            }

            return _buffer;
        }

        private ValueTask<FlushResult> SendAsync(ReadOnlyMemory<byte> message, byte[]? rented, CancellationToken cancellationToken)
        {
            if (_completed)
            {
                Return(rented);
                return new ValueTask<FlushResult>(Done);
            }

            var type = owner.ActiveFormat == TransferFormat.Binary ? WebSocketMessageType.Binary : WebSocketMessageType.Text;
            ValueTask sending;
            Volatile.Write(ref _sending, true);
            Interlocked.MemoryBarrier();
            try
            {
                sending = owner._socket.SendAsync(message, type, endOfMessage: true, cancellationToken);
            }
            catch (Exception)
            {
                // Whatever the socket throws, the connection cannot go on.
                return new ValueTask<FlushResult>(Failed(rented));
            }

            if (sending.IsCompletedSuccessfully)
            {
                sending.GetAwaiter().GetResult();
                Volatile.Write(ref _sending, false);
                Return(rented);
                return default;
            }

            if (Volatile.Read(ref _flushCanceled))
            {
                owner._socket.Abort();
            }

            return AwaitSendAsync(sending, rented);
        }

        private async ValueTask<FlushResult> AwaitSendAsync(ValueTask sending, byte[]? rented)
        {
            try
            {
                await sending.ConfigureAwait(false);
            }
            catch (Exception)
            {
                return Failed(rented);
            }

            Volatile.Write(ref _sending, false);
            Return(rented);
            return default;
        }

        // The client is gone: the hub hears of it through ConnectionClosed, and what it still writes is dropped.
        private FlushResult Failed(byte[]? rented)
        {
            Volatile.Write(ref _sending, false);
            Return(rented);
            _completed = true;
            owner._closed.Cancel();
            return Done;
        }

        private static void Return(byte[]? rented)
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }
}
