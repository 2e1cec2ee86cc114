using Atr.Bench.Targets;

namespace Atr.Bench.Cluster;

/// <summary>One master of a <see cref="LocalCluster"/>: its redis-server, its ports, the slots it owns and the tool's connection to it.</summary>
internal sealed class ClusterMaster(ChildProcess process, int port, int busPort, int firstSlot, int lastSlot, NodeConnection admin) : IAsyncDisposable
{
    /// <summary>The redis-server process: its pid is the one measured.</summary>
    public ChildProcess Process { get; } = process;

    public int Port { get; } = port;

    /// <summary>The cluster bus port (<c>--cluster-port</c>), which the other nodes are told to meet it on.</summary>
    public int BusPort { get; } = busPort;

    /// <summary>The first of the slots it owns, one range.</summary>
    public int FirstSlot { get; } = firstSlot;

    public int LastSlot { get; } = lastSlot;

    /// <summary>The tool's own commands to this node alone.</summary>
    public NodeConnection Admin { get; } = admin;

    public string Endpoint => $"127.0.0.1:{Port}";

    public bool Owns(long slot) => FirstSlot <= slot && slot <= LastSlot;

    public async ValueTask DisposeAsync()
    {
        await Admin.DisposeAsync().ConfigureAwait(false);
        await Process.DisposeAsync().ConfigureAwait(false);
    }
}
