using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Options;

namespace Atr.Server.Cli;

/// <summary><c>atr-server</c>: <c>start</c> runs a hub node, <c>publish</c> publishes one event.</summary>
internal static class AtrCommandLine
{
    public static readonly CommandLineArguments.Flag[] StartFlags =
    [
        new(["--server-host", "--server_host"], "Atr:ServerHost", "Address to bind: an IP address or localhost (default 127.0.0.1)."),
        new(["--server-port", "--server_port"], "Atr:ServerPort", "Port to listen on; 0 picks a free one (default 7777)."),
        new(["--redis"], "Atr:Redis", "StackExchange.Redis configuration of the backplane (default: in-memory, one node)."),
        new(["--channel-prefix", "--channel_prefix"], "Atr:ChannelPrefix", "Prefix of the Redis event channels (default atr:)."),
        new(["--allow-anonymous", "--allow_anonymous"], "Atr:AllowAnonymous", "Allow anonymous mode on an address other than loopback.", IsSwitch: true),
        new(["--no-signalr"], "Atr:EnableSignalR", "Do not map the SignalR hub at /hub.", IsSwitch: true, SwitchValue: "false"),
        new(["--jwt-key"], "Atr:JwtKey", "HS256 secret (32+ bytes) that signs tokens; turns JWT authentication on."),
        new(["--jwt-key-file"], "Atr:JwtKeyFile", "File holding the HS256 secret."),
        new(["--jwt-public-key-file"], "Atr:JwtPublicKeyFile", "PEM RSA (RS256) or EC P-256 (ES256) public key that verifies tokens."),
        new(["--jwt-authority"], "Atr:JwtAuthority", "OpenID Connect authority whose JWKS verifies RS256/ES256 tokens."),
        new(["--jwt-issuer"], "Atr:JwtIssuer", "Required token issuer (default atr)."),
        new(["--jwt-audience"], "Atr:JwtAudience", "Required token audience (default atr)."),
        new(["--allowed-origins"], "Atr:AllowedOrigins", "Browser Origins allowed to connect, comma-separated (default: any).", IsList: true),
        new(["--max-connections-per-ip"], "Atr:MaxConnectionsPerIp", "Most open connections per remote address; 429 past it (default: no limit)."),
        new(["--probe-interval"], "Atr:ProbeInterval", "How often the node proves its Redis subscription, as hh:mm:ss (default 00:00:05); unready when a probe does not come back within one interval."),
        new(["--shutdown-close-rate"], "Atr:ShutdownCloseRate", "Connections closed per second at shutdown (default 10000)."),
        new(["--no-direct-upgrade"], "Atr:DirectUpgrade", "Upgrade raw WebSockets through the HTTP pipeline instead of at the connection (about 7 KiB more per idle connection).", IsSwitch: true, SwitchValue: "false"),
        new(["--no-metrics"], "Atr:Metrics", "Do not serve the Prometheus metrics at GET /metrics.", IsSwitch: true, SwitchValue: "false"),
        new(["--demo"], "Atr:Demo", "Serve the demo page at /demo/ (needs the built Atr.Client.Js).", IsSwitch: true),
    ];

    public static readonly CommandLineArguments.Flag[] TokenFlags =
    [
        new(["--scope"], "scope", "A scope the token may listen to: organization.1234, organization.*, or *. Repeatable, or comma-separated.", IsList: true),
        new(["--publish"], "publish", "Also allow POST /publish (within the scopes, when given).", IsSwitch: true),
        new(["--ttl"], "ttl", "Lifetime: 90s, 15m, 1h, 7d (default 1h)."),
        new(["--subject"], "subject", "The token's sub claim (default atr-cli)."),
        new(["--jwt-key"], "Atr:JwtKey", "HS256 secret that signs the token (or Atr__JwtKey)."),
        new(["--jwt-key-file"], "Atr:JwtKeyFile", "File holding the HS256 secret."),
        new(["--jwt-issuer"], "Atr:JwtIssuer", "Issuer (default atr)."),
        new(["--jwt-audience"], "Atr:JwtAudience", "Audience (default atr)."),
    ];

    public static readonly CommandLineArguments.Flag[] PublishFlags =
    [
        new(["--scope"], "scope", "Scope key, e.g. organization.1234 (default: unscoped)."),
        new(["--name"], "name", "Event name, e.g. post.created (required)."),
        new(["--record"], "record", "The record as JSON, e.g. '{\"id\":7}' (default null)."),
        new(["--record-type", "--record_type"], "record_type", "The record's type name, e.g. Post."),
        new(["--redis"], "redis", "Publish through this Redis (StackExchange.Redis configuration)."),
        new(["--url"], "url", "Publish through a hub's POST /publish, e.g. http://127.0.0.1:7777."),
        new(["--token"], "token", "Publish token for --url (or ATR_TOKEN)."),
        new(["--channel-prefix", "--channel_prefix"], "channel_prefix", "Prefix of the Redis event channels (default atr:)."),
    ];

    public static async Task<int> RunAsync(string[] args)
    {
        try
        {
            switch (args.FirstOrDefault())
            {
                case "start":
                    return await StartAsync(CommandLineArguments.Parse(args[1..], StartFlags)).ConfigureAwait(false);
                case "publish":
                    return await PublishCommand.RunAsync(CommandLineArguments.Parse(args[1..], PublishFlags)).ConfigureAwait(false);
                case "token":
                    return TokenCommand.Run(CommandLineArguments.Parse(args[1..], TokenFlags));
                case null or "help" or "--help" or "-h":
                    Console.WriteLine(Usage());
                    return args.Length == 0 ? 2 : 0;
                default:
                    throw new CommandLineException($"Unknown command '{args[0]}'.");
            }
        }
        catch (CommandLineException ex)
        {
            await Console.Error.WriteLineAsync($"atr-server: {ex.Message}{Environment.NewLine}{Environment.NewLine}{Usage()}").ConfigureAwait(false);
            return 2;
        }
        catch (OptionsValidationException ex)
        {
            await Console.Error.WriteLineAsync($"atr-server: invalid configuration: {string.Join(" ", ex.Failures)}").ConfigureAwait(false);
            return 2;
        }
    }

    private static async Task<int> StartAsync(CommandLineArguments arguments)
    {
        await using var app = HubServer.Build(arguments.Values);
        await app.StartAsync().ConfigureAwait(false);
        Console.WriteLine(HubServer.Banner(app));
        await app.WaitForShutdownAsync().ConfigureAwait(false);
        return 0;
    }

    private static string Usage() => $"""
        Usage: atr-server <command> [options]

        Commands:
          start      Run a hub node.
          publish    Publish one event through Redis or a hub's POST /publish.
          token      Print a signed token (HS256) for development and scripts.

        start options (each also read from configuration: appsettings.json, Atr__ServerPort=… environment variables):
        {CommandLineArguments.Describe(StartFlags)}

        publish options:
        {CommandLineArguments.Describe(PublishFlags)}

        token options:
        {CommandLineArguments.Describe(TokenFlags)}
        """;
}
