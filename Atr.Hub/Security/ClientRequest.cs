using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace Atr.Hub.Security;

/// <summary>
/// What the hub's checks read of a client's request — raw handshake, SignalR connection or
/// publish — whether it came through the HTTP pipeline or was read off the connection by
/// <see cref="Protocol.DirectUpgrade"/>: the path, the query, the Origin and Authorization headers
/// and the remote address.
/// </summary>
/// <param name="Path">The path below the hub's base path, without its leading slash (<c>organization/1234</c>).</param>
/// <param name="Query">The query string with its leading <c>?</c>, or empty.</param>
/// <param name="Origin">The Origin header (several joined by commas), or null when there is none.</param>
/// <param name="Authorization">The Authorization header, or null.</param>
/// <param name="RemoteAddress">Where the request comes from.</param>
/// <param name="Aborted">Cancelled when the client goes away.</param>
/// <param name="OverAddressLimit">Whether its socket came from an address already at its limit (see <see cref="Connections.ConnectionGate"/>): the request is answered 429.</param>
/// <param name="Context">
/// The request through the HTTP pipeline, for the application's <see cref="IRequestScope"/> and
/// <see cref="IRequestAuthenticator"/>, which are written against it; null for a handshake read off
/// the connection, which is taken only when neither is configured.
/// </param>
internal readonly record struct ClientRequest(
    string Path,
    string Query,
    string? Origin,
    string? Authorization,
    IPAddress? RemoteAddress,
    bool OverAddressLimit,
    HttpContext? Context,
    CancellationToken Aborted)
{
    /// <summary>The checks' view of a request through the HTTP pipeline.</summary>
    public static ClientRequest From(HttpContext context, string path = "")
    {
        var headers = context.Request.Headers;
        var origin = headers[HeaderNames.Origin];
        var authorization = headers[HeaderNames.Authorization];
        return new ClientRequest(
            path,
            context.Request.QueryString.Value ?? string.Empty,
            origin.Count == 0 ? null : origin.ToString(),
            authorization.Count == 0 ? null : authorization.ToString(),
            context.Connection.RemoteIpAddress,
            context.Features.Get<Connections.AddressOverLimit>() is not null,
            context,
            context.RequestAborted);
    }
}
