using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Atr.Hub;
using Atr.Server.Cli;
using Atr.Server.Demo;
using OpenTelemetry.Resources;

namespace Atr.Server;

/// <summary>The standalone hub of <c>atr-server start</c>: Kestrel, the hub at <c>/</c>, settings from flags and configuration.</summary>
internal static class HubServer
{
    public const string Section = "Atr";

    /// <summary>Builds the standalone hub.</summary>
    /// <param name="settings">Configuration keys from the command line (<c>Atr:ServerPort</c>…), applied over every other source.</param>
    /// <param name="configure">A last word on the services, for hosts that embed the standalone server (tests).</param>
    /// <exception cref="CommandLineException">The settings cannot be served, e.g. anonymous mode on a public address, or <c>--demo</c> without the built browser bundle.</exception>
    public static WebApplication Build(IReadOnlyDictionary<string, string?> settings, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Configuration.AddInMemoryCollection(settings);

        var server = builder.Configuration.GetSection(Section).Get<ServerSettings>() ?? new ServerSettings();
        var address = server.BindAddress();
        var demoBundle = server.Demo ? DemoEndpoints.RequireBundle(server.DemoAssets) : null;
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            // A socket that sends nothing is held no longer than a request head may take (30 s):
            // Kestrel waits for a connection's first request for its keep-alive timeout (130 s).
            kestrel.Limits.KeepAliveTimeout = kestrel.Limits.RequestHeadersTimeout;
            kestrel.Listen(address, server.ServerPort, listen =>
            {
                // Every socket counts from its accept, below the open-files limit: the node refuses at
                // the ceiling instead of failing at the limit.
                listen.UseAtrConnectionLimits();
                if (server.DirectUpgrade)
                {
                    listen.UseAtrDirectUpgrade();
                }
            });
        });
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddSimpleConsole(console =>
        {
            console.SingleLine = true;
            console.TimestampFormat = "HH:mm:ss.fff ";
        });

        builder.Services.AddOptions<AtrHubOptions>().BindConfiguration(Section);
        if (IPAddress.IsLoopback(address))
        {
            // atr-server's rule: anonymous mode on loopback by default; elsewhere only with --allow-anonymous (checked below).
            builder.Services.PostConfigure<AtrHubOptions>(options => options.AllowAnonymous = true);
        }

        builder.Services.AddAtrHub();
        if (server.Metrics)
        {
            builder.Services.AddAtrHubMetrics();
            builder.Services.AddOpenTelemetry().ConfigureResource(resource => resource.AddService("atr-server"));
        }

        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = TimeSpan.FromSeconds(10));
        configure?.Invoke(builder);

        var app = builder.Build();
        var options = app.Services.GetRequiredService<IOptions<AtrHubOptions>>().Value;
        if (!options.AuthenticationEnabled && !IPAddress.IsLoopback(address) && !options.AllowAnonymous)
        {
            throw new CommandLineException(
                $"Refusing to serve anonymous mode on {address}: anyone who reaches it could listen to every scope and publish. " +
                "Give the hub a key (--jwt-key, --jwt-key-file, --jwt-public-key-file or --jwt-authority), bind to 127.0.0.1 (the default), " +
                "or pass --allow-anonymous if anonymous access is really what you want.");
        }

        app.MapAtrHub();
        if (server.Metrics)
        {
            app.MapAtrHubMetrics();
        }

        if (demoBundle is not null)
        {
            DemoEndpoints.Map(app, demoBundle);
        }

        return app;
    }

    /// <summary>The addresses Kestrel listens on, once started (the real port when 0 was asked).</summary>
    public static IReadOnlyList<string> Addresses(WebApplication app)
        => app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.ToArray() ?? [];

    /// <summary>The start banner: where to connect, which backplane, which mode.</summary>
    public static string Banner(WebApplication app)
    {
        var options = app.Services.GetRequiredService<IOptions<AtrHubOptions>>().Value;
        var server = app.Configuration.GetSection(Section).Get<ServerSettings>() ?? new ServerSettings();
        var addresses = Addresses(app);
        var http = addresses.Count > 0 ? addresses[0] : $"http://{server.ServerHost}:{server.ServerPort}";
        var ws = "ws" + http["http".Length..];
        var backplane = options.Redis is { Length: > 0 } ? $"redis ({RedisEndpoints(options.Redis)}, channels {options.ChannelPrefix}<scope>)" : "in-memory (one node; publish with POST /publish)";
        var mode = options.AuthenticationEnabled
            ? $"JWT ({KeySource(options)}; issuer '{options.JwtIssuer}', audience '{options.JwtAudience}'); scopes from atr_scopes, publishing with atr_publish"
            : IPAddress.IsLoopback(server.BindAddress())
                ? "ANONYMOUS mode on loopback: anyone on this machine may listen to any scope and publish"
                : "ANONYMOUS mode on a non-loopback address (--allow-anonymous): anyone who reaches it may listen to any scope and publish";
        var origins = options.AllowedOrigins.Count == 0 ? "any" : string.Join(", ", options.AllowedOrigins);
        return $"""
            Atr hub listening on {http}
              connect:   {ws}/organization/1234 (or {ws}/ for unscoped events)
              publish:   POST {http}/publish
              backplane: {backplane}
              security:  {mode}
              origins:   {origins}{(server.Metrics ? $"{Environment.NewLine}  metrics:   GET {http}/metrics" : string.Empty)}{(server.Demo ? $"{Environment.NewLine}  demo:      {http}/demo/" : string.Empty)}
            """;
    }

    // The configuration may carry a password: the banner shows the endpoints only.
    private static string RedisEndpoints(string configuration)
        => string.Join(",", StackExchange.Redis.ConfigurationOptions.Parse(configuration).EndPoints.Select(StackExchange.Redis.EndPointCollection.ToString));

    private static string KeySource(AtrHubOptions options)
        => !string.IsNullOrEmpty(options.JwtAuthority) ? $"keys of {options.JwtAuthority}"
            : !string.IsNullOrEmpty(options.JwtPublicKeyFile) ? $"public key {options.JwtPublicKeyFile}"
            : !string.IsNullOrEmpty(options.JwtKeyFile) ? $"HS256 key file {options.JwtKeyFile}"
            : "HS256 key";
}
