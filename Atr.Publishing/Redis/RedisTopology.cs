using StackExchange.Redis;

namespace Atr.Publishing.Redis;

/// <summary>
/// What a connection reaches: a Redis Cluster takes sharded pub/sub (<c>SPUBLISH</c>,
/// <c>SSUBSCRIBE</c>), which costs only the shard that owns a channel's slot; anything else (one
/// Redis, a replica set behind Sentinel, a proxy) keeps plain <c>PUBLISH</c> / <c>SUBSCRIBE</c>.
/// </summary>
internal static class RedisTopology
{
    /// <summary>
    /// Whether <paramref name="connection"/> reaches a Redis Cluster, as the client library found out
    /// when it connected; null while no server is connected, when it cannot be known yet.
    /// </summary>
    public static bool? IsCluster(IConnectionMultiplexer connection)
    {
        foreach (var server in connection.GetServers())
        {
            if (server.IsConnected)
            {
                return server.ServerType == ServerType.Cluster;
            }
        }

        return null;
    }
}
