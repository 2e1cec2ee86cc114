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

    [LoggerMessage(10, LogLevel.Information, "Redis is a cluster of {Masters} masters: each scope is subscribed with SSUBSCRIBE on the shard that owns its slot.")]
    private static partial void LogCluster(ILogger logger, int masters);

    [LoggerMessage(11, LogLevel.Warning, "Lost the subscriptions through the Redis shard at {Shard}: {Scopes} scope(s) hold what arrives until they are subscribed again, on the replica promoted in its place.")]
    private static partial void LogShardLost(ILogger logger, string shard, int scopes);

    [LoggerMessage(12, LogLevel.Information, "Subscribed {Scopes} scope(s) again after a failover or a moved slot, through {Shards}; {Resynced} got atr.resync, the others the events they missed from history.")]
    private static partial void LogScopesFollowed(ILogger logger, int scopes, string shards, int resynced);

    [LoggerMessage(13, LogLevel.Warning, "The probe through the Redis shard at {Shard} did not come back for {SilenceMs:F0} ms while its connection is up; replacing the subscriber connection.")]
    private static partial void LogShardSilent(ILogger logger, string shard, double silenceMs);

    [LoggerMessage(14, LogLevel.Information, "Scopes have waited {Seconds:F1} s for the master that owns their slot; asking Redis for the cluster's topology.")]
    private static partial void LogAskingForTopology(ILogger logger, double seconds);

    [LoggerMessage(15, LogLevel.Debug, "Following the cluster's shards waits ({Error}); looking again shortly.")]
    private static partial void LogFollowDeferred(ILogger logger, string error);

    [LoggerMessage(5, LogLevel.Warning, "Could not replace the silent Redis subscriber connection; trying again at the next probe.")]
    private static partial void LogReplaceFailed(ILogger logger, Exception exception);
}
