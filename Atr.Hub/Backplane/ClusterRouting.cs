using System.Net;
using StackExchange.Redis;

namespace Atr.Hub.Backplane;

/// <summary>Which master of a Redis Cluster owns a key's (or a sharded channel's) slot, as the client library knows it.</summary>
internal static class ClusterRouting
{
    /// <summary>The connected master that owns the slot of <paramref name="key"/>; null while the library knows of none (the master failed and no replica is promoted yet).</summary>
    public static EndPoint? Owner(ConnectionMultiplexer subscriber, string key)
    {
        try
        {
            var server = subscriber.GetServer(key, flags: CommandFlags.DemandMaster);
            return server.IsConnected && !server.IsReplica ? server.EndPoint : null;
        }
        catch (InvalidOperationException)
        {
            // No server the library could route the slot to.
            return null;
        }
        catch (RedisException)
        {
            return null;
        }
    }
}
