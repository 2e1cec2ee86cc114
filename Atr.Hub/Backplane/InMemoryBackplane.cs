using Atr.Hub.History;
using Atr.Hub.Subscriptions;

namespace Atr.Hub.Backplane;

/// <summary>The single-node backplane: a publish is kept in the node's history and dispatched to the local connections at once.</summary>
internal sealed class InMemoryBackplane(EventDispatcher dispatcher, InMemoryHistory history) : IBackplane
{
    public string Name => "in-memory";

    public bool IsDelivering => true;

    public string? Problem => null;

    public Task RunAsync(CancellationToken stoppingToken) => Task.CompletedTask;

    // The dispatcher looks up local recipients itself, so there is nothing to subscribe.
    public Task SubscribeAsync(string scope, CancellationToken cancellationToken) => Task.CompletedTask;

    public Task UnsubscribeAsync(string scope) => Task.CompletedTask;

    public Task<bool> PublishAsync(string scope, string eventId, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        // Recipients and the history keep the frame after this returns; the caller may reuse its buffer.
        var bytes = payload.ToArray();
        history.Append(scope, eventId, bytes);
        dispatcher.Dispatch(scope, bytes);
        return Task.FromResult(true);
    }
}
