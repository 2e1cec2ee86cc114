using Atr.Hub.Connections;
using Atr.Hub.Diagnostics;
using Atr.Hub.Security;
using Atr.Hub.Subscriptions;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Atr.Hub.Protocol;

/// <summary>
/// The raw WebSocket endpoint: checks the request, answers refusals with an HTTP status and a
/// one-line reason before any upgrade, then subscribes, upgrades and runs the connection.
/// </summary>
internal sealed partial class WebSocketEndpoint(
    ScopeAuthorizer authorizer,
    OriginPolicy origins,
    ConnectionLimiter limiter,
    SubscriptionManager subscriptions,
    ConnectionManager connections,
    HubMetrics metrics,
    TimeProvider timeProvider,
    IOptions<AtrHubOptions> options,
    ILoggerFactory loggerFactory)
{
    public const string Banner = "Atr event hub. Connect a WebSocket to /<type>/<id>, e.g. ws://host:port/organization/1234, or to / for unscoped events.";

    private readonly AtrHubOptions _options = options.Value;
    private readonly ILogger _logger = loggerFactory.CreateLogger<WebSocketEndpoint>();
    private readonly ILogger _connectionLogger = loggerFactory.CreateLogger<WebSocketConnection>();

    public async Task HandleAsync(HttpContext context, string? path)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            if (context.Request.Headers.ContainsKey(HeaderNames.Upgrade))
            {
                await RefuseAsync(context, StatusCodes.Status400BadRequest, "Malformed WebSocket handshake: a GET with Upgrade: websocket, Sec-WebSocket-Key and Sec-WebSocket-Version: 13 is needed.").ConfigureAwait(false);
                return;
            }

            // As the original did for any plain HTTP request: a one-line banner.
            await WriteTextAsync(context, StatusCodes.Status200OK, Banner).ConfigureAwait(false);
            return;
        }

        if (connections.IsStopping)
        {
            await RefuseAsync(context, StatusCodes.Status503ServiceUnavailable, "Server shutting down; reconnect to another node or retry shortly.").ConfigureAwait(false);
            return;
        }

        if (!origins.Allows(context))
        {
            await RefuseAsync(context, StatusCodes.Status403Forbidden, "Origin not allowed: the hub's --allowed-origins does not list it.").ConfigureAwait(false);
            return;
        }

        var decision = await authorizer.AuthorizePathAsync(context, path ?? string.Empty).ConfigureAwait(false);
        switch (decision.Outcome)
        {
            case ScopeAuthorizer.Outcome.Malformed:
                await RefuseAsync(context, StatusCodes.Status400BadRequest, "Malformed scope path: use /<type>/<id>[/<type>/<id>...] with segments of 1 to 64 characters of [A-Za-z0-9_-], or / for unscoped events.").ConfigureAwait(false);
                return;
            case ScopeAuthorizer.Outcome.Unauthenticated:
                context.Response.Headers.WWWAuthenticate = "Bearer";
                await RefuseAsync(context, StatusCodes.Status401Unauthorized, "A valid token is required: pass it as ?access_token=<JWT> or Authorization: Bearer <JWT>.").ConfigureAwait(false);
                return;
            case ScopeAuthorizer.Outcome.KeysUnavailable:
                await RefuseAsync(context, StatusCodes.Status503ServiceUnavailable, "The keys that verify tokens cannot be fetched right now; retry shortly.").ConfigureAwait(false);
                return;
            case ScopeAuthorizer.Outcome.NotGranted:
                await RefuseAsync(context, StatusCodes.Status403Forbidden, "The token does not grant this scope (claim atr_scopes).").ConfigureAwait(false);
                return;
            case ScopeAuthorizer.Outcome.Refused:
                await RefuseAsync(context, StatusCodes.Status403Forbidden, "Refused by the hub's request authenticator.").ConfigureAwait(false);
                return;
        }

        var scope = decision.Scope;
        var address = context.Connection.RemoteIpAddress;
        if (!limiter.TryAcquire(address))
        {
            await RefuseAsync(context, StatusCodes.Status429TooManyRequests, "Too many connections from this address.").ConfigureAwait(false);
            return;
        }

        try
        {
            await RunAsync(context, scope, decision.ExpiresAt).ConfigureAwait(false);
        }
        finally
        {
            limiter.Release(address);
        }
    }

    private async Task RunAsync(HttpContext context, string scope, DateTimeOffset? expiresAt)
    {
        using var connection = new WebSocketConnection(connections.NextId(), scope, _options, metrics, timeProvider, _connectionLogger);
        try
        {
            // Subscribe before the upgrade: once the client sees the connection open, nothing
            // published to its scope can be missed.
            await subscriptions.AddAsync(scope, connection, context.RequestAborted).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            metrics.SubscriptionFailed();
            LogSubscribeFailed(_logger, scope, ex);
            await RefuseAsync(context, StatusCodes.Status503ServiceUnavailable, "Event backplane unavailable; retry shortly.").ConfigureAwait(false);
            return;
        }

        try
        {
            connections.Add(connection);
            var socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext
            {
                KeepAliveInterval = _options.KeepAliveInterval,
                KeepAliveTimeout = _options.PeerTimeout - _options.KeepAliveInterval,
            }).ConfigureAwait(false);

            metrics.ConnectionOpened();
            try
            {
                await connection.RunAsync(socket, expiresAt, context.Features.Get<FrameBatcher>()).ConfigureAwait(false);
            }
            finally
            {
                metrics.ConnectionClosed();
            }
        }
        finally
        {
            connections.Remove(connection);
            await subscriptions.RemoveAsync(scope, connection).ConfigureAwait(false);
        }
    }

    private static Task RefuseAsync(HttpContext context, int status, string reason)
        => WriteTextAsync(context, status, reason);

    private static Task WriteTextAsync(HttpContext context, int status, string text)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        return context.Response.WriteAsync(text + "\n");
    }
}
