namespace Atr.Bench.Targets;

/// <summary>The names of the targets on the command line and in the results.</summary>
internal static class TargetNames
{
    public static readonly IReadOnlyList<TargetKind> All = [TargetKind.Atr, TargetKind.AtrSignalR, TargetKind.SignalR, TargetKind.SocketIo, TargetKind.Ws];

    public static string Name(TargetKind kind) => kind switch
    {
        TargetKind.Atr => "atr",
        TargetKind.AtrSignalR => "atr-signalr",
        TargetKind.SignalR => "signalr",
        TargetKind.SocketIo => "socketio",
        TargetKind.Ws => "ws",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    public static TargetKind Parse(string name)
    {
        foreach (var kind in All)
        {
            if (string.Equals(Name(kind), name.Trim(), StringComparison.OrdinalIgnoreCase))
            {
                return kind;
            }
        }

        throw new ArgumentException($"Unknown target '{name}'. Known: {string.Join(", ", All.Select(Name))}.");
    }

    public static IReadOnlyList<TargetKind> ParseList(string list)
        => list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(Parse).Distinct().ToArray();
}
