using Atr.Hub.Connections;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Atr.Hub.SignalR;

/// <summary>
/// The hub's own WebSocket transport for SignalR (<see cref="SignalRSocket"/>): it serves the clients
/// that open <c>/hub</c> by WebSocket without negotiating first (<c>skipNegotiation</c>), keeps their
/// SignalR heartbeat on one clock for the node, and ends them when the node stops. Negotiated
/// connections, and every other transport, stay with SignalR's own.
/// </summary>
internal sealed partial class SignalRSockets : IDisposable
{
    /// <summary>How often SignalR's keep-alive and client timeout look at the time: once a second, as with SignalR's own transports.</summary>
    private static readonly TimeSpan Beat = TimeSpan.FromSeconds(1);

    private readonly NodeClock<SignalRSocket> _clock;
    private readonly HubConnectionHandler<AtrHub> _hub;
    private readonly TimeProvider _time;
    private readonly TimeSpan _closeTimeout;
    private readonly bool _enabled;
    private readonly ILogger _logger;
    private int _stopping;

    public SignalRSockets(HubConnectionHandler<AtrHub> hub, IOptions<AtrHubOptions> options, IHostApplicationLifetime lifetime, TimeProvider time, ILogger<SignalRSockets> logger)
    {
        _hub = hub;
        _time = time;
        _logger = logger;
        _closeTimeout = options.Value.CloseTimeout;
        _clock = new NodeClock<SignalRSocket>(time, Beat, Tick);
        _enabled = options.Value.SignalRDirectWebSockets && options.Value.SignalRTransports.HasFlag(HttpTransportType.WebSockets);
        lifetime.ApplicationStopping.Register(static s => ((SignalRSockets)s!).Stop(), this);
    }

    /// <summary>How many connections the transport carries.</summary>
    public int Count => _clock.Count;

    /// <summary>Whether <paramref name="context"/> is a WebSocket to <c>/hub</c> with no negotiated connection id: this transport's to serve.</summary>
    public bool Serves(HttpContext context)
        => _enabled && context.WebSockets.IsWebSocketRequest && !context.Request.Query.ContainsKey("id");

    /// <summary>Accepts the WebSocket and runs SignalR's hub over it until the connection ends.</summary>
    public async Task RunAsync(HttpContext context)
    {
        if (Volatile.Read(ref _stopping) != 0)
        {
            // As the raw endpoint answers during a drain: this node is going, another will take the client.
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            context.Response.ContentType = "text/plain; charset=utf-8";
            await context.Response.WriteAsync("Server shutting down; reconnect to another node or retry shortly.\n").ConfigureAwait(false);
            return;
        }

        // SignalR pings at its own protocol's level, on this transport's clock: the WebSocket does not.
        var socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext { KeepAliveInterval = TimeSpan.Zero }).ConfigureAwait(false);
        var connection = new SignalRSocket(context, socket, _closeTimeout, _time);
        Add(connection);
        try
        {
            await connection.RunAsync(_hub).ConfigureAwait(false);
        }
        finally
        {
            Remove(connection);
            socket.Dispose();
        }
    }

    public void Dispose() => _clock.Dispose();

    private void Add(SignalRSocket connection)
    {
        _clock.Add(connection);

        // Full fences on both sides: either the stop sees this connection, or this sees the stop.
        Interlocked.MemoryBarrier();
        if (Volatile.Read(ref _stopping) != 0)
        {
            connection.End();
        }
    }

    private void Remove(SignalRSocket connection) => _clock.Remove(connection);

    private void Tick(SignalRSocket[] connections)
    {
        foreach (var connection in connections)
        {
            try
            {
                connection.Beat();
            }
            catch (Exception ex)
            {
                // A fault of the heartbeat's callbacks, not of the client: that connection ends, the others keep their beat.
                LogBeatFailed(_logger, ex, connection.ConnectionId);
                connection.Abort();
            }
        }
    }

    // Every connection is told to end: SignalR closes each with a close message that allows a
    // reconnect (to another node), and the socket with 1001.
    private void Stop()
    {
        Interlocked.Exchange(ref _stopping, 1);
        foreach (var connection in _clock.Snapshot())
        {
            connection.End();
        }
    }
}
