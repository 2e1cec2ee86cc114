namespace Atr.Hub.Subscriptions;

/// <summary>A local connection that receives the events of one scope.</summary>
internal interface IEventRecipient
{
    /// <summary>
    /// Queues <paramref name="frame"/> for sending, or writes it at once when nothing is queued before
    /// it. Called on the backplane's read loop: it must return at once and never wait for a socket.
    /// </summary>
    /// <returns><see langword="true"/> when queued or written.</returns>
    bool Deliver(EventFrame frame);

    /// <summary>Bytes of frames queued and not yet handed to the socket.</summary>
    long PendingBytes { get; }

    /// <summary>Holds the frames delivered from now on, until <see cref="Resume"/>: the recipient is about to recover a scope's history.</summary>
    void Hold();

    /// <summary>Sends <paramref name="first"/> (the history it missed), then what was held since <see cref="Hold"/>.</summary>
    void Resume(IReadOnlyList<EventFrame> first);
}
