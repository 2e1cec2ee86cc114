using Atr.Hub;
using Atr.Hub.Backplane;
using Atr.Hub.Connections;
using Atr.Hub.Diagnostics;
using Atr.Hub.History;
using Atr.Hub.Protocol;
using Atr.Hub.HttpApi;
using Atr.Hub.Security;
using Atr.Hub.SignalR;
using Atr.Hub.Subscriptions;
using Atr.Publishing;
using Atr.Publishing.Redis;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.StackExchangeRedis;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;
using StackExchange.Redis;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the Atr hub in an ASP.NET Core application.</summary>
public static class AtrHubServiceCollectionExtensions
{
    /// <summary>
    /// Registers the hub's services: the backplane (Redis when <see cref="AtrHubOptions.Redis"/> is set,
    /// otherwise in memory), the fan-out, the WebSocket middleware, and an <see cref="IEventPublisher"/>
    /// that publishes through the hub's backplane. Map the endpoints with <c>MapAtrHub</c>. Calling it
    /// twice is harmless.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets the options.</param>
    /// <returns>The service collection.</returns>
    /// <exception cref="OptionsValidationException">At start, when the options are out of range.</exception>
    public static IServiceCollection AddAtrHub(this IServiceCollection services, Action<AtrHubOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);

        var options = services.AddOptions<AtrHubOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateDataAnnotations()
            .Validate(o => o.KeepAliveInterval > TimeSpan.Zero, "AtrHubOptions.KeepAliveInterval must be positive.")
            .Validate(o => o.PeerTimeout > o.KeepAliveInterval, "AtrHubOptions.PeerTimeout must be longer than KeepAliveInterval.")
            .Validate(o => o.CloseTimeout > TimeSpan.Zero, "AtrHubOptions.CloseTimeout must be positive.")
            .Validate(o => o.MaxEventBytes <= o.MaxSendQueueBytes, "AtrHubOptions.MaxEventBytes must not exceed MaxSendQueueBytes: no client could take such an event.")
            .Validate(o => o.SlowConsumerGrace > TimeSpan.Zero, "AtrHubOptions.SlowConsumerGrace must be positive.")
            .Validate(o => o.HistoryTtl >= TimeSpan.FromSeconds(1), "AtrHubOptions.HistoryTtl must be at least 1 s.")
            .Validate(o => o.ProbeInterval >= TimeSpan.FromMilliseconds(100), "AtrHubOptions.ProbeInterval must be at least 100 ms.")
            .Validate(o => string.IsNullOrWhiteSpace(o.Redis) || IsRedisConfiguration(o.Redis), "AtrHubOptions.Redis (--redis) must be a StackExchange.Redis configuration with an endpoint, e.g. 127.0.0.1:6379 or host1:6379,host2:6379,password=….")
            .ValidateOnStart();

        if (services.Any(d => d.ServiceType == typeof(HubMarker)))
        {
            return services;
        }

        services.AddSingleton<HubMarker>();
        services.AddMetrics();
        services.AddAtrEventCore();

        // The hub's Redis settings are the publisher's too: one multiplexer, one channel prefix.
        services.AddOptions<AtrPublishingOptions>().Configure<IOptions<AtrHubOptions>>((publishing, hub) =>
        {
            publishing.Redis = hub.Value.Redis;
            publishing.ChannelPrefix = hub.Value.ChannelPrefix;
            publishing.MaxEventBytes = hub.Value.MaxEventBytes;
            publishing.HistorySize = hub.Value.HistorySize;
            publishing.HistoryTtl = hub.Value.HistoryTtl;
        });

        services.TryAddSingleton<RedisConnectionProvider>();
        services.TryAddSingleton<HubMetrics>();
        services.TryAddSingleton<ScopeRegistry>();
        services.TryAddSingleton<SubscriptionManager>();
        services.TryAddSingleton<EventDispatcher>();
        services.TryAddSingleton<ConnectionManager>();

        // A lifecycle service: it closes connections, paced, before Kestrel stops.
        services.AddHostedService(sp => sp.GetRequiredService<ConnectionManager>());
        services.TryAddSingleton<KeepAliveSweeper>();
        services.TryAddSingleton<WebSocketEndpoint>();
        services.TryAddSingleton<PublishEndpoint>();
        services.TryAddSingleton<ChannelsEndpoint>();
        services.TryAddSingleton<HistoryEndpoint>();
        services.TryAddSingleton<InMemoryBackplane>();
        services.TryAddSingleton<RedisBackplane>();
        services.TryAddSingleton<HistoryRecovery>();
        services.TryAddSingleton<InMemoryHistory>();
        services.TryAddSingleton<RedisHistory>();
        services.TryAddSingleton<IEventHistory>(sp => sp.GetRequiredService<IOptions<AtrHubOptions>>().Value.Redis is { Length: > 0 }
            ? sp.GetRequiredService<RedisHistory>()
            : sp.GetRequiredService<InMemoryHistory>());
        services.TryAddSingleton<IBackplane>(sp => sp.GetRequiredService<IOptions<AtrHubOptions>>().Value.Redis is { Length: > 0 }
            ? sp.GetRequiredService<RedisBackplane>()
            : sp.GetRequiredService<InMemoryBackplane>());

        services.AddHealthChecks().AddCheck<BackplaneHealthCheck>("atr-backplane", tags: [ReadyTag]);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, BackplaneConnector>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, AnonymousModeGuard>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, HubStartLog>());
        services.TryAddSingleton<ScopeAuthorizer>();
        services.TryAddSingleton<OriginPolicy>();
        services.TryAddSingleton<ConnectionLimiter>();
        services.TryAddSingleton<RefusalLog>();
        services.TryAddSingleton<SignalRGate>();
        services.TryAddSingleton<SignalRSockets>();
        AddSecurity(services);
        AddSignalR(services);

        // Inside a hub, publishing goes through the hub's own backplane, whichever it is.
        services.RemoveAll<IEventPublisher>();
        services.AddSingleton<IEventPublisher, BackplaneEventPublisher>();

        services.TryAddEnumerable(ServiceDescriptor.Transient<IStartupFilter, WebSocketsStartupFilter>());

        // With Redis, the hub announces its own application's models too (an embedding app's entities).
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, RedisRegistryAnnouncer>());
        return services;
    }

    /// <summary>
    /// Exports the hub's metrics (the <c>Atr.Hub</c> meter) through OpenTelemetry for a Prometheus
    /// scrape; map the endpoint with <c>MapAtrHubMetrics</c>. An application that configures
    /// OpenTelemetry itself may instead add the meter to its own provider
    /// (<c>AddMeter("Atr.Hub")</c>). Calling it twice is harmless.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <returns>The service collection.</returns>
    public static IServiceCollection AddAtrHubMetrics(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        if (services.Any(d => d.ServiceType == typeof(MetricsMarker)))
        {
            return services;
        }

        services.AddSingleton<MetricsMarker>();
        services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter(HubMetrics.MeterName)
            .AddPrometheusExporter());
        return services;
    }

    private static void AddSecurity(IServiceCollection services)
    {
        // Tokens travel in query strings (browsers cannot set WebSocket headers), and hosting logs
        // every request URL: every logger of the application goes through the redaction.
        var loggerFactory = services.LastOrDefault(d => d.ServiceType == typeof(ILoggerFactory));
        if (loggerFactory is not null)
        {
            // Whichever way the factory was registered (type, delegate as Serilog does, instance), wrap it.
            Func<IServiceProvider, ILoggerFactory> inner = loggerFactory switch
            {
                { ImplementationInstance: ILoggerFactory instance } => _ => instance,
                { ImplementationFactory: { } factory } => sp => (ILoggerFactory)factory(sp),
                { ImplementationType: { } type } => sp => (ILoggerFactory)ActivatorUtilities.CreateInstance(sp, type),
                _ => throw new InvalidOperationException("The registered ILoggerFactory cannot be wrapped."),
            };
            services.Replace(ServiceDescriptor.Singleton<ILoggerFactory>(sp => new TokenRedaction(inner(sp))));
        }

        services.TryAddSingleton<JwtValidator>();
        services.AddOptions<AtrHubOptions>()
            .Validate(o => o.JwtClockSkew >= TimeSpan.Zero && o.JwtClockSkew <= TimeSpan.FromSeconds(30), "AtrHubOptions.JwtClockSkew must be between 0 and 30 s.")
            .Validate(
                o => new[] { o.JwtKey, o.JwtKeyFile, o.JwtPublicKeyFile, o.JwtAuthority }.Count(v => !string.IsNullOrEmpty(v)) <= 1,
                "Configure one JWT key source: --jwt-key, --jwt-key-file, --jwt-public-key-file or --jwt-authority.");

        // Loads the configured key (or checks the authority's URL) once at start, and says why it cannot be used.
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<AtrHubOptions>, JwtKeyValidation>());
    }

    private static void AddSignalR(IServiceCollection services)
    {
        services.AddSignalR().AddMessagePackProtocol();

        // SignalR's own Redis backplane carries what applications send through IHubContext<AtrHub>;
        // Atr events never go through it (each node delivers them to its own connections).
        services.AddOptions<RedisOptions>().Configure<IOptions<AtrHubOptions>>((redis, hub) =>
        {
            if (hub.Value.Redis is { Length: > 0 } configuration)
            {
                redis.Configuration = RedisConnectionProvider.Configure(configuration);
                redis.Configuration.ChannelPrefix = RedisChannel.Literal(hub.Value.ChannelPrefix + "signalr:");
            }
        });
        services.TryAddSingleton<HubLifetimeManager<AtrHub>>(sp => new AtrHubLifetimeManager(
            sp.GetRequiredService<IOptions<AtrHubOptions>>().Value.Redis is { Length: > 0 }
                ? ActivatorUtilities.CreateInstance<RedisHubLifetimeManager<AtrHub>>(sp)
                : ActivatorUtilities.CreateInstance<DefaultHubLifetimeManager<AtrHub>>(sp)));
        services.TryAddTransient(sp => new AtrHub(
            sp.GetRequiredService<ScopeAuthorizer>(),
            sp.GetRequiredService<OriginPolicy>(),
            sp.GetRequiredService<ConnectionLimiter>(),
            sp.GetRequiredService<SubscriptionManager>(),
            sp.GetRequiredService<HubMetrics>(),
            sp.GetRequiredService<IOptions<AtrHubOptions>>().Value,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<RefusalLog>(),
            sp.GetRequiredService<HistoryRecovery>(),
            sp.GetRequiredService<ILogger<AtrHub>>()));
    }

    private static bool IsRedisConfiguration(string configuration)
    {
        try
        {
            return ConfigurationOptions.Parse(configuration).EndPoints.Count > 0;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    /// <summary>The tag of the health checks that decide readiness.</summary>
    internal const string ReadyTag = "atr-ready";

    /// <summary>Marks that <c>AddAtrHub</c> ran, for <c>MapAtrHub</c> to check; holds the base paths it mapped the hub at.</summary>
    internal sealed class HubMarker
    {
        public List<string> BasePaths { get; } = [];
    }

    /// <summary>Marks that <c>AddAtrHubMetrics</c> ran, for <c>MapAtrHubMetrics</c> to check.</summary>
    internal sealed class MetricsMarker;
}
