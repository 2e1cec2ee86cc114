using Atr.Hub.Diagnostics;
using Atr.Hub.Security;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Atr.Hub.SignalR;

/// <summary>
/// Stands in front of every SignalR endpoint of the hub (<c>/hub/negotiate</c> and the transports):
/// a request from an Origin that is not allowed, or in JWT mode without a valid token, is refused
/// with its HTTP status and a one-line reason before SignalR allocates anything for it — no
/// negotiated connection waiting for its transport, no upgraded WebSocket waiting for a handshake.
/// </summary>
internal sealed class SignalRGate(ScopeAuthorizer authorizer, OriginPolicy origins, RefusalLog refusals, IOptions<AtrHubOptions> options)
{
    public async Task PassAsync(HttpContext context, RequestDelegate next)
    {
        var request = ClientRequest.From(context);
        if (!origins.Allows(request.Origin))
        {
            await RefuseAsync(context, StatusCodes.Status403Forbidden, "Origin not allowed: the hub's --allowed-origins does not list it.").ConfigureAwait(false);
            return;
        }

        if (options.Value.AuthenticationEnabled)
        {
            var identity = await authorizer.AuthenticateAsync(request).ConfigureAwait(false);
            if (identity.KeysUnavailable)
            {
                await RefuseAsync(context, StatusCodes.Status503ServiceUnavailable, "The keys that verify tokens cannot be fetched right now; retry shortly.").ConfigureAwait(false);
                return;
            }

            if (!identity.IsAuthenticated)
            {
                context.Response.Headers.WWWAuthenticate = "Bearer";
                await RefuseAsync(context, StatusCodes.Status401Unauthorized, "A valid token is required: pass it with accessTokenFactory (access_token) or Authorization: Bearer.").ConfigureAwait(false);
                return;
            }
        }

        await next(context).ConfigureAwait(false);
    }

    private Task RefuseAsync(HttpContext context, int status, string reason)
    {
        refusals.Refused(RefusalLog.SignalR, status, reason);
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        return context.Response.WriteAsync(reason + "\n");
    }
}
