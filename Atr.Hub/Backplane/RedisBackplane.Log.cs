using Microsoft.Extensions.Logging;

namespace Atr.Hub.Backplane;

internal partial class RedisBackplane
{
    [LoggerMessage(1, LogLevel.Warning, "Subscribing waits for Redis (scope '{Scope}'); clients are served meanwhile and get atr.resync once it is done.")]
    private static partial void LogSubscribeDeferred(ILogger logger, string scope, Exception exception);

    [LoggerMessage(2, LogLevel.Warning, "Published to scope '{Scope}' on this node only: Redis is unreachable.")]
    private static partial void LogPublishedInNodeOnly(ILogger logger, string scope, Exception exception);

    [LoggerMessage(3, LogLevel.Warning, "The Redis subscriber connection is up but nothing arrived on it for {SilenceMs:F0} ms, not even the node's probe; replacing it.")]
    private static partial void LogSubscriberSilent(ILogger logger, double silenceMs);

    [LoggerMessage(4, LogLevel.Information, "Replaced the Redis subscriber connection; {Scopes} scopes subscribed again.")]
    private static partial void LogSubscriberReplaced(ILogger logger, int scopes);

    [LoggerMessage(6, LogLevel.Warning, "Subscribing the node's scopes again waits for Redis; it is done when the connection comes back.")]
    private static partial void LogRestoreDeferred(ILogger logger, Exception exception);

    [LoggerMessage(7, LogLevel.Warning, "Redis at {Address} is unreachable ({Reason}). Meanwhile the node accepts clients and delivers what is published through it to its own clients; once Redis is back it subscribes their scopes and sends them atr.resync. /health/ready answers 503 until then.")]
    private static partial void LogUnreachable(ILogger logger, string address, string reason);

    [LoggerMessage(8, LogLevel.Warning, "Redis at {Address} is still unreachable after {Seconds:F0} s ({Reason}).")]
    private static partial void LogStillUnreachable(ILogger logger, string address, double seconds, string reason);

    [LoggerMessage(9, LogLevel.Information, "Redis at {Address} is reachable again after {Seconds:F1} s.")]
    private static partial void LogReachableAgain(ILogger logger, string address, double seconds);

    [LoggerMessage(5, LogLevel.Warning, "Could not replace the silent Redis subscriber connection; trying again at the next probe.")]
    private static partial void LogReplaceFailed(ILogger logger, Exception exception);
}
