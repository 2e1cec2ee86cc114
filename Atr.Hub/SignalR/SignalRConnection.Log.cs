using Microsoft.Extensions.Logging;

namespace Atr.Hub.SignalR;

internal partial class SignalRConnection
{
    [LoggerMessage(1, LogLevel.Information, "SignalR connection {ConnectionId} is a slow consumer ({PendingBytes} bytes queued); aborting it.")]
    private static partial void LogSlowConsumer(ILogger logger, string connectionId, long pendingBytes);

    [LoggerMessage(2, LogLevel.Error, "Writing an event to SignalR connection {ConnectionId} failed; aborting it.")]
    private static partial void LogWriteFailed(ILogger logger, Exception exception, string connectionId);
}
