using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using StackExchange.Redis;
using Xunit;

namespace Atr.Testing;

/// <summary>
/// A real <c>redis-server</c> on a free loopback port, started for a test collection and stopped
/// after it. A missing <c>redis-server</c> fails the tests: it never skips them.
/// </summary>
public sealed class RedisServer : IAsyncLifetime
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(15);

    private readonly ConcurrentQueue<string> _log = new();
    private Process? _process;
    private ConnectionMultiplexer? _client;

    public int Port { get; private set; }

    /// <summary>The StackExchange.Redis configuration string of this server.</summary>
    public string Configuration => $"127.0.0.1:{Port}";

    /// <summary>A plain StackExchange.Redis client of the test's own, independent of Atr.</summary>
    public ConnectionMultiplexer Client => _client ?? throw new InvalidOperationException("The Redis server is not started.");

    public async Task InitializeAsync()
    {
        Exception? last = null;

        // A free port can be taken between choosing and binding it; try a few.
        for (var attempt = 0; attempt < 5; attempt++)
        {
            Port = LoopbackPort.Free();
            try
            {
                await StartOnPortAsync();
                return;
            }
            catch (Exception ex)
            {
                last = ex;
                Kill();
            }
        }

        throw new InvalidOperationException($"redis-server did not start on a loopback port: {last?.Message}", last);
    }

    /// <summary>A server that will listen on a free port once <see cref="RestartAsync"/> is called: Redis absent, for now.</summary>
    public static RedisServer NotYetStarted() => new() { Port = LoopbackPort.Free() };

    /// <summary>Kills the server at once (SIGKILL), as a crash would.</summary>
    public async Task CrashAsync()
    {
        if (_client is not null)
        {
            await _client.DisposeAsync();
            _client = null;
        }

        Kill();
    }

    /// <summary>Starts the server (again) on its port, empty.</summary>
    public Task RestartAsync() => StartOnPortAsync();

    /// <summary>
    /// Starts <c>redis-server</c> and returns once it logged that it accepts connections (it logs to
    /// stdout) and a client of the test's own is connected; fails at once if it exits instead, as it
    /// does when the port is taken.
    /// </summary>
    private async Task StartOnPortAsync()
    {
        _log.Clear();
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _process = Process.Start(new ProcessStartInfo(FindRedisServer())
        {
            ArgumentList = { "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        })!;
        _process.OutputDataReceived += OnLine;
        _process.ErrorDataReceived += OnLine;
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        var elapsed = Stopwatch.StartNew();
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

        if (!await AnswersPingAsync(Port))
        {
            throw new InvalidOperationException($"redis-server said it was ready on port {Port} but did not answer PING.");
        }

        _client = await ConnectClientAsync(Configuration, StartTimeout - elapsed.Elapsed);

        void OnLine(object sender, DataReceivedEventArgs e)
        {
            if (e.Data is null)
            {
                return;
            }

            Keep(e.Data);
            if (e.Data.Contains("Ready to accept connections", StringComparison.Ordinal))
            {
                ready.TrySetResult();
            }
        }
    }

    public async Task DisposeAsync()
    {
        if (_client is not null)
        {
            await _client.DisposeAsync();
        }

        Kill();
    }

    /// <summary>How many clients are subscribed to <paramref name="channel"/>, from <c>PUBSUB NUMSUB</c>.</summary>
    public async Task<long> SubscriberCountAsync(string channel)
    {
        var result = await Client.GetServer(Configuration).ExecuteAsync("PUBSUB", "NUMSUB", channel);
        var parts = (RedisResult[])result!;
        return (long)parts[1];
    }

    /// <summary>
    /// <c>CLIENT LIST TYPE <paramref name="type"/></c> (<c>normal</c>, <c>pubsub</c>…): one dictionary of
    /// the listed fields (<c>id</c>, <c>name</c>, <c>age</c>, <c>sub</c>…) per connected client.
    /// </summary>
    public async Task<IReadOnlyList<IReadOnlyDictionary<string, string>>> ClientListAsync(string type)
    {
        var result = await Client.GetServer(Configuration).ExecuteAsync("CLIENT", "LIST", "TYPE", type);
        var text = (string)result!;

        // Over RESP3 the answer is a verbatim string, which keeps its "txt:" format prefix.
        return (text.StartsWith("txt:", StringComparison.Ordinal) ? text[4..] : text)
            .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(line => (IReadOnlyDictionary<string, string>)line.Split(' ')
                .Select(pair => pair.Split('=', 2))
                .ToDictionary(pair => pair[0], pair => pair.Length > 1 ? pair[1] : string.Empty, StringComparer.Ordinal))
            .ToList();
    }

    /// <summary>Publishes raw bytes with a plain <c>PUBLISH</c>.</summary>
    public Task<long> PublishAsync(string channel, RedisValue payload)
        => Client.GetSubscriber().PublishAsync(RedisChannel.Literal(channel), payload);

    private static async Task<ConnectionMultiplexer> ConnectClientAsync(string configuration, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                var options = ConfigurationOptions.Parse(configuration);
                options.AbortOnConnectFail = true;
                options.AllowAdmin = true;
                options.ConnectTimeout = 2000;
                var client = await ConnectionMultiplexer.ConnectAsync(options);
                await client.GetDatabase().PingAsync();
                return client;
            }
            catch (RedisConnectionException) when (deadline.Elapsed < timeout)
            {
                await Task.Delay(100);
            }
        }
    }

    private static async Task<bool> AnswersPingAsync(int port)
    {
        try
        {
            using var attempt = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, port, attempt.Token);
            var stream = client.GetStream();
            await stream.WriteAsync("PING\r\n"u8.ToArray(), attempt.Token);
            var answer = new byte[7];
            var read = await stream.ReadAtLeastAsync(answer, answer.Length, throwOnEndOfStream: false, attempt.Token);
            return answer.AsSpan(0, read).SequenceEqual("+PONG\r\n"u8);
        }
        catch (Exception ex) when (ex is SocketException or IOException or OperationCanceledException)
        {
            return false;
        }
    }

    internal static string FindRedisServer()
    {
        var fromEnvironment = Environment.GetEnvironmentVariable("ATR_REDIS_SERVER");
        if (!string.IsNullOrEmpty(fromEnvironment))
        {
            return fromEnvironment;
        }

        return FindOnPath("redis-server") ?? throw new InvalidOperationException(
            "redis-server is not installed: the tests need a real Redis. Install it (apt-get install -y redis-server) or run ./test.sh, which does.");
    }

    /// <summary>The first file named <paramref name="name"/> in a folder of <c>PATH</c>; null when there is none.</summary>
    internal static string? FindOnPath(string name)
    {
        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(directory, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>Keeps the server's last lines, for the message of a failed start.</summary>
    private void Keep(string line)
    {
        _log.Enqueue(line);
        while (_log.Count > 20)
        {
            _log.TryDequeue(out _);
        }
    }

    private void Kill()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true); // SIGKILL
            _process.WaitForExit(5000);
        }

        _process?.Dispose();
        _process = null;
    }
}

[CollectionDefinition(Name)]
/// <summary>The tests that share one <see cref="RedisServer"/>; they run one after another.</summary>
public sealed class UsesRedis : ICollectionFixture<RedisServer>
{
    public const string Name = "Redis";
}
