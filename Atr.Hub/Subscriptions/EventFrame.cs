using Atr.Hub.SignalR;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;

namespace Atr.Hub.Subscriptions;

/// <summary>One event as it leaves the node: its bytes, made once and shared by every recipient.</summary>
internal sealed class EventFrame(ReadOnlyMemory<byte> payload)
{
    private SerializedHubMessage? _hubMessage;

    /// <summary>The event JSON exactly as it arrived from the backplane: the raw WebSocket text frame.</summary>
    public ReadOnlyMemory<byte> Payload { get; } = payload;

    /// <summary>
    /// The SignalR invocation <c>event(payload)</c>, made on first use by a SignalR connection's send
    /// loop (never on the dispatcher); it caches its bytes per hub protocol, so each protocol
    /// serializes the event once whatever the number of connections.
    /// </summary>
    public SerializedHubMessage HubMessage => Volatile.Read(ref _hubMessage) ?? CreateHubMessage();

    // Apart from the getter so that the per-recipient path allocates no closure; two connections
    // racing here may both serialize, and one result wins.
    private SerializedHubMessage CreateHubMessage()
    {
        var message = new SerializedHubMessage(new InvocationMessage(AtrHub.EventMethod, [new EventArgument(Payload)]));
        return Interlocked.CompareExchange(ref _hubMessage, message, null) ?? message;
    }
}
