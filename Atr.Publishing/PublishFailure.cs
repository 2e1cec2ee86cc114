namespace Atr.Publishing;

/// <summary>Events that could not be handed to the backplane, and why; given to <see cref="AtrPublishingOptions.OnPublishFailed"/>.</summary>
/// <param name="events">The events that were lost.</param>
/// <param name="exception">Why.</param>
public sealed class PublishFailure(IReadOnlyList<AtrEvent> events, Exception exception)
{
    /// <summary>The events that were not published. Pub/sub keeps nothing: they will not be sent later.</summary>
    public IReadOnlyList<AtrEvent> Events { get; } = events;

    /// <summary>Why they were not published: Redis unreachable, a timeout, a scope that could not be read.</summary>
    public Exception Exception { get; } = exception;
}
