using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Atr.Publishing.Redis;

/// <summary>Publishes each event's bytes with <c>PUBLISH &lt;prefix&gt;&lt;scope&gt;</c> on the shared multiplexer.</summary>
internal sealed class RedisEventPublisher(
    RedisConnectionProvider connections,
    EventFactory events,
    IEventSerializer serializer,
    IOptions<AtrPublishingOptions> options) : EventPublisherBase(events, serializer)
{
    private readonly string _prefix = options.Value.ChannelPrefix;

    public override async Task PublishPayloadAsync(string scope, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        var connection = await connections.GetConnectionAsync().WaitAsync(cancellationToken).ConfigureAwait(false);

        // One multiplexer writes commands in call order, so events published one after another
        // reach Redis, and every subscriber, in that order.
        await connection.GetSubscriber()
            .PublishAsync(RedisChannel.Literal(_prefix + scope), payload)
            .WaitAsync(cancellationToken)
            .ConfigureAwait(false);
    }
}
