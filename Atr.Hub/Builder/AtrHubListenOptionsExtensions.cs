using Atr.Hub.Connections;
using Atr.Hub.Protocol;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;

namespace Microsoft.AspNetCore.Hosting;

/// <summary>Kestrel endpoint options for the Atr hub.</summary>
public static class AtrHubListenOptionsExtensions
{
    /// <summary>
    /// Counts every socket this endpoint accepts, from its accept: toward the node's ceiling
    /// (<see cref="Atr.Hub.AtrHubOptions.MaxConnections"/>; by default below the process's open-files
    /// limit, with a reserve for threads, Redis and logs), past which a socket is closed at once and
    /// the node stays up; and toward its address's <see cref="Atr.Hub.AtrHubOptions.MaxConnectionsPerIp"/>,
    /// so that sockets that never finish a handshake count too (their requests are answered 429).
    /// <c>atr-server</c> does this on its endpoint. Call it before <c>UseAtrDirectUpgrade</c>.
    /// </summary>
    /// <param name="listenOptions">The endpoint's options, in <c>ConfigureKestrel</c>.</param>
    /// <returns>The endpoint's options.</returns>
    /// <exception cref="InvalidOperationException">At start, when <c>AddAtrHub</c> was not called.</exception>
    public static ListenOptions UseAtrConnectionLimits(this ListenOptions listenOptions)
    {
        ArgumentNullException.ThrowIfNull(listenOptions);
        listenOptions.Use(next => ConnectionGate.Create(next, HubServices(listenOptions)));
        return listenOptions;
    }

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
        listenOptions.Use(next => DirectUpgrade.Before(next, HubServices(listenOptions)));
        return listenOptions;
    }

    private static IServiceProvider HubServices(ListenOptions listenOptions)
    {
        var services = listenOptions.ApplicationServices;
        return services.GetService<AtrHubServiceCollectionExtensions.HubMarker>() is not null
            ? services
            : throw new InvalidOperationException("Atr's endpoint options need the hub's services: call builder.Services.AddAtrHub() before building the application.");
    }
}
