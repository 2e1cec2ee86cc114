using System.Globalization;
using StackExchange.Redis;

namespace Atr.Bench.Targets;

/// <summary>The tool's own <c>redis-server</c> on a free loopback port: no persistence, default buffer limits.</summary>
internal sealed class RedisInstance : IAsyncDisposable
{
    private RedisInstance(ChildProcess process, int port, ConnectionMultiplexer client)
    {
        Process = process;
        Port = port;
        Client = client;
    }

    public ChildProcess Process { get; }

    public int Port { get; }

    public string Endpoint => $"127.0.0.1:{Port}";

    /// <summary>The tool's connection (publishing, readiness checks).</summary>
    public ConnectionMultiplexer Client { get; }

    public static async Task<RedisInstance> StartAsync(string redisServer, string? cpus, CancellationToken cancellationToken)
    {
        var (process, port) = await ChildProcess.StartOnFreePortAsync(
            port => ChildProcess.Start(
                "redis-server",
                redisServer,
                ["--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no"],
                cpus,
                line => line.Contains("Ready to accept connections", StringComparison.Ordinal)),
            attempts: 5,
            TimeSpan.FromSeconds(30),
            cancellationToken).ConfigureAwait(false);
        try
        {
            // Admin mode: the tool resets counters and flushes its own Redis between measurements.
            var client = await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{port},allowAdmin=true").ConfigureAwait(false);
            return new RedisInstance(process, port, client);
        }
        catch
        {
            await process.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Client.DisposeAsync().ConfigureAwait(false);
        await Process.DisposeAsync().ConfigureAwait(false);
    }
}
