using Xunit;

namespace Atr.Publishing.Tests;

public sealed class AtrEventTests
{
    private const string Id = "9f1c2b7e4a5d46c0b1e2f3a4b5c6d7e8";

    private static readonly DateTimeOffset OccurredAt = new(2026, 11, 27, 16, 52, 25, 123, TimeSpan.Zero);

    [Fact]
    public void KeepsWhatItIsGiven()
    {
        var record = new object();

        var atrEvent = new AtrEvent(Id, "organization.1234", "post.created", OccurredAt, record, "Post");

        Assert.Equal(Id, atrEvent.Id);
        Assert.Equal("organization.1234", atrEvent.Scope);
        Assert.Equal("post.created", atrEvent.Name);
        Assert.Equal(OccurredAt, atrEvent.OccurredAt);
        Assert.Same(record, atrEvent.Record);
        Assert.Equal("Post", atrEvent.RecordType);
    }

    [Theory]
    [InlineData("organization.1234", "post.created", "organization.1234.post.created")]
    [InlineData("organization.1234.user.42", "post.created", "organization.1234.user.42.post.created")]
    [InlineData("", "post.created", "post.created")]
    [InlineData("", "ping", "ping")]
    public void RoutingKeyIsTheScopeThenTheName(string scope, string name, string expected)
    {
        Assert.Equal(expected, new AtrEvent(Id, scope, name, OccurredAt, null, null).RoutingKey);
    }

    [Theory]
    [InlineData("")]
    [InlineData("9f1c2b7e4a5d46c0b1e2f3a4b5c6d7e")]
    [InlineData("9f1c2b7e4a5d46c0b1e2f3a4b5c6d7e8a")]
    [InlineData("9F1C2B7E4A5D46C0B1E2F3A4B5C6D7E8")]
    [InlineData("9f1c2b7e4a5d46c0b1e2f3a4b5c6d7eg")]
    [InlineData("9f1c2b7e-4a5d-46c0-b1e2-f3a4b5c6")]
    [InlineData(" 9f1c2b7e4a5d46c0b1e2f3a4b5c6d7e")]
    public void RefusesAnIdThatIsNot32LowercaseHexDigits(string id)
    {
        var exception = Assert.Throws<ArgumentException>(() => new AtrEvent(id, "organization.1234", "post.created", OccurredAt, null, null));

        Assert.Equal("id", exception.ParamName);
    }

    [Theory]
    [InlineData("organization")]
    [InlineData("organization.")]
    [InlineData("organization..1234")]
    [InlineData("organization.12.34")]
    [InlineData("organization.*")]
    [InlineData("organization.12%34")]
    public void RefusesAMalformedScope(string scope)
    {
        var exception = Assert.Throws<ArgumentException>(() => new AtrEvent(Id, scope, "post.created", OccurredAt, null, null));

        Assert.Equal("scope", exception.ParamName);
    }

    [Theory]
    [InlineData("")]
    [InlineData(".")]
    [InlineData("post.")]
    [InlineData("post created")]
    [InlineData("post.?")]
    public void RefusesAMalformedName(string name)
    {
        var exception = Assert.Throws<ArgumentException>(() => new AtrEvent(Id, "organization.1234", name, OccurredAt, null, null));

        Assert.Equal("name", exception.ParamName);
    }

    [Fact]
    public void RefusesNullIdScopeOrName()
    {
        Assert.Throws<ArgumentNullException>(() => new AtrEvent(null!, string.Empty, "post.created", OccurredAt, null, null));
        Assert.Throws<ArgumentNullException>(() => new AtrEvent(Id, null!, "post.created", OccurredAt, null, null));
        Assert.Throws<ArgumentNullException>(() => new AtrEvent(Id, string.Empty, null!, OccurredAt, null, null));
    }
}
