using Microsoft.Extensions.Logging;

namespace Atr.Hub.Connections;

internal partial class WebSocketConnection
{
    [LoggerMessage(1, LogLevel.Information, "Connection {ConnectionId} on scope '{Scope}' is a slow consumer ({PendingBytes} bytes queued); closing it.")]
    private static partial void LogSlowConsumer(ILogger logger, string connectionId, string scope, long pendingBytes);

    [LoggerMessage(3, LogLevel.Debug, "Connection {ConnectionId} on scope '{Scope}' ended with close code {CloseCode}.")]
    private static partial void LogClosed(ILogger logger, string connectionId, string scope, int closeCode);

    [LoggerMessage(4, LogLevel.Error, "Writing an event to connection {ConnectionId} on scope '{Scope}' failed; closing it.")]
    private static partial void LogWriteFailed(ILogger logger, Exception exception, string connectionId, string scope);

    [LoggerMessage(2, LogLevel.Debug, "Connection {ConnectionId} sent a {Length}-byte message; ignored.")]
    private static partial void LogIgnoredMessage(ILogger logger, string connectionId, int length);
}
