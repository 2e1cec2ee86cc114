using Atr.Hub.Connections;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Atr.Hub.Protocol;

/// <summary>
/// Puts a <see cref="FrameBatcher"/> under the WebSocket of a raw Atr connection: the WebSocket
/// middleware takes its stream from this feature, and the endpoint finds the batcher among the
/// request's features afterwards. Other upgrades (SignalR, an embedding application's own
/// WebSockets) get the server's stream untouched.
/// </summary>
internal sealed class BatchingUpgradeFeature(IHttpUpgradeFeature inner, HttpContext context) : IHttpUpgradeFeature
{
    /// <summary>Endpoint metadata of the raw endpoint: its WebSockets are written in batches.</summary>
    public static readonly object EndpointMetadata = new BatchedFrames();

    public bool IsUpgradableRequest => inner.IsUpgradableRequest;

    public async Task<Stream> UpgradeAsync()
    {
        var stream = await inner.UpgradeAsync().ConfigureAwait(false);
        if (context.GetEndpoint()?.Metadata.GetMetadata<BatchedFrames>() is null)
        {
            return stream;
        }

        var batcher = new FrameBatcher(stream);
        context.Features.Set(batcher);
        return batcher;
    }

    /// <summary>Wraps the request's upgrade feature, if it has one.</summary>
    public static void Install(HttpContext context)
    {
        if (context.Features.Get<IHttpUpgradeFeature>() is { IsUpgradableRequest: true } upgrade)
        {
            context.Features.Set<IHttpUpgradeFeature>(new BatchingUpgradeFeature(upgrade, context));
        }
    }

    private sealed class BatchedFrames;
}
