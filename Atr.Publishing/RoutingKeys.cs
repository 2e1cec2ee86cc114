using System.Globalization;

namespace Atr.Publishing;

/// <summary>
/// Scope keys, event names and routing keys.
/// </summary>
/// <remarks>
/// A scope is zero or more <c>type.id</c> pairs (<c>organization.1234</c>,
/// <c>organization.1234.user.42</c>); the empty scope is the unscoped stream. Each segment is
/// 1 to 64 characters of <c>[A-Za-z0-9_-]</c>. An event name is one or more such segments joined
/// by dots (<c>post.created</c>). The routing key is <c>scope + "." + name</c>, or the name alone
/// when unscoped.
/// </remarks>
public static class RoutingKeys
{
    /// <summary>The longest scope or name segment, in characters: 64.</summary>
    public const int MaxSegmentLength = 64;

    /// <summary>The most <c>type.id</c> pairs in one scope: 8.</summary>
    public const int MaxScopePairs = 8;

    /// <summary>The most segments in one event name: 8.</summary>
    public const int MaxNameSegments = 8;

    /// <summary>Builds a scope key from <c>type.id</c> pairs: <c>("organization", 1234)</c> gives <c>organization.1234</c>.</summary>
    /// <param name="pairs">The pairs, outermost first. Ids are written with the invariant culture.</param>
    /// <returns>The scope key; empty when no pair is given.</returns>
    /// <exception cref="ArgumentException">A type or id is null, empty, too long or has a character outside <c>[A-Za-z0-9_-]</c>.</exception>
    public static string Scope(params ReadOnlySpan<(string Type, object? Id)> pairs)
    {
        if (pairs.Length > MaxScopePairs)
        {
            throw new ArgumentException($"A scope has at most {MaxScopePairs} type.id pairs.", nameof(pairs));
        }

        var segments = new string[pairs.Length * 2];
        for (var i = 0; i < pairs.Length; i++)
        {
            var (type, id) = pairs[i];
            var idText = Convert.ToString(id, CultureInfo.InvariantCulture);
            if (!IsValidSegment(type))
            {
                throw new ArgumentException($"Scope type '{type}' is not 1 to {MaxSegmentLength} characters of [A-Za-z0-9_-].", nameof(pairs));
            }

            if (idText is null || !IsValidSegment(idText))
            {
                throw new ArgumentException($"Scope id '{idText}' of '{type}' is not 1 to {MaxSegmentLength} characters of [A-Za-z0-9_-].", nameof(pairs));
            }

            segments[2 * i] = type;
            segments[(2 * i) + 1] = idText;
        }

        return string.Join('.', segments);
    }

    /// <summary>Combines a scope and an event name into a routing key.</summary>
    /// <param name="scope">The scope key, or empty for the unscoped stream.</param>
    /// <param name="name">The event name.</param>
    /// <returns><c>scope + "." + name</c>, or <paramref name="name"/> when the scope is empty.</returns>
    public static string Combine(string scope, string name)
    {
        ArgumentNullException.ThrowIfNull(scope);
        ArgumentNullException.ThrowIfNull(name);
        return scope.Length == 0 ? name : string.Concat(scope, ".", name);
    }

    /// <summary>Whether <paramref name="segment"/> is 1 to 64 characters of <c>[A-Za-z0-9_-]</c>.</summary>
    /// <param name="segment">The segment to check.</param>
    /// <returns><see langword="true"/> when valid.</returns>
    public static bool IsValidSegment(ReadOnlySpan<char> segment)
    {
        if (segment.IsEmpty || segment.Length > MaxSegmentLength)
        {
            return false;
        }

        foreach (var c in segment)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c != '_' && c != '-')
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Whether <paramref name="scope"/> is empty or an even number (at most 16) of valid segments joined by dots.</summary>
    /// <param name="scope">The scope key to check.</param>
    /// <returns><see langword="true"/> when valid.</returns>
    public static bool IsValidScope(ReadOnlySpan<char> scope)
    {
        if (scope.IsEmpty)
        {
            return true;
        }

        var count = CountValidSegments(scope);
        return count > 0 && count % 2 == 0 && count <= MaxScopePairs * 2;
    }

    /// <summary>Whether <paramref name="name"/> is one to eight valid segments joined by dots.</summary>
    /// <param name="name">The event name to check.</param>
    /// <returns><see langword="true"/> when valid.</returns>
    public static bool IsValidName(ReadOnlySpan<char> name)
    {
        var count = CountValidSegments(name);
        return count > 0 && count <= MaxNameSegments;
    }

    internal static void ThrowIfInvalidScope(string scope, string? paramName = "scope")
    {
        if (!IsValidScope(scope))
        {
            throw new ArgumentException(
                $"Scope '{scope}' is not a list of type.id pairs of [A-Za-z0-9_-] segments (1 to {MaxSegmentLength} characters each, at most {MaxScopePairs} pairs).",
                paramName);
        }
    }

    internal static void ThrowIfInvalidName(string name, string? paramName = "name")
    {
        if (!IsValidName(name))
        {
            throw new ArgumentException(
                $"Event name '{name}' is not 1 to {MaxNameSegments} dot-separated segments of [A-Za-z0-9_-] (1 to {MaxSegmentLength} characters each).",
                paramName);
        }

        if (IsReservedName(name))
        {
            throw new ArgumentException($"Event name '{name}' is reserved: names under '{ReservedPrefix}' are the hub's own control events (atr.resync).", paramName);
        }
    }

    /// <summary>The first segment of the hub's own control events (<c>atr.resync</c>), which no publisher may use.</summary>
    internal const string ReservedPrefix = "atr.";

    /// <summary>Whether <paramref name="name"/> is one of the hub's own control event names: <c>atr</c>, or under <c>atr.</c>.</summary>
    internal static bool IsReservedName(ReadOnlySpan<char> name)
        => name.StartsWith(ReservedPrefix, StringComparison.Ordinal) || name.SequenceEqual(ReservedPrefix.AsSpan(0, ReservedPrefix.Length - 1));

    // Returns the number of segments, or -1 when one is invalid.
    private static int CountValidSegments(ReadOnlySpan<char> value)
    {
        var count = 0;
        foreach (var range in value.Split('.'))
        {
            if (!IsValidSegment(value[range]))
            {
                return -1;
            }

            count++;
        }

        return count;
    }
}
