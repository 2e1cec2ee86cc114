using Microsoft.Extensions.Logging;

namespace Atr.Publishing.Redis;

internal partial class RedisRegistryAnnouncer
{
    [LoggerMessage(1, LogLevel.Debug, "Announced {Count} event names to '{Key}'.")]
    private static partial void LogAnnounced(ILogger logger, int count, string key);

    [LoggerMessage(2, LogLevel.Warning, "Could not announce the event names to '{Key}'; retrying in {RetrySeconds} s.")]
    private static partial void LogAnnounceFailed(ILogger logger, string key, double retrySeconds, Exception exception);
}
