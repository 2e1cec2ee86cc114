namespace Atr.Hub.Connections;

/// <summary>What a raw connection's owner does when it starts and once it has ended: track it, count it, unsubscribe it.</summary>
internal interface IConnectionLifetime
{
    /// <summary>The connection's socket is accepted and its loops are about to run.</summary>
    void Started(WebSocketConnection connection);

    /// <summary>The connection has ended and its socket is disposed.</summary>
    ValueTask EndedAsync(WebSocketConnection connection);
}
