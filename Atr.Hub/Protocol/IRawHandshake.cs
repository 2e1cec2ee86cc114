using System.Net.WebSockets;
using Atr.Hub.Connections;

namespace Atr.Hub.Protocol;

/// <summary>
/// The two steps of a raw handshake that depend on how it arrived — through the HTTP pipeline, or
/// read off the connection by <see cref="DirectUpgrade"/> — around the steps
/// <see cref="WebSocketEndpoint.OpenAsync"/> takes the same way for both.
/// </summary>
internal interface IRawHandshake
{
    /// <summary>Whether the handshake was read off the connection (<see cref="DirectUpgrade"/>) rather than through the HTTP pipeline.</summary>
    bool AtConnection { get; }

    /// <summary>Answers a refusal with its HTTP status and one-line reason; nothing is upgraded.</summary>
    Task RefuseAsync(WebSocketEndpoint.Refusal refusal);

    /// <summary>Completes the upgrade.</summary>
    /// <returns>The accepted WebSocket, and the stream under it when that stream can hold frames back for one write per batch.</returns>
    ValueTask<(WebSocket Socket, IFrameHolder? Holder)> AcceptAsync();
}
