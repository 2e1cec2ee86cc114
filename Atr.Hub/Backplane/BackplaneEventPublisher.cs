using Atr.Publishing;
using Microsoft.Extensions.Options;

namespace Atr.Hub.Backplane;

/// <summary>The hub's <see cref="IEventPublisher"/>: publishes through the node's backplane, in memory or Redis alike.</summary>
internal sealed class BackplaneEventPublisher(IBackplane backplane, EventFactory events, IEventSerializer serializer, IOptions<AtrPublishingOptions> options)
    : EventPublisherBase(events, serializer, options)
{
    public override Task PublishPayloadAsync(string scope, string eventId, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
        => backplane.PublishAsync(scope, eventId, payload, cancellationToken);
}
