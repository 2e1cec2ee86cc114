using System.Reflection;
using Atr.Publishing;
using Atr.Publishing.Redis;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers Atr publishing.</summary>
public static class AtrPublishingServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="IEventPublisher"/> publishing through Redis, with <see cref="EventFactory"/>
    /// and the default <see cref="IEventSerializer"/>. Calling it twice is harmless; a serializer
    /// registered before it is kept.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets the options, e.g. <c>o =&gt; o.Redis = "127.0.0.1:6379"</c>.</param>
    /// <returns>The service collection.</returns>
    public static IServiceCollection AddAtrPublishing(this IServiceCollection services, Action<AtrPublishingOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);

        var builder = services.AddOptions<AtrPublishingOptions>();
        if (configure is not null)
        {
            builder.Configure(configure);
        }

        builder.Validate(o => o.ChannelPrefix is not null, "AtrPublishingOptions.ChannelPrefix must not be null.");

        services.AddAtrEventCore();
        services.TryAddSingleton<RedisConnectionProvider>();
        services.TryAddSingleton<IEventPublisher, RedisEventPublisher>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, RedisRegistryAnnouncer>());
        return services;
    }

    /// <summary>The pieces every publisher shares, hub or application.</summary>
    internal static IServiceCollection AddAtrEventCore(this IServiceCollection services)
    {
        services.AddOptions<AtrPublishingOptions>();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<EventFactory>();
        services.TryAddSingleton<IEventSerializer>(
            sp => new JsonEventSerializer(sp.GetRequiredService<IOptions<AtrPublishingOptions>>().Value.RecordSerializerOptions));
        services.TryAddSingleton(sp => CreateRegistry(sp.GetRequiredService<IOptions<AtrPublishingOptions>>().Value));
        return services;
    }

    private static EventRegistry CreateRegistry(AtrPublishingOptions options)
    {
        var registry = new EventRegistry();
        var assemblies = options.ModelAssemblies.Count > 0 ? [.. options.ModelAssemblies] : new[] { Assembly.GetEntryAssembly() };
        foreach (var assembly in assemblies)
        {
            if (assembly is not null)
            {
                registry.AddModels(assembly);
            }
        }

        foreach (var name in options.Channels)
        {
            registry.Add(name);
        }

        return registry;
    }
}
