using Microsoft.AspNetCore.Http;

namespace Atr.Hub;

/// <summary>
/// Decides whether a WebSocket request may connect, before the upgrade (the original's
/// <c>authenticate_with</c> class with its <c>matches?</c>).
/// </summary>
/// <remarks>
/// The hub keeps one instance for its lifetime: a scoped service (a <c>DbContext</c>) comes from
/// the handshake's <c>context.RequestServices</c>, never from the constructor.
/// </remarks>
/// <example>
/// <code>
/// builder.Services.AddAtrHub(o => o.RequestAuthenticator = new KnownOrganizations());
/// // in MatchesAsync: context.RequestServices.GetRequiredService&lt;OrganizationDirectory&gt;()
/// </code>
/// samples/Atr.Samples.Embedded has the whole application.
/// </example>
public interface IRequestAuthenticator
{
    /// <summary>Whether the request may connect; <see langword="false"/> answers 403 and nothing is upgraded.</summary>
    /// <param name="context">The handshake request. Keep nothing of it past the call.</param>
    /// <param name="scope">The scope the request asks for, as <see cref="IRequestScope"/> gave it.</param>
    /// <returns><see langword="true"/> to let the request connect.</returns>
    ValueTask<bool> MatchesAsync(HttpContext context, string scope);
}
