namespace Atr.Hub;

/// <summary>The WebSocket close codes the hub sends, beyond the RFC 6455 ones (1000, 1001, 1003, 1009; 1002 and 1007 from the runtime).</summary>
/// <remarks>See <c>docs/protocol.md</c> for what a client should do on each.</remarks>
public static class AtrCloseCodes
{
    /// <summary>4001: the client read too slowly and its send queue overflowed. Reconnect after a backoff.</summary>
    public const int SlowConsumer = 4001;

    /// <summary>4002: the connection's token expired. Reconnect with a fresh token.</summary>
    public const int TokenExpired = 4002;
}
