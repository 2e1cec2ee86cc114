using System.Diagnostics.Metrics;
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
/// What an idle raw connection keeps on the managed heap: its <see cref="WebSocketConnection"/>,
/// send queue, loops and server <see cref="WebSocket"/>, after a first event was delivered, with
/// no traffic since (the stream is a stand-in for Kestrel's, whose own cost is not counted). It also
/// tells whether the waiting receive holds a buffer: the loop asks for zero-byte reads.
/// </summary>
internal static class IdleConnections
{
    public static void Run(int count)
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var scopes = new ScopeRegistry();
        using var metrics = new HubMetrics(services.GetRequiredService<IMeterFactory>(), scopes);
        using var sink = new FrameSink();
        var options = new AtrHubOptions();
        var dispatcher = new EventDispatcher(scopes, metrics, TimeProvider.System, Options.Create(options), NullLogger<EventDispatcher>.Instance);
        var group = scopes.GetOrAdd("organization.1");
        var connections = new List<(WebSocketConnection Connection, WebSocket Socket, Task Running)>(count);
        var streams = new List<DiscardStream>(count);

        var before = Heap();
        for (var i = 0; i < count; i++)
        {
            var connection = new WebSocketConnection(i.ToString(System.Globalization.CultureInfo.InvariantCulture), "organization.1", options, metrics, TimeProvider.System, NullLogger.Instance);
            var stream = new DiscardStream(sink);
            streams.Add(stream);
            var batcher = new FrameBatcher(stream);
            var socket = WebSocket.CreateFromStream(batcher, new WebSocketCreationOptions { IsServer = true, KeepAliveInterval = options.KeepAliveInterval });
            group.Add(connection);
            connections.Add((connection, socket, connection.RunAsync(socket, batcher: batcher)));
        }

        // One event through every connection, so that whatever is made on first use is counted.
        sink.Expect(count);
        dispatcher.Dispatch("organization.1", """{"name":"post.created"}"""u8.ToArray());
        sink.Wait();
        var after = Heap();

        Console.WriteLine($"{count} idle connections: {(after - before) / (double)count:F0} bytes of managed heap each (lists of {count} references included).");
        Console.WriteLine($"Largest buffer a waiting receive gave the stream: {streams.Max(s => s.LargestRead)} bytes (0: zero-byte reads only).");
        foreach (var (connection, socket, _) in connections)
        {
            connection.RequestClose(WebSocketCloseStatus.NormalClosure, string.Empty);
            socket.Abort();
        }

        Task.WhenAll(connections.Select(c => c.Running)).Wait(TimeSpan.FromSeconds(30));
        foreach (var (connection, _, _) in connections)
        {
            connection.Dispose();
        }
    }

    private static long Heap()
    {
        // Queued continuations settle before the heap is read.
        Thread.Sleep(500);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return GC.GetTotalMemory(forceFullCollection: true);
    }
}
