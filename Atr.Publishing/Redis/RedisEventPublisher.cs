using Microsoft.Extensions.Options;

namespace Atr.Publishing.Redis;

/// <summary>Publishes each event's bytes on <c>&lt;prefix&gt;&lt;scope&gt;</c> through the shared multiplexer, history included (<see cref="RedisConnectionProvider.PublishAsync"/>).</summary>
internal sealed class RedisEventPublisher(
    RedisConnectionProvider connections,
    EventFactory events,
    IEventSerializer serializer,
    IOptions<AtrPublishingOptions> options) : EventPublisherBase(events, serializer, options)
{
    private readonly string _prefix = options.Value.ChannelPrefix;

    public override Task PublishPayloadAsync(string scope, string eventId, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
        => connections.PublishAsync(_prefix + scope, eventId, payload, cancellationToken);
}
