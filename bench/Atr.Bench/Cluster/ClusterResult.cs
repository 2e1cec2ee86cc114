using System.Text.Json.Serialization;
using Atr.Bench.Measurement;
using Atr.Bench.Results;

namespace Atr.Bench.Cluster;

/// <summary>One measurement of <c>cluster-publish</c> or <c>cluster-scale</c>: a line of <c>bench/results/cluster/&lt;UTC timestamp&gt;.jsonl</c>.</summary>
internal sealed record ClusterResult
{
    public required DateTimeOffset Time { get; init; }

    public required MachineInfo Machine { get; init; }

    /// <summary><c>cluster-publish</c> or <c>cluster-scale</c>.</summary>
    public required string Scenario { get; init; }

    public required int Run { get; init; }

    /// <summary><c>sharded</c> (<c>SPUBLISH</c>, <c>SSUBSCRIBE</c>: what Atr does on a cluster) or <c>classic</c> (<c>PUBLISH</c>, <c>SUBSCRIBE</c>).</summary>
    public required string Mode { get; init; }

    /// <summary>The history size the events were published with; 0 is history off (a plain publish, no script).</summary>
    public required int HistorySize { get; init; }

    public required int Masters { get; init; }

    /// <summary>Whether the masters ran on <see cref="ServerCpus"/> and the tool on <see cref="LoadCpus"/>, pinned with taskset.</summary>
    public required bool Pinned { get; init; }

    public string? ServerCpus { get; init; }

    public string? LoadCpus { get; init; }

    public required ClusterFigures Figures { get; init; }
}

/// <summary>What one measurement published, and what it cost each master.</summary>
internal sealed record ClusterFigures
{
    /// <summary>Events in the measured window, round-robin over <see cref="Scopes"/>.</summary>
    public required int Events { get; init; }

    public required int Scopes { get; init; }

    /// <summary>The size of one event's JSON.</summary>
    public required int PayloadBytes { get; init; }

    /// <summary>The paced rate in events/s; null when the publisher went as fast as <see cref="InFlight"/> allowed.</summary>
    public double? OfferedRate { get; init; }

    /// <summary>Publishes unacknowledged at most.</summary>
    public required int InFlight { get; init; }

    /// <summary>From the window's first publish to its last acknowledgement.</summary>
    public required double Seconds { get; init; }

    public required double EventsPerSecond { get; init; }

    /// <summary>Cores the tool (the publisher and the subscribers standing in for hub nodes) used in the window.</summary>
    public required double LoadCores { get; init; }

    /// <summary>How busy each CPU of the machine was in the window (/proc/stat), whatever ran on it.</summary>
    public required IReadOnlyList<CpuBusy> CpuBusy { get; init; }

    /// <summary>Subscriber connections per master, each subscribed to all of that master's scopes: the hub nodes that listen to every scope.</summary>
    public required int Subscribers { get; init; }

    /// <summary>Messages the subscribers received over the whole measurement (probe, warm-up, window).</summary>
    public required long Received { get; init; }

    /// <summary>Events published over the whole measurement times <see cref="Subscribers"/>: each reaches every subscriber of its master once.</summary>
    public required long Expected { get; init; }

    public required IReadOnlyList<MasterFigures> PerMaster { get; init; }

    /// <summary>What the history streams hold at the end (history on only).</summary>
    public HistoryFootprint? History { get; init; }
}

/// <summary>One master's share of a measurement.</summary>
internal sealed record MasterFigures
{
    public required int Port { get; init; }

    /// <summary>Scopes whose slot this master owns.</summary>
    public required int Scopes { get; init; }

    /// <summary>Events of the window that went to those scopes.</summary>
    public required long Events { get; init; }

    /// <summary><see cref="Events"/> ÷ every event of the window.</summary>
    public required double EventShare { get; init; }

    /// <summary>redis-server's user + system CPU over the window (/proc/&lt;pid&gt;/stat).</summary>
    public required double CpuSeconds { get; init; }

    /// <summary><see cref="CpuSeconds"/> ÷ the window: 1.0 is a whole core, what one Redis main thread can use.</summary>
    public required double Cores { get; init; }

    /// <summary><see cref="CpuSeconds"/> ÷ every event published cluster-wide in the window, µs.</summary>
    public required double CpuMicrosPerEvent { get; init; }

    /// <summary><see cref="CpuSeconds"/> ÷ the events of this master's own scopes, µs: the cost of a publish on its shard.</summary>
    public required double CpuMicrosPerOwnEvent { get; init; }

    /// <summary>This master's share of the CPU of all masters.</summary>
    public required double CpuShare { get; init; }

    /// <summary><c>PUBLISH</c> commands it ran in the window, in scripts or not (<c>INFO commandstats</c>).</summary>
    public required long PublishCalls { get; init; }

    /// <summary><c>SPUBLISH</c> commands it ran in the window.</summary>
    public required long ShardPublishCalls { get; init; }

    /// <summary>Classic publishes it received from the other masters over the cluster bus in the window (<c>CLUSTER INFO</c>).</summary>
    public required long BusPublishesReceived { get; init; }

    /// <summary>Classic publishes it sent to the other masters over the cluster bus in the window, one per master.</summary>
    public required long BusPublishesSent { get; init; }

    /// <summary>
    /// The events of the window this master handled — its own publishes and those the bus brought it — ÷ every event of
    /// the window: its share of the scopes sharded, all of them (1.0) classic.
    /// </summary>
    public required double HandledShare { get; init; }

    /// <summary>Scripts it ran in the window (<c>EVAL</c> and <c>EVALSHA</c>).</summary>
    public required long ScriptCalls { get; init; }

    /// <summary>Sharded channels subscribed on this master (<c>PUBSUB SHARDCHANNELS</c>).</summary>
    public required int ShardChannels { get; init; }

    /// <summary>Classic channels subscribed on this master (<c>PUBSUB CHANNELS</c>).</summary>
    public required int Channels { get; init; }

    /// <summary>Messages its subscribers received over the whole measurement.</summary>
    public required long Received { get; init; }

    /// <summary>Events published to its scopes over the whole measurement, times the subscribers.</summary>
    public required long Expected { get; init; }

    /// <summary>Its <c>used_memory</c> at the end.</summary>
    public required long UsedMemoryBytes { get; init; }
}

/// <summary>The history streams at the end of a measurement: what a scope's history costs Redis.</summary>
internal sealed record HistoryFootprint
{
    public required int Streams { get; init; }

    /// <summary>The median stream's length (<c>XLEN</c>): <c>MAXLEN ~</c> trims whole nodes, so it runs from the history size up.</summary>
    public required long EntriesMedian { get; init; }

    /// <summary>The median stream's <c>MEMORY USAGE … SAMPLES 0</c>, bytes.</summary>
    public required long BytesMedian { get; init; }

    /// <summary>All streams' bytes ÷ all their entries: the cost of one kept event, the stream's own overhead spread over its entries.</summary>
    public required double BytesPerEntry { get; init; }
}

/// <summary>The results file's JSON: snake_case, one object per line.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ClusterResult))]
internal sealed partial class ClusterResultJson : JsonSerializerContext;
