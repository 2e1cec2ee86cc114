using System.Net;
using StackExchange.Redis;

namespace Atr.Hub.Backplane;

/// <summary>
/// The node's probes on a Redis Cluster, one per shard: a subscription can go silent through one
/// master while the others deliver, so each master gets a <see cref="ShardProbe"/> of its own, a
/// sharded channel <c>&lt;prefix&gt;atr-node:&lt;node id&gt;:&lt;n&gt;</c> whose name is picked so that the
/// master owns its slot. A failover or a slot move takes the probe along with the slot, like any
/// scope; a master left without one (it gained its first slots) gets a new one.
/// </summary>
/// <remarks>Changed only under the backplane's gate; read from anywhere.</remarks>
internal sealed class ShardProbes(string prefix, TimeProvider time)
{
    // Names tried for one master before giving up: with n masters about n are needed.
    private const int MaxNameAttempts = 100_000;

    private readonly string _node = Guid.NewGuid().ToString("N");
    private ShardProbe[] _probes = [];
    private int _nextName;

    public IReadOnlyList<ShardProbe> All => Volatile.Read(ref _probes);

    /// <summary>
    /// Gives every connected master a probe, and subscribes each probe through the master that owns
    /// its slot now: the client library moves subscriptions by itself on a failover or a slot move,
    /// and where it has not (yet), the node does. A probe subscribed through a new master goes out at once.
    /// </summary>
    /// <returns>Whether every probe is subscribed.</returns>
    public async Task<bool> FollowAsync(ConnectionMultiplexer subscriber)
    {
        var redis = subscriber.GetSubscriber();
        var probes = new List<ShardProbe>(Volatile.Read(ref _probes));
        var complete = true;
        foreach (var probe in probes)
        {
            var current = redis.SubscribedEndpoint(probe.Channel);
            var owner = ClusterRouting.Owner(subscriber, probe.Name);
            if (current is null || (owner is not null && !current.Equals(owner)))
            {
                probe.Lost();
                if (owner is null)
                {
                    complete = false;
                    continue;
                }

                await redis.UnsubscribeAsync(probe.Channel).ConfigureAwait(false);
                await probe.SubscribeAsync(redis).ConfigureAwait(false);
                current = redis.SubscribedEndpoint(probe.Channel);
                if (current is null)
                {
                    complete = false;
                    continue;
                }
            }

            if (!current.Equals(probe.Shard))
            {
                probe.SubscribedThrough(current);
                probe.Send(redis);
            }
        }

        foreach (var master in Masters(subscriber))
        {
            if (probes.Any(p => master.Equals(ClusterRouting.Owner(subscriber, p.Name))))
            {
                continue;
            }

            if (NameOwnedBy(subscriber, master) is not { } name)
            {
                continue;
            }

            var probe = new ShardProbe(name, time);
            await probe.SubscribeAsync(redis).ConfigureAwait(false);
            probes.Add(probe);
            if (redis.SubscribedEndpoint(probe.Channel) is { } through)
            {
                probe.SubscribedThrough(through);
                probe.Send(redis);
            }
            else
            {
                complete = false;
            }
        }

        Volatile.Write(ref _probes, [.. probes]);
        return complete;
    }

    /// <summary>Sends a probe through every shard where none is out.</summary>
    public void Send(ISubscriber redis)
    {
        foreach (var probe in All)
        {
            if (probe.Shard is not null)
            {
                probe.Send(redis);
            }
        }
    }

    /// <summary>
    /// A probe overdue on a shard whose subscription the client library believes is up: the
    /// connection looks healthy and delivers nothing (a "zombie").
    /// </summary>
    public ShardProbe? Silent(ISubscriber redis, TimeSpan interval, out TimeSpan waited)
    {
        foreach (var probe in All)
        {
            if (probe.IsOverdue(interval, out waited) && redis.SubscribedEndpoint(probe.Channel) is not null)
            {
                return probe;
            }
        }

        waited = TimeSpan.Zero;
        return null;
    }

    /// <summary>Whether there is a probe and every one is proven.</summary>
    public bool AreProven(TimeSpan interval)
    {
        var probes = All;
        return probes.Count > 0 && probes.All(p => p.IsProven(interval));
    }

    /// <summary>The connection to <paramref name="shard"/> failed: its probe is no longer subscribed.</summary>
    public void Lost(EndPoint shard)
    {
        foreach (var probe in All)
        {
            if (shard.Equals(probe.Shard))
            {
                probe.Lost();
            }
        }
    }

    /// <summary>Forgets every probe: the subscriber connection they were subscribed on was replaced.</summary>
    public void Clear() => Volatile.Write(ref _probes, []);

    /// <summary>The connected masters, which own the cluster's slots.</summary>
    private static IEnumerable<EndPoint> Masters(ConnectionMultiplexer subscriber)
        => subscriber.GetServers().Where(s => s.IsConnected && !s.IsReplica && s.ServerType == ServerType.Cluster).Select(s => s.EndPoint);

    private string? NameOwnedBy(ConnectionMultiplexer subscriber, EndPoint master)
    {
        for (var attempt = 0; attempt < MaxNameAttempts; attempt++)
        {
            var name = $"{prefix}atr-node:{_node}:{_nextName++}";
            if (master.Equals(ClusterRouting.Owner(subscriber, name)))
            {
                return name;
            }
        }

        return null;
    }
}
