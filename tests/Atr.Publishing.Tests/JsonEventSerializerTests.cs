using System.Buffers;
using System.Text;
using System.Text.Json;
using Xunit;

namespace Atr.Publishing.Tests;

public sealed class JsonEventSerializerTests
{
    private const string Id = "9f1c2b7e4a5d46c0b1e2f3a4b5c6d7e8";

    private static readonly DateTimeOffset OccurredAt = new(2026, 11, 27, 16, 52, 25, 123, TimeSpan.Zero);

    [Fact]
    public void SerializesTheDocumentedObjectWithKeysInDocumentedOrder()
    {
        var atrEvent = new AtrEvent(Id, "organization.1234", "post.created", OccurredAt, new Post { Id = 7, Title = "Hello" }, "Post");

        Assert.Equal(
            """{"id":"9f1c2b7e4a5d46c0b1e2f3a4b5c6d7e8","name":"post.created","occured_at":"2026-11-27T16:52:25.123+00:00","record":{"id":7,"title":"Hello"},"record_type":"Post","routing_key":"organization.1234.post.created"}""",
            Serialize(atrEvent));
    }

    [Fact]
    public void WritesUtf8WithoutAByteOrderMark()
    {
        var atrEvent = new AtrEvent(Id, string.Empty, "post.created", OccurredAt, null, null);

        var bytes = JsonEventSerializer.ToBytes(new JsonEventSerializer(), atrEvent);

        Assert.Equal((byte)'{', bytes[0]);
        Assert.Equal((byte)'}', bytes[^1]);
    }

    [Theory]
    [InlineData(0, 0, 123, 0, "2026-11-27T16:52:25.123+00:00")]
    [InlineData(2, 0, 123, 0, "2026-11-27T16:52:25.123+02:00")]
    [InlineData(-5, -30, 123, 0, "2026-11-27T16:52:25.123-05:30")]
    [InlineData(0, 0, 0, 0, "2026-11-27T16:52:25.000+00:00")]
    [InlineData(0, 0, 123, 9999, "2026-11-27T16:52:25.123+00:00")]
    public void WritesOccurredAtWithMillisecondsAndOffsetNeverZ(int offsetHours, int offsetMinutes, int milliseconds, int extraTicks, string expected)
    {
        var offset = new TimeSpan(offsetHours, offsetMinutes, 0);
        var occurredAt = new DateTimeOffset(2026, 11, 27, 16, 52, 25, milliseconds, offset).AddTicks(extraTicks);
        var atrEvent = new AtrEvent(Id, "organization.1234", "post.created", occurredAt, null, null);

        var json = Serialize(atrEvent);

        Assert.Contains($"\"occured_at\":\"{expected}\"", json, StringComparison.Ordinal);
        Assert.DoesNotContain("Z\"", json, StringComparison.Ordinal);
        Assert.DoesNotContain("\\u002B", json, StringComparison.Ordinal);
    }

    [Fact]
    public void WritesAbsentRecordAndRecordTypeAsNull()
    {
        var atrEvent = new AtrEvent(Id, "organization.1234", "post.destroyed", OccurredAt, null, null);

        Assert.Equal(
            """{"id":"9f1c2b7e4a5d46c0b1e2f3a4b5c6d7e8","name":"post.destroyed","occured_at":"2026-11-27T16:52:25.123+00:00","record":null,"record_type":null,"routing_key":"organization.1234.post.destroyed"}""",
            Serialize(atrEvent));
    }

    [Fact]
    public void WritesTheNameAloneAsTheRoutingKeyOfAnUnscopedEvent()
    {
        var atrEvent = new AtrEvent(Id, string.Empty, "post.created", OccurredAt, new Post { Id = 7, Title = "Hello" }, "Post");

        Assert.Equal(
            """{"id":"9f1c2b7e4a5d46c0b1e2f3a4b5c6d7e8","name":"post.created","occured_at":"2026-11-27T16:52:25.123+00:00","record":{"id":7,"title":"Hello"},"record_type":"Post","routing_key":"post.created"}""",
            Serialize(atrEvent));
    }

    [Fact]
    public void WritesRecordPropertyNamesInSnakeCaseByDefault()
    {
        var record = new Membership { OrganizationId = 1234, DisplayName = "Ada", IsHTMLEnabled = true };
        var atrEvent = new AtrEvent(Id, "organization.1234", "membership.updated", OccurredAt, record, "Membership");

        Assert.Contains(
            """record":{"organization_id":1234,"display_name":"Ada","is_html_enabled":true}""",
            Serialize(atrEvent),
            StringComparison.Ordinal);
    }

    [Fact]
    public void KeepsDictionaryKeysOfARecordAsTheyAre()
    {
        var record = new Dictionary<string, int> { ["OrganizationId"] = 1 };
        var atrEvent = new AtrEvent(Id, string.Empty, "stats.updated", OccurredAt, record, null);

        Assert.Contains("""record":{"OrganizationId":1}""", Serialize(atrEvent), StringComparison.Ordinal);
    }

    [Fact]
    public void HonoursCustomRecordOptions()
    {
        var camelCase = new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.CamelCase };
        var record = new Membership { OrganizationId = 1234, DisplayName = "Ada" };
        var atrEvent = new AtrEvent(Id, string.Empty, "membership.updated", OccurredAt, record, "Membership");

        var json = Serialize(atrEvent, new JsonEventSerializer(camelCase));

        Assert.Contains("""record":{"organizationId":1234,"displayName":"Ada","isHTMLEnabled":false}""", json, StringComparison.Ordinal);
        Assert.Contains("""occured_at":"2026-11-27T16:52:25.123+00:00",""", json, StringComparison.Ordinal);
    }

    [Fact]
    public void KeepsTextAsUtf8AndEscapesOnlyWhatJsonRequiresAndEmoji()
    {
        const string text = "é 日本 😀 <script>&'\"+`\\ \u2028\u0001";
        var atrEvent = new AtrEvent(Id, string.Empty, "note.created", OccurredAt, new Note { Text = text }, "Café<Note>");

        var bytes = JsonEventSerializer.ToBytes(new JsonEventSerializer(), atrEvent);
        var json = Encoding.UTF8.GetString(bytes);

        // The encoder is JavaScriptEncoder.UnsafeRelaxedJsonEscaping: HTML-sensitive characters stay
        // as they are, '"' and '\' get their short escapes, emoji a surrogate pair.
        Assert.Contains(
            """record":{"text":"é 日本 \uD83D\uDE00 <script>&'\"+`\\ \u2028\u0001"},"record_type":"Café<Note>",""",
            json,
            StringComparison.Ordinal);

        // The raw bytes carry é and 日本 as UTF-8, not as \u escapes.
        Assert.True(bytes.AsSpan().IndexOf("é 日本"u8) >= 0);

        using var document = JsonDocument.Parse(bytes);
        Assert.Equal(text, document.RootElement.GetProperty("record").GetProperty("text").GetString());
        Assert.Equal("Café<Note>", document.RootElement.GetProperty("record_type").GetString());
    }

    [Fact]
    public void WritesAJsonElementRecordUnchanged()
    {
        const string record = """{"Id":7,"Title":"Hello","price":2.50,"tags":["a","b"],"nested":{"OrganizationId":null}}""";
        using var document = JsonDocument.Parse(record);
        var atrEvent = new AtrEvent(Id, "organization.1234", "post.created", OccurredAt, document.RootElement, "Post");

        Assert.Equal(
            $$"""{"id":"9f1c2b7e4a5d46c0b1e2f3a4b5c6d7e8","name":"post.created","occured_at":"2026-11-27T16:52:25.123+00:00","record":{{record}},"record_type":"Post","routing_key":"organization.1234.post.created"}""",
            Serialize(atrEvent));
    }

    [Fact]
    public void ACustomSerializerCanReshapeTheEvent()
    {
        var atrEvent = new AtrEvent(Id, "organization.1234", "post.created", OccurredAt, new Post { Id = 7, Title = "Hello" }, "Post");

        Assert.Equal(
            """{"name":"post.created","scope":"organization.1234","data":{"id":7,"title":"Hello"},"v":2}""",
            Serialize(atrEvent, new EnvelopeSerializer()));
    }

    [Fact]
    public void RefusesNullArguments()
    {
        var serializer = new JsonEventSerializer();
        var atrEvent = new AtrEvent(Id, string.Empty, "post.created", OccurredAt, null, null);

        Assert.Throws<ArgumentNullException>(() => serializer.Serialize(null!, new ArrayBufferWriter<byte>()));
        Assert.Throws<ArgumentNullException>(() => serializer.Serialize(atrEvent, null!));
        Assert.Throws<ArgumentNullException>(() => JsonEventSerializer.ToBytes(null!, atrEvent));
    }

    private static string Serialize(AtrEvent atrEvent, IEventSerializer? serializer = null)
        => Encoding.UTF8.GetString(JsonEventSerializer.ToBytes(serializer ?? new JsonEventSerializer(), atrEvent));

    private sealed class Post
    {
        public int Id { get; init; }

        public string? Title { get; init; }
    }

    private sealed class Membership
    {
        public int OrganizationId { get; init; }

        public string? DisplayName { get; init; }

        public bool IsHTMLEnabled { get; init; }
    }

    private sealed class Note
    {
        public string? Text { get; init; }
    }

    /// <summary>The extension point: a serializer that renames, drops and adds keys.</summary>
    private sealed class EnvelopeSerializer : IEventSerializer
    {
        public void Serialize(AtrEvent atrEvent, IBufferWriter<byte> output)
        {
            using var writer = new Utf8JsonWriter(output);
            writer.WriteStartObject();
            writer.WriteString("name", atrEvent.Name);
            writer.WriteString("scope", atrEvent.Scope);
            writer.WritePropertyName("data");
            JsonSerializer.Serialize(writer, atrEvent.Record, JsonEventSerializer.DefaultRecordOptions);
            writer.WriteNumber("v", 2);
            writer.WriteEndObject();
        }
    }
}
