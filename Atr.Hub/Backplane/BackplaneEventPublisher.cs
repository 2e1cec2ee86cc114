using Atr.Publishing;

namespace Atr.Hub.Backplane;

/// <summary>The hub's <see cref="IEventPublisher"/>: publishes through the node's backplane, in memory or Redis alike.</summary>
internal sealed class BackplaneEventPublisher(IBackplane backplane, EventFactory events, IEventSerializer serializer)
    : EventPublisherBase(events, serializer)
{
    public override Task PublishPayloadAsync(string scope, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
        => backplane.PublishAsync(scope, payload, cancellationToken);
}
