using Atr.Bench.Targets;

namespace Atr.Bench.History;

/// <summary>What <c>history-publish</c> and <c>history-storm</c> run with.</summary>
internal sealed record HistoryBenchSettings
{
    public required string Scenario { get; init; }

    public required ToolPaths Paths { get; init; }

    /// <summary>Runs, each measuring history off and on back to back (publish) or one storm (storm).</summary>
    public int Runs { get; init; } = 3;

    /// <summary>history-publish: events in the measured window; history-storm: events published while the clients are away.</summary>
    public int Events { get; init; } = 200_000;

    /// <summary>history-publish: scopes the events go to, round-robin.</summary>
    public int Scopes { get; init; } = 50;

    /// <summary>history-publish: the event's JSON size in bytes, about (its record is padded).</summary>
    public int PayloadBytes { get; init; } = 200;

    /// <summary>history-publish: publishes awaited at most this many at a time (the pipeline's depth).</summary>
    public int InFlight { get; init; } = 1000;

    /// <summary>The history size with history on (the default of every Atr publisher and hub).</summary>
    public int HistorySize { get; init; } = 100;

    /// <summary>history-storm: the clients of the one scope.</summary>
    public int Clients { get; init; } = 5000;

    /// <summary>history-storm: handshakes under way at once while the clients come back.</summary>
    public int ConnectConcurrency { get; init; } = 500;

    public bool Pin { get; init; } = true;

    public string ServerCpus { get; init; } = "0";

    public string LoadCpus { get; init; } = "1";

    public string? ResultsDirectory { get; init; }
}
