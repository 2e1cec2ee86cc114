using System.Text.Json;

namespace Atr.Publishing;

/// <summary>Checks what arrives on an event channel before a hub forwards it.</summary>
internal static class EventPayload
{
    /// <summary>Whether <paramref name="payload"/> is valid UTF-8 and one complete JSON object with a string <c>name</c> at its top level.</summary>
    public static bool IsValid(ReadOnlySpan<byte> payload)
    {
        // A text frame must be UTF-8: a browser drops a connection (1007) that sends it anything else.
        if (payload.IsEmpty || !System.Text.Unicode.Utf8.IsValid(payload))
        {
            return false;
        }

        var reader = new Utf8JsonReader(payload, new JsonReaderOptions { MaxDepth = 64 });
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }

            var hasName = false;
            while (reader.Read())
            {
                if (reader.TokenType == JsonTokenType.EndObject && reader.CurrentDepth == 0)
                {
                    // Anything after the object (a second value) makes the reader throw below.
                    return !reader.Read() && hasName;
                }

                if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == 1 && reader.ValueTextEquals("name"u8))
                {
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.String)
                    {
                        return false;
                    }

                    hasName = true;
                }
            }

            return false;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
