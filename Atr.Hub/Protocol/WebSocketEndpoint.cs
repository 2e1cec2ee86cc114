using System.Net;
using System.Net.WebSockets;
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
    ILoggerFactory loggerFactory) : IConnectionLifetime
{
    public const string Banner = "Atr event hub. Connect a WebSocket to /<type>/<id>, e.g. ws://host:port/organization/1234, or to / for unscoped events.";

    private readonly AtrHubOptions _options = options.Value;
    private readonly ILogger _logger = loggerFactory.CreateLogger<WebSocketEndpoint>();
    private readonly ILogger _connectionLogger = loggerFactory.CreateLogger<WebSocketConnection>();

    /// <summary>How long a client has to answer a ping: what <see cref="AtrHubOptions.PeerTimeout"/> leaves after the ping interval.</summary>
    public TimeSpan KeepAliveTimeout => _options.PeerTimeout - _options.KeepAliveInterval;

    /// <summary>Why a handshake is refused: the HTTP status and the one-line reason.</summary>
    public readonly record struct Refusal(int Status, string Reason);

    /// <summary>
    /// A handshake the hub lets in: its scope, when its token expires, and the place it holds among
    /// its address's connections until <see cref="Release"/> gives it back.
    /// </summary>
    public readonly record struct Admission(string Scope, DateTimeOffset? ExpiresAt, IPAddress? Address);

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

        var (admission, refusal) = await AdmitAsync(context, path ?? string.Empty).ConfigureAwait(false);
        if (refusal is { } refused)
        {
            if (refused.Status == StatusCodes.Status401Unauthorized)
            {
                context.Response.Headers.WWWAuthenticate = "Bearer";
            }

            await RefuseAsync(context, refused.Status, refused.Reason).ConfigureAwait(false);
            return;
        }

        try
        {
            WebSocketConnection connection;
            try
            {
                connection = await SubscribeAsync(admission, context.RequestAborted).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                metrics.SubscriptionFailed();
                LogSubscribeFailed(_logger, admission.Scope, ex);
                await RefuseAsync(context, StatusCodes.Status503ServiceUnavailable, "Event backplane unavailable; retry shortly.").ConfigureAwait(false);
                return;
            }

            WebSocket socket;
            try
            {
                socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext
                {
                    KeepAliveInterval = _options.KeepAliveInterval,
                    KeepAliveTimeout = KeepAliveTimeout,
                }).ConfigureAwait(false);
            }
            catch
            {
                await UnsubscribeAsync(connection).ConfigureAwait(false);
                throw;
            }

            await RunAsync(connection, admission.ExpiresAt, socket, context.Features.Get<FrameBatcher>()).ConfigureAwait(false);
        }
        finally
        {
            Release(admission);
        }
    }

    /// <summary>
    /// Decides on a WebSocket handshake for <paramref name="path"/>: the node is not stopping, the
    /// Origin is allowed, the scope rules, token and grants let it in, and its address has a place
    /// left. An admission holds that place until <see cref="Release"/> gives it back.
    /// </summary>
    public async ValueTask<(Admission Admission, Refusal? Refusal)> AdmitAsync(HttpContext context, string path)
    {
        if (connections.IsStopping)
        {
            return (default, new Refusal(StatusCodes.Status503ServiceUnavailable, "Server shutting down; reconnect to another node or retry shortly."));
        }

        if (!origins.Allows(context))
        {
            return (default, new Refusal(StatusCodes.Status403Forbidden, "Origin not allowed: the hub's --allowed-origins does not list it."));
        }

        var decision = await authorizer.AuthorizePathAsync(context, path).ConfigureAwait(false);
        Refusal? refusal = decision.Outcome switch
        {
            ScopeAuthorizer.Outcome.Allowed => null,
            ScopeAuthorizer.Outcome.Malformed => new(StatusCodes.Status400BadRequest, "Malformed scope path: use /<type>/<id>[/<type>/<id>...] with segments of 1 to 64 characters of [A-Za-z0-9_-], or / for unscoped events."),
            ScopeAuthorizer.Outcome.Unauthenticated => new(StatusCodes.Status401Unauthorized, "A valid token is required: pass it as ?access_token=<JWT> or Authorization: Bearer <JWT>."),
            ScopeAuthorizer.Outcome.KeysUnavailable => new(StatusCodes.Status503ServiceUnavailable, "The keys that verify tokens cannot be fetched right now; retry shortly."),
            ScopeAuthorizer.Outcome.NotGranted => new(StatusCodes.Status403Forbidden, "The token does not grant this scope (claim atr_scopes)."),
            _ => new(StatusCodes.Status403Forbidden, "Refused by the hub's request authenticator."),
        };
        if (refusal is not null)
        {
            return (default, refusal);
        }

        var address = context.Connection.RemoteIpAddress;
        return limiter.TryAcquire(address)
            ? (new Admission(decision.Scope, decision.ExpiresAt, address), null)
            : (default, new Refusal(StatusCodes.Status429TooManyRequests, "Too many connections from this address."));
    }

    /// <summary>Gives back the place an admission holds among its address's connections.</summary>
    public void Release(Admission admission) => limiter.Release(admission.Address);

    /// <summary>
    /// Subscribes an admitted handshake's scope, before the upgrade: once the client sees the
    /// connection open, nothing published to its scope can be missed.
    /// </summary>
    /// <exception cref="Exception">The backplane could not subscribe; nothing is left subscribed.</exception>
    public async Task<WebSocketConnection> SubscribeAsync(Admission admission, CancellationToken aborted)
    {
        var connection = new WebSocketConnection(connections.NextId(), admission.Scope, _options, metrics, timeProvider, _connectionLogger);
        try
        {
            await subscriptions.AddAsync(admission.Scope, connection, aborted).ConfigureAwait(false);
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>Undoes <see cref="SubscribeAsync"/> for a connection whose handshake did not complete.</summary>
    public async Task UnsubscribeAsync(WebSocketConnection connection)
    {
        await subscriptions.RemoveAsync(connection.Scope, connection).ConfigureAwait(false);
        connection.Dispose();
    }

    /// <summary>Runs a subscribed connection on its accepted WebSocket to its end, then unsubscribes it.</summary>
    /// <param name="connection">The connection <see cref="SubscribeAsync"/> gave.</param>
    /// <param name="expiresAt">When its token expires.</param>
    /// <param name="socket">The accepted WebSocket.</param>
    /// <param name="holder">The stream under <paramref name="socket"/>, when it can hold frames back.</param>
    public Task RunAsync(WebSocketConnection connection, DateTimeOffset? expiresAt, WebSocket socket, IFrameHolder? holder)
        => connection.RunAsync(socket, expiresAt, holder, this);

    // Tracked once accepted: a drain that began during the handshake is seen by Add, which closes it at once.
    void IConnectionLifetime.Started(WebSocketConnection connection)
    {
        connections.Add(connection);
        metrics.ConnectionOpened();
    }

    async ValueTask IConnectionLifetime.EndedAsync(WebSocketConnection connection)
    {
        metrics.ConnectionClosed();
        connections.Remove(connection);
        await UnsubscribeAsync(connection).ConfigureAwait(false);
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
