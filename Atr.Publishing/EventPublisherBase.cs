using System.Buffers;

namespace Atr.Publishing;

/// <summary>The part of every publisher that is not transport: creating and serializing events.</summary>
internal abstract class EventPublisherBase(EventFactory events, IEventSerializer serializer) : IEventPublisher
{
    public Task PublishAsync(AtrEvent atrEvent, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(atrEvent);
        var payload = new ArrayBufferWriter<byte>(256);
        serializer.Serialize(atrEvent, payload);
        return PublishPayloadAsync(atrEvent.Scope, payload.WrittenMemory, cancellationToken);
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

    /// <summary>Hands serialized event bytes for <paramref name="scope"/> to the transport, in call order.</summary>
    public abstract Task PublishPayloadAsync(string scope, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken);
}
