using System.Diagnostics.Metrics;
using Atr.Hub.Backplane;
using Atr.Hub.Subscriptions;

namespace Atr.Hub.Diagnostics;

/// <summary>
/// The hub's counters, published on the <c>Atr.Hub</c> meter (for <c>dotnet-counters</c>,
/// OpenTelemetry and the Prometheus endpoint) and as the <c>GET /stats</c> snapshot.
/// </summary>
/// <remarks>
/// Every instrument is observable: the hot path only bumps a field (once per event or per batch
/// of frames, never per recipient through a listener), and the values are read when collected.
/// </remarks>
internal sealed class HubMetrics : IDisposable
{
    public const string MeterName = "Atr.Hub";

    /// <summary>The tag that tells the endpoints apart: <c>raw</c> or <c>signalr</c>.</summary>
    public const string EndpointTag = "endpoint";

    /// <summary>
    /// The tag that tells how a raw connection was upgraded: <c>direct</c>, at the connection ahead
    /// of Kestrel's HTTP layer (no HTTP request, so none of ASP.NET Core's request metrics, activity
    /// or logs), or <c>http</c>, through the HTTP pipeline.
    /// </summary>
    public const string UpgradeTag = "upgrade";

    /// <summary>The tag that names a Redis server the node's subscriptions go through (on a cluster, a shard's master): <c>host:port</c>.</summary>
    public const string ShardTag = "shard";

    private static readonly KeyValuePair<string, object?> Raw = new(EndpointTag, "raw");
    private static readonly KeyValuePair<string, object?> SignalR = new(EndpointTag, "signalr");
    private static readonly KeyValuePair<string, object?> Direct = new(UpgradeTag, "direct");
    private static readonly KeyValuePair<string, object?> Http = new(UpgradeTag, "http");

    private readonly Meter _meter;
    private readonly ScopeRegistry _scopes;
    private long _rawConnections;
    private long _signalRConnections;
    private long _rawConnectionsOpenedDirect;
    private long _rawConnectionsOpenedHttp;
    private long _signalRConnectionsOpened;
    private long _eventsReceived;
    private long _payloadsDropped;
    private long _framesQueued;
    private readonly StripedCounter _framesSent = new();
    private long _slowConsumers;
    private long _eventsPublished;
    private long _subscriptionFailures;
    private long _backplaneReconnects;
    private long _refusedAtAccept;
    private Func<IReadOnlyList<BackplaneShard>> _shards = static () => [];

    public HubMetrics(IMeterFactory meterFactory, ScopeRegistry scopes)
    {
        _scopes = scopes;
        _meter = meterFactory.Create(MeterName);
        _meter.CreateObservableUpDownCounter("atr.connections", () => ByEndpoint(RawConnections, SignalRConnections), "{connection}", "Open client connections, by endpoint (raw or signalr).");
        _meter.CreateObservableCounter("atr.connections.opened", Opened, "{connection}", "Client connections accepted, by endpoint (raw or signalr) and, for raw ones, by upgrade (direct: at the connection, ahead of the HTTP layer; or http).");
        _meter.CreateObservableCounter("atr.events.received", () => EventsReceived, "{event}", "Payloads received from the backplane.");
        _meter.CreateObservableCounter("atr.events.dropped", () => PayloadsDropped, "{event}", "Payloads from the backplane dropped: not a UTF-8 JSON object with a string name, or larger than MaxEventBytes.");
        _meter.CreateObservableCounter("atr.frames.queued", () => FramesQueued, "{frame}", "Event frames queued to connections (one per event and recipient).");
        _meter.CreateObservableCounter("atr.frames.sent", () => FramesSent, "{frame}", "Event frames handed to connections' sockets: events delivered.");
        _meter.CreateObservableUpDownCounter("atr.send_queue.size", () => QueuedBytes, "By", "Bytes of event frames queued on every connection and not yet handed to its socket.");
        _meter.CreateObservableCounter("atr.connections.slow_consumer", () => SlowConsumers, "{connection}", "Connections closed because their send queue overflowed.");
        _meter.CreateObservableCounter("atr.events.published", () => EventsPublished, "{event}", "Events published through POST /publish.");
        _meter.CreateObservableCounter("atr.subscriptions.failed", () => SubscriptionFailures, "{subscription}", "Backplane subscriptions that failed, refusing a connection or a Subscribe.");
        _meter.CreateObservableCounter("atr.backplane.reconnects", () => BackplaneReconnects, "{reconnect}", "Times the node's Redis subscription came back after a loss, or was replaced after going silent.");
        _meter.CreateObservableUpDownCounter("atr.backplane.subscriptions", ShardSubscriptions, "{subscription}", "Scopes the node is subscribed to, by the Redis server each subscription goes through (shard: on a cluster, the master of the shard that owns the scope's slot).");
        _meter.CreateObservableCounter("atr.connections.refused", () => RefusedAtAccept, "{connection}", "Sockets closed at accept because the node holds as many connections as its open-files limit allows.");
    }

    public long Connections => Volatile.Read(ref _rawConnections) + Volatile.Read(ref _signalRConnections);

    public long RawConnections => Volatile.Read(ref _rawConnections);

    public long SignalRConnections => Volatile.Read(ref _signalRConnections);

    public long ConnectionsOpened => Volatile.Read(ref _rawConnectionsOpenedDirect) + Volatile.Read(ref _rawConnectionsOpenedHttp) + Volatile.Read(ref _signalRConnectionsOpened);

    public long EventsReceived => Volatile.Read(ref _eventsReceived);

    public long PayloadsDropped => Volatile.Read(ref _payloadsDropped);

    public long FramesQueued => Volatile.Read(ref _framesQueued);

    public long FramesSent => _framesSent.Value;

    public long SlowConsumers => Volatile.Read(ref _slowConsumers);

    public long EventsPublished => Volatile.Read(ref _eventsPublished);

    public long SubscriptionFailures => Volatile.Read(ref _subscriptionFailures);

    public long BackplaneReconnects => Volatile.Read(ref _backplaneReconnects);

    public long RefusedAtAccept => Volatile.Read(ref _refusedAtAccept);

    /// <summary>
    /// Bytes queued on every local connection, raw and SignalR: a walk over the scope groups, for
    /// collection and <c>/stats</c>, not the hot path.
    /// </summary>
    public long QueuedBytes
    {
        get
        {
            // A SignalR connection may listen to several scopes: count it once.
            var seen = new HashSet<IEventRecipient>(ReferenceEqualityComparer.Instance);
            var total = 0L;
            foreach (var group in _scopes.All)
            {
                foreach (var recipient in group.Members())
                {
                    if (seen.Add(recipient))
                    {
                        total += recipient.PendingBytes;
                    }
                }
            }

            return total;
        }
    }

    /// <summary>A raw WebSocket connection was accepted.</summary>
    /// <param name="direct">Whether it was upgraded at the connection (<c>DirectUpgrade</c>) rather than through the HTTP pipeline.</param>
    public void ConnectionOpened(bool direct)
    {
        Interlocked.Increment(ref _rawConnections);
        Interlocked.Increment(ref direct ? ref _rawConnectionsOpenedDirect : ref _rawConnectionsOpenedHttp);
    }

    /// <summary>A raw WebSocket connection ended.</summary>
    public void ConnectionClosed() => Interlocked.Decrement(ref _rawConnections);

    /// <summary>A SignalR connection was admitted.</summary>
    public void SignalRConnectionOpened()
    {
        Interlocked.Increment(ref _signalRConnections);
        Interlocked.Increment(ref _signalRConnectionsOpened);
    }

    /// <summary>A SignalR connection ended.</summary>
    public void SignalRConnectionClosed() => Interlocked.Decrement(ref _signalRConnections);

    public void EventReceived() => Interlocked.Increment(ref _eventsReceived);

    public void PayloadDropped() => Interlocked.Increment(ref _payloadsDropped);

    public void FramesQueuedBy(int count) => Interlocked.Add(ref _framesQueued, count);

    public void FramesSentBy(int count) => _framesSent.Add(count);

    public void SlowConsumerClosed() => Interlocked.Increment(ref _slowConsumers);

    public void Published(int count) => Interlocked.Add(ref _eventsPublished, count);

    public void SubscriptionFailed() => Interlocked.Increment(ref _subscriptionFailures);

    public void BackplaneReconnected() => Interlocked.Increment(ref _backplaneReconnects);

    public void ConnectionRefusedAtAccept() => Interlocked.Increment(ref _refusedAtAccept);

    /// <summary>Where <c>atr.backplane.subscriptions</c> reads the backplane's shards from.</summary>
    public void ObserveShards(Func<IReadOnlyList<BackplaneShard>> shards) => Volatile.Write(ref _shards, shards);

    public void Dispose() => _meter.Dispose();

    private static Measurement<long>[] ByEndpoint(long raw, long signalR)
        => [new(raw, Raw), new(signalR, SignalR)];

    private IEnumerable<Measurement<long>> ShardSubscriptions()
        => Volatile.Read(ref _shards)().Select(shard => new Measurement<long>(shard.Scopes, new KeyValuePair<string, object?>(ShardTag, shard.Server)));

    private Measurement<long>[] Opened()
        =>
        [
            new(Volatile.Read(ref _rawConnectionsOpenedDirect), Raw, Direct),
            new(Volatile.Read(ref _rawConnectionsOpenedHttp), Raw, Http),
            new(Volatile.Read(ref _signalRConnectionsOpened), SignalR),
        ];
}
