using System.Net;
using System.Net.WebSockets;
using Atr.Hub.Connections;
using Atr.Hub.Diagnostics;
using Atr.Hub.History;
using Atr.Hub.Security;
using Atr.Hub.Subscriptions;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Atr.Hub.Protocol;

/// <summary>
/// The raw WebSocket endpoint. Every handshake, whether it came through the HTTP pipeline
/// (<see cref="HandleAsync"/>) or was read off the connection by <see cref="DirectUpgrade"/>, takes
/// the same steps: admission (refusals answered with an HTTP status and a one-line reason before
/// any upgrade), subscription, accept (<see cref="OpenAsync"/>), then the connection's run, at
/// whose end it is unsubscribed and its place among its address's connections given back
/// (<see cref="RunAsync"/>).
/// </summary>
internal sealed partial class WebSocketEndpoint(
    ScopeAuthorizer authorizer,
    OriginPolicy origins,
    ConnectionLimiter limiter,
    SubscriptionManager subscriptions,
    ConnectionManager connections,
    HubMetrics metrics,
    HistoryRecovery history,
    RefusalLog refusals,
    TimeProvider timeProvider,
    KeepAliveSweeper keepAlive,
    IOptions<AtrHubOptions> options,
    ILoggerFactory loggerFactory) : IConnectionLifetime
{
    public const string Banner = "Atr event hub. Connect a WebSocket to /<type>/<id>, e.g. ws://host:port/organization/1234, or to / for unscoped events.";

    private readonly AtrHubOptions _options = options.Value;
    private readonly ILogger _logger = loggerFactory.CreateLogger<WebSocketEndpoint>();
    private readonly ILogger _connectionLogger = loggerFactory.CreateLogger<WebSocketConnection>();

    // The lifetime of connections upgraded at the connection: the same, counted as such. One for all of them.
    private AtConnectionLifetime? _atConnection;

    /// <summary>Why a handshake is refused: the HTTP status and the one-line reason.</summary>
    public readonly record struct Refusal(int Status, string Reason);

    /// <summary>
    /// A handshake the hub lets in: its scope, when its token expires, and the place it holds among
    /// its address's connections until <see cref="Release"/> gives it back.
    /// </summary>
    /// <param name="Scope">The scope it listens to.</param>
    /// <param name="ExpiresAt">When its token expires.</param>
    /// <param name="Address">Where it comes from.</param>
    /// <param name="Since">The id of the last event the client has (<c>?since=</c>): it recovers what came after.</param>
    public readonly record struct Admission(string Scope, DateTimeOffset? ExpiresAt, IPAddress? Address, string? Since = null);

    /// <summary>A connection whose handshake is complete: subscribed, accepted, ready to <see cref="RunAsync"/>.</summary>
    /// <param name="Connection">The hub's connection, subscribed to its scope.</param>
    /// <param name="Socket">The accepted WebSocket.</param>
    /// <param name="Holder">The stream under the socket, when it can hold frames back for one write per batch.</param>
    /// <param name="ExpiresAt">When the token expires, if there is one.</param>
    /// <param name="AtConnection">Whether it was upgraded at the connection (<see cref="DirectUpgrade"/>): counted apart.</param>
    public readonly record struct Opened(WebSocketConnection Connection, WebSocket Socket, IFrameHolder? Holder, DateTimeOffset? ExpiresAt, bool AtConnection);

    public async Task HandleAsync(HttpContext context, string? path)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            if (context.Request.Headers.ContainsKey(HeaderNames.Upgrade))
            {
                await WriteTextAsync(context, StatusCodes.Status400BadRequest, "Malformed WebSocket handshake: a GET with Upgrade: websocket, Sec-WebSocket-Key and Sec-WebSocket-Version: 13 is needed.").ConfigureAwait(false);
                return;
            }

            await AnswerPlainGetAsync(context, path ?? string.Empty).ConfigureAwait(false);
            return;
        }

        var handshake = new HttpHandshake(context, keepAlive);
        if (DecidedRefusal.Take(context) is { } decided)
        {
            // Read and refused at the connection already: answered here, as Kestrel answers every refusal.
            await handshake.RefuseAsync(decided).ConfigureAwait(false);
            return;
        }

        if (await OpenAsync(ClientRequest.From(context, path ?? string.Empty), handshake).ConfigureAwait(false) is { } opened)
        {
            await RunAsync(opened).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// A plain <c>GET</c> of a scope path, with the handshake's credentials, answers what the
    /// handshake would get: a browser never sees the status of a refused WebSocket handshake, so it
    /// asks this way. Admitted: the one-line banner with 200, as the original answered any plain
    /// request. Nothing is held: the address's place is checked, not taken. Allowed Origins may read
    /// the answer (CORS).
    /// </summary>
    private async Task AnswerPlainGetAsync(HttpContext context, string path)
    {
        var request = ClientRequest.From(context, path);
        if (request.Origin is { } origin && origins.Allows(origin))
        {
            context.Response.Headers.AccessControlAllowOrigin = origin;
            context.Response.Headers.Vary = HeaderNames.Origin;
        }

        var (_, refusal) = await AdmitAsync(request, hold: false).ConfigureAwait(false);
        await (refusal is { } refused
            ? WriteRefusalAsync(context, refused)
            : WriteTextAsync(context, StatusCodes.Status200OK, Banner)).ConfigureAwait(false);
    }

    /// <summary>
    /// Admits, subscribes and accepts a handshake. A refusal is answered through
    /// <paramref name="handshake"/>, a subscription the backplane cannot make is counted, logged and
    /// answered with 503, and a client gone meanwhile leaves nothing behind.
    /// </summary>
    /// <returns>The connection to run, or null when there is none.</returns>
    public async ValueTask<Opened?> OpenAsync<THandshake>(ClientRequest request, THandshake handshake)
        where THandshake : IRawHandshake
    {
        var (admission, refusal) = await AdmitAsync(request).ConfigureAwait(false);
        if (refusal is { } refused)
        {
            refusals.Refused(RefusalLog.Raw, refused.Status, refused.Reason);
            await handshake.RefuseAsync(refused).ConfigureAwait(false);
            return null;
        }

        // Subscribed before the upgrade: once the client sees the connection open, nothing published to its scope can be missed.
        var connection = new WebSocketConnection(connections.NextId(), admission.Scope, admission.Address, _options, metrics, timeProvider, _connectionLogger);
        try
        {
            if (admission.Since is { } since)
            {
                // Held from before it joins: what the tail lacks is delivered to it, after what it missed.
                connection.Hold();
                var tail = await subscriptions.AddAsync(admission.Scope, connection, request.Aborted, recovering: true).ConfigureAwait(false);
                connection.Resume(history.Recover(admission.Scope, tail, since));
            }
            else
            {
                await subscriptions.AddAsync(admission.Scope, connection, request.Aborted).ConfigureAwait(false);
            }
        }
        catch (Exception ex)
        {
            connection.Dispose();
            Release(admission);
            if (ex is OperationCanceledException && request.Aborted.IsCancellationRequested)
            {
                return null;
            }

            metrics.SubscriptionFailed();
            refusals.Refused(RefusalLog.Raw, StatusCodes.Status503ServiceUnavailable, "Event backplane unavailable.");
            LogSubscribeFailed(_logger, admission.Scope, ex);
            await handshake.RefuseAsync(new Refusal(StatusCodes.Status503ServiceUnavailable, "Event backplane unavailable; retry shortly.")).ConfigureAwait(false);
            return null;
        }

        try
        {
            var (socket, holder) = await handshake.AcceptAsync().ConfigureAwait(false);
            return new Opened(connection, socket, holder, admission.ExpiresAt, handshake.AtConnection);
        }
        catch (Exception ex)
        {
            await UnsubscribeAsync(connection).ConfigureAwait(false);
            Release(admission);
            if (ClientGone.Is(ex))
            {
                return null;
            }

            throw;
        }
    }

    /// <summary>
    /// Decides on a WebSocket handshake: the node is not stopping, the Origin is allowed, the scope
    /// rules, token and grants let it in, and its address has a place left. An admission holds that
    /// place until <see cref="Release"/> gives it back.
    /// </summary>
    /// <param name="request">The handshake.</param>
    /// <param name="hold">Whether an admission takes its place among its address's connections, or only checks there is one.</param>
    public async ValueTask<(Admission Admission, Refusal? Refusal)> AdmitAsync(ClientRequest request, bool hold = true)
    {
        if (connections.IsStopping)
        {
            return (default, new Refusal(StatusCodes.Status503ServiceUnavailable, "Server shutting down; reconnect to another node or retry shortly."));
        }

        if (!origins.Allows(request.Origin))
        {
            return (default, new Refusal(StatusCodes.Status403Forbidden, "Origin not allowed: the hub's --allowed-origins does not list it."));
        }

        var decision = await authorizer.AuthorizePathAsync(request).ConfigureAwait(false);
        Refusal? refusal = decision.Outcome switch
        {
            ScopeAuthorizer.Outcome.Allowed => null,
            ScopeAuthorizer.Outcome.Malformed => new(StatusCodes.Status400BadRequest, "Malformed scope path: use /<type>/<id>[/<type>/<id>...] with segments of 1 to 64 characters of [A-Za-z0-9_-], or / for unscoped events."),
            ScopeAuthorizer.Outcome.NotAScope => new(StatusCodes.Status400BadRequest, "Not a scope of this hub: its request scope does not accept this path."),
            ScopeAuthorizer.Outcome.Unauthenticated => new(StatusCodes.Status401Unauthorized, "A valid token is required: pass it as ?access_token=<JWT> or Authorization: Bearer <JWT>."),
            ScopeAuthorizer.Outcome.KeysUnavailable => new(StatusCodes.Status503ServiceUnavailable, "The keys that verify tokens cannot be fetched right now; retry shortly."),
            ScopeAuthorizer.Outcome.NotGranted => new(StatusCodes.Status403Forbidden, "The token does not grant this scope (claim atr_scopes)."),
            _ => new(StatusCodes.Status403Forbidden, "Refused by the hub's request authenticator."),
        };
        if (refusal is not null)
        {
            return (default, refusal);
        }

        if (!HistoryQuery.TryReadSince(request.Query, out var since))
        {
            return (default, new Refusal(StatusCodes.Status400BadRequest, "Malformed since: the id of an event, 32 lowercase hexadecimal digits."));
        }

        return (hold ? limiter.TryAdmit(request) : limiter.HasRoomFor(request))
            ? (new Admission(decision.Scope, decision.ExpiresAt, request.RemoteAddress, since), null)
            : (default, new Refusal(StatusCodes.Status429TooManyRequests, "Too many connections from this address."));
    }

    /// <summary>
    /// Runs an opened connection to its end; it is then unsubscribed and its place given back.
    /// Not an async method: an idle connection holds the frame of its own run, and no other.
    /// </summary>
    public Task RunAsync(Opened opened)
        => opened.Connection.RunAsync(opened.Socket, opened.ExpiresAt, opened.Holder, opened.AtConnection ? _atConnection ??= new AtConnectionLifetime(this) : this);

    void IConnectionLifetime.Started(WebSocketConnection connection) => Started(connection, direct: false);

    ValueTask IConnectionLifetime.EndedAsync(WebSocketConnection connection) => EndedAsync(connection);

    // Tracked once accepted: a drain that began during the handshake is seen by Add, which closes it at once.
    private void Started(WebSocketConnection connection, bool direct)
    {
        connections.Add(connection);
        metrics.ConnectionOpened(direct);
    }

    private async ValueTask EndedAsync(WebSocketConnection connection)
    {
        metrics.ConnectionClosed();
        connections.Remove(connection);
        await UnsubscribeAsync(connection).ConfigureAwait(false);
        limiter.Leave(connection.RemoteAddress);
    }

    /// <summary>Gives back the place an admission holds among its address's connections.</summary>
    private void Release(Admission admission) => limiter.Leave(admission.Address);

    private async Task UnsubscribeAsync(WebSocketConnection connection)
    {
        await subscriptions.RemoveAsync(connection.Scope, connection).ConfigureAwait(false);
        connection.Dispose();
    }

    private static Task WriteRefusalAsync(HttpContext context, Refusal refusal)
    {
        if (refusal.Status == StatusCodes.Status401Unauthorized)
        {
            context.Response.Headers.WWWAuthenticate = "Bearer";
        }

        return WriteTextAsync(context, refusal.Status, refusal.Reason);
    }

    private static Task WriteTextAsync(HttpContext context, int status, string text)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        return context.Response.WriteAsync(text + "\n");
    }

    /// <summary>
    /// A handshake through the HTTP pipeline: refusals are written as responses, the upgrade is the
    /// WebSocket middleware's. The hub's keep-alive clock pings it through the stream the hub put
    /// under it (<see cref="BatchingUpgradeFeature"/>); should that not be there, the WebSocket's own
    /// keep-alive does, with the same interval and timeout.
    /// </summary>
    private readonly struct HttpHandshake(HttpContext context, KeepAliveSweeper keepAlive) : IRawHandshake
    {
        public bool AtConnection => false;

        public Task RefuseAsync(Refusal refusal) => WriteRefusalAsync(context, refusal);

        public async ValueTask<(WebSocket Socket, IFrameHolder? Holder)> AcceptAsync()
        {
            var ours = context.Features.Get<IHttpUpgradeFeature>() is BatchingUpgradeFeature { UnderWebSocket: true };
            var accept = ours
                ? new WebSocketAcceptContext { KeepAliveInterval = TimeSpan.Zero }
                : new WebSocketAcceptContext { KeepAliveInterval = keepAlive.NextSpan(), KeepAliveTimeout = keepAlive.Timeout };
            var socket = await context.WebSockets.AcceptWebSocketAsync(accept).ConfigureAwait(false);
            if (ours)
            {
                context.Features.Get<KeepAliveStream>()?.Watch(socket);
            }

            return (socket, context.Features.Get<FrameBatcher>());
        }
    }

    /// <summary>The endpoint's lifetime for connections upgraded at the connection, which the metrics count apart.</summary>
    private sealed class AtConnectionLifetime(WebSocketEndpoint endpoint) : IConnectionLifetime
    {
        public void Started(WebSocketConnection connection) => endpoint.Started(connection, direct: true);

        public ValueTask EndedAsync(WebSocketConnection connection) => endpoint.EndedAsync(connection);
    }
}
