using Atr.Bench.Targets;

namespace Atr.Bench.Scenarios;

/// <summary>Everything one invocation runs with: the scenario's defaults overridden by the command line.</summary>
internal sealed record BenchSettings
{
    /// <summary>fanout, bigscope, smallscopes, idle or smoke.</summary>
    public required string Scenario { get; init; }

    public IReadOnlyList<TargetKind> Targets { get; init; } = TargetNames.All;

    /// <summary>How many times the whole set of targets is run, interleaved (run 1 of every target, then run 2…).</summary>
    public int Runs { get; init; } = 1;

    /// <summary>Connected clients (load scenarios), or the idle ramp's end for every target but atr.</summary>
    public int Clients { get; init; } = 5000;

    /// <summary>Scopes the clients are spread over, round-robin; events are published round-robin over them too.</summary>
    public int Scopes { get; init; } = 50;

    /// <summary>Offered load steps in deliveries per second (events/s × clients per scope), run in order.</summary>
    public IReadOnlyList<int> Rates { get; init; } = [10_000];

    /// <summary>Publishing before the measured window opens, at each rate.</summary>
    public TimeSpan Warmup { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>
    /// Publishing before the first rate's measured window, in place of <see cref="Warmup"/>: a .NET server's JIT
    /// recompiles its hot path for some 20 s once load begins, and a window that opens sooner charges that to the
    /// first rate's deliveries.
    /// </summary>
    public TimeSpan FirstWarmup { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>The measured (steady) window at each rate.</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>When set, each rate step publishes exactly this many events (warm-up included) and its duration follows from the rate.</summary>
    public int? Events { get; init; }

    /// <summary>The longest wait after a step's last event for the deliveries still under way.</summary>
    public TimeSpan Drain { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The size of each event's JSON payload in bytes (padding included).</summary>
    public int PayloadBytes { get; init; } = 200;

    /// <summary>A target stops climbing rates once its p99 exceeds this, or once it loses events.</summary>
    public TimeSpan StopP99 { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The idle ramp's end for atr (other targets stop at <see cref="Clients"/>).</summary>
    public int Max { get; init; } = 100_000;

    /// <summary>Connections opened per idle ramp step.</summary>
    public int Step { get; init; } = 1000;

    /// <summary>The longest wait for a server's RSS to settle after an idle step.</summary>
    public TimeSpan Settle { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>Handshakes under way at once while connecting.</summary>
    public int ConnectConcurrency { get; init; } = 200;

    /// <summary>Connections per loopback source address (127.0.0.1, 127.0.0.2…): below one address's ephemeral ports.</summary>
    public int ConnectionsPerSourceAddress { get; init; } = 25_000;

    /// <summary>Pin servers to <see cref="ServerCpus"/> and the load side (Redis, publishers) to <see cref="LoadCpus"/> with taskset.</summary>
    public bool Pin { get; init; } = true;

    public string ServerCpus { get; init; } = "0";

    public string LoadCpus { get; init; } = "1";

    /// <summary>Where results are appended (<c>&lt;UTC timestamp&gt;.jsonl</c>); null writes no file.</summary>
    public string? ResultsDirectory { get; init; }

    /// <summary>Seconds between progress lines on stderr; 0 prints none.</summary>
    public double ProgressSeconds { get; init; } = 1;

    public required ToolPaths Paths { get; init; }

    /// <summary>Events per second at <paramref name="deliveriesPerSecond"/>.</summary>
    public double EventsPerSecond(double deliveriesPerSecond) => deliveriesPerSecond / ClientsPerScope;

    /// <summary>Clients per scope (fan-out), counting a partly filled last round as full.</summary>
    public double ClientsPerScope => (double)Clients / Scopes;
}
