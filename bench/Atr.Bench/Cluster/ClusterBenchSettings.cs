using Atr.Bench.Targets;

namespace Atr.Bench.Cluster;

/// <summary>What <c>cluster-publish</c> and <c>cluster-scale</c> run with.</summary>
internal sealed record ClusterBenchSettings
{
    public required string Scenario { get; init; }

    public required ToolPaths Paths { get; init; }

    /// <summary>Runs of the whole set: cluster-publish measures sharded and classic, history off and on, in each; cluster-scale 1 to <see cref="Masters"/> masters.</summary>
    public int Runs { get; init; } = 3;

    /// <summary>cluster-publish: the masters of its one cluster; cluster-scale: the largest cluster, grown one master at a time from 1.</summary>
    public int Masters { get; init; } = 3;

    /// <summary>Scopes the events go to, round-robin: spread over the masters by their slots.</summary>
    public int Scopes { get; init; } = 300;

    /// <summary>cluster-publish: the paced publish rate, events/s, cluster-wide.</summary>
    public int Rate { get; init; } = 20_000;

    /// <summary>Events in each measured window.</summary>
    public int Events { get; init; } = 200_000;

    /// <summary>Events published before each window, to warm the connections, the scripts and the runtime.</summary>
    public int Warmup { get; init; } = 20_000;

    /// <summary>Subscriber connections per master, each subscribed to all of that master's scopes: hub nodes that each listen to every scope.</summary>
    public int Subscribers { get; init; } = 1;

    /// <summary>The event's JSON size in bytes, about (its record is padded).</summary>
    public int PayloadBytes { get; init; } = 200;

    /// <summary>Publishes unacknowledged at most: the pipeline's depth (cluster-scale), a bound only (cluster-publish).</summary>
    public int InFlight { get; init; } = 1000;

    /// <summary>The history size with history on (the default of every Atr publisher and hub).</summary>
    public int HistorySize { get; init; } = 100;

    public bool Pin { get; init; } = true;

    /// <summary>taskset CPU list of every master.</summary>
    public string ServerCpus { get; init; } = "0";

    /// <summary>taskset CPU list of the load side (the tool: publisher and subscribers).</summary>
    public string LoadCpus { get; init; } = "1";

    public string? ResultsDirectory { get; init; }
}
