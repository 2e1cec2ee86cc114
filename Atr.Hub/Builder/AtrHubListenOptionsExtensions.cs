using Atr.Hub.Protocol;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;

namespace Microsoft.AspNetCore.Hosting;

/// <summary>Kestrel endpoint options for the Atr hub.</summary>
public static class AtrHubListenOptionsExtensions
{
    /// <summary>
    /// Upgrades the raw endpoint's plain WebSocket handshakes on this endpoint at the connection,
    /// ahead of Kestrel's HTTP layer, so that an open connection does not keep its HTTP request
    /// alive under it (about 7 KiB less per idle connection). <c>atr-server</c> does this unless
    /// <c>--no-direct-upgrade</c> is given.
    /// </summary>
    /// <remarks>
    /// It takes a handshake only where the answer is the HTTP pipeline's: the hub mapped at the root
    /// with the built-in scope rules and no request authenticator, no convention on its endpoint
    /// (authorization, CORS, rate limiting…), and neither host filtering, forwarded headers, a limit on
    /// upgraded connections, an authorization fallback policy nor a global rate limiter configured.
    /// Every other request, and every refusal, goes on to the HTTP layer unread (see
    /// <c>docs/protocol.md</c>, "Handshake answers"). A handshake it takes never becomes an HTTP
    /// request: middleware the application adds to its pipeline does not run for it, and ASP.NET
    /// Core's request metrics, activities and logs do not see it. Use it only where the raw endpoint
    /// needs none of them.
    /// </remarks>
    /// <param name="listenOptions">The endpoint's options, in <c>ConfigureKestrel</c>.</param>
    /// <returns>The endpoint's options.</returns>
    /// <exception cref="InvalidOperationException">At start, when <c>AddAtrHub</c> was not called.</exception>
    public static ListenOptions UseAtrDirectUpgrade(this ListenOptions listenOptions)
    {
        ArgumentNullException.ThrowIfNull(listenOptions);
        listenOptions.Use(next =>
        {
            var services = listenOptions.ApplicationServices;
            if (services.GetService<AtrHubServiceCollectionExtensions.HubMarker>() is null)
            {
                throw new InvalidOperationException(
                    "UseAtrDirectUpgrade needs the hub's services: call builder.Services.AddAtrHub() before building the application.");
            }

            return DirectUpgrade.Before(next, services);
        });
        return listenOptions;
    }
}
