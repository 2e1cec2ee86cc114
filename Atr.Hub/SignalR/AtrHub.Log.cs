using Microsoft.Extensions.Logging;

namespace Atr.Hub.SignalR;

public partial class AtrHub
{
    [LoggerMessage(1, LogLevel.Warning, "Could not subscribe to scope '{Scope}' for a SignalR connection.")]
    private static partial void LogSubscribeFailed(ILogger logger, string scope, Exception exception);
}
