using Microsoft.Extensions.Logging;

namespace Atr.Hub.Protocol;

internal partial class WebSocketEndpoint
{
    [LoggerMessage(1, LogLevel.Warning, "Could not subscribe to scope '{Scope}'; the connection was refused with 503.")]
    private static partial void LogSubscribeFailed(ILogger logger, string scope, Exception exception);
}
