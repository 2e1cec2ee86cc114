using System.Collections.Concurrent;
using System.Net.WebSockets;
using Microsoft.Extensions.Hosting;

namespace Atr.Hub.Connections;

/// <summary>
/// Every open raw connection of the node, so that shutdown can refuse new ones and close the open
/// ones with 1001 before the server stops.
/// </summary>
internal sealed class ConnectionManager
{
    private readonly ConcurrentDictionary<WebSocketConnection, byte> _connections = new();
    private long _nextId;
    private int _stopping;

    public ConnectionManager(IHostApplicationLifetime lifetime)
    {
        // ApplicationStopping runs before Kestrel stops and waits for open requests, so clients
        // get a 1001 close frame instead of a dropped connection.
        lifetime.ApplicationStopping.Register(CloseAll);
    }

    public bool IsStopping => Volatile.Read(ref _stopping) != 0;

    /// <summary>Bytes of frames queued on every connection and not yet written (a sum over connections: for stats, not the hot path).</summary>
    public long QueuedBytes => _connections.Keys.Sum(c => c.PendingBytes);

    public string NextId() => Interlocked.Increment(ref _nextId).ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Tracks a connection; one added while the node stops is closed at once.</summary>
    public void Add(WebSocketConnection connection)
    {
        _connections.TryAdd(connection, 0);

        // Full fences on both sides: either CloseAll sees this connection, or this sees the stop.
        Interlocked.MemoryBarrier();
        if (IsStopping)
        {
            // CloseAll may have run before the add: close this one ourselves.
            connection.RequestClose(WebSocketCloseStatus.EndpointUnavailable, "Server shutting down");
        }
    }

    public void Remove(WebSocketConnection connection) => _connections.TryRemove(connection, out _);

    private void CloseAll()
    {
        Interlocked.Exchange(ref _stopping, 1);
        foreach (var connection in _connections.Keys)
        {
            connection.RequestClose(WebSocketCloseStatus.EndpointUnavailable, "Server shutting down");
        }
    }
}
