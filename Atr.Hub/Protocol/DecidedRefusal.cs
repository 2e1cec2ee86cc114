using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http;

namespace Atr.Hub.Protocol;

/// <summary>
/// A refusal <see cref="DirectUpgrade"/> decided for a handshake it read off the connection, left
/// among the connection's features for the HTTP layer to answer: the decision is made once, and
/// every refusal is written by Kestrel, whichever path read the handshake.
/// </summary>
/// <remarks>
/// Kestrel's request features fall back to the connection's, so the handshake's request finds it.
/// It is taken once, and only by the request that carries the same Sec-WebSocket-Key: a later
/// request on the same connection is decided afresh.
/// </remarks>
internal sealed class DecidedRefusal(WebSocketEndpoint.Refusal refusal, string key)
{
    private readonly WebSocketEndpoint.Refusal _refusal = refusal;
    private readonly string _key = key;
    private int _taken;

    /// <summary>Leaves <paramref name="refusal"/> of the handshake with <paramref name="key"/> on <paramref name="connection"/>.</summary>
    public static void Leave(ConnectionContext connection, WebSocketEndpoint.Refusal refusal, string key)
        => connection.Features.Set(new DecidedRefusal(refusal, key));

    /// <summary>The refusal decided for this request's handshake at the connection, if any; a second call gets none.</summary>
    public static WebSocketEndpoint.Refusal? Take(HttpContext context)
        => context.Features.Get<DecidedRefusal>() is { } decided
            && Interlocked.Exchange(ref decided._taken, 1) == 0
            && string.Equals(context.Request.Headers.SecWebSocketKey, decided._key, StringComparison.Ordinal)
                ? decided._refusal
                : null;
}
