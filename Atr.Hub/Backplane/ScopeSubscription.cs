using System.Net;
using StackExchange.Redis;

namespace Atr.Hub.Backplane;

/// <summary>
/// One scope's subscription on the node's subscriber connection: its message queue, and the Redis
/// server it was last seen subscribed through — the Redis, or on a cluster the master of the shard
/// that owns the scope's slot, which changes when that master fails over or the slot moves.
/// </summary>
/// <remarks>
/// On a cluster the client library may move a subscription by itself. A scope whose subscription
/// was lost or moved is <see cref="Interrupted"/> until the node has seen it subscribed through the
/// slot's owner again and starts filling the gap; both steps run under the subscription's lock, so
/// that the scope starts parking before anything from the new server is delivered, and only once.
/// </remarks>
internal sealed class ScopeSubscription(string scope, RedisChannel channel, ChannelMessageQueue queue, EndPoint? shard)
{
    private readonly Lock _lock = new();
    private EndPoint? _shard = shard;
    private bool _interrupted;

    public string Scope { get; } = scope;

    public RedisChannel Channel { get; } = channel;

    public ChannelMessageQueue Queue { get; } = queue;

    /// <summary>The server the subscription was last seen going through; null when the client library had none for it.</summary>
    public EndPoint? Shard => Volatile.Read(ref _shard);

    /// <summary>Whether the subscription was lost or moved and the scope's gap is not being filled yet.</summary>
    public bool Interrupted => Volatile.Read(ref _interrupted);

    /// <summary>Marks the subscription lost; the first time, <paramref name="park"/> makes its scope hold what arrives.</summary>
    public void Interrupt(Action<string> park)
    {
        lock (_lock)
        {
            if (!_interrupted)
            {
                park(Scope);
                Volatile.Write(ref _interrupted, true);
            }
        }
    }

    /// <summary>
    /// The subscription goes through <paramref name="current"/>. When it was interrupted, or went
    /// through another server until now (a move nothing announced: <paramref name="park"/> is called
    /// first), it is no longer interrupted and its scope's gap is to be filled.
    /// </summary>
    /// <returns>Whether the scope's gap is to be filled.</returns>
    public bool Resume(EndPoint current, Action<string> park)
    {
        lock (_lock)
        {
            if (!_interrupted && current.Equals(_shard))
            {
                return false;
            }

            if (!_interrupted)
            {
                park(Scope);
            }

            Volatile.Write(ref _shard, current);
            Volatile.Write(ref _interrupted, false);
            return true;
        }
    }
}
