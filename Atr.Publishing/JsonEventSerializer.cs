using System.Buffers;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Atr.Publishing;

/// <summary>
/// The default event serializer: the documented JSON object.
/// </summary>
/// <remarks>
/// <code>
/// {"id":"9f1c…","name":"post.created","occured_at":"2026-11-27T16:52:25.123+00:00",
///  "record":{"id":7,"title":"Hello"},"record_type":"Post","routing_key":"organization.1234.post.created"}
/// </code>
/// Keys always appear in that order; <c>record</c> and <c>record_type</c> are <c>null</c> when
/// absent. <c>occured_at</c> is ISO 8601 with milliseconds and an offset. Text is written as UTF-8
/// with only what JSON itself requires escaped (<c>"</c>, <c>\</c>, control characters): a frame is
/// meant for <c>JSON.parse</c>, and escaping <c>+</c> would turn the documented <c>+00:00</c> into
/// <c>\u002B00:00</c>. Escape a frame yourself before pasting it into HTML.
/// </remarks>
public sealed class JsonEventSerializer : IEventSerializer
{
    /// <summary>The text encoder of every event: UTF-8 text kept, only what JSON requires escaped.</summary>
    internal static readonly JavaScriptEncoder Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping;

    /// <summary>The form of <c>occured_at</c>: ISO 8601 with milliseconds and a ±HH:MM offset, never 'Z', as the original wrote it.</summary>
    internal const string TimestampFormat = "yyyy-MM-dd'T'HH:mm:ss.fffzzz";

    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = Encoder, SkipValidation = false };

    private readonly JsonSerializerOptions _recordOptions;

    /// <summary>Creates the serializer.</summary>
    /// <param name="recordOptions">How records are written; the default is <see cref="DefaultRecordOptions"/>.</param>
    public JsonEventSerializer(JsonSerializerOptions? recordOptions = null)
    {
        _recordOptions = recordOptions ?? DefaultRecordOptions;
    }

    /// <summary>
    /// The default record options: property names in snake case like the envelope
    /// (<c>OrganizationId</c> is written <c>organization_id</c>), the <see cref="Encoder"/> above.
    /// </summary>
    public static JsonSerializerOptions DefaultRecordOptions { get; } = CreateDefaultRecordOptions();

    /// <inheritdoc />
    public void Serialize(AtrEvent atrEvent, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(atrEvent);
        ArgumentNullException.ThrowIfNull(output);

        using var writer = new Utf8JsonWriter(output, WriterOptions);
        writer.WriteStartObject();
        writer.WriteString("id"u8, atrEvent.Id);
        writer.WriteString("name"u8, atrEvent.Name);
        WriteTimestamp(writer, atrEvent.OccurredAt);
        writer.WritePropertyName("record"u8);
        if (atrEvent.Record is null)
        {
            writer.WriteNullValue();
        }
        else
        {
            JsonSerializer.Serialize(writer, atrEvent.Record, atrEvent.Record.GetType(), _recordOptions);
        }

        writer.WriteString("record_type"u8, atrEvent.RecordType);
        writer.WriteString("routing_key"u8, atrEvent.RoutingKey);
        writer.WriteEndObject();
    }

    /// <summary>Serializes an event to a new array (for tests and one-off use; the publisher avoids the copy).</summary>
    /// <param name="serializer">The serializer.</param>
    /// <param name="atrEvent">The event.</param>
    /// <returns>The UTF-8 JSON bytes.</returns>
    public static byte[] ToBytes(IEventSerializer serializer, AtrEvent atrEvent)
    {
        ArgumentNullException.ThrowIfNull(serializer);
        var buffer = new ArrayBufferWriter<byte>(256);
        serializer.Serialize(atrEvent, buffer);
        return buffer.WrittenSpan.ToArray();
    }

    private static void WriteTimestamp(Utf8JsonWriter writer, DateTimeOffset value)
    {
        Span<char> text = stackalloc char[29];
        value.TryFormat(text, out var written, TimestampFormat, CultureInfo.InvariantCulture);
        writer.WriteString("occured_at"u8, text[..written]);
    }

    private static JsonSerializerOptions CreateDefaultRecordOptions()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.General)
        {
            PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
            DictionaryKeyPolicy = null,
            Encoder = Encoder,
        };
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}
