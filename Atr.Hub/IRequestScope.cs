using Microsoft.AspNetCore.Http;

namespace Atr.Hub;

/// <summary>
/// Gives the scope a WebSocket request listens to (the original's <c>scope_with</c> class with its
/// <c>valid?</c> and <c>routing_key</c>).
/// </summary>
/// <remarks>
/// The default reads the path's <c>/type/id</c> pairs: <c>/organization/1234</c> listens to
/// <c>organization.1234</c>, <c>/</c> to the unscoped stream.
/// </remarks>
public interface IRequestScope
{
    /// <summary>The scope key of the request, or <see langword="null"/> when it is not valid (answered with 400).</summary>
    /// <param name="context">The handshake request. Keep nothing of it past the call.</param>
    /// <param name="path">The path below the hub's base path, without its leading slash (<c>organization/1234</c>).</param>
    /// <returns>The scope key (<c>organization.1234</c>), empty for the unscoped stream, or <see langword="null"/>.</returns>
    ValueTask<string?> GetScopeAsync(HttpContext context, string path);
}
