using System.Buffers;
using Microsoft.Extensions.Options;

namespace Atr.Publishing;

/// <summary>The part of every publisher that is not transport: creating and serializing events.</summary>
internal abstract class EventPublisherBase(EventFactory events, IEventSerializer serializer, IOptions<AtrPublishingOptions> options) : IEventPublisher
{
    public Task PublishAsync(AtrEvent atrEvent, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(atrEvent);
        var payload = new ArrayBufferWriter<byte>(256);
        serializer.Serialize(atrEvent, payload);
        var limit = options.Value.MaxEventBytes;
        if (payload.WrittenCount > limit)
        {
            // Hubs drop what is larger than their limit: refused here, where the caller can hear of it.
            throw new ArgumentException(
                $"Event '{atrEvent.Name}' is {payload.WrittenCount} bytes of JSON; events are limited to {limit} bytes (AtrPublishingOptions.MaxEventBytes).",
                nameof(atrEvent));
        }

        return PublishPayloadAsync(atrEvent.Scope, atrEvent.Id, payload.WrittenMemory, cancellationToken);
    }

    public async Task<AtrEvent> PublishAsync(string scope, string name, object? record, string? recordType = null, CancellationToken cancellationToken = default)
    {
        var atrEvent = events.Create(scope, name, record, recordType);
        await PublishAsync(atrEvent, cancellationToken).ConfigureAwait(false);
        return atrEvent;
    }

    public async Task<AtrEvent> PublishModelAsync(object model, ModelAction action, CancellationToken cancellationToken = default)
    {
        var atrEvent = events.ForModel(model, action);
        await PublishAsync(atrEvent, cancellationToken).ConfigureAwait(false);
        return atrEvent;
    }

    /// <summary>Hands serialized event bytes for <paramref name="scope"/> to the transport, in call order; <paramref name="eventId"/> finds it in the scope's history.</summary>
    public abstract Task PublishPayloadAsync(string scope, string eventId, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken);
}
