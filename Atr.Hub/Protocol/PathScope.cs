using Atr.Publishing;

namespace Atr.Hub.Protocol;

/// <summary>The default scope: <c>/organization/1234</c> listens to <c>organization.1234</c>, <c>/</c> to the unscoped stream.</summary>
internal static class PathScope
{
    /// <summary>Parses <c>type/id[/type/id…]</c>; null when a segment is empty or invalid, or the count is odd.</summary>
    public static string? Parse(string path)
    {
        if (path.Length == 0)
        {
            return string.Empty;
        }

        var segments = 0;
        var span = path.AsSpan();
        foreach (var range in span.Split('/'))
        {
            if (!RoutingKeys.IsValidSegment(span[range]))
            {
                return null;
            }

            segments++;
        }

        if (segments % 2 != 0 || segments > RoutingKeys.MaxScopePairs * 2)
        {
            return null;
        }

        return path.Replace('/', '.');
    }
}
