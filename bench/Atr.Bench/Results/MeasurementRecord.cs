namespace Atr.Bench.Results;

/// <summary>One line of a results file: one (target, scenario, rate, run) with the machine and every parameter.</summary>
internal sealed record MeasurementRecord
{
    public required DateTimeOffset Time { get; init; }

    public required MachineInfo Machine { get; init; }

    public required string Target { get; init; }

    public required string Scenario { get; init; }

    /// <summary>1-based run number (runs interleave targets).</summary>
    public required int Run { get; init; }

    public required RunParameters Parameters { get; init; }

    /// <summary>Figures of a load step (fanout, bigscope, smallscopes, smoke).</summary>
    public LoadFigures? Load { get; init; }

    /// <summary>Figures of an idle ramp.</summary>
    public IdleFigures? Idle { get; init; }

    /// <summary>Why the target did not finish the step, if it did not (it crashed, clients could not connect…).</summary>
    public string? Error { get; init; }
}

/// <summary>The parameters a measurement ran with.</summary>
internal sealed record RunParameters
{
    public required int Clients { get; init; }

    public required int Scopes { get; init; }

    public required double ClientsPerScope { get; init; }

    /// <summary>Offered deliveries per second of this step (0 for idle).</summary>
    public required int Rate { get; init; }

    public required double EventsPerSecond { get; init; }

    public required IReadOnlyList<int> Rates { get; init; }

    public required double WarmupSeconds { get; init; }

    /// <summary>The first rate's warm-up, in place of <see cref="WarmupSeconds"/>; absent from results written before it existed.</summary>
    public double? FirstWarmupSeconds { get; init; }

    public required double DurationSeconds { get; init; }

    public int? Events { get; init; }

    public required double DrainSeconds { get; init; }

    public required int PayloadBytes { get; init; }

    public required double StopP99Ms { get; init; }

    public required int Max { get; init; }

    public required int Step { get; init; }

    public required bool Pinned { get; init; }

    public required string ServerCpus { get; init; }

    public required string LoadCpus { get; init; }

    public required string Configuration { get; init; }
}

/// <summary>What one rate step measured.</summary>
internal sealed record LoadFigures
{
    /// <summary>Events published in the step (warm-up included).</summary>
    public required long EventsPublished { get; init; }

    /// <summary>Deliveries owed for those events: each event × the clients of its scope.</summary>
    public required long ExpectedDeliveries { get; init; }

    /// <summary>Deliveries received in the step (warm-up and drain included).</summary>
    public required long Delivered { get; init; }

    /// <summary>Deliveries per second over the steady window.</summary>
    public required double DeliveredPerSecond { get; init; }

    /// <summary>The steady window's length, in seconds.</summary>
    public required double WindowSeconds { get; init; }

    /// <summary>Publish → receive, every delivery in the steady window.</summary>
    public required LatencyFigures Latency { get; init; }

    /// <summary>Publish → the last client of the scope, one sample per event of the steady window that reached all its clients.</summary>
    public required LatencyFigures LastClient { get; init; }

    /// <summary>Events that never arrived, after the drain: sequence gaps plus the tail each client is missing.</summary>
    public required long Lost { get; init; }

    /// <summary>Events that arrived twice (or out of order).</summary>
    public required long Duplicated { get; init; }

    /// <summary>Server CPU (utime + stime) over the steady window, in seconds.</summary>
    public required double ServerCpuSeconds { get; init; }

    /// <summary>Server CPU per delivered message over the steady window, in microseconds.</summary>
    public required double ServerCpuMicrosPerDelivery { get; init; }

    /// <summary>Server CPU use over the steady window, as a share of one core (1 = a full core).</summary>
    public required double ServerCores { get; init; }

    /// <summary>
    /// CPU the load tool itself used over the steady window, in cores. Near the load CPUs' count, the load side and not
    /// the server set the pace: the step's figures say little about the server.
    /// </summary>
    public double LoadCores { get; init; }

    /// <summary>Redis CPU per delivered message over the steady window, in microseconds.</summary>
    public required double RedisCpuMicrosPerDelivery { get; init; }

    /// <summary>The server's VmRSS at the end of the steady window, in bytes.</summary>
    public required long ServerRssBytes { get; init; }

    public required int ConnectionsOpen { get; init; }

    /// <summary>True when the target stopped climbing here: p99 above the limit or events lost.</summary>
    public required bool Saturated { get; init; }
}

/// <summary>Latency percentiles, in milliseconds.</summary>
internal sealed record LatencyFigures(long Count, double P50, double P99, double P999, double Max);

/// <summary>What an idle ramp measured.</summary>
internal sealed record IdleFigures
{
    public required int TargetConnections { get; init; }

    /// <summary>RSS before the first connection, in bytes.</summary>
    public required long BaselineRssBytes { get; init; }

    /// <summary>Connections open and settled RSS after each step.</summary>
    public required IReadOnlyList<IdleStep> Steps { get; init; }

    /// <summary>The slope of the least-squares line through the steps (RSS against connections), in bytes.</summary>
    public required double RssPerConnectionBytes { get; init; }

    /// <summary>Connections still open at the end (checked after the last step settled).</summary>
    public required int ConnectionsOpen { get; init; }

    public required int ConnectFailures { get; init; }

    /// <summary>Every connection opened and stayed open to the end.</summary>
    public required bool AllOpen { get; init; }

    /// <summary>The load tool's own VmRSS at the end of the ramp (all its clients open), in bytes.</summary>
    public long LoadRssBytes { get; init; }

    /// <summary>Server CPU over the whole ramp, in seconds.</summary>
    public required double ServerCpuSeconds { get; init; }
}

/// <summary>One idle step: connections open and the server's settled RSS.</summary>
internal sealed record IdleStep(int Connections, long RssBytes);
