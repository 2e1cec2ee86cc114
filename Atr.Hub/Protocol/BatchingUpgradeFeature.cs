using Atr.Hub.Connections;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Atr.Hub.Protocol;

/// <summary>
/// Puts a <see cref="FrameBatcher"/> and a <see cref="KeepAliveStream"/> under the WebSocket of a raw
/// Atr connection: the WebSocket middleware takes its stream from this feature, and the endpoint
/// finds both among the request's features afterwards. Other upgrades (SignalR, an embedding application's own
/// WebSockets) get the server's stream untouched.
/// </summary>
internal sealed class BatchingUpgradeFeature(IHttpUpgradeFeature inner, HttpContext context) : IHttpUpgradeFeature
{
    /// <summary>Endpoint metadata of the raw endpoint: its WebSockets are written in batches.</summary>
    public static readonly object EndpointMetadata = new BatchedFrames();

    public bool IsUpgradableRequest => inner.IsUpgradableRequest;

    /// <summary>
    /// Whether the WebSocket middleware upgrades through this feature: no WebSocket feature was in
    /// place when it was installed, so the middleware that follows it (<see cref="WebSocketsStartupFilter"/>)
    /// is the one that accepts. Only then does a raw connection's WebSocket sit on its streams.
    /// </summary>
    public bool UnderWebSocket { get; private init; }

    public async Task<Stream> UpgradeAsync()
    {
        var stream = await inner.UpgradeAsync().ConfigureAwait(false);
        if (context.GetEndpoint()?.Metadata.GetMetadata<BatchedFrames>() is null)
        {
            return stream;
        }

        // Frames batched, and pinged by the hub's keep-alive clock (the endpoint watches it once the WebSocket exists).
        var batcher = new FrameBatcher(stream);
        var keepAlive = new KeepAliveStream(batcher, context.RequestServices.GetRequiredService<KeepAliveSweeper>());
        context.Features.Set(batcher);
        context.Features.Set(keepAlive);
        return keepAlive;
    }

    /// <summary>Wraps the request's upgrade feature, if it has one.</summary>
    public static void Install(HttpContext context)
    {
        if (context.Features.Get<IHttpUpgradeFeature>() is { IsUpgradableRequest: true } upgrade)
        {
            context.Features.Set<IHttpUpgradeFeature>(new BatchingUpgradeFeature(upgrade, context)
            {
                UnderWebSocket = context.Features.Get<IHttpWebSocketFeature>() is null,
            });
        }
    }

    private sealed class BatchedFrames;
}
