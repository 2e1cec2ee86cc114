using Microsoft.AspNetCore.WebUtilities;

namespace Atr.Hub.History;

/// <summary>The <c>since</c> of a request's query: the id of the last event a client has.</summary>
internal static class HistoryQuery
{
    public const string Since = "since";

    /// <summary>Reads <c>since</c> from <paramref name="query"/>; false when it is there but not an event id (32 lowercase hex digits).</summary>
    /// <param name="query">The query string, as <c>HttpRequest.Query</c> reads it.</param>
    /// <param name="since">The id, or null when the query has none.</param>
    public static bool TryReadSince(string query, out string? since)
    {
        since = null;
        if (!query.Contains(Since, StringComparison.OrdinalIgnoreCase) || QueryHelpers.ParseNullableQuery(query) is not { } parameters || !parameters.TryGetValue(Since, out var values))
        {
            return true;
        }

        since = values.ToString();
        return IsEventId(since);
    }

    /// <summary>Whether <paramref name="id"/> is 32 lowercase hexadecimal digits.</summary>
    public static bool IsEventId(string? id)
        => id is { Length: 32 } && id.AsSpan().IndexOfAnyExcept(LowerHex) < 0;

    private static readonly System.Buffers.SearchValues<char> LowerHex = System.Buffers.SearchValues.Create("0123456789abcdef");
}
