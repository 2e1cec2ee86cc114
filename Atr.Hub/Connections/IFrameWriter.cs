using Atr.Hub.Subscriptions;

namespace Atr.Hub.Connections;

/// <summary>
/// A connection as its <see cref="SendQueue"/> writes to it on the dispatcher's thread
/// (<see cref="SendQueue.Write"/>): one frame to its socket or protocol, and what a failed write does
/// to the connection.
/// </summary>
internal interface IFrameWriter
{
    /// <summary>Writes one frame; completes at once unless the client is behind.</summary>
    ValueTask WriteAsync(EventFrame frame);

    /// <summary>Ends the connection after a write that failed: the client went away, or something else went wrong.</summary>
    void WriteFailed(Exception exception);
}
