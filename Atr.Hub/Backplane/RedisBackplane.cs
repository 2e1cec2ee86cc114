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
/// never a pattern, so a <c>PUBLISH</c> costs Redis the same however many scopes exist.
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
    private readonly Lazy<Task> _started;

    // Scope → its queue on the current subscriber connection; null while the scope waits for the
    // connection (Redis away, or the connection just replaced). Guarded by _gate, which also orders
    // every SUBSCRIBE and UNSUBSCRIBE of the node, so the two never cross on the wire.
    private readonly Dictionary<string, ChannelMessageQueue?> _scopes = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _gate = new(1, 1);
    private ConnectionMultiplexer? _subscriber;
    private int _waiting;
    private int _interrupted;
    private bool _probeSubscribed;
    private bool _disposed;

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
        _started = new Lazy<Task>(ConnectFirstAsync);
    }

    public string Name => "redis";

    /// <summary>Why Redis cannot be reached, in one line, once the node has found out; null while it can.</summary>
    public string? Problem => Volatile.Read(ref _problem);

    /// <summary>
    /// Events flow: the subscriber is connected, every scope is subscribed on it, a message (an event
    /// or the node's probe) arrived on it since it was made, and no probe is overdue.
    /// </summary>
    public bool IsDelivering
    {
        get
        {
            if (!IsSubscriberConnected(_subscriber) || Volatile.Read(ref _waiting) != 0)
            {
                return false;
            }

            return Volatile.Read(ref _lastHeard) >= Volatile.Read(ref _connectedAt) && !ProbeOverdue(out _);
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
                try
                {
                    _scopes[scope] = await SubscribeOnAsync(subscriber, scope).ConfigureAwait(false);
                    return;
                }
                catch (Exception ex) when (ex is RedisException or TimeoutException)
                {
                    // Lost just now: the scope waits for the connection like any other.
                    LogSubscribeDeferred(_logger, scope, ex);
                }
                catch
                {
                    _scopes.Remove(scope);
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
            if (!_scopes.Remove(scope, out var queue))
            {
                return;
            }

            if (queue is null)
            {
                _waiting--;
                return;
            }

            // Removed from the client library's registry before UNSUBSCRIBE is sent, so a connection
            // restored later does not subscribe it again even when this throws.
            await queue.UnsubscribeAsync().ConfigureAwait(false);
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
            subscriber.ConnectionRestored -= OnRestored;
            subscriber.ConnectionFailed -= OnFailed;
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
        return subscriber;
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
                subscriber.ConnectionRestored -= OnRestored;
                subscriber.ConnectionFailed -= OnFailed;
                return false;
            }

            _subscriber = subscriber;
            Volatile.Write(ref _connectedAt, _time.GetTimestamp());
            if (previous is not null)
            {
                // Closed before anything is subscribed anew: a zombie that wakes up must not deliver
                // the same events as its replacement.
                previous.ConnectionRestored -= OnRestored;
                previous.ConnectionFailed -= OnFailed;

                // Without waiting for replies: a silent connection would hold the gate for the timeout.
                await previous.CloseAsync(allowCommandsToComplete: false).ConfigureAwait(false);
                closed = previous;
                foreach (var scope in _scopes.Keys)
                {
                    _scopes[scope] = null;
                }

                _waiting = _scopes.Count;
            }

            _probeSubscribed = false;
            if (!IsSubscriberConnected(subscriber))
            {
                // Redis is away: the client library keeps reconnecting, and RestoreAsync subscribes.
                return true;
            }

            await SubscribeProbeAsync(subscriber).ConfigureAwait(false);
            resubscribed = await SubscribeWaitingAsync(subscriber).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            // Away again already: the connection restores itself and OnRestored finishes the job.
            LogRestoreDeferred(_logger, ex);
            return true;
        }
        finally
        {
            _gate.Release();

            // Closed already; what is left to release takes no round trip.
            closed?.Dispose();
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
        if (e.ConnectionType == ConnectionType.Subscription)
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

    /// <summary>Subscribes every scope that waits for the connection; the caller holds the gate.</summary>
    private async Task<int> SubscribeWaitingAsync(ConnectionMultiplexer subscriber)
    {
        var subscribed = 0;
        foreach (var (scope, queue) in _scopes.ToArray())
        {
            if (queue is null)
            {
                _scopes[scope] = await SubscribeOnAsync(subscriber, scope).ConfigureAwait(false);
                _waiting--;
                subscribed++;
            }
        }

        return subscribed;
    }

    private async Task<ChannelMessageQueue> SubscribeOnAsync(ConnectionMultiplexer subscriber, string scope)
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
        queue.OnMessage(message =>
        {
            Volatile.Write(ref _lastHeard, _time.GetTimestamp());
            _dispatcher.Dispatch(scope, ((byte[]?)message.Message) ?? []);
        });
        return queue;
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

    private RedisChannel Channel(string scope) => RedisChannel.Literal(_options.ChannelPrefix + scope);
}
