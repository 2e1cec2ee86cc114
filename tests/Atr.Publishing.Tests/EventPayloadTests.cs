using System.Text;
using Xunit;

namespace Atr.Publishing.Tests;

public sealed class EventPayloadTests
{
    public static TheoryData<string> Invalid => new()
    {
        string.Empty,
        " ",
        "null",
        "[]",
        """[{"name":"post.created"}]""",
        "\"post.created\"",
        "{}",
        """{"name":1}""",
        """{"name":null}""",
        """{"name":{"en":"post.created"}}""",
        """{"record":{"name":"post.created"}}""",
        """{"name":"post.created"} {"name":"post.created"}""",
        """{"name":"post.created"}x""",
        "{\"name\":\"post.created\\\"",
        """{"name":"post.created",}""",
        "not json",
        """{"name":"post.created","record":""" + new string('[', 70) + new string(']', 70) + "}",
    };

    [Fact]
    public void AcceptsWhatTheDefaultSerializerWrites()
    {
        var atrEvent = new AtrEvent("9f1c2b7e4a5d46c0b1e2f3a4b5c6d7e8", "organization.1234", "post.created", DateTimeOffset.UnixEpoch, new { id = 7 }, "Post");

        Assert.True(EventPayload.IsValid(JsonEventSerializer.ToBytes(new JsonEventSerializer(), atrEvent)));
    }

    [Theory]
    [InlineData("""{"name":"post.created"}""")]
    [InlineData(""" {"id":"x","name":"post.created","record":{"name":7}} """)]
    [InlineData("""{"record":{"name":7},"name":"post.created"}""")]
    [InlineData("""{"n\u0061me":"post.created"}""")]
    public void AcceptsAnObjectWithAStringName(string payload)
    {
        Assert.True(EventPayload.IsValid(Encoding.UTF8.GetBytes(payload)));
    }

    [Theory]
    [MemberData(nameof(Invalid))]
    public void RejectsAnythingElse(string payload)
    {
        Assert.False(EventPayload.IsValid(Encoding.UTF8.GetBytes(payload)));
    }

    [Fact]
    public void RejectsInvalidUtf8()
    {
        Assert.False(EventPayload.IsValid([(byte)'{', (byte)'"', (byte)'n', 0xFF, (byte)'"', (byte)':', (byte)'1', (byte)'}']));
    }
}
