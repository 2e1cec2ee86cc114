using Microsoft.Extensions.Logging;

namespace Atr.Hub.Subscriptions;

internal partial class SubscriptionManager
{
    [LoggerMessage(1, LogLevel.Debug, "Subscribed to scope '{Scope}'.")]
    private static partial void LogSubscribed(ILogger logger, string scope);

    [LoggerMessage(3, LogLevel.Warning, "Unsubscribing from scope '{Scope}' failed; the backplane may still send its events, which are dropped here.")]
    private static partial void LogUnsubscribeFailed(ILogger logger, string scope, Exception exception);

    [LoggerMessage(2, LogLevel.Debug, "Unsubscribed from scope '{Scope}'.")]
    private static partial void LogUnsubscribed(ILogger logger, string scope);
}
