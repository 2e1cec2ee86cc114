using Atr.Hub.Diagnostics;
using Atr.Hub.History;
using Atr.Hub.Security;
using Atr.Hub.Subscriptions;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Logging;

namespace Atr.Hub.SignalR;

/// <summary>
/// The SignalR face of the hub, at <c>/hub</c>: each scope is a SignalR group named by its scope key,
/// and every event arrives as one invocation of the client method <c>event</c> whose single argument
/// is the same JSON object a raw client receives.
/// </summary>
/// <remarks>
/// Scopes are given at connect (<c>/hub?scope=organization.1234</c>, repeatable) and changed with
/// <see cref="Subscribe"/> and <see cref="Unsubscribe"/>; each is checked by the same rules as the
/// raw endpoint. Atr events reach each node's own connections directly, never through the SignalR
/// backplane; an application may still use <c>IHubContext&lt;AtrHub&gt;</c> for its own messages,
/// which the SignalR Redis backplane carries to every node.
/// </remarks>
public sealed partial class AtrHub : Microsoft.AspNetCore.SignalR.Hub
{
    /// <summary>The client method every event invokes: <c>event</c>.</summary>
    public const string EventMethod = "event";

    internal static readonly object ConnectionKey = new();
    private static readonly object SessionKey = new();

    private readonly ScopeAuthorizer _authorizer;
    private readonly OriginPolicy _origins;
    private readonly ConnectionLimiter _limiter;
    private readonly SubscriptionManager _subscriptions;
    private readonly HubMetrics _metrics;
    private readonly AtrHubOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly RefusalLog _refusals;
    private readonly HistoryRecovery _history;
    private readonly ILogger _logger;

    internal AtrHub(
        ScopeAuthorizer authorizer,
        OriginPolicy origins,
        ConnectionLimiter limiter,
        SubscriptionManager subscriptions,
        HubMetrics metrics,
        AtrHubOptions options,
        TimeProvider timeProvider,
        RefusalLog refusals,
        HistoryRecovery history,
        ILogger<AtrHub> logger)
    {
        _history = history;
        _refusals = refusals;
        _authorizer = authorizer;
        _origins = origins;
        _limiter = limiter;
        _subscriptions = subscriptions;
        _metrics = metrics;
        _options = options;
        _timeProvider = timeProvider;
        _logger = logger;
    }

    private SignalRConnection Session => (SignalRConnection)Context.Items[SessionKey]!;

    /// <summary>Counts a refusal of <paramref name="what"/> and makes the error that tells the client.</summary>
    private HubRefusal Refuse(string what, int status, string reason)
    {
        _refusals.Refused(what, status, reason);
        return new HubRefusal(status, reason);
    }

    /// <summary>
    /// Admits the connection — its Origin, its token, the per-address limit — and starts listening to
    /// the scopes of <c>?scope=</c>; any refusal ends the connection with the reason.
    /// </summary>
    /// <returns>A task that completes when every scope is subscribed.</returns>
    /// <exception cref="HubException">The connection is refused, a scope is malformed or not allowed, or the backplane is unavailable.</exception>
    public override async Task OnConnectedAsync()
    {
        var httpContext = Context.GetHttpContext() ?? throw new HubException("This connection has no HTTP request to authorize.");
        var request = ClientRequest.From(httpContext);
        if (!_origins.Allows(request.Origin))
        {
            throw Refuse(RefusalLog.SignalR, 403, "Origin not allowed: the hub's --allowed-origins does not list it.");
        }

        var identity = await _authorizer.AuthenticateAsync(request).ConfigureAwait(false);
        if (identity.KeysUnavailable)
        {
            throw Refuse(RefusalLog.SignalR, 503, "The keys that verify tokens cannot be fetched right now; retry shortly.");
        }

        if (!identity.IsAuthenticated)
        {
            throw Refuse(RefusalLog.SignalR, 401, "A valid token is required: pass it with accessTokenFactory (access_token) or Authorization: Bearer.");
        }

        var address = request.RemoteAddress;
        if (!_limiter.TryAdmit(request))
        {
            throw Refuse(RefusalLog.SignalR, 429, "Too many connections from this address.");
        }

        var connection = (HubConnectionContext)Context.Items[ConnectionKey]!;
        var session = new SignalRConnection(connection, address, _options, _metrics, _timeProvider, _logger);
        Context.Items[SessionKey] = session;
        _metrics.SignalRConnectionOpened();

        try
        {
            session.Start(identity.ExpiresAt);
            foreach (var scope in httpContext.Request.Query["scope"])
            {
                await Subscribe(scope ?? string.Empty).ConfigureAwait(false);
            }
        }
        catch
        {
            // A refused connection may not get OnDisconnectedAsync: leave nothing behind.
            await EndSessionAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Stops every subscription of the connection.</summary>
    /// <param name="exception">Why the connection ended, if it failed.</param>
    /// <returns>A task that completes when the connection left every scope.</returns>
    public override Task OnDisconnectedAsync(Exception? exception) => EndSessionAsync();

    /// <summary>Starts listening to <paramref name="scope"/>; subscribing twice is harmless.</summary>
    /// <param name="scope">A scope key such as <c>organization.1234</c>; empty for the unscoped stream.</param>
    /// <returns>A task that completes once events of the scope will arrive.</returns>
    /// <exception cref="HubException">The scope is malformed or not allowed (nothing changes), or the backplane is unavailable.</exception>
    public Task Subscribe(string scope) => SubscribeAsync(scope, since: null);

    /// <summary>
    /// Starts listening to <paramref name="scope"/> and first replays, in order and once, the events of
    /// its history after <paramref name="since"/>; when the history does not hold it, the first event
    /// is <c>atr.resync</c> (<c>history_unavailable</c>). (SignalR binds a hub method's arguments by
    /// count, so this is <c>Subscribe</c> with a second argument under a name of its own.)
    /// </summary>
    /// <param name="scope">A scope key such as <c>organization.1234</c>; empty for the unscoped stream.</param>
    /// <param name="since">The id of the last event the client has of the scope.</param>
    /// <returns>A task that completes once the events it missed are queued and new ones will arrive.</returns>
    /// <exception cref="HubException">The scope or <paramref name="since"/> is malformed, the scope is not allowed, or the backplane is unavailable.</exception>
    public Task SubscribeSince(string scope, string since)
    {
        if (!HistoryQuery.IsEventId(since))
        {
            throw Refuse(RefusalLog.Subscribe, 400, "Malformed since: the id of an event, 32 lowercase hexadecimal digits.");
        }

        return SubscribeAsync(scope, since);
    }

    private async Task SubscribeAsync(string scope, string? since)
    {
        if (scope is null)
        {
            throw Refuse(RefusalLog.Subscribe, 400, "Subscribe needs a scope: a string such as organization.1234, or empty for unscoped events.");
        }

        var session = Session;
        var httpContext = Context.GetHttpContext() ?? throw new HubException("This connection has no HTTP request to authorize scopes with.");
        var decision = await _authorizer.AuthorizeScopeAsync(ClientRequest.From(httpContext), scope).ConfigureAwait(false);
        switch (decision.Outcome)
        {
            case ScopeAuthorizer.Outcome.Malformed:
                throw Refuse(RefusalLog.Subscribe, 400, $"Malformed scope '{LogText.Escape(scope)}': use type.id pairs of 1 to 64 characters of [A-Za-z0-9_-], e.g. organization.1234, or empty for unscoped events.");
            case ScopeAuthorizer.Outcome.NotAScope:
                throw Refuse(RefusalLog.Subscribe, 400, $"Scope '{LogText.Escape(scope)}' is not a scope of this hub: its request scope does not accept it.");
            case ScopeAuthorizer.Outcome.Unauthenticated:
                throw Refuse(RefusalLog.Subscribe, 401, "A valid token is required.");
            case ScopeAuthorizer.Outcome.KeysUnavailable:
                throw Refuse(RefusalLog.Subscribe, 503, "The keys that verify tokens cannot be fetched right now; retry shortly.");
            case ScopeAuthorizer.Outcome.NotGranted:
                throw Refuse(RefusalLog.Subscribe, 403, $"Scope '{LogText.Escape(scope)}' is not allowed for this connection: the token does not grant it (claim atr_scopes).");
            case ScopeAuthorizer.Outcome.Refused:
                throw Refuse(RefusalLog.Subscribe, 403, $"Scope '{LogText.Escape(scope)}' is not allowed for this connection.");
        }

        var key = decision.Scope;
        if (session.ExpiresAt <= _timeProvider.GetUtcNow())
        {
            throw Refuse(RefusalLog.Subscribe, 401, "The token expired; reconnect with a fresh token.");
        }

        if (session.Listens(key))
        {
            return;
        }

        if (session.ScopeCount >= _options.MaxScopesPerConnection)
        {
            throw Refuse(RefusalLog.Subscribe, 429, $"A connection listens to at most {_options.MaxScopesPerConnection} scopes.");
        }

        // A connection that recovers holds what it is delivered, of every scope, until its history is queued.
        EventFrame[] missed = [];
        if (since is not null)
        {
            session.Hold();
        }

        try
        {
            var tail = await _subscriptions.AddAsync(key, session, Context.ConnectionAborted, recovering: since is not null).ConfigureAwait(false);
            if (since is not null)
            {
                missed = _history.Recover(key, tail, since);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            _metrics.SubscriptionFailed();
            LogSubscribeFailed(_logger, key, ex);
            throw Refuse(RefusalLog.Subscribe, 503, "Event backplane unavailable; retry shortly.");
        }
        finally
        {
            if (since is not null)
            {
                session.Resume(missed);
            }
        }

        if (!session.TryAddScope(key))
        {
            // The connection ended while this subscribe was under way: undo it.
            await _subscriptions.RemoveAsync(key, session).ConfigureAwait(false);
            return;
        }

        await Groups.AddToGroupAsync(Context.ConnectionId, key).ConfigureAwait(false);
    }

    /// <summary>Stops listening to <paramref name="scope"/>; unsubscribing a scope not listened to is harmless.</summary>
    /// <param name="scope">The scope key.</param>
    /// <returns>A task that completes once no more events of the scope will be queued.</returns>
    public async Task Unsubscribe(string scope)
    {
        if (scope is null)
        {
            throw Refuse(RefusalLog.Subscribe, 400, "Unsubscribe needs a scope: the one given to Subscribe.");
        }

        var session = Session;
        if (session.RemoveScope(scope))
        {
            await _subscriptions.RemoveAsync(scope, session).ConfigureAwait(false);
            await Groups.RemoveFromGroupAsync(Context.ConnectionId, scope).ConfigureAwait(false);
        }
    }

    private async Task EndSessionAsync()
    {
        if (!Context.Items.Remove(SessionKey, out var value) || value is not SignalRConnection session)
        {
            return;
        }

        _limiter.Leave(session.RemoteAddress);
        foreach (var scope in await session.StopAsync().ConfigureAwait(false))
        {
            await _subscriptions.RemoveAsync(scope, session).ConfigureAwait(false);
        }

        _metrics.SignalRConnectionClosed();
    }
}
