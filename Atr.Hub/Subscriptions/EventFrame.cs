namespace Atr.Hub.Subscriptions;

/// <summary>One event as it leaves the node: its bytes, made once and shared by every recipient.</summary>
internal sealed class EventFrame(ReadOnlyMemory<byte> payload)
{
    private object? _encoding;

    /// <summary>The event JSON exactly as it arrived from the backplane: the raw WebSocket text frame.</summary>
    public ReadOnlyMemory<byte> Payload { get; } = payload;

    /// <summary>
    /// The frame in another protocol's form (SignalR's serialized invocation), made by the first
    /// recipient that needs it — on its send loop, never on the dispatcher — and shared by every other,
    /// so the event is encoded once whatever the number of connections. A frame holds one such form.
    /// </summary>
    /// <param name="encode">Makes the form from <see cref="Payload"/>; a static lambda, so that asking allocates nothing.</param>
    public T Encoded<T>(Func<ReadOnlyMemory<byte>, T> encode)
        where T : class
    {
        if (Volatile.Read(ref _encoding) is T encoded)
        {
            return encoded;
        }

        // Two recipients racing here may both encode; one result wins and both use it.
        var made = encode(Payload);
        return Interlocked.CompareExchange(ref _encoding, made, null) as T ?? made;
    }
}
