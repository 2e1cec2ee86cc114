using System.Globalization;
using System.Security.Claims;
using Atr.Hub.Protocol;
using Atr.Publishing;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Atr.Hub.Security;

/// <summary>
/// The one place that decides whether a request may listen to a scope, for the raw endpoint (from
/// its path) and the SignalR hub (from <c>?scope=</c> and <c>Subscribe</c>) alike: the scope rules,
/// the token and its grants, then the application's request authenticator.
/// </summary>
internal sealed class ScopeAuthorizer(IOptions<AtrHubOptions> options, JwtValidator tokens)
{
    private static readonly object IdentityKey = new();
    private static readonly Identity Anonymous = new(true, null, null);

    public enum Outcome
    {
        /// <summary>The request may listen to the scope.</summary>
        Allowed,

        /// <summary>The scope is not well formed, or the request scope rules do not accept it (400).</summary>
        Malformed,

        /// <summary>The application's request scope (<see cref="IRequestScope"/>) gave no scope for the request (400).</summary>
        NotAScope,

        /// <summary>No token, or one that is not valid (401).</summary>
        Unauthenticated,

        /// <summary>The keys that verify tokens cannot be had right now (503).</summary>
        KeysUnavailable,

        /// <summary>The token does not grant the scope (403).</summary>
        NotGranted,

        /// <summary>The request authenticator refused it (403).</summary>
        Refused,
    }

    /// <summary>A decision, with the scope key it is about and when the request's token expires (null: never, anonymous mode).</summary>
    public readonly record struct Decision(Outcome Outcome, string Scope, DateTimeOffset? ExpiresAt);

    /// <summary>Who the request is: in anonymous mode everyone, with every grant.</summary>
    public sealed record Identity(bool IsAuthenticated, ScopeGrants? Grants, DateTimeOffset? ExpiresAt, bool KeysUnavailable = false)
    {
        public bool Allows(string scope) => Grants is null || Grants.Allows(scope);

        public bool AllowsPublish(string scope) => Grants is null || Grants.AllowsPublish(scope);
    }

    /// <summary>Validates the request's token (once per HTTP request) with Atr's scheme; in anonymous mode, lets everyone in.</summary>
    public async ValueTask<Identity> AuthenticateAsync(ClientRequest request)
    {
        var context = request.Context;
        if (context is not null && context.Items.TryGetValue(IdentityKey, out var cached) && cached is Identity known)
        {
            return known;
        }

        Identity identity;
        if (!options.Value.AuthenticationEnabled)
        {
            identity = Anonymous;
        }
        else
        {
            var token = JwtValidator.TokenOf(request.Query, request.Authorization);
            ClaimsPrincipal? principal = null;
            var unavailable = false;
            try
            {
                principal = token is null ? null : await tokens.ValidateAsync(token, request.Aborted).ConfigureAwait(false);
            }
            catch (KeysUnavailableException)
            {
                unavailable = true;
            }

            if (unavailable)
            {
                // Not cached: the next attempt may find the authority back.
                return new Identity(false, null, null, KeysUnavailable: true);
            }

            if (principal is not null)
            {
                // The application's authenticator sees who is asking.
                context?.User = principal;
                identity = new Identity(true, ScopeGrants.From(principal), Expiry(principal));
            }
            else
            {
                identity = new Identity(false, null, null);
            }
        }

        context?.Items[IdentityKey] = identity;
        return identity;
    }

    /// <summary>Decides for a raw endpoint path below the hub's base path (<see cref="ClientRequest.Path"/>: <c>organization/1234</c>).</summary>
    public async ValueTask<Decision> AuthorizePathAsync(ClientRequest request)
    {
        var scope = options.Value.RequestScope is { } rules
            ? await rules.GetScopeAsync(ApplicationContext(request), request.Path).ConfigureAwait(false)
            : PathScope.Parse(request.Path);
        if (scope is null || !RoutingKeys.IsValidScope(scope))
        {
            return new Decision(options.Value.RequestScope is null ? Outcome.Malformed : Outcome.NotAScope, string.Empty, null);
        }

        var identity = await AuthenticateAsync(request).ConfigureAwait(false);
        if (!identity.IsAuthenticated)
        {
            return new Decision(identity.KeysUnavailable ? Outcome.KeysUnavailable : Outcome.Unauthenticated, scope, null);
        }

        if (!identity.Allows(scope))
        {
            return new Decision(Outcome.NotGranted, scope, identity.ExpiresAt);
        }

        if (options.Value.RequestAuthenticator is { } authenticator && !await authenticator.MatchesAsync(ApplicationContext(request), scope).ConfigureAwait(false))
        {
            return new Decision(Outcome.Refused, scope, identity.ExpiresAt);
        }

        return new Decision(Outcome.Allowed, scope, identity.ExpiresAt);
    }

    /// <summary>Decides for a scope key (<c>organization.1234</c>), through the same rules as its path form.</summary>
    public ValueTask<Decision> AuthorizeScopeAsync(ClientRequest request, string scope)
        => RoutingKeys.IsValidScope(scope)
            ? AuthorizePathAsync(request with { Path = scope.Replace('.', '/') })
            : ValueTask.FromResult(new Decision(Outcome.Malformed, string.Empty, null));

    // The application's scope rules and authenticator are written against a real request; a
    // handshake read off the connection is taken only when neither is configured.
    private static HttpContext ApplicationContext(ClientRequest request)
        => request.Context ?? throw new InvalidOperationException("The application's request scope and authenticator need the HTTP request; this handshake has none.");

    private static DateTimeOffset? Expiry(ClaimsPrincipal principal)
        => long.TryParse(principal.FindFirst("exp")?.Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var seconds)
            ? DateTimeOffset.FromUnixTimeSeconds(seconds)
            : null;
}
