using Atr.Publishing;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Atr.Hub.Protocol;

/// <summary>
/// The one place that decides whether a request may listen to a scope, for the raw endpoint (from
/// its path) and the SignalR hub (from <c>?scope=</c> and <c>Subscribe</c>) alike: the request
/// scope rules, then the request authenticator.
/// </summary>
internal sealed class ScopeAuthorizer(IOptions<AtrHubOptions> options)
{
    public enum Outcome
    {
        /// <summary>The request may listen to the scope.</summary>
        Allowed,

        /// <summary>The scope is not well formed, or the request scope rules do not accept it (400).</summary>
        Malformed,

        /// <summary>The request authenticator refused it (403).</summary>
        Refused,
    }

    /// <summary>Decides for a raw endpoint path below the hub's base path (<c>organization/1234</c>).</summary>
    public async ValueTask<(Outcome Outcome, string Scope)> AuthorizePathAsync(HttpContext context, string path)
    {
        var rules = options.Value.RequestScope ?? PathScope.Instance;
        var scope = await rules.GetScopeAsync(context, path).ConfigureAwait(false);
        if (scope is null || !RoutingKeys.IsValidScope(scope))
        {
            return (Outcome.Malformed, string.Empty);
        }

        if (options.Value.RequestAuthenticator is { } authenticator && !await authenticator.MatchesAsync(context, scope).ConfigureAwait(false))
        {
            return (Outcome.Refused, scope);
        }

        return (Outcome.Allowed, scope);
    }

    /// <summary>Decides for a scope key (<c>organization.1234</c>), through the same rules as its path form.</summary>
    public ValueTask<(Outcome Outcome, string Scope)> AuthorizeScopeAsync(HttpContext context, string scope)
        => RoutingKeys.IsValidScope(scope)
            ? AuthorizePathAsync(context, scope.Replace('.', '/'))
            : ValueTask.FromResult((Outcome.Malformed, string.Empty));
}
