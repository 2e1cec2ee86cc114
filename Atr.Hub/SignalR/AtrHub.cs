using Atr.Hub.Diagnostics;
using Atr.Hub.Protocol;
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
    private readonly SubscriptionManager _subscriptions;
    private readonly HubMetrics _metrics;
    private readonly AtrHubOptions _options;
    private readonly ILogger _logger;

    internal AtrHub(ScopeAuthorizer authorizer, SubscriptionManager subscriptions, HubMetrics metrics, AtrHubOptions options, ILogger<AtrHub> logger)
    {
        _authorizer = authorizer;
        _subscriptions = subscriptions;
        _metrics = metrics;
        _options = options;
        _logger = logger;
    }

    private SignalRConnection Session => (SignalRConnection)Context.Items[SessionKey]!;

    /// <summary>Starts listening to the scopes of <c>?scope=</c>; a scope that is malformed or not allowed refuses the connection.</summary>
    /// <returns>A task that completes when every scope is subscribed.</returns>
    /// <exception cref="HubException">A scope is malformed or not allowed, or the backplane is unavailable.</exception>
    public override async Task OnConnectedAsync()
    {
        var connection = (HubConnectionContext)Context.Items[ConnectionKey]!;
        var session = new SignalRConnection(connection, _options, _metrics, _logger);
        Context.Items[SessionKey] = session;
        _metrics.ConnectionOpened();
        session.Start();

        var scopes = Context.GetHttpContext()?.Request.Query["scope"] ?? default;
        foreach (var scope in scopes)
        {
            await Subscribe(scope ?? string.Empty).ConfigureAwait(false);
        }
    }

    /// <summary>Stops every subscription of the connection.</summary>
    /// <param name="exception">Why the connection ended, if it failed.</param>
    /// <returns>A task that completes when the connection left every scope.</returns>
    public override async Task OnDisconnectedAsync(Exception? exception)
    {
        if (Context.Items.TryGetValue(SessionKey, out var value) && value is SignalRConnection session)
        {
            await session.StopAsync().ConfigureAwait(false);
            foreach (var scope in session.Scopes)
            {
                await _subscriptions.RemoveAsync(scope, session).ConfigureAwait(false);
            }

            session.Scopes.Clear();
            _metrics.ConnectionClosed();
        }
    }

    /// <summary>Starts listening to <paramref name="scope"/>; subscribing twice is harmless.</summary>
    /// <param name="scope">A scope key such as <c>organization.1234</c>; empty for the unscoped stream.</param>
    /// <returns>A task that completes once events of the scope will arrive.</returns>
    /// <exception cref="HubException">The scope is malformed or not allowed (nothing changes), or the backplane is unavailable.</exception>
    public async Task Subscribe(string scope)
    {
        ArgumentNullException.ThrowIfNull(scope);
        var session = Session;
        var httpContext = Context.GetHttpContext() ?? throw new HubException("This connection has no HTTP request to authorize scopes with.");
        var (outcome, key) = await _authorizer.AuthorizeScopeAsync(httpContext, scope).ConfigureAwait(false);
        switch (outcome)
        {
            case ScopeAuthorizer.Outcome.Malformed:
                throw new HubException($"Malformed scope '{scope}': use type.id pairs of 1 to 64 characters of [A-Za-z0-9_-], e.g. organization.1234, or empty for unscoped events.");
            case ScopeAuthorizer.Outcome.Refused:
                throw new HubException($"Scope '{scope}' is not allowed for this connection.");
        }

        if (session.Scopes.Contains(key))
        {
            return;
        }

        try
        {
            await _subscriptions.AddAsync(key, session, Context.ConnectionAborted).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            _metrics.SubscriptionFailed();
            LogSubscribeFailed(_logger, key, ex);
            throw new HubException("Event backplane unavailable; retry shortly.");
        }

        session.Scopes.Add(key);
        await Groups.AddToGroupAsync(Context.ConnectionId, key).ConfigureAwait(false);
    }

    /// <summary>Stops listening to <paramref name="scope"/>; unsubscribing a scope not listened to is harmless.</summary>
    /// <param name="scope">The scope key.</param>
    /// <returns>A task that completes once no more events of the scope will be queued.</returns>
    public async Task Unsubscribe(string scope)
    {
        ArgumentNullException.ThrowIfNull(scope);
        var session = Session;
        if (session.Scopes.Remove(scope))
        {
            await _subscriptions.RemoveAsync(scope, session).ConfigureAwait(false);
            await Groups.RemoveFromGroupAsync(Context.ConnectionId, scope).ConfigureAwait(false);
        }
    }

    [LoggerMessage(1, LogLevel.Warning, "Could not subscribe to scope '{Scope}' for a SignalR connection.")]
    private static partial void LogSubscribeFailed(ILogger logger, string scope, Exception exception);
}
