namespace Atr.Bench.Targets;

/// <summary>A server under test.</summary>
internal enum TargetKind
{
    /// <summary>Atr's raw WebSocket endpoint (<c>ws://…/organization/&lt;s&gt;</c>), events published to Redis.</summary>
    Atr,

    /// <summary>Atr's SignalR endpoint (<c>/hub?scope=…</c>) with the JSON hub protocol, events published to Redis.</summary>
    AtrSignalR,

    /// <summary>Atr's raw WebSocket endpoint with history off (<c>--history-size 0</c>): what keeping each scope's tail costs.</summary>
    AtrHistoryOff,

    /// <summary>ASP.NET Core SignalR with its Redis backplane (bench/peers/signalr-redis).</summary>
    SignalR,

    /// <summary>Socket.IO 4 with the Redis adapter (bench/peers/socketio).</summary>
    SocketIo,

    /// <summary>A lean Node <c>ws</c> server reading the same Redis channels as Atr (bench/peers/ws).</summary>
    Ws,

    /// <summary>
    /// The same lean server on ASP.NET Core, with atr-server's runtime settings (bench/peers/dotnet-ws): what the
    /// fan-out alone costs on .NET and Kestrel.
    /// </summary>
    DotnetWs,
}
