using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Atr.Hub.Security;

/// <summary>Which browser Origins may open connections: <see cref="AtrHubOptions.AllowedOrigins"/>, or any when none are listed.</summary>
internal sealed class OriginPolicy(IOptions<AtrHubOptions> options)
{
    private readonly HashSet<string> _allowed = new(
        options.Value.AllowedOrigins.Select(o => o.Trim().TrimEnd('/')).Where(o => o.Length > 0),
        StringComparer.OrdinalIgnoreCase);

    /// <summary>Whether the request may connect: it has no Origin (not a browser), none are listed, or its Origin is listed.</summary>
    public bool Allows(HttpContext context)
    {
        if (_allowed.Count == 0)
        {
            return true;
        }

        var origin = context.Request.Headers[HeaderNames.Origin];
        return origin.Count == 0 || _allowed.Contains(origin.ToString().Trim().TrimEnd('/'));
    }
}
