using System.Security.Claims;
using Atr.Publishing;

namespace Atr.Hub.Security;

/// <summary>
/// What a token allows: claim <c>atr_scopes</c> lists the scopes it may listen to (exact scope keys,
/// patterns ending in <c>.*</c>, or <c>*</c> for all), as a JSON array or a space-separated string;
/// claim <c>atr_publish: true</c> allows <c>POST /publish</c>, within <c>atr_scopes</c> when given.
/// </summary>
internal sealed class ScopeGrants
{
    public const string ScopesClaim = AtrClaims.Scopes;
    public const string PublishClaim = AtrClaims.Publish;

    private readonly string[] _grants;

    private ScopeGrants(string[] grants, bool hasScopesClaim, bool canPublish)
    {
        _grants = grants;
        HasScopesClaim = hasScopesClaim;
        CanPublish = canPublish;
    }

    /// <summary>Whether the token carries <c>atr_publish: true</c>.</summary>
    public bool CanPublish { get; }

    /// <summary>Whether the token names its scopes at all (a publish token without them may publish anywhere).</summary>
    public bool HasScopesClaim { get; }

    public static ScopeGrants From(ClaimsPrincipal principal)
    {
        var grants = new List<string>();
        var hasScopes = false;
        foreach (var claim in principal.FindAll(ScopesClaim))
        {
            hasScopes = true;

            // The token handler turns a JSON array into one claim per element; a string may hold several, space-separated.
            grants.AddRange(claim.Value.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        }

        // Only the JSON true: a string "true" (or "True", "yes") is not a grant.
        var publish = principal.FindFirst(PublishClaim);
        var canPublish = publish is { ValueType: ClaimValueTypes.Boolean } && string.Equals(publish.Value, "true", StringComparison.OrdinalIgnoreCase);
        return new ScopeGrants([.. grants], hasScopes, canPublish);
    }

    /// <summary>Whether the token may listen to <paramref name="scope"/>: whole segments only, so <c>organization.*</c> grants <c>organization.5</c> but not <c>organizations.5</c>.</summary>
    public bool Allows(string scope)
    {
        foreach (var grant in _grants)
        {
            if (grant == "*" || grant == scope)
            {
                return true;
            }

            if (grant.EndsWith(".*", StringComparison.Ordinal) && scope.Length > grant.Length - 1
                && scope.StartsWith(grant.AsSpan(0, grant.Length - 1), StringComparison.Ordinal)
                && RoutingKeys.IsValidScope(scope))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Whether the token may publish to <paramref name="scope"/>.</summary>
    public bool AllowsPublish(string scope) => CanPublish && (!HasScopesClaim || Allows(scope));
}
