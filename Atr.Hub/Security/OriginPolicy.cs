using Microsoft.Extensions.Options;

namespace Atr.Hub.Security;

/// <summary>Which browser Origins may open connections: <see cref="AtrHubOptions.AllowedOrigins"/>, or any when none are listed.</summary>
internal sealed class OriginPolicy(IOptions<AtrHubOptions> options)
{
    private readonly HashSet<string> _allowed = new(
        options.Value.AllowedOrigins.Select(o => o.Trim().TrimEnd('/')).Where(o => o.Length > 0),
        StringComparer.OrdinalIgnoreCase);

    /// <summary>Whether a request with this Origin header may connect: it has none (not a browser), none are listed, or its Origin is listed.</summary>
    public bool Allows(string? origin)
        => _allowed.Count == 0 || origin is null || _allowed.Contains(origin.Trim().TrimEnd('/'));
}
