using System.Net;
using StackExchange.Redis;

namespace Atr.Hub.Backplane;

/// <summary>
/// A sharded channel of the node's own, in a slot of one shard of a Redis Cluster: the node
/// subscribes it and publishes empty probes on it, and a probe that comes back proves the node's
/// subscription through that shard end to end.
/// </summary>
internal sealed class ShardProbe(string name, TimeProvider time)
{
    private EndPoint? _shard;

    // Timestamps (TimeProvider ticks): when the probe was last subscribed through a server, when a
    // probe last arrived, and when the last one went out.
    private long _subscribedAt;
    private long _lastHeard;
    private long _sentAt;

    public string Name { get; } = name;

    public RedisChannel Channel { get; } = RedisChannel.Sharded(name);

    /// <summary>The master the probe was last seen subscribed through; null while it is not.</summary>
    public EndPoint? Shard => Volatile.Read(ref _shard);

    public Task SubscribeAsync(ISubscriber redis)
        => redis.SubscribeAsync(Channel, (_, _) => Volatile.Write(ref _lastHeard, time.GetTimestamp()));

    /// <summary>The probe is subscribed through <paramref name="shard"/> now: proven again once a probe comes back.</summary>
    public void SubscribedThrough(EndPoint shard)
    {
        // A probe that went out before says nothing about this subscription.
        Volatile.Write(ref _sentAt, 0);
        Volatile.Write(ref _subscribedAt, time.GetTimestamp());
        Volatile.Write(ref _shard, shard);
    }

    /// <summary>The subscription was lost with its shard's connection.</summary>
    public void Lost() => Volatile.Write(ref _shard, null);

    /// <summary>Publishes an empty probe, unless one is out already.</summary>
    public void Send(ISubscriber redis)
    {
        if (IsOut)
        {
            return;
        }

        Volatile.Write(ref _sentAt, time.GetTimestamp());
        redis.Publish(Channel, RedisValue.EmptyString, CommandFlags.FireAndForget);
    }

    /// <summary>A probe went out and has not come back yet.</summary>
    public bool IsOut => Volatile.Read(ref _sentAt) > Volatile.Read(ref _lastHeard);

    /// <summary>A probe went out more than <paramref name="interval"/> ago and has not come back.</summary>
    public bool IsOverdue(TimeSpan interval, out TimeSpan waited)
    {
        var sentAt = Volatile.Read(ref _sentAt);
        waited = time.GetElapsedTime(sentAt);
        return sentAt > Volatile.Read(ref _lastHeard) && waited > interval;
    }

    /// <summary>Subscribed, a probe came back since, and none is overdue.</summary>
    public bool IsProven(TimeSpan interval)
        => Shard is not null && Volatile.Read(ref _lastHeard) >= Volatile.Read(ref _subscribedAt) && !IsOverdue(interval, out _);
}
