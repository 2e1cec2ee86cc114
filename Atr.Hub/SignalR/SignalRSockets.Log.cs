using Microsoft.Extensions.Logging;

namespace Atr.Hub.SignalR;

internal partial class SignalRSockets
{
    [LoggerMessage(1, LogLevel.Error, "SignalR's heartbeat of connection {ConnectionId} failed; the connection is aborted.")]
    private static partial void LogBeatFailed(ILogger logger, Exception exception, string connectionId);
}
