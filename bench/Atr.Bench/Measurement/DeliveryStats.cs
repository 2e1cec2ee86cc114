namespace Atr.Bench.Measurement;

/// <summary>What every client of one target run received, counted as it arrives.</summary>
internal sealed class DeliveryStats
{
    private long _delivered;
    private long _probesSeen;

    /// <summary>Publish → receive latency of every delivery.</summary>
    public LatencyRecorder Latency { get; } = new();

    /// <summary>Publish → last recipient of a scope, one sample per event that reached all of its scope's clients.</summary>
    public LatencyRecorder LastClient { get; } = new();

    /// <summary>Deliveries of numbered events (probes excluded), ever.</summary>
    public long Delivered => Volatile.Read(ref _delivered);

    /// <summary>Clients that have received a readiness probe.</summary>
    public long ProbesSeen => Volatile.Read(ref _probesSeen);

    public void OnDelivery(ScopeTracker scope, long seq, long sentTimestamp, long receivedTimestamp)
    {
        Interlocked.Increment(ref _delivered);
        Latency.RecordTicks(receivedTimestamp - sentTimestamp);
        if (scope.Reached(seq, receivedTimestamp) is { } last)
        {
            LastClient.RecordTicks(last - sentTimestamp);
        }
    }

    public void OnFirstProbe() => Interlocked.Increment(ref _probesSeen);
}
