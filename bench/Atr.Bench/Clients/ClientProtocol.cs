namespace Atr.Bench.Clients;

/// <summary>What a client speaks over its WebSocket.</summary>
internal enum ClientProtocol
{
    /// <summary>One event per text frame (Atr's raw endpoint, the ws peer).</summary>
    Raw,

    /// <summary>The SignalR JSON hub protocol; after the handshake the client invokes a method with its scope and waits for the completion.</summary>
    SignalR,

    /// <summary>Engine.IO v4 / Socket.IO 4 packets: <c>40</c> to connect, <c>42[…]</c> events, <c>2</c>/<c>3</c> ping/pong.</summary>
    SocketIo,
}
