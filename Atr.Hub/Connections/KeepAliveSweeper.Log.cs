using Microsoft.Extensions.Logging;

namespace Atr.Hub.Connections;

internal partial class KeepAliveSweeper
{
    [LoggerMessage(1, LogLevel.Error, "Keep-alive of a connection failed; the connection is aborted.")]
    private static partial void LogKeepAliveFailed(ILogger logger, Exception exception);
}
