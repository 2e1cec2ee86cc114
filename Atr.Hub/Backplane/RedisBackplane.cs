using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Net;
using Atr.Hub.Diagnostics;
using Atr.Hub.History;
using Atr.Hub.Subscriptions;
using Atr.Publishing.Redis;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Atr.Hub.Backplane;

/// <summary>
/// Redis pub/sub: one plain <c>SUBSCRIBE &lt;prefix&gt;&lt;scope&gt;</c> per scope the node serves,
/// never a pattern, so a <c>PUBLISH</c> costs Redis the same however many scopes exist. On a Redis
/// Cluster, one <c>SSUBSCRIBE</c> per scope instead, on the shard that owns the scope's slot, so that
/// a publish costs that shard alone.
/// </summary>
/// <remarks>
/// <para>
/// Each scope gets its own <see cref="ChannelMessageQueue"/>, which StackExchange.Redis drains in
/// order: events of one scope keep their publish order, scopes do not wait for each other.
/// </para>
/// <para>
/// The subscriptions live on a connection of the backplane's own, so that it can be replaced when
/// it goes silent: a subscriber whose TCP connection looks healthy while nothing arrives (a "zombie")
/// is the most common silent failure of Redis-backed hubs. <see cref="RunAsync"/> proves the
/// subscription end to end with a probe published on the node's own channel, and replaces the
/// connection when the probe does not come back. While Redis is away, clients are still accepted and
/// in-node publishes still reach them; their scopes are subscribed once Redis is back, and every
/// client then gets the <c>atr.resync</c> event.
/// </para>
/// <para>
/// On a cluster each shard can fail on its own. When a master fails, the scopes subscribed through
/// it park what arrives and the node is unready; the client library subscribes them again once a
/// replica is promoted (or a slot moved), and where it has not, the node does it itself
/// (<see cref="FollowShardsAsync"/>); then each scope's gap is filled from history. Every master
/// gets a probe of its own (<see cref="ShardProbes"/>).
/// </para>
/// </remarks>
internal sealed partial class RedisBackplane : IBackplane, IAsyncDisposable
{
    private readonly RedisConnectionProvider _publisher;
    private readonly EventDispatcher _dispatcher;
    private readonly HistoryRecovery _history;
    private readonly HubMetrics _metrics;
    private readonly AtrHubOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly RedisChannel _probeChannel;
    private readonly ShardProbes _shardProbes;
    private readonly Lazy<Task> _started;
    private readonly Action<string> _park;

    // Scope → its subscription on the current subscriber connection; null while the scope waits for
    // the connection (Redis away, the connection just replaced, or on a cluster the master that owns
    // the scope's slot). Changed under _gate, which also orders every SUBSCRIBE and UNSUBSCRIBE of
    // the node, so the two never cross on the wire; read from anywhere.
    private readonly ConcurrentDictionary<string, ScopeSubscription?> _scopes = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _gate = new(1, 1);

    // Released when a cluster's shards may have changed: FollowShardsAsync looks at every subscription.
    private readonly SemaphoreSlim _shardsChanged = new(0, 1);
    private ConnectionMultiplexer? _subscriber;
    private int _waiting;
    private int _interrupted;
    private bool _probeSubscribed;
    private bool _disposed;

    // Whether Redis is a cluster: -1 until the subscriber first connected, then 0 or 1.
    private int _cluster = -1;

    // Set when the whole subscription was lost (every scope parked at once): on a cluster every scope
    // is filled from history together once every one is subscribed again.
    private int _restoreAll;

    // On a cluster, since when some scope waits for the master that owns its slot (0: none does),
    // and when the node last asked Redis for the cluster's topology itself.
    private long _ownerMissingSince;
    private long _reconfiguredAt;

    // Timestamps (TimeProvider ticks): the last message of any kind on the subscriber connection,
    // and when the current connection was made or restored. A connection is proven once a message
    // arrived after it was (re)made.
    private long _lastHeard;
    private long _connectedAt;

    // When the probe that has not come back yet was published; older than _lastHeard when none is out.
    private long _probeSentAt;

    // Since when the subscriber connection cannot reach Redis (0: it can), and when that was last
    // logged: an outage is logged when it starts, then at most once per UnreachableLogInterval.
    private long _unreachableSince;
    private long _unreachableLogged;
    private string? _problem;

    /// <summary>How often an outage is logged again while it lasts.</summary>
    internal static readonly TimeSpan UnreachableLogInterval = TimeSpan.FromSeconds(30);

    /// <summary>How long the first connection may take before the node looks at why.</summary>
    private static readonly TimeSpan FirstConnectPatience = TimeSpan.FromSeconds(1);

    /// <summary>On a cluster, how soon the node looks again at a scope that waits for its shard.</summary>
    private static readonly TimeSpan FollowRetry = TimeSpan.FromMilliseconds(250);

    /// <summary>On a cluster, how long a scope may wait for its slot's owner before the node asks Redis for the topology itself (and how often it asks again).</summary>
    private static readonly TimeSpan OwnerPatience = TimeSpan.FromSeconds(1);

    public RedisBackplane(
        RedisConnectionProvider publisher,
        EventDispatcher dispatcher,
        HistoryRecovery history,
        HubMetrics metrics,
        IOptions<AtrHubOptions> options,
        TimeProvider time,
        ILogger<RedisBackplane> logger)
    {
        _publisher = publisher;
        _dispatcher = dispatcher;
        _history = history;
        _metrics = metrics;
        _options = options.Value;
        _time = time;
        _logger = logger;
        _probeChannel = NodeChannel();
        _shardProbes = new ShardProbes(_options.ChannelPrefix, time);
        _started = new Lazy<Task>(ConnectFirstAsync);
        _park = scope => _history.ScopesLost([scope]);
        metrics.ObserveShards(() => Shards);
    }

    public string Name => "redis";

    /// <summary>Why Redis cannot be reached, in one line, once the node has found out; null while it can.</summary>
    public string? Problem => Volatile.Read(ref _problem);

    /// <summary>
    /// Events flow: the subscriber is connected, every scope is subscribed on it, a message (an event
    /// or the node's probe) arrived on it since it was made, and no probe is overdue. On a cluster:
    /// every scope is subscribed through the master that owns its slot, none waits for its gap to be
    /// filled, and every master's probe came back.
    /// </summary>
    public bool IsDelivering
    {
        get
        {
            if (!IsSubscriberConnected(_subscriber) || Volatile.Read(ref _waiting) != 0)
            {
                return false;
            }

            if (IsCluster)
            {
                return Volatile.Read(ref _restoreAll) == 0
                    && !_scopes.Values.Any(s => s is { Interrupted: true })
                    && _shardProbes.AreProven(_options.ProbeInterval);
            }

            return Volatile.Read(ref _lastHeard) >= Volatile.Read(ref _connectedAt) && !ProbeOverdue(out _);
        }
    }

    /// <summary>
    /// The servers the node's subscriptions go through — the Redis, or on a cluster the masters of
    /// the shards — each with the number of scopes subscribed through it; a server the node only
    /// probes has none.
    /// </summary>
    public IReadOnlyList<BackplaneShard> Shards
    {
        get
        {
            var shards = new SortedDictionary<string, int>(StringComparer.Ordinal);
            if (IsCluster)
            {
                foreach (var probe in _shardProbes.All)
                {
                    if (probe.Shard is { } endPoint)
                    {
                        shards.TryAdd(EndPointCollection.ToString(endPoint), 0);
                    }
                }
            }
            else if (_probeSubscribed && _subscriber?.GetSubscriber().SubscribedEndpoint(_probeChannel) is { } endPoint)
            {
                shards.TryAdd(EndPointCollection.ToString(endPoint), 0);
            }

            foreach (var subscription in _scopes.Values)
            {
                if (subscription is { Interrupted: false, Shard: { } endPoint })
                {
                    var name = EndPointCollection.ToString(endPoint);
                    shards[name] = shards.GetValueOrDefault(name) + 1;
                }
            }

            return [.. shards.Select(pair => new BackplaneShard(pair.Key, pair.Value))];
        }
    }

    public async Task SubscribeAsync(string scope, CancellationToken cancellationToken)
    {
        // The first connect attempt is awaited: a client of a freshly started node is subscribed
        // when its handshake completes, as at any other time Redis is up.
        await _started.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // SubscriptionManager subscribes a scope once; a second queue would deliver twice.
            if (!_scopes.TryAdd(scope, null))
            {
                throw new InvalidOperationException($"Scope '{scope}' is already subscribed.");
            }

            var subscriber = _subscriber;
            if (IsSubscriberConnected(subscriber))
            {
                FindOutTopology(subscriber);
                if (IsCluster && ClusterRouting.Owner(subscriber, _options.ChannelPrefix + scope) is null)
                {
                    // The master that owns the scope's slot is away (failing over): the scope waits for
                    // it, holding what arrives meanwhile, and its gap is filled once it is subscribed.
                    _history.ScopesLost([scope]);
                    _waiting++;
                    SignalShardsChanged();
                    return;
                }

                try
                {
                    _scopes[scope] = await SubscribeOnAsync(subscriber, scope).ConfigureAwait(false);
                    return;
                }
                catch (Exception ex) when (ex is RedisException or TimeoutException)
                {
                    // Lost just now: the scope waits for the connection like any other.
                    LogSubscribeDeferred(_logger, scope, ex);
                    if (IsCluster)
                    {
                        _history.ScopesLost([scope]);
                        SignalShardsChanged();
                    }
                }
                catch
                {
                    _scopes.TryRemove(scope, out _);
                    throw;
                }
            }

            // Redis is away. The client is accepted all the same: in-node publishes reach it, and
            // once the scope is subscribed it gets atr.resync, as every client after an outage.
            _waiting++;
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task UnsubscribeAsync(string scope)
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (!_scopes.TryRemove(scope, out var subscription))
            {
                return;
            }

            if (subscription is null)
            {
                _waiting--;
                return;
            }

            // Removed from the client library's registry before UNSUBSCRIBE is sent, so a connection
            // restored later does not subscribe it again even when this throws.
            await subscription.Queue.UnsubscribeAsync().ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task<bool> PublishAsync(string scope, string eventId, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        var channel = _options.ChannelPrefix + scope;
        if (IsSubscriberConnected(_subscriber))
        {
            await _publisher.PublishAsync(channel, eventId, payload, cancellationToken).ConfigureAwait(false);
            return true;
        }

        // Cut off from Redis: this node's own clients get the event now (it would not come back to
        // the node through Redis), and Redis gets it too if the publishing connection still works.
        _dispatcher.Dispatch(scope, payload.ToArray(), fromBackplane: false);
        var publishing = _publisher.GetConnectionAsync();
        if (publishing.IsCompletedSuccessfully && publishing.Result.IsConnected)
        {
            try
            {
                await _publisher.PublishAsync(channel, eventId, payload, cancellationToken).ConfigureAwait(false);
                return true;
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
                LogPublishedInNodeOnly(_logger, scope, ex);
            }
        }

        return false;
    }

    /// <summary>
    /// Connects, then every <see cref="AtrHubOptions.ProbeInterval"/> proves the subscription: when
    /// nothing arrived for half an interval it publishes a probe on the node's own channel, and when
    /// a probe has not come back within an interval on a connection that claims to be up, it replaces
    /// the connection and subscribes every scope again. A silent subscription is so found within two
    /// intervals. Only a probe that went out and did not return counts: a late tick of a busy node
    /// sends nothing and proves nothing, but is not taken for a silent Redis.
    /// </summary>
    public async Task RunAsync(CancellationToken stoppingToken)
    {
        await _started.Value.WaitAsync(stoppingToken).ConfigureAwait(false);
        await Task.WhenAll(ProveAsync(stoppingToken), FollowShardsAsync(stoppingToken)).ConfigureAwait(false);
    }

    private async Task ProveAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(_options.ProbeInterval, _time);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            var subscriber = _subscriber;
            if (!IsSubscriberConnected(subscriber))
            {
                // Down, not silent: the client library reconnects and resubscribes by itself.
                await ReportUnreachableAsync(stoppingToken).ConfigureAwait(false);
                continue;
            }

            ReportReachable();

            if (IsCluster)
            {
                await ProveShardsAsync(subscriber).ConfigureAwait(false);
                continue;
            }

            if (!Volatile.Read(ref _probeSubscribed) || Volatile.Read(ref _waiting) != 0)
            {
                // Connected without the restoration having run (or having failed half way): finish it.
                await RestoreAsync(subscriber).ConfigureAwait(false);
                continue;
            }

            if (ProbeOverdue(out var waited))
            {
                LogSubscriberSilent(_logger, waited.TotalMilliseconds);
                await ReplaceSubscriberAsync(subscriber).ConfigureAwait(false);
            }
            else if (!ProbeOut() && _time.GetElapsedTime(Volatile.Read(ref _lastHeard)) >= _options.ProbeInterval / 2)
            {
                Probe(subscriber);
            }
        }
    }

    /// <summary>
    /// On a cluster, once per probe interval: a shard whose probe did not come back while its
    /// subscription claims to be up has gone silent, and the connection is replaced as on one Redis;
    /// otherwise every shard gets a probe, and every subscription is looked at once more.
    /// </summary>
    private async Task ProveShardsAsync(ConnectionMultiplexer subscriber)
    {
        var redis = subscriber.GetSubscriber();
        if (_shardProbes.Silent(redis, _options.ProbeInterval, out var waited) is { } silent)
        {
            LogShardSilent(_logger, silent.Shard is { } shard ? EndPointCollection.ToString(shard) : silent.Name, waited.TotalMilliseconds);
            await ReplaceSubscriberAsync(subscriber).ConfigureAwait(false);
            return;
        }

        _shardProbes.Send(redis);

        // A slot moved while no event arrived, a scope that waits: looked at at least once an interval.
        SignalShardsChanged();
    }

    /// <summary>
    /// On a cluster, whenever the shards may have changed (a master's connection failed or came back,
    /// the client library learnt a new topology or a moved slot, an event arrived through another
    /// master, a probe interval passed): looks at every subscription (<see cref="FollowAsync"/>), and
    /// again every <see cref="FollowRetry"/> until every one goes through the master that owns its slot.
    /// </summary>
    private async Task FollowShardsAsync(CancellationToken stoppingToken)
    {
        while (true)
        {
            await _shardsChanged.WaitAsync(stoppingToken).ConfigureAwait(false);
            while (!await FollowAsync().ConfigureAwait(false))
            {
                await Task.Delay(FollowRetry, _time, stoppingToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// On a cluster: every scope subscribed through the master that owns its slot now, and each one
    /// whose subscription was lost or moved filled from history. The client library moves sharded
    /// subscriptions by itself when a replica is promoted or a slot moves; a scope it has not moved
    /// while the slot's owner is known and connected, the node subscribes there itself. A scope whose
    /// slot has no owner yet (its master failed and no replica is promoted) waits, and once it has
    /// waited <see cref="OwnerPatience"/> the node asks Redis for the topology itself.
    /// </summary>
    /// <returns>Whether every scope and probe goes through the master that owns its slot.</returns>
    private async Task<bool> FollowAsync()
    {
        var restored = new List<string>();
        var shards = new SortedSet<string>(StringComparer.Ordinal);
        var complete = true;
        var restoreAll = false;
        ConnectionMultiplexer? subscriber;
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            subscriber = _subscriber;
            if (_disposed || !IsCluster || !IsSubscriberConnected(subscriber))
            {
                // Redis away altogether: the connection's restoration looks again.
                return true;
            }

            var redis = subscriber.GetSubscriber();
            foreach (var (scope, subscription) in _scopes.ToArray())
            {
                var owner = ClusterRouting.Owner(subscriber, _options.ChannelPrefix + scope);
                if (subscription is not null)
                {
                    var current = redis.SubscribedEndpoint(subscription.Channel);
                    if (current is not null && (owner is null || current.Equals(owner)))
                    {
                        if (subscription.Resume(current, _park))
                        {
                            restored.Add(scope);
                            shards.Add(EndPointCollection.ToString(current));
                        }

                        continue;
                    }

                    // Lost with its master, or through a server that no longer owns the slot.
                    subscription.Interrupt(_park);
                    if (owner is null)
                    {
                        complete = false;
                        continue;
                    }

                    // The slot's owner is known and connected, and the subscription was not moved there.
                    await subscription.Queue.UnsubscribeAsync().ConfigureAwait(false);
                    _scopes[scope] = null;
                    _waiting++;
                }
                else if (owner is null)
                {
                    complete = false;
                    continue;
                }

                _scopes[scope] = await SubscribeOnAsync(subscriber, scope).ConfigureAwait(false);
                _waiting--;
                restored.Add(scope);
                shards.Add(EndPointCollection.ToString(owner));
            }

            complete &= await _shardProbes.FollowAsync(subscriber).ConfigureAwait(false);
            restoreAll = complete && Interlocked.Exchange(ref _restoreAll, 0) == 1;
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            // A master lost again while subscribing through it: looked at again shortly.
            LogFollowDeferred(_logger, ex.GetType().Name);
            complete = false;
            subscriber = _subscriber;
        }
        finally
        {
            _gate.Release();
        }

        if (complete)
        {
            Volatile.Write(ref _ownerMissingSince, 0);
        }
        else if (subscriber is not null)
        {
            await AskForTopologyAsync(subscriber).ConfigureAwait(false);
        }

        if (restoreAll)
        {
            // The whole subscription was lost: every scope together, as on one Redis.
            _metrics.BackplaneReconnected();
            await _history.BackplaneRestoredAsync().ConfigureAwait(false);
        }
        else if (restored.Count > 0 && Volatile.Read(ref _restoreAll) == 0)
        {
            _metrics.BackplaneReconnected();
            var resynced = await _history.ScopesRestoredAsync(restored).ConfigureAwait(false);
            LogScopesFollowed(_logger, restored.Count, string.Join(", ", shards), resynced);
        }

        return complete;
    }

    /// <summary>
    /// Asks Redis for the cluster's topology when some scope has waited <see cref="OwnerPatience"/>
    /// for the master of its slot, and again at most once per <see cref="OwnerPatience"/>: the client
    /// library learns of a promoted replica by itself, but on its own schedule.
    /// </summary>
    private async Task AskForTopologyAsync(ConnectionMultiplexer subscriber)
    {
        var now = _time.GetTimestamp();
        var since = Volatile.Read(ref _ownerMissingSince);
        if (since == 0)
        {
            Volatile.Write(ref _ownerMissingSince, now);
            return;
        }

        if (_time.GetElapsedTime(since, now) < OwnerPatience || _time.GetElapsedTime(Volatile.Read(ref _reconfiguredAt), now) < OwnerPatience)
        {
            return;
        }

        Volatile.Write(ref _reconfiguredAt, now);
        LogAskingForTopology(_logger, _time.GetElapsedTime(since, now).TotalSeconds);
        try
        {
            await subscriber.ConfigureAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            // Looked at again at the next try.
        }
    }

    /// <summary>Wakes <see cref="FollowShardsAsync"/>; a wake-up already pending covers this one.</summary>
    private void SignalShardsChanged()
    {
        if (!IsCluster || _shardsChanged.CurrentCount > 0)
        {
            return;
        }

        try
        {
            _shardsChanged.Release();
        }
        catch (SemaphoreFullException)
        {
            // Released by another thread just now.
        }
    }

    private bool IsCluster => Volatile.Read(ref _cluster) == 1;

    /// <summary>Finds out, once the subscriber is connected, whether Redis is a cluster; it stays what it was found to be.</summary>
    private void FindOutTopology(ConnectionMultiplexer subscriber)
    {
        if (Volatile.Read(ref _cluster) < 0 && RedisTopology.IsCluster(subscriber) is { } cluster
            && Interlocked.CompareExchange(ref _cluster, cluster ? 1 : 0, -1) == -1 && cluster)
        {
            LogCluster(_logger, subscriber.GetServers().Count(s => s.IsConnected && !s.IsReplica));
        }
    }

    private void OnTopologyChanged(object? sender, EventArgs e) => SignalShardsChanged();

    public async ValueTask DisposeAsync()
    {
        ConnectionMultiplexer? subscriber;
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            _disposed = true;
            subscriber = _subscriber;
            _subscriber = null;
        }
        finally
        {
            _gate.Release();
        }

        if (subscriber is not null)
        {
            Unhook(subscriber);
            await subscriber.DisposeAsync().ConfigureAwait(false);
        }

        // Still making the first connection: ConnectFirstAsync disposes it on arrival.
    }

    private async Task ConnectFirstAsync()
    {
        // The client library may take its whole connect timeout to give up on a first connection:
        // one that has not opened within a second is looked at, and said at once if Redis does not
        // even accept TCP connections.
        var connecting = ConnectAsync();
        if (await Task.WhenAny(connecting, Task.Delay(FirstConnectPatience, _time)).ConfigureAwait(false) != connecting)
        {
            await ReportUnreachableAsync(CancellationToken.None, unlessTcpConnects: true).ConfigureAwait(false);
        }

        var subscriber = await connecting.ConfigureAwait(false);
        if (!IsSubscriberConnected(subscriber))
        {
            _history.BackplaneLost();
            Volatile.Write(ref _restoreAll, 1);
            await ReportUnreachableAsync(CancellationToken.None).ConfigureAwait(false);
        }

        if (!await InstallAsync(subscriber, previous: null).ConfigureAwait(false))
        {
            await subscriber.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async Task<ConnectionMultiplexer> ConnectAsync()
    {
        var options = RedisConnectionProvider.Configure(_options.Redis!);

        // Reconnects are attempted on the heartbeat (1 s by default): a quicker one puts a restarted
        // Redis's subscriptions back in a few hundred milliseconds, at the cost of a timer.
        options.HeartbeatInterval = TimeSpan.FromMilliseconds(250);
        options.ClientName ??= "atr-hub-subscriber";
        var subscriber = await ConnectionMultiplexer.ConnectAsync(options).ConfigureAwait(false);
        subscriber.ConnectionFailed += OnFailed;
        subscriber.ConnectionRestored += OnRestored;
        subscriber.ConfigurationChanged += OnTopologyChanged;
        subscriber.HashSlotMoved += OnTopologyChanged;
        return subscriber;
    }

    private void Unhook(ConnectionMultiplexer subscriber)
    {
        subscriber.ConnectionFailed -= OnFailed;
        subscriber.ConnectionRestored -= OnRestored;
        subscriber.ConfigurationChanged -= OnTopologyChanged;
        subscriber.HashSlotMoved -= OnTopologyChanged;
    }

    /// <summary>Makes <paramref name="subscriber"/> the node's subscriber connection and subscribes everything on it.</summary>
    /// <returns>False when the backplane was disposed meanwhile: the caller disposes the connection.</returns>
    private async Task<bool> InstallAsync(ConnectionMultiplexer subscriber, ConnectionMultiplexer? previous)
    {
        int resubscribed;
        ConnectionMultiplexer? closed = null;
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_disposed || _subscriber != previous)
            {
                Unhook(subscriber);
                return false;
            }

            _subscriber = subscriber;
            Volatile.Write(ref _connectedAt, _time.GetTimestamp());
            if (previous is not null)
            {
                // Closed before anything is subscribed anew: a zombie that wakes up must not deliver
                // the same events as its replacement.
                Unhook(previous);

                // Without waiting for replies: a silent connection would hold the gate for the timeout.
                await previous.CloseAsync(allowCommandsToComplete: false).ConfigureAwait(false);
                closed = previous;
                foreach (var scope in _scopes.Keys)
                {
                    _scopes[scope] = null;
                }

                _waiting = _scopes.Count;
                _shardProbes.Clear();
            }

            _probeSubscribed = false;
            if (!IsSubscriberConnected(subscriber))
            {
                // Redis is away: the client library keeps reconnecting, and RestoreAsync subscribes.
                return true;
            }

            FindOutTopology(subscriber);
            if (IsCluster)
            {
                await _shardProbes.FollowAsync(subscriber).ConfigureAwait(false);
            }
            else
            {
                await SubscribeProbeAsync(subscriber).ConfigureAwait(false);
            }

            resubscribed = await SubscribeWaitingAsync(subscriber).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            // Away again already: the connection restores itself and OnRestored finishes the job.
            LogRestoreDeferred(_logger, ex);
            SignalShardsChanged();
            return true;
        }
        finally
        {
            _gate.Release();

            // Closed already; what is left to release takes no round trip.
            closed?.Dispose();
        }

        if (IsCluster)
        {
            // Every scope is filled from history together once every one is subscribed: at once, or
            // by FollowShardsAsync once the masters that were away own their slots again.
            SignalShardsChanged();
            return true;
        }

        if (previous is not null || resubscribed > 0)
        {
            await _history.BackplaneRestoredAsync().ConfigureAwait(false);
        }

        return true;
    }

    private async Task ReplaceSubscriberAsync(ConnectionMultiplexer silent)
    {
        // Whatever the silent connection failed to bring is in the gap the replacement fills.
        _history.BackplaneLost();
        Volatile.Write(ref _restoreAll, 1);
        ConnectionMultiplexer replacement;
        try
        {
            replacement = await ConnectAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            LogReplaceFailed(_logger, ex);
            return;
        }

        if (await InstallAsync(replacement, silent).ConfigureAwait(false))
        {
            _metrics.BackplaneReconnected();
            LogSubscriberReplaced(_logger, _scopes.Count);
        }
        else
        {
            await replacement.DisposeAsync().ConfigureAwait(false);
        }
    }

    private void OnFailed(object? sender, ConnectionFailedEventArgs e)
    {
        if (e.ConnectionType == ConnectionType.Subscription && IsCluster)
        {
            // One master's connection (or a replica's): only the scopes subscribed through it lost anything.
            if (e.EndPoint is { } endPoint)
            {
                var lost = 0;
                foreach (var subscription in _scopes.Values)
                {
                    if (subscription is not null && endPoint.Equals(subscription.Shard))
                    {
                        subscription.Interrupt(_park);
                        lost++;
                    }
                }

                _shardProbes.Lost(endPoint);
                if (lost > 0)
                {
                    LogShardLost(_logger, EndPointCollection.ToString(endPoint), lost);
                }
            }

            SignalShardsChanged();
        }
        else if (e.ConnectionType == ConnectionType.Subscription)
        {
            // A probe that went out before the loss says nothing about the connection that follows.
            Volatile.Write(ref _probeSentAt, 0);
            _history.BackplaneLost();
        }
    }

    /// <summary>
    /// Says that Redis cannot be reached, why, and what the node does meanwhile: when the outage
    /// begins, then at most once per <see cref="UnreachableLogInterval"/> while it lasts. The client
    /// library says little of a connection that never opened, so the reason comes from a TCP connect
    /// of the node's own, made only when there is something to log.
    /// </summary>
    /// <param name="cancellationToken">Ends the TCP connect early.</param>
    /// <param name="unlessTcpConnects">Says nothing when Redis accepts a TCP connection: the client may just be slow to finish its own.</param>
    private async Task ReportUnreachableAsync(CancellationToken cancellationToken, bool unlessTcpConnects = false)
    {
        var now = _time.GetTimestamp();
        var since = Volatile.Read(ref _unreachableSince);
        if (since != 0 && _time.GetElapsedTime(Volatile.Read(ref _unreachableLogged), now) < UnreachableLogInterval)
        {
            return;
        }

        var address = RedisConnectionProvider.Endpoints(_options.Redis);
        var (connects, reason) = await RedisReachability.DiagnoseAsync(_options.Redis!, _time, cancellationToken).ConfigureAwait(false);
        if (connects && unlessTcpConnects)
        {
            return;
        }

        Volatile.Write(ref _problem, $"Redis at {address} is unreachable ({reason})");
        Volatile.Write(ref _unreachableLogged, now);
        if (since == 0 && Interlocked.CompareExchange(ref _unreachableSince, now, 0) == 0)
        {
            LogUnreachable(_logger, address, reason);
        }
        else
        {
            LogStillUnreachable(_logger, address, _time.GetElapsedTime(Volatile.Read(ref _unreachableSince), now).TotalSeconds, reason);
        }
    }

    private void ReportReachable()
    {
        Volatile.Write(ref _problem, null);
        var since = Interlocked.Exchange(ref _unreachableSince, 0);
        if (since != 0)
        {
            LogReachableAgain(_logger, RedisConnectionProvider.Endpoints(_options.Redis), _time.GetElapsedTime(since).TotalSeconds);
        }
    }

    private void OnRestored(object? sender, ConnectionFailedEventArgs e)
    {
        if (e.ConnectionType == ConnectionType.Subscription && sender is ConnectionMultiplexer subscriber)
        {
            ReportReachable();
            FindOutTopology(subscriber);
            if (IsCluster)
            {
                // One master (or replica) is back; the client library resubscribes what it routes there.
                SignalShardsChanged();
                return;
            }

            _metrics.BackplaneReconnected();

            // Set here rather than on failure: the two events may run in either order.
            Volatile.Write(ref _interrupted, 1);
            _ = RestoreAsync(subscriber);
        }
    }

    /// <summary>
    /// After the client library reconnected the subscriber (and resubscribed what it had): subscribes
    /// the scopes that waited, then tells every client that events may have been missed.
    /// </summary>
    private async Task RestoreAsync(ConnectionMultiplexer subscriber)
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            // The connection-restored event and the probe loop may both come here for one outage:
            // one of them tells the clients.
            if (_subscriber != subscriber || (Volatile.Read(ref _interrupted) == 0 && _probeSubscribed && _waiting == 0))
            {
                return;
            }

            Volatile.Write(ref _interrupted, 0);

            Volatile.Write(ref _connectedAt, _time.GetTimestamp());
            if (!_probeSubscribed)
            {
                await SubscribeProbeAsync(subscriber).ConfigureAwait(false);
            }

            await SubscribeWaitingAsync(subscriber).ConfigureAwait(false);

            // A subscribe of the node's own, after the client library's resubscription on the same
            // connection, completes once the scopes are subscribed again: only then is "refetch" safe.
            var barrier = NodeChannel();
            var redis = subscriber.GetSubscriber();
            await redis.SubscribeAsync(barrier, static (_, _) => { }).ConfigureAwait(false);
            await redis.UnsubscribeAsync(barrier).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            // Lost again already: the next restoration sends the signal.
            Volatile.Write(ref _interrupted, 1);
            LogRestoreDeferred(_logger, ex);
            return;
        }
        finally
        {
            _gate.Release();
        }

        Probe(subscriber);
        await _history.BackplaneRestoredAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// Subscribes every scope that waits for the connection, but on a cluster those whose slot's
    /// master is away (<see cref="FollowShardsAsync"/> subscribes them once one owns it); the caller holds the gate.
    /// </summary>
    private async Task<int> SubscribeWaitingAsync(ConnectionMultiplexer subscriber)
    {
        var subscribed = 0;
        foreach (var (scope, subscription) in _scopes.ToArray())
        {
            if (subscription is null && (!IsCluster || ClusterRouting.Owner(subscriber, _options.ChannelPrefix + scope) is not null))
            {
                _scopes[scope] = await SubscribeOnAsync(subscriber, scope).ConfigureAwait(false);
                _waiting--;
                subscribed++;
            }
        }

        return subscribed;
    }

    private async Task<ScopeSubscription> SubscribeOnAsync(ConnectionMultiplexer subscriber, string scope)
    {
        var redis = subscriber.GetSubscriber();
        var channel = Channel(scope);
        ChannelMessageQueue queue;
        try
        {
            queue = await redis.SubscribeAsync(channel).ConfigureAwait(false);
        }
        catch
        {
            // The client library registers the queue before Redis answers; without this, a failed
            // subscribe would leave a reader-less queue behind, subscribed again on every reconnect.
            try
            {
                await redis.UnsubscribeAsync(channel).ConfigureAwait(false);
            }
            catch (RedisException)
            {
                // Redis is away; the local registration is gone either way, and the first error says why.
            }

            throw;
        }

        // The handler runs on the queue's own loop, one message at a time; it only queues frames.
        var subscription = new ScopeSubscription(scope, channel, queue, redis.SubscribedEndpoint(channel));
        var cluster = IsCluster;
        queue.OnMessage(message =>
        {
            Volatile.Write(ref _lastHeard, _time.GetTimestamp());
            if (cluster)
            {
                FollowMessage(redis, subscription);
            }

            _dispatcher.Dispatch(scope, ((byte[]?)message.Message) ?? []);
        });
        return subscription;
    }

    /// <summary>
    /// On a cluster, before an event is delivered: when the client library moved the scope's
    /// subscription to another master since the last one (a failover, a slot move), events published
    /// meanwhile may be missing, so the scope holds this one and what follows until its gap is filled.
    /// </summary>
    private void FollowMessage(ISubscriber redis, ScopeSubscription subscription)
    {
        var current = redis.SubscribedEndpoint(subscription.Channel);
        if (current is not null && !current.Equals(subscription.Shard))
        {
            subscription.Interrupt(_park);
            SignalShardsChanged();
        }
    }

    private async Task SubscribeProbeAsync(ConnectionMultiplexer subscriber)
    {
        await subscriber.GetSubscriber().SubscribeAsync(_probeChannel, (_, _) => Volatile.Write(ref _lastHeard, _time.GetTimestamp())).ConfigureAwait(false);
        Volatile.Write(ref _probeSubscribed, true);
        Probe(subscriber);
    }

    /// <summary>Whether the pub/sub connection is up (the multiplexer's own flag is its command connection's).</summary>
    private static bool IsSubscriberConnected([NotNullWhen(true)] ConnectionMultiplexer? subscriber)
        => subscriber is not null && subscriber.GetSubscriber().IsConnected();

    private bool ProbeOut() => Volatile.Read(ref _probeSentAt) > Volatile.Read(ref _lastHeard);

    /// <summary>Whether a probe went out more than an interval ago and nothing arrived since.</summary>
    private bool ProbeOverdue(out TimeSpan waited)
    {
        var sentAt = Volatile.Read(ref _probeSentAt);
        waited = _time.GetElapsedTime(sentAt);
        return sentAt > Volatile.Read(ref _lastHeard) && waited > _options.ProbeInterval;
    }

    /// <summary>Publishes an empty probe on the node's own channel; its arrival, or any other message's, proves the subscription.</summary>
    private void Probe(ConnectionMultiplexer subscriber)
    {
        Volatile.Write(ref _probeSentAt, _time.GetTimestamp());
        subscriber.GetSubscriber().Publish(_probeChannel, RedisValue.EmptyString, CommandFlags.FireAndForget);
    }

    /// <summary>A channel of this node's own, which no publisher uses: <c>&lt;prefix&gt;atr-node:&lt;random id&gt;</c>.</summary>
    private RedisChannel NodeChannel() => RedisChannel.Literal($"{_options.ChannelPrefix}atr-node:{Guid.NewGuid():N}");

    private RedisChannel Channel(string scope)
        => IsCluster ? RedisChannel.Sharded(_options.ChannelPrefix + scope) : RedisChannel.Literal(_options.ChannelPrefix + scope);
}
