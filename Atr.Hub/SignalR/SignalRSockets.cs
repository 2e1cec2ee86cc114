using Atr.Hub.Connections;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Atr.Hub.SignalR;

/// <summary>
/// The hub's own WebSocket transport for SignalR (<see cref="SignalRSocket"/>): it serves the clients
/// that open <c>/hub</c> by WebSocket without negotiating first (<c>skipNegotiation</c>), keeps their
/// SignalR heartbeat on one clock for the node, and ends them when the node stops. Negotiated
/// connections, and every other transport, stay with SignalR's own.
/// </summary>
internal sealed class SignalRSockets : IDisposable
{
    /// <summary>How often SignalR's keep-alive and client timeout look at the time: once a second, as with SignalR's own transports.</summary>
    public static readonly TimeSpan Beat = TimeSpan.FromSeconds(1);

    private readonly Lock _lock = new();
    private readonly HashSet<SignalRSocket> _sockets = [];
    private readonly HubConnectionHandler<AtrHub> _hub;
    private readonly TimeProvider _time;
    private readonly TimeSpan _closeTimeout;
    private readonly bool _enabled;
    private SignalRSocket[]? _snapshot = [];
    private ITimer? _timer;
    private bool _stopping;

    public SignalRSockets(HubConnectionHandler<AtrHub> hub, IOptions<AtrHubOptions> options, IHostApplicationLifetime lifetime, TimeProvider time)
    {
        _hub = hub;
        _time = time;
        _closeTimeout = options.Value.CloseTimeout;
        _enabled = options.Value.SignalRDirectWebSockets && options.Value.SignalRTransports.HasFlag(HttpTransportType.WebSockets);
        lifetime.ApplicationStopping.Register(static s => ((SignalRSockets)s!).Stop(), this);
    }

    /// <summary>How many connections the transport carries.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _sockets.Count;
            }
        }
    }

    /// <summary>Whether <paramref name="context"/> is a WebSocket to <c>/hub</c> with no negotiated connection id: this transport's to serve.</summary>
    public bool Serves(HttpContext context)
        => _enabled && context.WebSockets.IsWebSocketRequest && !context.Request.Query.ContainsKey("id");

    /// <summary>Accepts the WebSocket and runs SignalR's hub over it until the connection ends.</summary>
    public async Task RunAsync(HttpContext context)
    {
        // SignalR pings at its own protocol's level, on this transport's clock: the WebSocket does not.
        var socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext { KeepAliveInterval = TimeSpan.Zero }).ConfigureAwait(false);
        var connection = new SignalRSocket(context, socket);
        Add(connection);
        try
        {
            await connection.RunAsync(_hub, _closeTimeout, _time).ConfigureAwait(false);
        }
        finally
        {
            Remove(connection);
            socket.Dispose();
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _timer?.Dispose();
            _timer = null;
        }
    }

    private void Add(SignalRSocket connection)
    {
        bool stopping;
        lock (_lock)
        {
            _sockets.Add(connection);
            _snapshot = null;
            _timer ??= ContextFreeTimer.Start(_time, static s => ((SignalRSockets)s!).Tick(), this, Beat);
            stopping = _stopping;
        }

        if (stopping)
        {
            connection.End();
        }
    }

    private void Remove(SignalRSocket connection)
    {
        lock (_lock)
        {
            if (_sockets.Remove(connection))
            {
                _snapshot = null;
                if (_sockets.Count == 0)
                {
                    _timer?.Dispose();
                    _timer = null;
                }
            }
        }
    }

    private SignalRSocket[] Snapshot()
    {
        lock (_lock)
        {
            return _snapshot ??= [.. _sockets];
        }
    }

    private void Tick()
    {
        foreach (var connection in Snapshot())
        {
            connection.Beat();
        }
    }

    // Every connection is told to end: SignalR closes each with a close message that allows a
    // reconnect (to another node), and the socket with 1001.
    private void Stop()
    {
        lock (_lock)
        {
            _stopping = true;
        }

        foreach (var connection in Snapshot())
        {
            connection.End();
        }
    }
}
