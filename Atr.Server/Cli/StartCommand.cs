using System.CommandLine;

namespace Atr.Server.Cli;

/// <summary><c>atr-server start</c>: runs a hub node, its options applied as configuration keys over every other source.</summary>
internal static class StartCommand
{
    /// <summary>The options of <c>start</c> and the configuration keys they set.</summary>
    public static readonly IReadOnlyList<ConfigurationOption> Options =
    [
        new(new Option<string>("--server-host", "--server_host") { Description = "Address to bind: an IP address or localhost (default 127.0.0.1)." }, "Atr:ServerHost"),
        new(new Option<int>("--server-port", "--server_port") { Description = "Port to listen on; 0 picks a free one (default 7777)." }, "Atr:ServerPort"),
        new(new Option<string>("--redis") { Description = "StackExchange.Redis configuration of the backplane (default: in-memory, one node)." }, "Atr:Redis"),
        new(new Option<string>("--channel-prefix", "--channel_prefix") { Description = "Prefix of the Redis event channels (default atr:)." }, "Atr:ChannelPrefix"),
        new(new Option<bool>("--allow-anonymous", "--allow_anonymous") { Description = "Allow anonymous mode on an address other than loopback." }, "Atr:AllowAnonymous"),
        new(new Option<bool>("--no-signalr") { Description = "Do not map the SignalR hub at /hub." }, "Atr:EnableSignalR", Negates: true),
        new(new Option<string>("--jwt-key") { Description = "HS256 secret (32+ bytes) that signs tokens; turns JWT authentication on." }, "Atr:JwtKey"),
        new(new Option<string>("--jwt-key-file") { Description = "File holding the HS256 secret." }, "Atr:JwtKeyFile"),
        new(new Option<string>("--jwt-public-key-file") { Description = "PEM RSA (RS256) or EC P-256 (ES256) public key that verifies tokens." }, "Atr:JwtPublicKeyFile"),
        new(new Option<string>("--jwt-authority") { Description = "OpenID Connect authority whose JWKS verifies RS256/ES256 tokens." }, "Atr:JwtAuthority"),
        new(new Option<string>("--jwt-issuer") { Description = "Required token issuer (default atr)." }, "Atr:JwtIssuer"),
        new(new Option<string>("--jwt-audience") { Description = "Required token audience (default atr)." }, "Atr:JwtAudience"),
        new(new ListOption("--allowed-origins") { Description = "Browser Origins allowed to connect, comma-separated (default: any)." }, "Atr:AllowedOrigins"),
        new(new Option<int>("--max-connections-per-ip") { Description = "Most open connections per remote address; 429 past it (default: no limit)." }, "Atr:MaxConnectionsPerIp"),
        new(new Option<int>("--history-size") { Description = "Events kept per scope for clients that reconnect with since (default 100; 0: no history)." }, "Atr:HistorySize"),
        new(new Option<TimeSpan>("--history-ttl") { Description = "How long a scope's history is kept after its last event, as hh:mm:ss (default 00:10:00)." }, "Atr:HistoryTtl"),
        new(new Option<TimeSpan>("--probe-interval") { Description = "How often the node proves its Redis subscription, as hh:mm:ss (default 00:00:05); unready when a probe does not come back within one interval." }, "Atr:ProbeInterval"),
        new(new Option<int>("--shutdown-close-rate") { Description = "Raw connections closed per second at shutdown (default 10000)." }, "Atr:ShutdownCloseRate"),
        new(new Option<bool>("--no-direct-upgrade") { Description = "Upgrade raw WebSockets through the HTTP pipeline instead of at the connection (about 7 KiB more per idle connection)." }, "Atr:DirectUpgrade", Negates: true),
        new(new Option<bool>("--no-metrics") { Description = "Do not serve the Prometheus metrics at GET /metrics." }, "Atr:Metrics", Negates: true),
        new(new Option<bool>("--demo") { Description = "Serve the demo page at /demo/ (needs the built Atr.Client.Js)." }, "Atr:Demo"),
    ];

    public static Command Create()
    {
        var command = new Command(
            "start",
            "Run a hub node. Each option is also read from configuration (appsettings.json, environment variables such as Atr__ServerPort=7777); options given here win.");
        foreach (var option in Options)
        {
            command.Options.Add(option.Option);
        }

        command.SetAction(result => RunAsync(Settings(result)));
        return command;
    }

    /// <summary>The configuration keys and values given on <paramref name="result"/>'s command line; an option not given sets none.</summary>
    public static IReadOnlyDictionary<string, string?> Settings(ParseResult result)
        => Options.SelectMany(option => option.Read(result)).ToDictionary(StringComparer.OrdinalIgnoreCase);

    private static async Task<int> RunAsync(IReadOnlyDictionary<string, string?> settings)
    {
        await using var app = HubServer.Build(settings);
        await app.StartAsync().ConfigureAwait(false);
        Console.WriteLine(HubServer.Banner(app));
        await app.WaitForShutdownAsync().ConfigureAwait(false);
        return 0;
    }
}
