namespace Atr.Publishing;

/// <summary>Creates events with a fresh id and the current time of the injected <see cref="TimeProvider"/>.</summary>
/// <param name="timeProvider">The clock; <c>occured_at</c> is its UTC now.</param>
public sealed class EventFactory(TimeProvider timeProvider)
{
    private readonly TimeProvider _timeProvider = timeProvider ?? throw new ArgumentNullException(nameof(timeProvider));

    /// <summary>Creates an event for a scope.</summary>
    /// <param name="scope">The scope key (<c>organization.1234</c>), or empty for the unscoped stream.</param>
    /// <param name="name">The event name (<c>post.created</c>).</param>
    /// <param name="record">The record, or <see langword="null"/>.</param>
    /// <param name="recordType">The record's type name, or <see langword="null"/>.</param>
    /// <returns>The event.</returns>
    /// <exception cref="ArgumentException">The scope or name is malformed.</exception>
    public AtrEvent Create(string scope, string name, object? record, string? recordType = null)
        => new(EventIds.NewId(), scope, name, _timeProvider.GetUtcNow(), record, recordType);

    /// <summary>Creates a model's event: <c>post.created</c> in the model's publication scope, with the model as the record.</summary>
    /// <param name="model">The model instance.</param>
    /// <param name="action">What happened to it.</param>
    /// <returns>The event; its <c>record_type</c> is the model's type name.</returns>
    /// <exception cref="InvalidOperationException">The model's publication scope cannot be read.</exception>
    public AtrEvent ForModel(object model, ModelAction action)
    {
        ArgumentNullException.ThrowIfNull(model);
        var type = model.GetType();
        return Create(ModelNames.ScopeOf(model), ModelNames.EventName(type, action), model, type.Name);
    }
}
