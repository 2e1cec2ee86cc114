using Atr.Hub.Backplane;
using Atr.Hub.Diagnostics;
using Atr.Hub.Protocol;
using Atr.Hub;
using Atr.Hub.HttpApi;
using Atr.Hub.SignalR;
using Atr.Hub.Subscriptions;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps the Atr hub's endpoints.</summary>
public static class AtrHubEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps the hub under <paramref name="basePath"/>: the raw WebSocket endpoint
    /// (<c>{basePath}/&lt;type&gt;/&lt;id&gt;…</c>), <c>POST {basePath}/publish</c>,
    /// <c>GET {basePath}/channels</c>, <c>GET {basePath}/history</c>, <c>GET {basePath}/stats</c>, <c>GET {basePath}/health/live</c>,
    /// <c>GET {basePath}/health/ready</c> and, unless
    /// <see cref="AtrHubOptions.EnableSignalR"/> is off, the SignalR hub at <c>{basePath}/hub</c>.
    /// </summary>
    /// <param name="endpoints">The route builder.</param>
    /// <param name="basePath">The base path. Default <c>/</c>.</param>
    /// <returns>A builder for conventions on every hub endpoint (authorization, rate limits).</returns>
    /// <exception cref="InvalidOperationException"><c>AddAtrHub</c> was not called.</exception>
    public static RouteGroupBuilder MapAtrHub(this IEndpointRouteBuilder endpoints, string basePath = "/")
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(basePath);
        var marker = endpoints.ServiceProvider.GetService<AtrHubServiceCollectionExtensions.HubMarker>()
            ?? throw new InvalidOperationException("MapAtrHub needs the hub's services: call builder.Services.AddAtrHub() before building the application.");
        marker.BasePaths.Add(basePath);

        var group = endpoints.MapGroup(basePath);
        group.MapPost("/publish", (HttpContext context, PublishEndpoint endpoint) => endpoint.HandleAsync(context));
        // Liveness: the process answers. Readiness: not stopping, and the backplane is connected.
        group.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false });
        group.MapHealthChecks("/health/ready", new HealthCheckOptions
        {
            Predicate = check => check.Tags.Contains(AtrHubServiceCollectionExtensions.ReadyTag),
            ResponseWriter = ReadinessResponse.WriteAsync,
        });
        group.MapGet("/channels", (ChannelsEndpoint endpoint, CancellationToken cancellationToken) => endpoint.HandleAsync(cancellationToken));
        group.MapGet("/history", (HttpContext context, HistoryEndpoint endpoint) => endpoint.HandleAsync(context));
        group.MapGet("/stats", (IBackplane backplane, HubMetrics metrics, ScopeRegistry scopes) => TypedResults.Json(
            new HubStats(
                backplane.Name,
                metrics.Connections,
                metrics.QueuedBytes,
                scopes.Count,
                metrics.ConnectionsOpened,
                metrics.EventsReceived,
                metrics.PayloadsDropped,
                metrics.EventsPublished,
                metrics.FramesQueued,
                metrics.FramesSent,
                metrics.SlowConsumers,
                metrics.SubscriptionFailures,
                backplane.Shards),
            HubJsonContext.Default.HubStats));
        var options = endpoints.ServiceProvider.GetRequiredService<IOptions<AtrHubOptions>>().Value;
        if (options.EnableSignalR)
        {
            // Refusals come before SignalR allocates anything (SignalRGate); only the configured transports are offered.
            // A WebSocket that did not negotiate is carried by the hub's own transport (SignalRSockets).
            var gate = endpoints.ServiceProvider.GetRequiredService<SignalRGate>();
            var sockets = endpoints.ServiceProvider.GetRequiredService<SignalRSockets>();
            group.MapHub<AtrHub>("/hub", hub => hub.Transports = options.SignalRTransports)
                .Add(endpoint =>
                {
                    var next = endpoint.RequestDelegate!;
                    RequestDelegate direct = sockets.RunAsync;
                    endpoint.RequestDelegate = context => gate.PassAsync(context, sockets.Serves(context) ? direct : next);
                });
        }

        group.MapGet("/{**path}", (HttpContext context, string? path, WebSocketEndpoint endpoint) => endpoint.HandleAsync(context, path))
            .WithMetadata(BatchingUpgradeFeature.EndpointMetadata);
        return group;
    }

    /// <summary>
    /// Maps the Prometheus scrape endpoint of the hub's metrics (text exposition format), by default
    /// at <c>GET /metrics</c>. It answers anyone who reaches it, as <c>/stats</c> does: counters only.
    /// </summary>
    /// <param name="endpoints">The route builder.</param>
    /// <param name="pattern">The route. Default <c>/metrics</c>.</param>
    /// <returns>A builder for conventions on the endpoint (authorization, host filtering).</returns>
    /// <exception cref="InvalidOperationException"><c>AddAtrHubMetrics</c> was not called.</exception>
    public static IEndpointConventionBuilder MapAtrHubMetrics(this IEndpointRouteBuilder endpoints, string pattern = "/metrics")
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(pattern);
        if (endpoints.ServiceProvider.GetService<AtrHubServiceCollectionExtensions.MetricsMarker>() is null)
        {
            throw new InvalidOperationException(
                "MapAtrHubMetrics needs the metrics services: call builder.Services.AddAtrHubMetrics() before building the application.");
        }

        return endpoints.MapPrometheusScrapingEndpoint(pattern);
    }
}
