using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;

namespace Atr.Hub.Protocol;

/// <summary>
/// Puts the WebSocket middleware first in the pipeline, so <c>MapAtrHub</c> works without a separate
/// <c>UseWebSockets()</c>; just before it, the raw endpoint's upgrades get their frame batching.
/// </summary>
internal sealed class WebSocketsStartupFilter : IStartupFilter
{
    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.Use(static (context, next) =>
        {
            BatchingUpgradeFeature.Install(context);
            return next(context);
        });
        app.UseWebSockets();
        next(app);
    };
}
