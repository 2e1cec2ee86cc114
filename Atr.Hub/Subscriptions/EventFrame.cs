using System.Text.Json;

namespace Atr.Hub.Subscriptions;

/// <summary>One event as it leaves the node: its bytes, made once and shared by every recipient.</summary>
internal sealed class EventFrame
{
    private object? _encoding;
    private string? _id;
    private bool _idRead;

    public EventFrame(ReadOnlyMemory<byte> payload)
    {
        Payload = payload;
    }

    /// <summary>A frame whose id is known already: a history entry, a control event (none).</summary>
    public EventFrame(ReadOnlyMemory<byte> payload, string? id)
    {
        Payload = payload;
        _id = id;
        _idRead = true;
    }

    /// <summary>The event JSON exactly as it arrived from the backplane: the raw WebSocket text frame.</summary>
    public ReadOnlyMemory<byte> Payload { get; }

    /// <summary>
    /// The event's <c>id</c> (32 lowercase hex digits), read from its JSON on first use — only when
    /// history needs it, never on the fan-out path; null for an event without one (another language's
    /// plain <c>PUBLISH</c>, a control event).
    /// </summary>
    public string? Id
    {
        get
        {
            if (!Volatile.Read(ref _idRead))
            {
                _id = ReadId(Payload.Span);
                Volatile.Write(ref _idRead, true);
            }

            return _id;
        }
    }

    /// <summary>
    /// The frame in another protocol's form (SignalR's serialized invocation), made by the first
    /// recipient that needs it and shared by every other, so the event is encoded once whatever the
    /// number of connections. A frame holds one such form.
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

    /// <summary>The top-level <c>id</c> string of an event object (checked by the dispatcher), if it has one.</summary>
    private static string? ReadId(ReadOnlySpan<byte> payload)
    {
        var reader = new Utf8JsonReader(payload);
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }

            while (reader.Read() && reader.CurrentDepth >= 1)
            {
                if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == 1)
                {
                    var isId = reader.ValueTextEquals("id"u8);
                    reader.Read();
                    if (isId)
                    {
                        return reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                    }

                    reader.Skip();
                }
            }
        }
        catch (JsonException)
        {
        }

        return null;
    }
}
