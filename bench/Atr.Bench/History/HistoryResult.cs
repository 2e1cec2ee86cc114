using System.Text.Json.Serialization;
using Atr.Bench.Results;

namespace Atr.Bench.History;

/// <summary>One measurement of <c>history-publish</c> or <c>history-storm</c>: a line of <c>bench/results/history/&lt;UTC timestamp&gt;.jsonl</c>.</summary>
internal sealed record HistoryResult
{
    public required DateTimeOffset Time { get; init; }

    public required MachineInfo Machine { get; init; }

    /// <summary><c>history-publish</c> or <c>history-storm</c>.</summary>
    public required string Scenario { get; init; }

    public required int Run { get; init; }

    /// <summary>The history size the publisher (and the hub) ran with; 0 is history off.</summary>
    public required int HistorySize { get; init; }

    public PublishFigures? Publish { get; init; }

    public StormFigures? Storm { get; init; }

    public string? Error { get; init; }

    /// <summary>A measurement of <paramref name="settings"/>' scenario that ended just now, with its figures.</summary>
    public static HistoryResult Measured(HistoryBenchSettings settings, MachineInfo machine, int run, int historySize, PublishFigures? publish = null, StormFigures? storm = null) => new()
    {
        Time = DateTimeOffset.UtcNow,
        Machine = machine,
        Scenario = settings.Scenario,
        Run = run,
        HistorySize = historySize,
        Publish = publish,
        Storm = storm,
    };
}

/// <summary>One publisher, pipelined, through Redis: what history costs Redis and the publisher.</summary>
internal sealed record PublishFigures
{
    public required int Events { get; init; }

    public required int Scopes { get; init; }

    public required int PayloadBytes { get; init; }

    public required int InFlight { get; init; }

    public required double Seconds { get; init; }

    public required double EventsPerSecond { get; init; }

    /// <summary>redis-server's CPU time (user + system) per event.</summary>
    public required double RedisCpuMicrosPerEvent { get; init; }

    /// <summary>Cores redis-server used during the window.</summary>
    public required double RedisCores { get; init; }

    /// <summary>Cores the tool (publisher and the subscriber standing in for a hub node) used during the window.</summary>
    public required double LoadCores { get; init; }

    /// <summary>Redis's <c>used_memory</c> at the end: the history's footprint when history is on.</summary>
    public required long RedisUsedMemoryBytes { get; init; }

    /// <summary>Events the subscriber received; equal to <see cref="Events"/> plus the warm-up when nothing was lost.</summary>
    public required long Received { get; init; }

    public required long Expected { get; init; }
}

/// <summary>Thousands of clients of one scope coming back at once with <c>since</c>.</summary>
internal sealed record StormFigures
{
    public required int Clients { get; init; }

    public required int Events { get; init; }

    public required int ConnectConcurrency { get; init; }

    /// <summary>From the first reconnect to the last client holding every missed event.</summary>
    public required double LastClientMs { get; init; }

    /// <summary>The median client's time from the storm's start to holding every missed event.</summary>
    public required double MedianClientMs { get; init; }

    /// <summary>From the first reconnect to the last upgrade answered.</summary>
    public required double AllConnectedMs { get; init; }

    /// <summary>History reads Redis served during the storm (<c>XRANGE</c> and <c>XREVRANGE</c> calls).</summary>
    public required long HistoryReads { get; init; }

    /// <summary>The hub's CPU time during the storm.</summary>
    public required double ServerCpuSeconds { get; init; }

    public required long Missing { get; init; }

    public required long Duplicated { get; init; }

    /// <summary>Clients whose events came in another order than published.</summary>
    public required long Disordered { get; init; }

    /// <summary>Clients that got <c>atr.resync</c> instead of their events.</summary>
    public required long Resyncs { get; init; }
}

/// <summary>The results file's JSON: snake_case, one object per line.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(HistoryResult))]
internal sealed partial class HistoryResultJson : JsonSerializerContext;
