using Atr.Hub.Connections;
using Atr.Hub.Diagnostics;
using Atr.Hub.Security;
using Atr.Hub.Subscriptions;
using System.Net;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using Microsoft.Extensions.Logging;

namespace Atr.Hub.SignalR;

/// <summary>
/// One SignalR client as an event recipient, whatever number of scopes it listens to: the same
/// bounded queue and single send loop as a raw connection, writing each event's once-serialized
/// invocation. A client that overflows its queue is aborted; it delays no one else.
/// </summary>
internal sealed partial class SignalRConnection : IEventRecipient, IFrameWriter
{
    // The invocation event(payload), serialized lazily and cached per hub protocol by SignalR: made
    // once per event, by its first SignalR recipient, each protocol's bytes once per event, shared by
    // every SignalR connection.
    private static readonly Func<ReadOnlyMemory<byte>, SerializedHubMessage> EventInvocation =
        static payload => new SerializedHubMessage(new InvocationMessage(AtrHub.EventMethod, [new EventArgument(payload)]));

    private readonly HubConnectionContext _connection;
    private readonly SendQueue _queue;
    private readonly HubMetrics _metrics;
    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;
    private readonly Lock _lock = new();
    private readonly HashSet<string> _scopes = new(StringComparer.Ordinal);
    private Task _sending = Task.CompletedTask;
    private ExpiryTimer? _expiry;
    private bool _stopped;

    public SignalRConnection(HubConnectionContext connection, IPAddress? remoteAddress, AtrHubOptions options, HubMetrics metrics, TimeProvider timeProvider, ILogger logger)
    {
        _connection = connection;
        RemoteAddress = remoteAddress;
        _queue = new SendQueue(options.MaxSendQueueBytes, options.SlowConsumerGrace, timeProvider);
        _metrics = metrics;
        _timeProvider = timeProvider;
        _logger = logger;
    }

    /// <summary>Where the connection comes from, for the per-address limit.</summary>
    public IPAddress? RemoteAddress { get; }

    /// <summary>When the connection's token expires; null when it never does.</summary>
    public DateTimeOffset? ExpiresAt { get; private set; }

    /// <summary>Bytes of frames queued and not yet handed to the connection.</summary>
    public long PendingBytes => _queue.PendingBytes;

    public int ScopeCount
    {
        get
        {
            lock (_lock)
            {
                return _scopes.Count;
            }
        }
    }

    public bool Listens(string scope)
    {
        lock (_lock)
        {
            return _scopes.Contains(scope);
        }
    }

    /// <summary>Records a scope the connection now listens to; <see langword="false"/> once it stopped (a hub method racing the disconnect).</summary>
    public bool TryAddScope(string scope)
    {
        lock (_lock)
        {
            if (_stopped)
            {
                return false;
            }

            _scopes.Add(scope);
            return true;
        }
    }

    public bool RemoveScope(string scope)
    {
        lock (_lock)
        {
            return _scopes.Remove(scope);
        }
    }

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
                if (_queue.Complete())
                {
                    _metrics.SlowConsumerClosed();
                    LogSlowConsumer(_logger, _connection.ConnectionId, _queue.PendingBytes);
                    _connection.Abort();
                }

                return false;
            default:
                return false;
        }
    }

    /// <summary>Starts the send loop; a connection whose token expires is closed then.</summary>
    public void Start(DateTimeOffset? expiresAt)
    {
        ExpiresAt = expiresAt;
        _sending = SendLoopAsync();
        _expiry = ExpiryTimer.Start(_timeProvider, expiresAt, () => _ = CloseExpiredAsync());
    }

    /// <summary>Stops sending, waits for the send loop, and returns the scopes to leave; no scope can be added afterwards.</summary>
    public async Task<string[]> StopAsync()
    {
        string[] scopes;
        lock (_lock)
        {
            _stopped = true;
            scopes = [.. _scopes];
            _scopes.Clear();
        }

        _expiry?.Dispose();
        _queue.Complete();
        await _sending.ConfigureAwait(false);
        return scopes;
    }

    private async Task CloseExpiredAsync()
    {
        _queue.Complete();
        try
        {
            // The client is told why, status first like the hub's refusals (a 401 asks for a fresh token),
            // and that a reconnect with one is welcome.
            await _connection.WriteAsync(new CloseMessage("401: Token expired; reconnect with a fresh token.", allowReconnect: true)).AsTask()
                .WaitAsync(TimeSpan.FromSeconds(2), _timeProvider).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is TimeoutException || IsGone(ex))
        {
        }

        _connection.Abort();
    }

    /// <summary>
    /// The dispatcher's write, the send loop being idle: SignalR copies the invocation to the
    /// connection's output and returns at once unless the client is behind.
    /// </summary>
    ValueTask IFrameWriter.WriteAsync(EventFrame frame)
        => _connection.WriteAsync(frame.Encoded(EventInvocation), _connection.ConnectionAborted);

    void IFrameWriter.WriteFailed(Exception exception)
    {
        _queue.Complete();
        if (!IsGone(exception))
        {
            LogWriteFailed(_logger, exception, _connection.ConnectionId);
            _connection.Abort();
        }
    }

    private async Task SendLoopAsync()
    {
        try
        {
            while (await _queue.WaitAsync().ConfigureAwait(false))
            {
                var sent = 0;
                while (_queue.TryTake(out var frame))
                {
                    await _connection.WriteAsync(frame.Encoded(EventInvocation), _connection.ConnectionAborted).ConfigureAwait(false);
                    _queue.Sent(frame.Payload.Length);
                    if (++sent == SendQueue.CountedTogether)
                    {
                        _metrics.FramesSentBy(sent);
                        sent = 0;
                    }
                }

                if (sent > 0)
                {
                    _metrics.FramesSentBy(sent);
                }
            }
        }
        catch (Exception ex) when (IsGone(ex))
        {
            // The connection ended while an event was being written.
            _queue.Complete();
        }
    }

    // SignalR's connection also refuses a write once its output has completed (InvalidOperationException).
    private static bool IsGone(Exception ex) => ClientGone.Is(ex) || ex is InvalidOperationException;
}
