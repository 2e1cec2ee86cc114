namespace Atr.Hub.Connections;

/// <summary>
/// The stream under a raw connection's WebSocket, when it can hold frames back: while
/// <see cref="Holding"/> is set, what the WebSocket writes is gathered, and it leaves with the first
/// frame written after it is cleared, in one write.
/// </summary>
internal interface IFrameHolder
{
    /// <summary>Whether more frames follow the next one: the send loop sets it before each frame.</summary>
    bool Holding { set; }
}
