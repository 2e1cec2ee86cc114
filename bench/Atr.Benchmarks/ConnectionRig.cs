using System.Diagnostics.Metrics;
using System.Globalization;
using System.Net.WebSockets;
using Atr.Hub;
using Atr.Hub.Connections;
using Atr.Hub.Diagnostics;
using Atr.Hub.Subscriptions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Atr.Benchmarks;

/// <summary>
/// Raw connections of one scope on the hub's real path, without Kestrel: an <see cref="EventDispatcher"/> and, per
/// connection, a <see cref="WebSocketConnection"/> whose send loop writes through a real server-side
/// <see cref="WebSocket"/>, the <see cref="KeepAliveStream"/> the hub's keep-alive clock pings through and the
/// <see cref="FrameBatcher"/> Kestrel's stream gets, onto a <see cref="DiscardStream"/>.
/// </summary>
internal sealed class ConnectionRig : IDisposable
{
    private const string Scope = "organization.1";

    private readonly AtrHubOptions _options = new();
    private readonly ScopeRegistry _scopes;
    private readonly ServiceProvider _services;
    private readonly HubMetrics _metrics;
    private readonly EventDispatcher _dispatcher;
    private readonly FrameSink _sink = new();
    private readonly KeepAliveSweeper _keepAlive;
    private readonly bool _pinged;
    private readonly List<(WebSocketConnection Connection, WebSocket Socket, Task Running)> _connections;
    private readonly List<DiscardStream> _streams;

    /// <param name="capacity">The connections expected, so that adding them grows no list.</param>
    /// <param name="keepAlive">Whether the hub's keep-alive clock pings the connections at the default interval; without, every frame written is an event.</param>
    /// <param name="historySize">The scope's in-memory tail (<see cref="AtrHubOptions.HistorySize"/>); 0 keeps none.</param>
    public ConnectionRig(int capacity, bool keepAlive, int historySize = 100)
    {
        _options.HistorySize = historySize;
        _scopes = new ScopeRegistry(Options.Create(_options));
        _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        _metrics = new HubMetrics(_services.GetRequiredService<IMeterFactory>(), _scopes);
        _dispatcher = new EventDispatcher(_scopes, _metrics, TimeProvider.System, Options.Create(_options), NullLogger<EventDispatcher>.Instance);
        _keepAlive = new KeepAliveSweeper(Options.Create(_options), TimeProvider.System, NullLogger<KeepAliveSweeper>.Instance);
        _pinged = keepAlive;
        _connections = new(capacity);
        _streams = new(capacity);
    }

    /// <summary>The largest buffer a read was given on any connection's stream: 0 when the sockets only wait with zero-byte reads.</summary>
    public int LargestRead => _streams.Count == 0 ? 0 : _streams.Max(stream => stream.LargestRead);

    /// <summary>Opens <paramref name="count"/> more connections to the scope.</summary>
    public void Connect(int count)
    {
        var group = _scopes.GetOrAdd(Scope);
        for (var i = 0; i < count; i++)
        {
            var connection = new WebSocketConnection(
                _connections.Count.ToString(CultureInfo.InvariantCulture), Scope, null, _options, _metrics, TimeProvider.System, NullLogger.Instance);
            var stream = new DiscardStream(_sink);
            var batcher = new FrameBatcher(stream);
            var keepAlive = new KeepAliveStream(batcher, _keepAlive);
            var socket = WebSocket.CreateFromStream(keepAlive, new WebSocketCreationOptions { IsServer = true, KeepAliveInterval = TimeSpan.Zero });
            if (_pinged)
            {
                keepAlive.Watch(socket);
            }

            group.Add(connection);
            _streams.Add(stream);
            _connections.Add((connection, socket, connection.RunAsync(socket, batcher: batcher)));
        }
    }

    /// <summary>Dispatches <paramref name="payload"/> to the scope and returns once every connection's socket has written it.</summary>
    public void Deliver(ReadOnlyMemory<byte> payload)
    {
        _sink.Expect(_connections.Count);
        _dispatcher.Dispatch(Scope, payload);
        _sink.Wait();
    }

    /// <summary>Closes every connection, waits for its loops to end, then releases the rest.</summary>
    public void Dispose()
    {
        foreach (var (connection, socket, _) in _connections)
        {
            connection.RequestClose(WebSocketCloseStatus.NormalClosure, string.Empty);
            socket.Abort();
        }

        Task.WhenAll(_connections.Select(c => c.Running)).Wait(TimeSpan.FromSeconds(30));
        foreach (var (connection, _, _) in _connections)
        {
            connection.Dispose();
        }

        _connections.Clear();
        _streams.Clear();
        _keepAlive.Dispose();
        _metrics.Dispose();
        _services.Dispose();
        _sink.Dispose();
    }
}
