using System.Diagnostics.Metrics;
using System.Net.WebSockets;
using System.Text;
using Atr.Hub;
using Atr.Hub.Connections;
using Atr.Hub.Diagnostics;
using Atr.Hub.Subscriptions;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Jobs;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Atr.Benchmarks;

/// <summary>
/// One event from the backplane to every recipient's socket, through the real path:
/// <see cref="EventDispatcher.Dispatch"/>, each <see cref="WebSocketConnection"/>'s send queue and
/// send loop, and a real server-side <see cref="WebSocket"/> framing the event onto a stream that
/// discards it (through the <see cref="FrameBatcher"/> that Kestrel's stream gets). One operation ends when every recipient's socket has written the frame.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(RuntimeMoniker.Net10_0, launchCount: 1, warmupCount: 5, iterationCount: 15)]
public class FanOutBenchmarks : IDisposable
{
    private const string Scope = "organization.1234";

    private readonly byte[] _payload = Encoding.UTF8.GetBytes(
        """{"id":"9f1c2b7e4a5d46c0b1e2f3a4b5c6d7e8","name":"post.created","occured_at":"2026-11-27T16:52:25.123+00:00","record":{"id":7,"title":"Hello"},"record_type":"Post","routing_key":"organization.1234.post.created"}""");

    private readonly FrameSink _sink = new();
    private readonly List<(WebSocketConnection Connection, WebSocket Socket, Task Running)> _connections = [];
    private ServiceProvider? _services;
    private EventDispatcher? _dispatcher;

    /// <summary>Local recipients of the event's scope.</summary>
    [Params(1, 10, 100, 1000)]
    public int Recipients { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var scopes = new ScopeRegistry();
        var metrics = new HubMetrics(_services.GetRequiredService<IMeterFactory>(), scopes);
        var options = new AtrHubOptions();
        _dispatcher = new EventDispatcher(scopes, metrics, TimeProvider.System, Options.Create(options), NullLogger<EventDispatcher>.Instance);

        var group = scopes.GetOrAdd(Scope);
        for (var i = 0; i < Recipients; i++)
        {
            var connection = new WebSocketConnection(i.ToString(System.Globalization.CultureInfo.InvariantCulture), Scope, options, metrics, TimeProvider.System, NullLogger.Instance);
            var batcher = new FrameBatcher(new DiscardStream(_sink));
            var socket = WebSocket.CreateFromStream(batcher, new WebSocketCreationOptions { IsServer = true, KeepAliveInterval = TimeSpan.Zero });
            group.Add(connection);
            _connections.Add((connection, socket, connection.RunAsync(socket, batcher: batcher)));
        }
    }

    [Benchmark]
    public void DispatchOneEvent()
    {
        _sink.Expect(Recipients);
        _dispatcher!.Dispatch(Scope, _payload);
        _sink.Wait();
    }

    [GlobalCleanup]
    public void Cleanup()
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
        _services?.Dispose();
    }

    public void Dispose()
    {
        _sink.Dispose();
        _services?.Dispose();
        GC.SuppressFinalize(this);
    }
}
