namespace Atr.Hub.Subscriptions;

/// <summary>One event as it leaves the node: its bytes, made once and shared by every recipient.</summary>
internal sealed class EventFrame(string scope, ReadOnlyMemory<byte> payload)
{
    /// <summary>The scope key the event was published to.</summary>
    public string Scope { get; } = scope;

    /// <summary>The event JSON exactly as it arrived from the backplane: the raw WebSocket text frame.</summary>
    public ReadOnlyMemory<byte> Payload { get; } = payload;
}
