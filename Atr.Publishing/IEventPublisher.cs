namespace Atr.Publishing;

/// <summary>Publishes events to every hub node and, through them, to every client of the event's scope.</summary>
/// <remarks>
/// Publishing is fire-and-forget at the transport level, as Redis pub/sub is: a completed task
/// means the event was handed to the backplane, not that a client received it. Events published
/// one after another from one publisher reach each client in that order.
/// </remarks>
public interface IEventPublisher
{
    /// <summary>Publishes an event to its scope.</summary>
    /// <param name="atrEvent">The event.</param>
    /// <param name="cancellationToken">Cancels the wait, not necessarily the publication.</param>
    /// <returns>A task that completes when the backplane has the event.</returns>
    Task PublishAsync(AtrEvent atrEvent, CancellationToken cancellationToken = default);

    /// <summary>Creates an event with a fresh id and the current time, and publishes it.</summary>
    /// <param name="scope">The scope key (<c>organization.1234</c>), or empty for the unscoped stream.</param>
    /// <param name="name">The event name (<c>post.created</c>).</param>
    /// <param name="record">The record, or <see langword="null"/>.</param>
    /// <param name="recordType">The record's type name, or <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The published event.</returns>
    /// <exception cref="ArgumentException">The scope or name is malformed.</exception>
    Task<AtrEvent> PublishAsync(string scope, string name, object? record, string? recordType = null, CancellationToken cancellationToken = default);

    /// <summary>Publishes a model's <c>created</c>, <c>updated</c> or <c>destroyed</c> event in its publication scope.</summary>
    /// <param name="model">The model; see <see cref="ModelNames"/> and <see cref="PublicationScopeAttribute"/>.</param>
    /// <param name="action">What happened to it.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The published event.</returns>
    /// <exception cref="InvalidOperationException">The model's publication scope cannot be read.</exception>
    Task<AtrEvent> PublishModelAsync(object model, ModelAction action, CancellationToken cancellationToken = default);
}
