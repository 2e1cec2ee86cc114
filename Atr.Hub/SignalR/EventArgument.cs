using System.Text.Json;
using System.Text.Json.Serialization;
using MessagePack;
using MessagePack.Formatters;

namespace Atr.Hub.SignalR;

/// <summary>
/// The single argument of the <c>event</c> invocation: the event JSON as it arrived, written
/// unchanged by the JSON hub protocol and converted key for key into a MessagePack map by the
/// MessagePack one. Each protocol serializes it once per event, not once per connection.
/// </summary>
[JsonConverter(typeof(JsonConverter))]
[MessagePackFormatter(typeof(Formatter))]
internal sealed class EventArgument(ReadOnlyMemory<byte> json)
{
    /// <summary>A complete JSON object (the dispatcher checked it).</summary>
    public ReadOnlyMemory<byte> Json { get; } = json;

    /// <summary>Writes the object's bytes as they are: same keys, same order, same values as the raw frame.</summary>
    internal sealed class JsonConverter : JsonConverter<EventArgument>
    {
        public override EventArgument Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
            => throw new NotSupportedException("Atr events are sent by the hub, never received.");

        public override void Write(Utf8JsonWriter writer, EventArgument value, JsonSerializerOptions options)
            => writer.WriteRawValue(value.Json.Span, skipInputValidation: true);
    }

    /// <summary>Converts the JSON object to MessagePack: objects to maps in key order, arrays, strings, integers, doubles, booleans, nil.</summary>
    internal sealed class Formatter : IMessagePackFormatter<EventArgument>
    {
        public void Serialize(ref MessagePackWriter writer, EventArgument value, MessagePackSerializerOptions options)
        {
            using var document = JsonDocument.Parse(value.Json);
            Write(ref writer, document.RootElement);
        }

        public EventArgument Deserialize(ref MessagePackReader reader, MessagePackSerializerOptions options)
            => throw new NotSupportedException("Atr events are sent by the hub, never received.");

        private static void Write(ref MessagePackWriter writer, JsonElement element)
        {
            switch (element.ValueKind)
            {
                case JsonValueKind.Object:
                    writer.WriteMapHeader(element.GetPropertyCount());
                    foreach (var property in element.EnumerateObject())
                    {
                        writer.Write(property.Name);
                        Write(ref writer, property.Value);
                    }

                    break;
                case JsonValueKind.Array:
                    writer.WriteArrayHeader(element.GetArrayLength());
                    foreach (var item in element.EnumerateArray())
                    {
                        Write(ref writer, item);
                    }

                    break;
                case JsonValueKind.String:
                    writer.Write(Text(element));
                    break;
                case JsonValueKind.Number when element.TryGetInt64(out var integer):
                    writer.Write(integer);
                    break;
                case JsonValueKind.Number when element.TryGetUInt64(out var unsigned):
                    writer.Write(unsigned);
                    break;
                case JsonValueKind.Number:
                    writer.Write(element.GetDouble());
                    break;
                case JsonValueKind.True:
                    writer.Write(true);
                    break;
                case JsonValueKind.False:
                    writer.Write(false);
                    break;
                default:
                    writer.WriteNil();
                    break;
            }
        }

        // JSON may escape a lone surrogate (\uD800), which no .NET string decodes: one such event must
        // not fail the write, which would drop every MessagePack client of the scope. Its escaped text stands in.
        private static string Text(JsonElement element)
        {
            try
            {
                return element.GetString()!;
            }
            catch (InvalidOperationException)
            {
                var raw = element.GetRawText();
                return raw[1..^1];
            }
        }
    }
}
