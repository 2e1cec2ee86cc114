using System.Runtime.CompilerServices;
using Atr.Publishing;
using Atr.Publishing.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.EntityFrameworkCore;

/// <summary>Connects an Entity Framework Core context to Atr.</summary>
public static class AtrDbContextOptionsBuilderExtensions
{
    // One interceptor per application, whatever the number of scopes and contexts: keyed by the
    // application's EventRegistry, a singleton that every service provider of the application
    // (root or scope) resolves to the same instance, and that lives exactly as long as it.
    private static readonly ConditionalWeakTable<EventRegistry, ModelEventInterceptor> Interceptors = new();

    /// <summary>
    /// Publishes <c>created</c> / <c>updated</c> / <c>destroyed</c> for the context's
    /// <see cref="PublishableAttribute"/> entities once their changes are committed.
    /// </summary>
    /// <example>
    /// <code>
    /// services.AddAtrPublishing(o => o.Redis = "127.0.0.1:6379");
    /// services.AddDbContext&lt;BlogContext&gt;((sp, o) => o.UseSqlite("Data Source=blog.db").UseAtrPublishing(sp));
    /// </code>
    /// </example>
    /// <param name="builder">The context's options.</param>
    /// <param name="services">The application's services, where <c>AddAtrPublishing</c> or <c>AddAtrHub</c> was called.</param>
    /// <returns>The options builder.</returns>
    /// <exception cref="InvalidOperationException">Neither <c>AddAtrPublishing</c> nor <c>AddAtrHub</c> was called.</exception>
    public static DbContextOptionsBuilder UseAtrPublishing(this DbContextOptionsBuilder builder, IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(services);
        var registry = services.GetService<EventRegistry>();
        if (registry is null || services.GetService<IEventPublisher>() is null)
        {
            throw new InvalidOperationException("UseAtrPublishing needs Atr's services: call services.AddAtrPublishing(...) (or AddAtrHub) first.");
        }

        var interceptor = Interceptors.GetValue(registry, registry => new ModelEventInterceptor(
            services.GetRequiredService<IEventPublisher>(),
            services.GetRequiredService<EventFactory>(),
            registry,
            new PublishFailureReporter(
                services.GetRequiredService<IOptions<AtrPublishingOptions>>(),
                services.GetRequiredService<ILogger<PublishFailureReporter>>()),
            services.GetRequiredService<IOptions<AtrPublishingOptions>>()));
        return builder.AddInterceptors(interceptor);
    }
}
