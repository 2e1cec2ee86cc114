namespace Atr.Bench.Targets;

/// <summary>The names of the targets on the command line and in the results.</summary>
internal static class TargetNames
{
    public static readonly IReadOnlyList<TargetKind> All = [TargetKind.Atr, TargetKind.AtrSignalR, TargetKind.SignalR, TargetKind.SocketIo, TargetKind.Ws];

    /// <summary>Every target a run can name: <see cref="All"/> (the default set) and the variants run on request.</summary>
    public static readonly IReadOnlyList<TargetKind> Known = [.. All, TargetKind.AtrHistoryOff, TargetKind.DotnetWs];

    public static string Name(TargetKind kind) => kind switch
    {
        TargetKind.Atr => "atr",
        TargetKind.AtrSignalR => "atr-signalr",
        TargetKind.AtrHistoryOff => "atr-history-off",
        TargetKind.SignalR => "signalr",
        TargetKind.SocketIo => "socketio",
        TargetKind.Ws => "ws",
        TargetKind.DotnetWs => "dotnet-ws",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    public static TargetKind Parse(string name)
    {
        foreach (var kind in Known)
        {
            if (string.Equals(Name(kind), name.Trim(), StringComparison.OrdinalIgnoreCase))
            {
                return kind;
            }
        }

        throw new ArgumentException($"Unknown target '{name}'. Known: {string.Join(", ", Known.Select(Name))}.");
    }

    public static IReadOnlyList<TargetKind> ParseList(string list)
        => list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(Parse).Distinct().ToArray();
}
