using System.Globalization;
using Atr.Bench.Clients;
using Atr.Bench.Measurement;
using Atr.Bench.Load;
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
        TargetKind.Atr or TargetKind.AtrHistoryOff or TargetKind.Ws or TargetKind.DotnetWs => ClientProtocol.Raw,
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
        TargetKind.Atr or TargetKind.AtrHistoryOff or TargetKind.Ws or TargetKind.DotnetWs => $"ws://127.0.0.1:{Port}/{scope.Path}",
        TargetKind.AtrSignalR => $"ws://127.0.0.1:{Port}/hub?scope={scope.Name}",
        TargetKind.SignalR => $"ws://127.0.0.1:{Port}/hub?group={scope.Name}",
        _ => $"ws://127.0.0.1:{Port}/socket.io/?EIO=4&transport=websocket&room={scope.Name}",
    });

    /// <summary>Starts the server on a free port (pinned to the server CPUs) and waits until it says it is listening.</summary>
    public static async Task<TargetServer> StartAsync(TargetKind kind, BenchSettings settings, RedisInstance redis, CancellationToken cancellationToken)
    {
        var (process, port) = await ChildProcess.StartOnFreePortAsync(
            port => Launch(kind, settings, redis, port), attempts: 3, StartTimeout, cancellationToken).ConfigureAwait(false);
        var server = new TargetServer(kind, process, port);
        if (settings.Pin && CpuSet.AllowedFor(process.Id) is { } allowed && !allowed.SetEquals(CpuSet.Parse(settings.ServerCpus)))
        {
            // Figures of a server sharing the load's CPU would be published as those of a server with a core to itself.
            await server.DisposeAsync().ConfigureAwait(false);
            throw new InvalidOperationException($"{TargetNames.Name(kind)} runs on CPU {CpuSet.Format(allowed)}, not on the server CPU {settings.ServerCpus}.");
        }

        return server;
    }

    /// <summary>The way events reach this target: Redis <c>PUBLISH atr:&lt;scope&gt;</c>, or the peer's own publisher.</summary>
    public async Task<ILoadPublisher> CreatePublisherAsync(BenchSettings settings, RedisInstance redis, CancellationToken cancellationToken)
    {
        var paths = settings.Paths;
        var cpus = settings.Pin ? settings.LoadCpus : null;
        return Kind switch
        {
            TargetKind.SignalR => await LinePublisher.StartAsync(
                "signalr publisher", paths.Dotnet, [Require(paths.SignalRPublisher), "--redis", redis.Endpoint], null, cpus, cancellationToken).ConfigureAwait(false),
            TargetKind.SocketIo => await LinePublisher.StartAsync(
                "socketio publisher", paths.Node, [Require(paths.SocketIoPublisher)], new Dictionary<string, string> { ["REDIS_URL"] = $"redis://{redis.Endpoint}" }, cpus, cancellationToken).ConfigureAwait(false),
            _ => new RedisLoadPublisher(redis.Client),
        };
    }

    public ValueTask DisposeAsync() => Process.DisposeAsync();

    private static ChildProcess Launch(TargetKind kind, BenchSettings settings, RedisInstance redis, int port)
    {
        var paths = settings.Paths;
        var portText = port.ToString(CultureInfo.InvariantCulture);
        var nodeEnvironment = new Dictionary<string, string> { ["PORT"] = portText, ["REDIS_URL"] = $"redis://{redis.Endpoint}" };
        (string FileName, string[] Arguments, Dictionary<string, string>? Environment) command = kind switch
        {
            TargetKind.Atr or TargetKind.AtrSignalR => (
                paths.Dotnet, [Require(paths.AtrServer), "start", "--server-host", "127.0.0.1", "--server-port", portText, "--redis", redis.Endpoint], null),
            TargetKind.AtrHistoryOff => (
                paths.Dotnet, [Require(paths.AtrServer), "start", "--server-host", "127.0.0.1", "--server-port", portText, "--redis", redis.Endpoint, "--history-size", "0"], null),
            TargetKind.SignalR => (paths.Dotnet, [Require(paths.SignalRServer), "--urls", $"http://127.0.0.1:{portText}", "--redis", redis.Endpoint], null),
            TargetKind.DotnetWs => (paths.Dotnet, [Require(paths.DotnetWsServer), "--urls", $"http://127.0.0.1:{portText}", "--redis", redis.Endpoint], null),
            TargetKind.SocketIo => (paths.Node, [Require(paths.SocketIoServer)], nodeEnvironment),
            _ => (paths.Node, [Require(paths.WsServer)], nodeEnvironment),
        };

        return ChildProcess.Start(
            TargetNames.Name(kind),
            command.FileName,
            command.Arguments,
            settings.Pin ? settings.ServerCpus : null,
            line => line.Contains("listening on", StringComparison.Ordinal),
            command.Environment,
            paths.RepositoryRoot);
    }

    private static string Require(string path) => File.Exists(path)
        ? path
        : throw new FileNotFoundException($"{path} is missing: build it first (bench/run.sh builds everything in Release).", path);
}
