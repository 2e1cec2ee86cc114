using System.Reflection;

namespace Atr.Bench.Targets;

/// <summary>Where the programs the tool starts live. Relative to the repository unless given on the command line.</summary>
internal sealed record ToolPaths
{
    /// <summary>The repository's root (the folder of <c>Atr.sln</c>).</summary>
    public required string RepositoryRoot { get; init; }

    /// <summary>The build configuration of the servers: the tool's own (Debug in a test run, Release from bench/run.sh).</summary>
    public string Configuration { get; init; } = OwnConfiguration();

    public string? AtrServerDll { get; init; }

    public string Node { get; init; } = "node";

    public string Dotnet { get; init; } = "dotnet";

    public string RedisServer { get; init; } = "redis-server";

    public string Peers => Path.Combine(RepositoryRoot, "bench", "peers");

    /// <summary><c>Atr.Server/bin/&lt;configuration&gt;/net10.0/atr-server.dll</c>, or the other configuration's if only that one is built.</summary>
    public string AtrServer => AtrServerDll ?? Built(Path.Combine(RepositoryRoot, "Atr.Server"), "atr-server.dll");

    public string SignalRServer => Built(Path.Combine(Peers, "signalr-redis", "SignalRPeer.Server"), "SignalRPeer.Server.dll");

    public string SignalRPublisher => Built(Path.Combine(Peers, "signalr-redis", "SignalRPeer.Publisher"), "SignalRPeer.Publisher.dll");

    public string SocketIoServer => Path.Combine(Peers, "socketio", "server.mjs");

    public string SocketIoPublisher => Path.Combine(Peers, "socketio", "publisher.mjs");

    public string WsServer => Path.Combine(Peers, "ws", "server.mjs");

    public string DotnetWsServer => Built(Path.Combine(Peers, "dotnet-ws"), "DotnetWsPeer.dll");

    /// <summary>The repository that holds <paramref name="start"/> (or the working directory), found by its <c>Atr.sln</c>.</summary>
    public static string FindRepositoryRoot(string? start = null)
    {
        foreach (var from in new[] { start, Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var directory = from is null ? null : new DirectoryInfo(from); directory is not null; directory = directory.Parent)
            {
                if (File.Exists(Path.Combine(directory.FullName, "Atr.sln")))
                {
                    return directory.FullName;
                }
            }
        }

        throw new InvalidOperationException("Cannot find the repository (a folder with Atr.sln) above the working directory or the tool; pass --repo.");
    }

    private string Built(string project, string dll)
    {
        var candidates = new[] { Configuration, Configuration == "Release" ? "Debug" : "Release" }
            .Select(configuration => Path.Combine(project, "bin", configuration, "net10.0", dll))
            .ToArray();
        return candidates.FirstOrDefault(File.Exists) ?? candidates[0];
    }

    private static string OwnConfiguration()
        => typeof(ToolPaths).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(attribute => attribute.Key == "Configuration")?.Value ?? "Release";
}
