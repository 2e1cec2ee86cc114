using System.Diagnostics;
using System.Net;
using System.Net.WebSockets;
using System.Text;
using Atr.Bench.Measurement;

namespace Atr.Bench.Clients;

/// <summary>
/// One connection of the load: a single receive loop over one reused buffer, which checks each event's sequence
/// number against the last (lost and duplicated events) and records its latency. Cheap on purpose: up to 100,000
/// of them share one core.
/// </summary>
internal sealed class BenchClient
{
    private const int InitialBuffer = 512;
    private const byte RecordSeparator = 0x1e;

    private static readonly byte[] SignalRHandshake = "{\"protocol\":\"json\",\"version\":1}\u001e"u8.ToArray();
    private static readonly byte[] SignalRPing = "{\"type\":6}\u001e"u8.ToArray();
    private static readonly byte[] SocketIoConnect = "40"u8.ToArray();
    private static readonly byte[] SocketIoPong = "3"u8.ToArray();

    private readonly WebSocket _socket;
    private readonly ClientProtocol _protocol;
    private readonly ScopeTracker _scope;
    private readonly DeliveryStats _stats;
    private readonly string? _signalRMethod;
    private TaskCompletionSource? _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private byte[] _buffer = new byte[InitialBuffer];
    private int _filled;
    private bool _handshaken;
    private bool _probeSeen;
    private long _lastSeq;
    private long _gaps;
    private long _duplicates;
    private volatile bool _closed;

    private BenchClient(WebSocket socket, ClientProtocol protocol, ScopeTracker scope, DeliveryStats stats, string? signalRMethod)
    {
        _socket = socket;
        _protocol = protocol;
        _scope = scope;
        _stats = stats;
        _signalRMethod = signalRMethod;
    }

    public ScopeTracker Scope => _scope;

    public bool IsOpen => !_closed && _socket.State == WebSocketState.Open;

    public bool ProbeSeen => Volatile.Read(ref _probeSeen);

    /// <summary>Events that arrived more than once or out of order (a sequence number not above the last one).</summary>
    public long Duplicates => Interlocked.Read(ref _duplicates);

    /// <summary>Events missing so far: gaps in the sequence plus everything published after the last one received.</summary>
    public long Missing => Interlocked.Read(ref _gaps) + Math.Max(0, _scope.Published - Interlocked.Read(ref _lastSeq));

    /// <summary>
    /// Connects and completes once the client is subscribed as far as its protocol tells: at the upgrade (raw), at the
    /// Socket.IO connect acknowledgement, or at the completion of the SignalR invocation of <paramref name="signalRMethod"/>.
    /// </summary>
    public static async Task<BenchClient> ConnectAsync(
        Uri uri,
        IPAddress? source,
        ClientProtocol protocol,
        string? signalRMethod,
        ScopeTracker scope,
        DeliveryStats stats,
        TimeSpan timeout,
        CancellationToken cancellationToken)
    {
        using var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeoutSource.CancelAfter(timeout);
        var socket = await WebSocketConnector.ConnectAsync(uri, source, timeoutSource.Token).ConfigureAwait(false);
        var client = new BenchClient(socket, protocol, scope, stats, signalRMethod);
        try
        {
            if (protocol == ClientProtocol.SignalR)
            {
                await socket.SendAsync(SignalRHandshake, WebSocketMessageType.Text, true, timeoutSource.Token).ConfigureAwait(false);
            }
            else if (protocol == ClientProtocol.Raw)
            {
                client.SetReady();
            }

            _ = client.ReceiveLoopAsync();
            await client._ready!.Task.WaitAsync(timeoutSource.Token).ConfigureAwait(false);
            client._ready = null;
            return client;
        }
        catch
        {
            client.Abort();
            throw;
        }
    }

    /// <summary>Sends a SignalR ping, which keeps the server from timing the client out (it expects one every 30 s).</summary>
    public async Task PingAsync(CancellationToken cancellationToken)
    {
        if (_protocol != ClientProtocol.SignalR || !IsOpen)
        {
            return;
        }

        try
        {
            await _socket.SendAsync(SignalRPing, WebSocketMessageType.Text, true, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or ObjectDisposedException)
        {
            End($"ping failed: {ex.Message}");
        }
    }

    /// <summary>Closes the socket at once, without a closing handshake.</summary>
    public void Abort()
    {
        _closed = true;
        _socket.Abort();
        _socket.Dispose();
    }

    private void SetReady() => _ready?.TrySetResult();

    private async Task ReceiveLoopAsync()
    {
        try
        {
            while (true)
            {
                if (_filled == _buffer.Length)
                {
                    Array.Resize(ref _buffer, _buffer.Length * 2);
                }

                var result = await _socket.ReceiveAsync(_buffer.AsMemory(_filled), CancellationToken.None).ConfigureAwait(false);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    End($"closed by the server ({_socket.CloseStatus} {_socket.CloseStatusDescription})");
                    return;
                }

                _filled += result.Count;
                if (result.EndOfMessage)
                {
                    await OnMessageAsync().ConfigureAwait(false);
                }
            }
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or ObjectDisposedException or OperationCanceledException)
        {
            End(_closed ? "aborted" : $"connection lost: {ex.Message}");
        }
        catch (InvalidOperationException ex)
        {
            End($"protocol error: {ex.Message}");
        }
    }

    private async ValueTask OnMessageAsync()
    {
        switch (_protocol)
        {
            case ClientProtocol.Raw:
                OnEvent(_buffer.AsSpan(0, _filled));
                _filled = 0;
                break;
            case ClientProtocol.SocketIo:
                await OnSocketIoPacketAsync().ConfigureAwait(false);
                _filled = 0;
                break;
            case ClientProtocol.SignalR:
                await OnSignalRRecordsAsync().ConfigureAwait(false);
                break;
        }
    }

    private async ValueTask OnSocketIoPacketAsync()
    {
        var packet = _buffer.AsSpan(0, _filled);
        if (packet.StartsWith("42"u8))
        {
            OnEvent(packet);
        }
        else if (packet.SequenceEqual("2"u8))
        {
            await _socket.SendAsync(SocketIoPong, WebSocketMessageType.Text, true, CancellationToken.None).ConfigureAwait(false);
        }
        else if (packet.StartsWith("40"u8))
        {
            SetReady();
        }
        else if (packet.StartsWith("0"u8))
        {
            await _socket.SendAsync(SocketIoConnect, WebSocketMessageType.Text, true, CancellationToken.None).ConfigureAwait(false);
        }
        else if (packet.StartsWith("44"u8) || packet.StartsWith("41"u8) || packet.StartsWith("1"u8))
        {
            throw new InvalidOperationException($"Socket.IO ended the connection: {Encoding.UTF8.GetString(packet)}");
        }
    }

    /// <summary>SignalR records end with 0x1E; a frame may hold several, and a record may in principle span frames.</summary>
    private async ValueTask OnSignalRRecordsAsync()
    {
        var start = 0;
        while (true)
        {
            var end = _buffer.AsSpan(start, _filled - start).IndexOf(RecordSeparator);
            if (end < 0)
            {
                break;
            }

            await OnSignalRRecordAsync(start, end).ConfigureAwait(false);
            start += end + 1;
        }

        if (start > 0)
        {
            _buffer.AsSpan(start, _filled - start).CopyTo(_buffer);
            _filled -= start;
        }
    }

    private async ValueTask OnSignalRRecordAsync(int start, int length)
    {
        var record = _buffer.AsMemory(start, length);
        if (!_handshaken)
        {
            if (!record.Span.SequenceEqual("{}"u8))
            {
                throw new InvalidOperationException($"SignalR handshake refused: {Encoding.UTF8.GetString(record.Span)}");
            }

            _handshaken = true;
            var invocation = Encoding.UTF8.GetBytes(
                $"{{\"type\":1,\"invocationId\":\"1\",\"target\":\"{_signalRMethod}\",\"arguments\":[\"{_scope.Name}\"]}}\u001e");
            await _socket.SendAsync(invocation, WebSocketMessageType.Text, true, CancellationToken.None).ConfigureAwait(false);
            return;
        }

        switch (MessageType(record.Span))
        {
            case 1:
                OnEvent(record.Span);
                break;
            case 3:
                if (record.Span.IndexOf("\"error\""u8) >= 0)
                {
                    throw new InvalidOperationException($"SignalR {_signalRMethod} failed: {Encoding.UTF8.GetString(record.Span)}");
                }

                SetReady();
                break;
            case 7:
                throw new InvalidOperationException($"SignalR closed the connection: {Encoding.UTF8.GetString(record.Span)}");
        }
    }

    private static int MessageType(ReadOnlySpan<byte> record)
    {
        var at = record.IndexOf("\"type\":"u8);
        return at >= 0 && at + 7 < record.Length ? record[at + 7] - '0' : -1;
    }

    private void OnEvent(ReadOnlySpan<byte> text)
    {
        var now = Stopwatch.GetTimestamp();
        if (!PayloadScanner.TryRead(text, out var seq, out var ts))
        {
            return;
        }

        if (seq == 0)
        {
            // A readiness probe: the path from the publisher to this client works.
            if (!_probeSeen)
            {
                Volatile.Write(ref _probeSeen, true);
                _stats.OnFirstProbe();
            }

            return;
        }

        var last = _lastSeq;
        if (seq == last + 1)
        {
            Volatile.Write(ref _lastSeq, seq);
        }
        else if (seq > last + 1)
        {
            Interlocked.Add(ref _gaps, seq - last - 1);
            Volatile.Write(ref _lastSeq, seq);
        }
        else
        {
            Interlocked.Increment(ref _duplicates);
            return;
        }

        _stats.OnDelivery(_scope, seq, ts, now);
    }

    private void End(string reason)
    {
        _ready?.TrySetException(new WebSocketException(reason));
        _closed = true;
    }
}
