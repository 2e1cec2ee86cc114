using System.Buffers;
using System.Text.Unicode;
using System.Text.Json;
using Atr.Hub.Backplane;
using Atr.Hub.Diagnostics;
using Atr.Hub.Security;
using Atr.Publishing;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Atr.Hub.HttpApi;

/// <summary>
/// <c>POST /publish</c>: one event object or an array of them from any language; the hub fills
/// <c>id</c>, <c>occured_at</c> and <c>routing_key</c> and publishes through the backplane.
/// </summary>
/// <remarks>
/// A batch is checked whole before anything is published: a bad item publishes nothing and the
/// answer names it. If the backplane fails while publishing, the 503 answer says how many were.
/// </remarks>
internal sealed class PublishEndpoint(IBackplane backplane, IEventSerializer serializer, EventFactory events, ScopeAuthorizer authorizer, HubMetrics metrics, IOptions<AtrHubOptions> options)
{
    private readonly AtrHubOptions _options = options.Value;

    public async Task<IResult> HandleAsync(HttpContext context)
    {
        var identity = await authorizer.AuthenticateAsync(ClientRequest.From(context)).ConfigureAwait(false);
        if (identity.KeysUnavailable)
        {
            return TypedResults.Problem(
                detail: "The keys that verify tokens cannot be fetched right now; retry shortly.",
                statusCode: StatusCodes.Status503ServiceUnavailable,
                title: "Keys unavailable",
                type: "https://atr.invalid/problems/keys-unavailable");
        }

        if (!identity.IsAuthenticated)
        {
            context.Response.Headers.WWWAuthenticate = "Bearer";
            return TypedResults.Problem(
                detail: "A publish token is required: Authorization: Bearer <JWT> with the claim atr_publish: true.",
                statusCode: StatusCodes.Status401Unauthorized,
                title: "Unauthorized",
                type: "https://atr.invalid/problems/unauthorized");
        }

        if (identity.Grants is { CanPublish: false })
        {
            return Forbidden("The token does not allow publishing (claim atr_publish: true).");
        }

        // JSON only: a browser page elsewhere cannot send application/json without a CORS preflight,
        // so a loopback hub cannot be published to by any site the user happens to visit.
        if (!context.Request.HasJsonContentType())
        {
            return TypedResults.Problem(
                detail: "Send the events as JSON with Content-Type: application/json.",
                statusCode: StatusCodes.Status415UnsupportedMediaType,
                title: "Unsupported media type",
                type: "https://atr.invalid/problems/unsupported-media-type");
        }

        if (context.Request.ContentLength > _options.MaxPublishBodyBytes)
        {
            return TooLarge();
        }

        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeFeature)
        {
            sizeFeature.MaxRequestBodySize = _options.MaxPublishBodyBytes;
        }

        byte[]? body;
        try
        {
            body = await ReadBodyAsync(context).ConfigureAwait(false);
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return TooLarge();
        }

        if (body is null)
        {
            return TooLarge();
        }

        // Checked whole, before anything reads a string of it: an invalid sequence must be refused,
        // not replaced by U+FFFD in a record or thrown from the middle of a name.
        if (!Utf8.IsValid(body))
        {
            return Invalid("The body is not valid UTF-8.", null);
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body);
        }
        catch (JsonException ex)
        {
            return Invalid("The body is not valid JSON.", ex.Message);
        }

        using (document)
        {
            var root = document.RootElement;
            var items = root.ValueKind switch
            {
                JsonValueKind.Object => [root],
                JsonValueKind.Array => root.EnumerateArray().ToArray(),
                _ => null,
            };

            if (items is null || items.Length == 0)
            {
                return Invalid("The body must be an event object or a non-empty array of them.", null);
            }

            if (items.Length > _options.MaxPublishBatch)
            {
                return Invalid($"At most {_options.MaxPublishBatch} events may be published in one request.", null);
            }

            var batch = new AtrEvent[items.Length];
            for (var i = 0; i < items.Length; i++)
            {
                var error = TryRead(items[i], out batch[i]);
                if (error is not null)
                {
                    return Invalid(items.Length == 1 && root.ValueKind == JsonValueKind.Object ? error : $"Item {i}: {error}", null);
                }
            }

            for (var i = 0; i < batch.Length; i++)
            {
                if (!identity.AllowsPublish(batch[i].Scope))
                {
                    return Forbidden($"{(batch.Length == 1 ? string.Empty : $"Item {i}: ")}the token may not publish to scope '{batch[i].Scope}' (claim atr_scopes).");
                }
            }

            // Serialized whole before anything goes out: a record that cannot be written, or an event
            // over the size every hub takes, refuses the batch instead of cutting it in two.
            var payloads = new byte[batch.Length][];
            for (var i = 0; i < batch.Length; i++)
            {
                try
                {
                    payloads[i] = JsonEventSerializer.ToBytes(serializer, batch[i]);
                }
                catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or JsonException or NotSupportedException)
                {
                    return Invalid($"{(batch.Length == 1 ? string.Empty : $"Item {i}: ")}the event cannot be written as JSON.", ex.Message);
                }

                if (payloads[i].Length > _options.MaxEventBytes)
                {
                    return TypedResults.Problem(
                        detail: $"{(batch.Length == 1 ? "The" : $"Item {i}: the")} event is {payloads[i].Length} bytes of JSON; events are limited to {_options.MaxEventBytes} bytes (MaxEventBytes).",
                        statusCode: StatusCodes.Status413PayloadTooLarge,
                        title: "Event too large",
                        type: "https://atr.invalid/problems/event-too-large");
                }
            }

            // Started in array order and awaited together: the backplane keeps the order, and a
            // batch costs one round trip to Redis rather than one per event.
            var publishing = new Task<bool>[batch.Length];
            for (var i = 0; i < batch.Length; i++)
            {
                publishing[i] = backplane.PublishAsync(batch[i].Scope, batch[i].Id, payloads[i], context.RequestAborted);
            }

            try
            {
                await Task.WhenAll(publishing).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is StackExchange.Redis.RedisException or TimeoutException)
            {
                var published = publishing.Count(t => t.IsCompletedSuccessfully);
                metrics.Published(published);
                return TypedResults.Problem(
                    detail: $"The event backplane is unavailable ({ex.Message}); {published} of {batch.Length} events were handed to it.",
                    statusCode: StatusCodes.Status503ServiceUnavailable,
                    title: "Backplane unavailable",
                    type: "https://atr.invalid/problems/backplane-unavailable");
            }

            metrics.Published(batch.Length);
            return TypedResults.Json(
                new PublishAccepted(
                    Array.ConvertAll(batch, e => e.Id),
                    Array.TrueForAll(publishing, t => t.Result) ? PublishAccepted.ReachAll : PublishAccepted.ReachNode),
                HubJsonContext.Default.PublishAccepted,
                statusCode: StatusCodes.Status202Accepted);
        }
    }

    private string? TryRead(JsonElement item, out AtrEvent atrEvent)
    {
        atrEvent = null!;
        if (item.ValueKind != JsonValueKind.Object)
        {
            return "an event must be a JSON object.";
        }

        string scope = string.Empty, name = string.Empty;
        string? recordType = null;
        object? record = null;
        var hasName = false;
        foreach (var property in item.EnumerateObject())
        {
            switch (property.Name)
            {
                case "scope":
                    if (property.Value.ValueKind is not (JsonValueKind.String or JsonValueKind.Null))
                    {
                        return "'scope' must be a string such as \"organization.1234\".";
                    }

                    scope = property.Value.GetString() ?? string.Empty;
                    break;
                case "name":
                    if (property.Value.ValueKind != JsonValueKind.String)
                    {
                        return "'name' must be a string such as \"post.created\".";
                    }

                    name = property.Value.GetString()!;
                    hasName = true;
                    break;
                case "record":
                    record = property.Value.ValueKind == JsonValueKind.Null ? null : property.Value.Clone();
                    break;
                case "record_type":
                    if (property.Value.ValueKind is not (JsonValueKind.String or JsonValueKind.Null))
                    {
                        return "'record_type' must be a string or null.";
                    }

                    recordType = property.Value.GetString();
                    break;
                default:
                    return $"unknown property '{property.Name}'; an event has 'scope', 'name', 'record' and 'record_type'.";
            }
        }

        if (!hasName)
        {
            return "'name' is required.";
        }

        if (!RoutingKeys.IsValidScope(scope))
        {
            return $"'scope' \"{scope}\" is not a list of type.id pairs of [A-Za-z0-9_-] segments (1 to 64 characters each).";
        }

        if (!RoutingKeys.IsValidName(name))
        {
            return $"'name' \"{name}\" is not dot-separated segments of [A-Za-z0-9_-] (1 to 64 characters each).";
        }

        if (RoutingKeys.IsReservedName(name))
        {
            return $"'name' \"{name}\" is reserved: names under '{RoutingKeys.ReservedPrefix}' are the hub's own control events.";
        }

        atrEvent = events.Create(scope, name, record, recordType);
        return null;
    }

    /// <summary>The whole body, at most <see cref="AtrHubOptions.MaxPublishBodyBytes"/>; null when it is longer.</summary>
    private async Task<byte[]?> ReadBodyAsync(HttpContext context)
    {
        var limit = _options.MaxPublishBodyBytes;
        using var body = new MemoryStream((int)Math.Min(context.Request.ContentLength ?? 4096, limit));
        var buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            int read;
            while ((read = await context.Request.Body.ReadAsync(buffer, context.RequestAborted).ConfigureAwait(false)) > 0)
            {
                // The server's own body limit applies too; this one holds where a server has none.
                if (body.Length + read > limit)
                {
                    return null;
                }

                body.Write(buffer, 0, read);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        return body.ToArray();
    }

    private static ProblemHttpResult Invalid(string detail, string? parserMessage) => TypedResults.Problem(
        detail: parserMessage is null ? detail : $"{detail} {parserMessage}",
        statusCode: StatusCodes.Status400BadRequest,
        title: "Invalid publish request",
        type: "https://atr.invalid/problems/invalid-publish");

    private static ProblemHttpResult Forbidden(string detail) => TypedResults.Problem(
        detail: detail,
        statusCode: StatusCodes.Status403Forbidden,
        title: "Forbidden",
        type: "https://atr.invalid/problems/forbidden");

    private ProblemHttpResult TooLarge() => TypedResults.Problem(
        detail: $"The body is larger than the limit of {_options.MaxPublishBodyBytes} bytes.",
        statusCode: StatusCodes.Status413PayloadTooLarge,
        title: "Publish request too large",
        type: "https://atr.invalid/problems/publish-too-large");
}
