namespace Atr.Publishing;

/// <summary>
/// One thing that happened to a record, as clients receive it: <c>post.created</c> in
/// <c>organization.1234</c>, with the record itself.
/// </summary>
/// <remarks>
/// The default wire form (see <see cref="JsonEventSerializer"/>) is a JSON object with the keys
/// <c>id</c>, <c>name</c>, <c>occured_at</c>, <c>record</c>, <c>record_type</c> and
/// <c>routing_key</c>, in that order. Create events with <see cref="EventFactory"/>, which
/// assigns the id and the time.
/// </remarks>
public sealed class AtrEvent
{
    /// <summary>Creates an event. Prefer <see cref="EventFactory"/>, which fills the id and the time.</summary>
    /// <param name="id">32 lowercase hexadecimal digits.</param>
    /// <param name="scope">The scope key (<c>organization.1234</c>); empty for the unscoped stream.</param>
    /// <param name="name">The event name (<c>post.created</c>).</param>
    /// <param name="occurredAt">When it happened.</param>
    /// <param name="record">The record: any value <c>System.Text.Json</c> can write, or <see langword="null"/>.</param>
    /// <param name="recordType">The record's type name (<c>Post</c>), or <see langword="null"/>.</param>
    /// <exception cref="ArgumentException">The id, scope or name is malformed.</exception>
    public AtrEvent(string id, string scope, string name, DateTimeOffset occurredAt, object? record, string? recordType)
    {
        ArgumentNullException.ThrowIfNull(id);
        ArgumentNullException.ThrowIfNull(scope);
        ArgumentNullException.ThrowIfNull(name);
        if (!EventIds.IsValid(id))
        {
            throw new ArgumentException($"An event id is 32 lowercase hexadecimal digits; got '{id}'.", nameof(id));
        }

        RoutingKeys.ThrowIfInvalidScope(scope);
        RoutingKeys.ThrowIfInvalidName(name);

        Id = id;
        Scope = scope;
        Name = name;
        OccurredAt = occurredAt;
        Record = record;
        RecordType = recordType;
    }

    /// <summary>The event's unique id: 32 lowercase hexadecimal digits.</summary>
    public string Id { get; }

    /// <summary>The scope key the event is published to (<c>organization.1234</c>); empty when unscoped.</summary>
    public string Scope { get; }

    /// <summary>The event name, unscoped: the model and the action (<c>post.created</c>).</summary>
    public string Name { get; }

    /// <summary>When it happened; written as <c>occured_at</c> (the original's spelling).</summary>
    public DateTimeOffset OccurredAt { get; }

    /// <summary>The record the event is about.</summary>
    public object? Record { get; }

    /// <summary>The record's type name (<c>Post</c>).</summary>
    public string? RecordType { get; }

    /// <summary>The scoped routing key: <c>scope + "." + name</c>, or the name alone when unscoped.</summary>
    public string RoutingKey => RoutingKeys.Combine(Scope, Name);
}
