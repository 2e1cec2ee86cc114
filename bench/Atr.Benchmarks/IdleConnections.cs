using System.Net.WebSockets;
using Atr.Hub.Connections;

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
        using var rig = new ConnectionRig(count, keepAlive: true);

        var before = Heap();
        rig.Connect(count);

        // One event through every connection, so that whatever is made on first use is counted.
        rig.Deliver("""{"name":"post.created"}"""u8.ToArray());
        var after = Heap();

        Console.WriteLine($"{count} idle connections: {(after - before) / (double)count:F0} bytes of managed heap each (lists of {count} references included).");
        Console.WriteLine($"Largest buffer a waiting receive gave the stream: {rig.LargestRead} bytes (0: zero-byte reads only).");
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
