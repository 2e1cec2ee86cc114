using Atr.Hub.Connections;
using Atr.Hub.Diagnostics;
using Atr.Hub.Subscriptions;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Logging;

namespace Atr.Hub.SignalR;

/// <summary>
/// One SignalR client as an event recipient, whatever number of scopes it listens to: the same
/// bounded queue and single send loop as a raw connection, writing each event's once-serialized
/// invocation. A client that overflows its queue is aborted; it delays no one else.
/// </summary>
internal sealed partial class SignalRConnection : IEventRecipient
{
    private readonly HubConnectionContext _connection;
    private readonly SendQueue _queue;
    private readonly HubMetrics _metrics;
    private readonly ILogger _logger;
    private Task _sending = Task.CompletedTask;

    public SignalRConnection(HubConnectionContext connection, AtrHubOptions options, HubMetrics metrics, ILogger logger)
    {
        _connection = connection;
        _queue = new SendQueue(options.MaxSendQueueBytes);
        _metrics = metrics;
        _logger = logger;
    }

    /// <summary>The scopes this connection listens to. Hub methods of one connection run one at a time.</summary>
    public HashSet<string> Scopes { get; } = new(StringComparer.Ordinal);

    public long PendingBytes => _queue.PendingBytes;

    public bool Deliver(EventFrame frame)
    {
        switch (_queue.TryEnqueue(frame))
        {
            case SendQueue.Result.Queued:
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

    public void Start() => _sending = SendLoopAsync();

    /// <summary>Stops sending and waits for the send loop to end.</summary>
    public Task StopAsync()
    {
        _queue.Complete();
        return _sending;
    }

    private async Task SendLoopAsync()
    {
        try
        {
            while (await _queue.NextAsync().ConfigureAwait(false) is { } frame)
            {
                await _connection.WriteAsync(frame.HubMessage, _connection.ConnectionAborted).ConfigureAwait(false);
                _queue.Sent(frame);
                _metrics.FrameSent();
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException or InvalidOperationException)
        {
            // The connection ended while an event was being written.
            _queue.Complete();
        }
    }

    [LoggerMessage(1, LogLevel.Information, "SignalR connection {ConnectionId} is a slow consumer ({PendingBytes} bytes queued); aborting it.")]
    private static partial void LogSlowConsumer(ILogger logger, string connectionId, long pendingBytes);
}
