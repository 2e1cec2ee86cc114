using System.Diagnostics;
using System.Globalization;
using Atr.Bench.Targets;

namespace Atr.Bench.Cluster;

/// <summary>
/// The tool's own Redis Cluster on loopback: redis-server processes in cluster mode on free ports, masters only (the
/// benchmarks measure publishing, which replicas do not serve), no persistence, each master owning one even range of
/// the 16,384 slots, the split <c>redis-cli --cluster create</c> makes. The tool assigns the slots and joins the nodes
/// itself (<c>CLUSTER ADDSLOTSRANGE</c>, <c>CLUSTER MEET</c>): <c>redis-cli --cluster create</c> refuses fewer than three
/// masters, and the scaling run starts at one. Killed, with its folder, when disposed, and with the tool's other
/// children on any way out.
/// </summary>
internal sealed class LocalCluster : IAsyncDisposable
{
    public const int Slots = 16384;

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan FormTimeout = TimeSpan.FromSeconds(60);

    private readonly string _directory;
    private readonly List<ClusterMaster> _masters = [];

    private LocalCluster(string directory) => _directory = directory;

    public IReadOnlyList<ClusterMaster> Masters => _masters;

    /// <summary>A client's configuration naming every master (<c>127.0.0.1:7000,127.0.0.1:7001,…</c>), as a deployment gives <c>--redis</c>.</summary>
    public string Configuration => string.Join(',', _masters.Select(master => master.Endpoint));

    /// <summary>Starts <paramref name="masters"/> nodes (each under <c>taskset -c <paramref name="cpus"/></c> when given) and returns once every one says <c>cluster_state:ok</c>.</summary>
    /// <exception cref="InvalidOperationException">A node did not start, or the cluster did not form within a minute.</exception>
    public static async Task<LocalCluster> StartAsync(int masters, string redisServer, string? cpus, CancellationToken cancellationToken)
    {
        var cluster = new LocalCluster(Path.Combine(Path.GetTempPath(), "atr-bench-cluster-" + Guid.NewGuid().ToString("N")[..12]));
        try
        {
            for (var index = 0; index < masters; index++)
            {
                await cluster.StartMasterAsync(index, masters, redisServer, cpus, cancellationToken).ConfigureAwait(false);
            }

            await cluster.FormAsync(cancellationToken).ConfigureAwait(false);
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>The index in <see cref="Masters"/> of the master that owns <paramref name="slot"/>.</summary>
    public int OwnerOf(long slot)
    {
        for (var index = 0; index < _masters.Count; index++)
        {
            if (_masters[index].Owns(slot))
            {
                return index;
            }
        }

        throw new ArgumentOutOfRangeException(nameof(slot), slot, "No master owns this slot.");
    }

    /// <summary>Runs <paramref name="command"/> on every master at once.</summary>
    public Task OnEveryMasterAsync(string[] command, CancellationToken cancellationToken)
        => Task.WhenAll(_masters.Select(master => master.Admin.ExecuteAsync(command, cancellationToken)));

    public async ValueTask DisposeAsync()
    {
        foreach (var master in _masters)
        {
            await master.DisposeAsync().ConfigureAwait(false);
        }

        _masters.Clear();
        try
        {
            if (Directory.Exists(_directory))
            {
                Directory.Delete(_directory, recursive: true);
            }
        }
        catch (IOException)
        {
            // A file still held by a node on its way out; the temporary folder is the system's to clean.
        }
    }

    private async Task StartMasterAsync(int index, int count, string redisServer, string? cpus, CancellationToken cancellationToken)
    {
        var directory = Path.Combine(_directory, index.ToString(CultureInfo.InvariantCulture));
        Directory.CreateDirectory(directory);
        var busPort = 0;
        var (process, port) = await ChildProcess.StartOnFreePortAsync(
            port =>
            {
                busPort = FreePort.Next();
                return ChildProcess.Start(
                    "redis-server",
                    redisServer,
                    [
                        "--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1",
                        "--cluster-enabled", "yes", "--cluster-port", busPort.ToString(CultureInfo.InvariantCulture),
                        "--cluster-config-file", "nodes.conf", "--dir", directory,
                        "--save", "", "--appendonly", "no", "--daemonize", "no",
                    ],
                    cpus,
                    line => line.Contains("Ready to accept connections", StringComparison.Ordinal),
                    workingDirectory: directory);
            },
            attempts: 5,
            StartTimeout,
            cancellationToken).ConfigureAwait(false);
        try
        {
            var admin = await NodeConnection.ConnectAsync(port, cancellationToken).ConfigureAwait(false);
            var first = (int)Math.Round(index * (double)Slots / count);
            var last = (int)Math.Round((index + 1) * (double)Slots / count) - 1;
            _masters.Add(new ClusterMaster(process, port, busPort, first, last, admin));
        }
        catch
        {
            await process.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private async Task FormAsync(CancellationToken cancellationToken)
    {
        for (var index = 0; index < _masters.Count; index++)
        {
            var master = _masters[index];
            await master.Admin.ExecuteAsync(
                ["CLUSTER", "ADDSLOTSRANGE", master.FirstSlot.ToString(CultureInfo.InvariantCulture), master.LastSlot.ToString(CultureInfo.InvariantCulture)],
                cancellationToken).ConfigureAwait(false);

            // Distinct epochs before the nodes meet, as redis-cli gives them: no collision for the cluster to settle.
            await master.Admin.ExecuteAsync(["CLUSTER", "SET-CONFIG-EPOCH", (index + 1).ToString(CultureInfo.InvariantCulture)], cancellationToken).ConfigureAwait(false);
        }

        foreach (var other in _masters.Skip(1))
        {
            await _masters[0].Admin.ExecuteAsync(
                ["CLUSTER", "MEET", "127.0.0.1", other.Port.ToString(CultureInfo.InvariantCulture), other.BusPort.ToString(CultureInfo.InvariantCulture)],
                cancellationToken).ConfigureAwait(false);
        }

        // The nodes learn of each other and of the slots by gossip: poll until each one sees the whole cluster.
        var elapsed = Stopwatch.StartNew();
        var last = "no answer yet";
        while (true)
        {
            var whole = true;
            foreach (var master in _masters)
            {
                var info = await master.Admin.TextAsync(["CLUSTER", "INFO"], cancellationToken).ConfigureAwait(false);
                var known = $"cluster_known_nodes:{_masters.Count}";
                if (!info.Contains("cluster_state:ok", StringComparison.Ordinal) || !info.Contains(known, StringComparison.Ordinal)
                    || !info.Contains($"cluster_slots_ok:{Slots}", StringComparison.Ordinal))
                {
                    whole = false;
                    last = $"{master.Endpoint}: {string.Join(", ", info.Split('\n', StringSplitOptions.TrimEntries).Where(line => line.StartsWith("cluster_state", StringComparison.Ordinal) || line.StartsWith("cluster_known_nodes", StringComparison.Ordinal) || line.StartsWith("cluster_slots_ok", StringComparison.Ordinal)))}";
                    break;
                }
            }

            if (whole)
            {
                return;
            }

            if (elapsed.Elapsed > FormTimeout)
            {
                throw new InvalidOperationException($"The Redis Cluster of {_masters.Count} masters did not form within {FormTimeout.TotalSeconds} s; last: {last}.");
            }

            await Task.Delay(50, cancellationToken).ConfigureAwait(false);
        }
    }
}
