using System.Net.WebSockets;
using System.Text;
using Atr.Hub.Connections;
using Atr.Hub.Subscriptions;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Jobs;

namespace Atr.Benchmarks;

/// <summary>
/// One event from the backplane to every recipient's socket, through the real path:
/// <see cref="EventDispatcher.Dispatch"/>, each <see cref="WebSocketConnection"/>'s send queue and
/// send loop, and a real server-side <see cref="WebSocket"/> framing the event onto a stream that
/// discards it (through the <see cref="FrameBatcher"/> that Kestrel's stream gets; see
/// <see cref="ConnectionRig"/>). One operation ends when every recipient's socket has written the frame.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(RuntimeMoniker.Net10_0, launchCount: 1, warmupCount: 5, iterationCount: 15)]
public class FanOutBenchmarks : IDisposable
{
    private readonly byte[] _payload = Encoding.UTF8.GetBytes(
        """{"id":"9f1c2b7e4a5d46c0b1e2f3a4b5c6d7e8","name":"post.created","occured_at":"2026-11-27T16:52:25.123+00:00","record":{"id":7,"title":"Hello"},"record_type":"Post","routing_key":"organization.1234.post.created"}""");

    private ConnectionRig? _rig;

    /// <summary>Local recipients of the event's scope.</summary>
    [Params(1, 10, 100, 1000)]
    public int Recipients { get; set; }

    /// <summary>The scope's history size: 0 keeps no tail, 100 (the default) appends each event to it.</summary>
    [Params(0, 100)]
    public int HistorySize { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        // No keep-alive pings: every frame a socket writes is the event.
        _rig = new ConnectionRig(Recipients, keepAlive: false, HistorySize);
        _rig.Connect(Recipients);
    }

    [Benchmark]
    public void DispatchOneEvent() => _rig!.Deliver(_payload);

    [GlobalCleanup]
    public void Cleanup()
    {
        _rig?.Dispose();
        _rig = null;
    }

    public void Dispose()
    {
        Cleanup();
        GC.SuppressFinalize(this);
    }
}
