using Atr.Publishing.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Microsoft.EntityFrameworkCore;

/// <summary>Connects an Entity Framework Core context to Atr.</summary>
public static class AtrDbContextOptionsBuilderExtensions
{
    /// <summary>
    /// Publishes <c>created</c> / <c>updated</c> / <c>destroyed</c> for the context's
    /// <see cref="Atr.Publishing.PublishableAttribute"/> entities once their changes are committed.
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
        var interceptor = services.GetService<ModelEventInterceptor>()
            ?? throw new InvalidOperationException("UseAtrPublishing needs Atr's services: call services.AddAtrPublishing(...) (or AddAtrHub) first.");
        return builder.AddInterceptors(interceptor);
    }
}
