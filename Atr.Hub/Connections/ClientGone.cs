using System.Net.WebSockets;
using Microsoft.AspNetCore.Connections;

namespace Atr.Hub.Connections;

/// <summary>
/// The one test of whether an exception from a client's socket or transport means the client is
/// gone — it closed, reset, stopped answering or was aborted by the hub's own timers — which is a
/// normal ending of a connection, not an error.
/// </summary>
internal static class ClientGone
{
    public static bool Is(Exception exception)
        => exception is OperationCanceledException or WebSocketException or IOException or ObjectDisposedException or ConnectionAbortedException;
}
