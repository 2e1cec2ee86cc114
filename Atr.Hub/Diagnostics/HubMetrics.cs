using System.Diagnostics.Metrics;

namespace Atr.Hub.Diagnostics;

/// <summary>
/// The hub's counters, published on the <c>Atr.Hub</c> meter (for <c>dotnet-counters</c> and
/// OpenTelemetry) and as the <c>GET /stats</c> snapshot.
/// </summary>
internal sealed class HubMetrics : IDisposable
{
    public const string MeterName = "Atr.Hub";

    private readonly Meter _meter;
    private long _connections;
    private long _connectionsOpened;
    private long _eventsReceived;
    private long _payloadsDropped;
    private long _framesQueued;
    private long _framesSent;
    private long _slowConsumers;
    private long _eventsPublished;
    private long _subscriptionFailures;

    public HubMetrics(IMeterFactory meterFactory)
    {
        _meter = meterFactory.Create(MeterName);
        _meter.CreateObservableUpDownCounter("atr.connections", () => Connections, description: "Open WebSocket connections.");
        _meter.CreateObservableCounter("atr.connections.opened", () => ConnectionsOpened, description: "WebSocket connections accepted.");
        _meter.CreateObservableCounter("atr.events.received", () => EventsReceived, description: "Payloads received from the backplane.");
        _meter.CreateObservableCounter("atr.events.dropped", () => PayloadsDropped, description: "Payloads dropped because they were not a JSON object with a name.");
        _meter.CreateObservableCounter("atr.frames.queued", () => FramesQueued, description: "Event frames queued to connections.");
        _meter.CreateObservableCounter("atr.frames.sent", () => FramesSent, description: "Event frames written to sockets.");
        _meter.CreateObservableCounter("atr.connections.slow_consumer", () => SlowConsumers, description: "Connections closed because their send queue overflowed.");
        _meter.CreateObservableCounter("atr.events.published", () => EventsPublished, description: "Events published through POST /publish.");
    }

    public long Connections => Volatile.Read(ref _connections);

    public long ConnectionsOpened => Volatile.Read(ref _connectionsOpened);

    public long EventsReceived => Volatile.Read(ref _eventsReceived);

    public long PayloadsDropped => Volatile.Read(ref _payloadsDropped);

    public long FramesQueued => Volatile.Read(ref _framesQueued);

    public long FramesSent => Volatile.Read(ref _framesSent);

    public long SlowConsumers => Volatile.Read(ref _slowConsumers);

    public long EventsPublished => Volatile.Read(ref _eventsPublished);

    public long SubscriptionFailures => Volatile.Read(ref _subscriptionFailures);

    public void ConnectionOpened()
    {
        Interlocked.Increment(ref _connections);
        Interlocked.Increment(ref _connectionsOpened);
    }

    public void ConnectionClosed() => Interlocked.Decrement(ref _connections);

    public void EventReceived() => Interlocked.Increment(ref _eventsReceived);

    public void PayloadDropped() => Interlocked.Increment(ref _payloadsDropped);

    public void FramesQueuedBy(int count) => Interlocked.Add(ref _framesQueued, count);

    public void FramesSentBy(int count) => Interlocked.Add(ref _framesSent, count);

    public void SlowConsumerClosed() => Interlocked.Increment(ref _slowConsumers);

    public void Published(int count) => Interlocked.Add(ref _eventsPublished, count);

    public void SubscriptionFailed() => Interlocked.Increment(ref _subscriptionFailures);

    public void Dispose() => _meter.Dispose();
}
