using System.Buffers;
using System.Globalization;
using Atr.Hub.Backplane;
using Atr.Hub.History;
using Atr.Hub.Security;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Atr.Hub.HttpApi;

/// <summary>
/// <c>GET /history?scope=…[&amp;since=…][&amp;limit=…]</c>: a scope's history as a JSON array of its
/// events, oldest first, byte for byte as published; authorized exactly as listening to the scope.
/// With <c>since</c>, the events after it (the first <c>limit</c>); without, the last <c>limit</c>.
/// A <c>since</c> the history does not hold is 410.
/// </summary>
internal sealed class HistoryEndpoint(ScopeAuthorizer authorizer, IEventHistory history, IBackplane backplane, IOptions<AtrHubOptions> options)
{
    private readonly AtrHubOptions _options = options.Value;

    public async Task<IResult> HandleAsync(HttpContext context)
    {
        if (_options.HistorySize <= 0)
        {
            return Problem(StatusCodes.Status404NotFound, "History off", "This hub keeps no history (HistorySize 0).");
        }

        var query = context.Request.Query;
        var scope = query["scope"].ToString();
        if (!HistoryQuery.TryReadSince(context.Request.QueryString.Value ?? string.Empty, out var since))
        {
            return Problem(StatusCodes.Status400BadRequest, "Invalid history request", "'since' is the id of an event: 32 lowercase hexadecimal digits.");
        }

        var limit = _options.HistorySize;
        if (query.TryGetValue("limit", out var limitText) && (!int.TryParse(limitText, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit < 1))
        {
            return Problem(StatusCodes.Status400BadRequest, "Invalid history request", "'limit' is a positive whole number.");
        }

        var decision = await authorizer.AuthorizeScopeAsync(ClientRequest.From(context), scope).ConfigureAwait(false);
        switch (decision.Outcome)
        {
            case ScopeAuthorizer.Outcome.Malformed or ScopeAuthorizer.Outcome.NotAScope:
                return Problem(StatusCodes.Status400BadRequest, "Invalid history request", "'scope' is a scope key such as organization.1234, or empty for unscoped events.");
            case ScopeAuthorizer.Outcome.Unauthenticated:
                context.Response.Headers.WWWAuthenticate = "Bearer";
                return Problem(StatusCodes.Status401Unauthorized, "Unauthorized", "A valid token is required: pass it as ?access_token=<JWT> or Authorization: Bearer <JWT>.");
            case ScopeAuthorizer.Outcome.KeysUnavailable:
                return Problem(StatusCodes.Status503ServiceUnavailable, "Keys unavailable", "The keys that verify tokens cannot be fetched right now; retry shortly.");
            case ScopeAuthorizer.Outcome.NotGranted or ScopeAuthorizer.Outcome.Refused:
                return Problem(StatusCodes.Status403Forbidden, "Forbidden", "The token does not grant this scope (claim atr_scopes).");
        }

        if (backplane.Problem is { } problem)
        {
            return Problem(StatusCodes.Status503ServiceUnavailable, "History unavailable", $"{problem}; the history can be read once it is back.");
        }

        IReadOnlyList<HistoryEntry> entries;
        try
        {
            entries = await history.ReadAsync(decision.Scope, context.RequestAborted).WaitAsync(ChannelsEndpoint.ReadTimeout, context.RequestAborted).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            return Problem(StatusCodes.Status503ServiceUnavailable, "History unavailable", $"The history could not be read from Redis ({ex.GetType().Name}).");
        }

        IEnumerable<HistoryEntry> selected;
        if (since is null)
        {
            selected = entries.Skip(Math.Max(0, entries.Count - limit));
        }
        else
        {
            var index = -1;
            for (var i = entries.Count - 1; i >= 0 && index < 0; i--)
            {
                index = entries[i].Id == since ? i : -1;
            }

            if (index < 0)
            {
                return Problem(StatusCodes.Status410Gone, "Not in history", $"The history of '{decision.Scope}' does not hold event {since}: trimmed, expired, or never recorded. Refetch, then listen.");
            }

            selected = entries.Skip(index + 1).Take(limit);
        }

        return new EventsResult(selected.ToArray());
    }

    private static ProblemHttpResult Problem(int status, string title, string detail)
        => TypedResults.Problem(detail: detail, statusCode: status, title: title, type: "https://atr.invalid/problems/history");

    /// <summary>The events as one JSON array, each object's bytes as they were published.</summary>
    private sealed class EventsResult(HistoryEntry[] entries) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.StatusCode = StatusCodes.Status200OK;
            httpContext.Response.ContentType = "application/json; charset=utf-8";
            var body = new ArrayBufferWriter<byte>();
            body.Write("["u8);
            for (var i = 0; i < entries.Length; i++)
            {
                if (i > 0)
                {
                    body.Write(","u8);
                }

                body.Write(entries[i].Payload.Span);
            }

            body.Write("]"u8);
            return httpContext.Response.Body.WriteAsync(body.WrittenMemory).AsTask();
        }
    }
}
