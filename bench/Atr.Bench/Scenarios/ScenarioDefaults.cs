using Atr.Bench.Targets;

namespace Atr.Bench.Scenarios;

/// <summary>The scenarios and their defaults; every value can be overridden on the command line.</summary>
internal static class ScenarioDefaults
{
    public const string Fanout = "fanout";
    public const string BigScope = "bigscope";
    public const string SmallScopes = "smallscopes";
    public const string Idle = "idle";
    public const string Smoke = "smoke";

    public static readonly IReadOnlyList<string> Names = [Fanout, BigScope, SmallScopes, Idle, Smoke];

    public static string Describe(string scenario) => scenario switch
    {
        Fanout => "5,000 clients in 50 scopes (fan-out 100); rates rise 10k, 20k, 40k, 80k, 160k deliveries/s, 3 s warm-up (20 s before the first) + 10 s each; a target stops climbing once p99 > 1 s or it loses events",
        BigScope => "5,000 clients in one scope, 10 events/s (50,000 deliveries/s) for 10 s: how long until the last client has each event",
        SmallScopes => "5,000 clients over 1,000 scopes (5 each) at 20,000 deliveries/s",
        Idle => "connections opened 1,000 per step with no traffic up to 10,000 (atr: up to --max, 100,000); RSS after each step",
        Smoke => "200 clients, 10 scopes, 2,000 events at 20,000 deliveries/s: correctness only (lost = dup = 0)",
        _ => throw new ArgumentException($"Unknown scenario '{scenario}'. Known: {string.Join(", ", Names)}."),
    };

    /// <summary>The scenario's defaults.</summary>
    public static BenchSettings For(string scenario, ToolPaths paths) => scenario switch
    {
        Fanout => new BenchSettings { Scenario = scenario, Paths = paths, Clients = 5000, Scopes = 50, Rates = [10_000, 20_000, 40_000, 80_000, 160_000] },
        BigScope => new BenchSettings { Scenario = scenario, Paths = paths, Clients = 5000, Scopes = 1, Rates = [50_000] },
        SmallScopes => new BenchSettings { Scenario = scenario, Paths = paths, Clients = 5000, Scopes = 1000, Rates = [20_000] },
        Idle => new BenchSettings { Scenario = scenario, Paths = paths, Clients = 10_000, Scopes = 100, Rates = [] },
        Smoke => new BenchSettings
        {
            Scenario = scenario, Paths = paths, Clients = 200, Scopes = 10, Rates = [20_000], Events = 2000,
            Warmup = TimeSpan.Zero, FirstWarmup = TimeSpan.Zero, Drain = TimeSpan.FromSeconds(15),
        },
        _ => throw new ArgumentException($"Unknown scenario '{scenario}'. Known: {string.Join(", ", Names)}."),
    };
}
