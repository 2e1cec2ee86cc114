using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Atr.Testing;
using StackExchange.Redis;
using Xunit;

namespace Atr.Hub.Tests.Infrastructure;

/// <summary>
/// A real Redis Cluster on loopback: six <c>redis-server</c> processes in cluster mode on free ports,
/// joined by <c>redis-cli --cluster create … --cluster-replicas 1</c> into three masters with a
/// replica each. Its <c>cluster-node-timeout</c> is 1 s, so that a killed master's replica is
/// promoted within seconds, and <c>cluster-require-full-coverage</c> is off, so that the other shards
/// keep serving meanwhile. Started once for the tests of <see cref="UsesRedisCluster"/> and stopped,
/// with its files, after them. A missing <c>redis-server</c> or <c>redis-cli</c> fails the tests.
/// </summary>
public sealed class RedisCluster : IAsyncLifetime
{
    /// <summary>The cluster's <c>cluster-node-timeout</c>.</summary>
    public static readonly TimeSpan NodeTimeout = TimeSpan.FromSeconds(1);

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "atr-cluster-" + Guid.NewGuid().ToString("N")[..12]);
    private readonly List<Node> _nodes = [];
    private ConnectionMultiplexer? _client;

    /// <summary>The ports of the six nodes, the first three the masters the cluster was created with.</summary>
    public IReadOnlyList<int> Ports => [.. _nodes.Select(n => n.Port)];

    /// <summary>A StackExchange.Redis configuration naming two of the nodes, as a deployment would give <c>--redis</c>: the client finds the rest.</summary>
    public string Configuration => $"127.0.0.1:{_nodes[0].Port},127.0.0.1:{_nodes[1].Port}";

    /// <summary>A cluster client of the test's own, independent of Atr (admin commands allowed).</summary>
    public ConnectionMultiplexer Client => _client ?? throw new InvalidOperationException("The cluster is not started.");

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_directory);
        var elapsed = Stopwatch.StartNew();
        for (var i = 0; i < 6; i++)
        {
            var node = new Node(Path.Combine(_directory, i.ToString(CultureInfo.InvariantCulture)));
            _nodes.Add(node);
            await node.StartOnFreePortsAsync();
        }

        var (exitCode, output) = await RunRedisCliAsync(
            ["--cluster", "create", .. _nodes.Select(n => $"127.0.0.1:{n.Port}"), "--cluster-replicas", "1", "--cluster-yes"]);
        if (exitCode != 0)
        {
            throw new InvalidOperationException($"redis-cli --cluster create exited with {exitCode}:\n{output}");
        }

        await WaitHealthyAsync();
        var options = ConfigurationOptions.Parse(Configuration);
        options.AllowAdmin = true;
        options.ConnectTimeout = 2000;
        _client = await ConnectionMultiplexer.ConnectAsync(options);
        Console.WriteLine($"Redis Cluster of 3 masters and 3 replicas on ports {string.Join(", ", Ports)}, ready in {elapsed.Elapsed.TotalSeconds:F1} s.");
    }

    public async Task DisposeAsync()
    {
        if (_client is not null)
        {
            await _client.DisposeAsync();
        }

        foreach (var node in _nodes)
        {
            node.Kill();
        }

        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // A file still held by a process on its way out; the temporary folder is cleaned by the system.
        }
    }

    /// <summary>
    /// Waits until the cluster is whole: every node answers and says <c>cluster_state:ok</c>, three
    /// masters own every slot, each with a replica whose link to it is up, and no node is flagged failing.
    /// </summary>
    public async Task WaitHealthyAsync()
    {
        string last = "no answer yet";
        try
        {
            await TestTimeouts.UntilAsync(
                async () =>
                {
                    (var healthy, last) = await HealthAsync();
                    return healthy;
                },
                "the Redis Cluster is whole").WaitAsync(StartTimeout);
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"{ex.Message} Last: {last}", ex);
        }
    }

    /// <summary>The port of the master that owns the slot of <paramref name="key"/> now, as the cluster itself says.</summary>
    public async Task<int> MasterPortOfAsync(string key)
    {
        var node = _nodes.First(n => n.IsRunning);
        var slot = (long)(await node.ExecuteAsync("CLUSTER", "KEYSLOT", key))!;
        foreach (var line in await ClusterNodesAsync(node))
        {
            if (line.Flags.Contains("master", StringComparer.Ordinal) && !line.IsFailing && line.Slots.Any(r => r.From <= slot && slot <= r.To))
            {
                return line.Port;
            }
        }

        throw new InvalidOperationException($"No master owns slot {slot} of '{key}'.");
    }

    /// <summary>The port of the replica of the master on <paramref name="masterPort"/>.</summary>
    public async Task<int> ReplicaPortOfAsync(int masterPort)
    {
        var node = _nodes.First(n => n.IsRunning);
        var lines = await ClusterNodesAsync(node);
        var master = lines.Single(l => l.Port == masterPort);
        return lines.Single(l => l.MasterId == master.Id && !l.IsFailing).Port;
    }

    /// <summary>
    /// Moves the slot of <paramref name="key"/>, with its keys, to the master at <paramref name="toPort"/>
    /// as <c>redis-cli --cluster reshard</c> does, one slot: <c>IMPORTING</c> and <c>MIGRATING</c>,
    /// <c>MIGRATE</c> of its keys, then <c>SETSLOT … NODE</c> on every master.
    /// </summary>
    public async Task MoveSlotAsync(string key, int toPort)
    {
        var node = _nodes.First(n => n.IsRunning);
        var slot = (long)(await node.ExecuteAsync("CLUSTER", "KEYSLOT", key))!;
        var lines = await ClusterNodesAsync(node);
        var from = lines.Single(l => l.Flags.Contains("master", StringComparer.Ordinal) && l.Slots.Any(r => r.From <= slot && slot <= r.To));
        var to = lines.Single(l => l.Port == toPort);
        await NodeAt(to.Port).ExecuteAsync("CLUSTER", "SETSLOT", slot, "IMPORTING", from.Id);
        await NodeAt(from.Port).ExecuteAsync("CLUSTER", "SETSLOT", slot, "MIGRATING", to.Id);
        while (true)
        {
            var keys = (RedisResult[])(await NodeAt(from.Port).ExecuteAsync("CLUSTER", "GETKEYSINSLOT", slot, 100))!;
            if (keys.Length == 0)
            {
                break;
            }

            await NodeAt(from.Port).ExecuteAsync("MIGRATE", ["127.0.0.1", to.Port, "", 0, 5000, "KEYS", .. keys.Select(k => (object)(string)k!)]);
        }

        // The new owner first, then the old one, then the others: as redis-cli does.
        foreach (var master in new[] { to, from }.Concat(lines.Where(l => l.Flags.Contains("master", StringComparer.Ordinal) && l.Port != to.Port && l.Port != from.Port && !l.IsFailing)))
        {
            await NodeAt(master.Port).ExecuteAsync("CLUSTER", "SETSLOT", slot, "NODE", to.Id);
        }
    }

    /// <summary><c>PUBSUB SHARDNUMSUB <paramref name="channel"/></c> on the node at <paramref name="port"/>: how many of its clients subscribed the sharded channel.</summary>
    public async Task<long> ShardSubscribersAsync(int port, string channel)
    {
        var parts = (RedisResult[])(await NodeAt(port).ExecuteAsync("PUBSUB", "SHARDNUMSUB", channel))!;
        return (long)parts[1];
    }

    /// <summary><c>PUBSUB CHANNELS <paramref name="pattern"/></c> on the node at <paramref name="port"/>: the classic (not sharded) channels its clients subscribe.</summary>
    public async Task<string[]> PlainChannelsAsync(int port, string pattern)
        => [.. ((RedisResult[])(await NodeAt(port).ExecuteAsync("PUBSUB", "CHANNELS", pattern))!).Select(r => (string)r!)];

    /// <summary>Runs a command on the node at <paramref name="port"/> alone.</summary>
    public Task<RedisResult> ExecuteAsync(int port, string command, params object[] arguments) => NodeAt(port).ExecuteAsync(command, arguments);

    /// <summary>Kills the node at <paramref name="port"/> at once (SIGKILL), as a crash would.</summary>
    public void Kill(int port) => NodeAt(port).Kill();

    /// <summary>Starts the node at <paramref name="port"/> again with its cluster state: it rejoins, as a replica when its slots were taken over.</summary>
    public Task RestartAsync(int port) => NodeAt(port).StartAsync();

    /// <summary>Runs <c>redis-cli</c> with <paramref name="arguments"/> (no shell): its exit code and output.</summary>
    public static async Task<(int ExitCode, string Output)> RunRedisCliAsync(IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(FindRedisCli()) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(StartTimeout);
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"redis-cli {string.Join(' ', start.ArgumentList)} did not end within {StartTimeout.TotalSeconds} s.");
        }

        return (process.ExitCode, await stdout + await stderr);
    }

    private Node NodeAt(int port) => _nodes.Single(n => n.Port == port);

    private async Task<(bool Healthy, string Why)> HealthAsync()
    {
        foreach (var node in _nodes)
        {
            if (!node.IsRunning)
            {
                return (false, $"node {node.Port} is not running");
            }

            try
            {
                var info = (string)(await node.ExecuteAsync("CLUSTER", "INFO"))!;
                if (!info.Contains("cluster_state:ok", StringComparison.Ordinal))
                {
                    return (false, $"node {node.Port}: {info.Split('\n')[0].Trim()}");
                }

                var lines = await ClusterNodesAsync(node);
                var masters = lines.Where(l => l.Flags.Contains("master", StringComparer.Ordinal) && l.Slots.Count > 0).ToArray();
                if (lines.Count != 6 || lines.Any(l => l.IsFailing || l.LinkState != "connected") || masters.Length != 3
                    || masters.Any(m => !lines.Any(l => l.MasterId == m.Id)))
                {
                    return (false, $"node {node.Port} sees: {string.Join(" | ", lines.Select(l => $"{l.Port} {string.Join(',', l.Flags)} {l.LinkState}"))}");
                }

                if (lines.Single(l => l.Flags.Contains("myself", StringComparer.Ordinal)).Flags.Contains("slave", StringComparer.Ordinal))
                {
                    var replication = (string)(await node.ExecuteAsync("INFO", "replication"))!;
                    if (!replication.Contains("master_link_status:up", StringComparison.Ordinal) || replication.Contains("master_sync_in_progress:1", StringComparison.Ordinal))
                    {
                        return (false, $"replica {node.Port} is not in sync with its master");
                    }
                }
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
                return (false, $"node {node.Port}: {ex.GetType().Name} {ex.Message}");
            }
        }

        return (true, "whole");
    }

    private static async Task<List<NodeLine>> ClusterNodesAsync(Node node)
    {
        // Over RESP3 the answer is a verbatim string, which keeps its "txt:" format prefix.
        var text = (string)(await node.ExecuteAsync("CLUSTER", "NODES"))!;
        return [.. (text.StartsWith("txt:", StringComparison.Ordinal) ? text[4..] : text).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(NodeLine.Parse)];
    }

    private static string FindRedisCli()
    {
        var server = RedisServer.FindRedisServer();
        var beside = Path.Combine(Path.GetDirectoryName(server) ?? string.Empty, "redis-cli");
        if (File.Exists(beside))
        {
            return beside;
        }

        return RedisServer.FindOnPath("redis-cli") ?? throw new InvalidOperationException("redis-cli is not installed: the cluster tests need it to create the cluster (apt-get install -y redis-tools, which redis-server brings).");
    }

    /// <summary>One line of <c>CLUSTER NODES</c>.</summary>
    private sealed record NodeLine(string Id, int Port, string[] Flags, string MasterId, string LinkState, IReadOnlyList<(long From, long To)> Slots)
    {
        public bool IsFailing => Flags.Contains("fail", StringComparer.Ordinal) || Flags.Contains("fail?", StringComparer.Ordinal);

        public static NodeLine Parse(string line)
        {
            // <id> <ip:port@cport> <flags> <master> <ping-sent> <pong-recv> <config-epoch> <link-state> <slot> <slot> ...
            var fields = line.Split(' ');
            var address = fields[1].Split('@')[0];
            var slots = fields.Skip(8)
                .Where(f => !f.StartsWith('['))
                .Select(f => f.Split('-'))
                .Select(r => (long.Parse(r[0], CultureInfo.InvariantCulture), long.Parse(r[^1], CultureInfo.InvariantCulture)))
                .ToList();
            return new NodeLine(fields[0], int.Parse(address[(address.LastIndexOf(':') + 1)..], CultureInfo.InvariantCulture), fields[2].Split(','), fields[3], fields[7], slots);
        }
    }

    /// <summary>One <c>redis-server</c> of the cluster: its folder keeps its <c>nodes.conf</c> across a restart.</summary>
    private sealed class Node(string directory)
    {
        private readonly ConcurrentQueue<string> _log = new();
        private Process? _process;
        private ConnectionMultiplexer? _connection;

        public int Port { get; private set; }

        public int BusPort { get; private set; }

        public bool IsRunning => _process is { HasExited: false };

        public async Task StartOnFreePortsAsync()
        {
            Directory.CreateDirectory(directory);
            Exception? last = null;

            // A free port can be taken between choosing and binding it; try a few.
            for (var attempt = 0; attempt < 5; attempt++)
            {
                Port = LoopbackPort.Free();
                BusPort = LoopbackPort.Free();
                try
                {
                    await StartAsync();
                    return;
                }
                catch (InvalidOperationException ex)
                {
                    last = ex;
                    Kill();
                }
            }

            throw new InvalidOperationException($"redis-server did not start in cluster mode on a loopback port: {last?.Message}", last);
        }

        /// <summary>Starts the node on its ports and returns once it accepts connections; fails at once if it exits instead.</summary>
        public async Task StartAsync()
        {
            _log.Clear();
            var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var start = new ProcessStartInfo(RedisServer.FindRedisServer())
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
                WorkingDirectory = directory,
            };
            foreach (var argument in new[]
            {
                "--port", Port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1",
                "--cluster-enabled", "yes", "--cluster-port", BusPort.ToString(CultureInfo.InvariantCulture),
                "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", ((int)NodeTimeout.TotalMilliseconds).ToString(CultureInfo.InvariantCulture),

                // As docs/scaling.md advises: the other shards keep serving while one fails over
                // (with the default, yes, every command gets CLUSTERDOWN until a replica is promoted).
                "--cluster-require-full-coverage", "no",
                "--dir", directory, "--save", "", "--appendonly", "no", "--daemonize", "no",
            })
            {
                start.ArgumentList.Add(argument);
            }

            _process = Process.Start(start)!;
            _process.OutputDataReceived += OnLine;
            _process.ErrorDataReceived += OnLine;
            _process.BeginOutputReadLine();
            _process.BeginErrorReadLine();

            var exited = _process.WaitForExitAsync();
            try
            {
                if (await Task.WhenAny(ready.Task, exited).WaitAsync(StartTimeout) != ready.Task)
                {
                    throw new InvalidOperationException($"redis-server exited with {_process.ExitCode} on port {Port}:\n{string.Join('\n', _log)}");
                }
            }
            catch (TimeoutException)
            {
                throw new InvalidOperationException($"redis-server was not ready on port {Port} within {StartTimeout.TotalSeconds} s:\n{string.Join('\n', _log)}");
            }

            void OnLine(object sender, DataReceivedEventArgs e)
            {
                if (e.Data is null)
                {
                    return;
                }

                _log.Enqueue(e.Data);
                while (_log.Count > 20)
                {
                    _log.TryDequeue(out _);
                }

                if (e.Data.Contains("Ready to accept connections", StringComparison.Ordinal))
                {
                    ready.TrySetResult();
                }
            }
        }

        /// <summary>A command on this node alone: sent to its server, never redirected.</summary>
        public async Task<RedisResult> ExecuteAsync(string command, params object[] arguments)
        {
            if (_connection is null)
            {
                var options = ConfigurationOptions.Parse($"127.0.0.1:{Port}");
                options.AllowAdmin = true;
                options.ConnectTimeout = 2000;
                options.AbortOnConnectFail = false;
                _connection = await ConnectionMultiplexer.ConnectAsync(options);
            }

            return await _connection.GetServer("127.0.0.1", Port).ExecuteAsync(command, arguments).WaitAsync(TestTimeouts.Default);
        }

        public void Kill()
        {
            _connection?.Dispose();
            _connection = null;
            if (_process is { HasExited: false })
            {
                _process.Kill(entireProcessTree: true); // SIGKILL
                _process.WaitForExit(5000);
            }

            _process?.Dispose();
            _process = null;
        }
    }
}

[CollectionDefinition(Name)]
/// <summary>The tests that share one <see cref="RedisCluster"/>; they run one after another.</summary>
public sealed class UsesRedisCluster : ICollectionFixture<RedisCluster>
{
    public const string Name = "Redis Cluster";
}
