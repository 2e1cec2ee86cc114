using System.Globalization;
using Atr.Bench.Clients;
using Atr.Bench.Measurement;
using Atr.Bench.Publishing;
using Atr.Bench.Scenarios;

namespace Atr.Bench.Targets;

/// <summary>A server under test, started by the tool, with what its clients and its publisher need to know.</summary>
internal sealed class TargetServer : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);

    private TargetServer(TargetKind kind, ChildProcess process, int port)
    {
        Kind = kind;
        Process = process;
        Port = port;
    }

    public TargetKind Kind { get; }

    public ChildProcess Process { get; }

    public int Port { get; }

    public ClientProtocol Protocol => Kind switch
    {
        TargetKind.Atr or TargetKind.Ws => ClientProtocol.Raw,
        TargetKind.AtrSignalR or TargetKind.SignalR => ClientProtocol.SignalR,
        _ => ClientProtocol.SocketIo,
    };

    /// <summary>The hub method a SignalR client invokes with its scope once connected, to know it is subscribed.</summary>
    public string? SignalRMethod => Kind switch
    {
        TargetKind.AtrSignalR => "Subscribe",
        TargetKind.SignalR => "Join",
        _ => null,
    };

    /// <summary>The address a client of <paramref name="scope"/> connects to.</summary>
    public Uri ClientUri(ScopeTracker scope) => new(Kind switch
    {
        TargetKind.Atr or TargetKind.Ws => $"ws://127.0.0.1:{Port}/{scope.Path}",
        TargetKind.AtrSignalR => $"ws://127.0.0.1:{Port}/hub?scope={scope.Name}",
        TargetKind.SignalR => $"ws://127.0.0.1:{Port}/hub?group={scope.Name}",
        _ => $"ws://127.0.0.1:{Port}/socket.io/?EIO=4&transport=websocket&room={scope.Name}",
    });

    /// <summary>Starts the server on a free port (pinned to the server CPUs) and waits until it says it is listening.</summary>
    public static async Task<TargetServer> StartAsync(TargetKind kind, BenchSettings settings, RedisInstance redis, CancellationToken cancellationToken)
    {
        Exception? last = null;
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var port = FreePort.Next();
            var process = Launch(kind, settings, redis, port);
            try
            {
                await process.ReadyAsync(StartTimeout, cancellationToken).ConfigureAwait(false);
                return new TargetServer(kind, process, port);
            }
            catch (InvalidOperationException ex)
            {
                // Most likely the port was taken between choosing and binding it.
                last = ex;
                await process.DisposeAsync().ConfigureAwait(false);
            }
        }

        throw new InvalidOperationException($"{TargetNames.Name(kind)} did not start: {last?.Message}", last);
    }

    /// <summary>The way events reach this target: Redis <c>PUBLISH atr:&lt;scope&gt;</c>, or the peer's own publisher.</summary>
    public async Task<IEventPublisher> CreatePublisherAsync(BenchSettings settings, RedisInstance redis, CancellationToken cancellationToken)
    {
        var paths = settings.Paths;
        var cpus = settings.Pin ? settings.LoadCpus : null;
        return Kind switch
        {
            TargetKind.SignalR => await LinePublisher.StartAsync(
                "signalr publisher", paths.Dotnet, [Require(paths.SignalRPublisher), "--redis", redis.Endpoint], null, cpus, cancellationToken).ConfigureAwait(false),
            TargetKind.SocketIo => await LinePublisher.StartAsync(
                "socketio publisher", paths.Node, [Require(paths.SocketIoPublisher)], new Dictionary<string, string> { ["REDIS_URL"] = $"redis://{redis.Endpoint}" }, cpus, cancellationToken).ConfigureAwait(false),
            _ => new RedisEventPublisher(redis.Client),
        };
    }

    public ValueTask DisposeAsync() => Process.DisposeAsync();

    private static ChildProcess Launch(TargetKind kind, BenchSettings settings, RedisInstance redis, int port)
    {
        var paths = settings.Paths;
        var cpus = settings.Pin ? settings.ServerCpus : null;
        var portText = port.ToString(CultureInfo.InvariantCulture);
        var name = TargetNames.Name(kind);
        static bool Listening(string line) => line.Contains("listening on", StringComparison.Ordinal);
        var nodeEnvironment = new Dictionary<string, string> { ["PORT"] = portText, ["REDIS_URL"] = $"redis://{redis.Endpoint}" };

        return kind switch
        {
            TargetKind.Atr or TargetKind.AtrSignalR => ChildProcess.Start(
                name,
                paths.Dotnet,
                [Require(paths.AtrServer), "start", "--server-host", "127.0.0.1", "--server-port", portText, "--redis", redis.Endpoint],
                cpus,
                Listening,
                workingDirectory: paths.RepositoryRoot),
            TargetKind.SignalR => ChildProcess.Start(
                name,
                paths.Dotnet,
                [Require(paths.SignalRServer), "--urls", $"http://127.0.0.1:{portText}", "--redis", redis.Endpoint],
                cpus,
                Listening,
                workingDirectory: paths.RepositoryRoot),
            TargetKind.SocketIo => ChildProcess.Start(name, paths.Node, [Require(paths.SocketIoServer)], cpus, Listening, nodeEnvironment, paths.RepositoryRoot),
            _ => ChildProcess.Start(name, paths.Node, [Require(paths.WsServer)], cpus, Listening, nodeEnvironment, paths.RepositoryRoot),
        };
    }

    private static string Require(string path) => File.Exists(path)
        ? path
        : throw new FileNotFoundException($"{path} is missing: build it first (bench/run.sh builds everything in Release).", path);
}
