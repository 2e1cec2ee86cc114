using Xunit;

namespace Atr.Publishing.Tests;

public sealed class RoutingKeysTests
{
    private static readonly string Segment64 = new('a', 64);

    private static readonly string Segment65 = new('a', 65);

    public static TheoryData<string> ValidScopes => new()
    {
        string.Empty,
        "organization.1234",
        "organization.1234.user.42",
        "Organization.ABC-def_9",
        $"{Segment64}.{Segment64}",
        string.Join('.', Enumerable.Repeat("t.1", RoutingKeys.MaxScopePairs)),
    };

    public static TheoryData<string> InvalidScopes => new()
    {
        ".",
        "organization",
        "organization.",
        ".1234",
        "organization..1234",
        "organization.1234.",
        "organization.12.34",
        "organization.1234.user",
        "organization.*",
        "organization.12?4",
        "organization.12%34",
        "organization.12 34",
        " organization.1234",
        "organization.1234\n",
        "organization/1234",
        $"{Segment65}.1",
        $"organization.{Segment65}",
        "organisation.é",
        "組織.1234",
        string.Join('.', Enumerable.Repeat("t.1", RoutingKeys.MaxScopePairs + 1)),
    };

    public static TheoryData<string> ValidNames => new()
    {
        "post.created",
        "post",
        "blog_post.created",
        "Post-2.CREATED",
        Segment64,
        string.Join('.', Enumerable.Repeat("a", RoutingKeys.MaxNameSegments)),
    };

    public static TheoryData<string> InvalidNames => new()
    {
        string.Empty,
        ".",
        "post.",
        ".created",
        "post..created",
        "post.*",
        "post.#",
        "post.created?",
        "post.100%",
        "post created",
        "post.créé",
        "投稿.created",
        Segment65,
        $"post.{Segment65}",
        string.Join('.', Enumerable.Repeat("a", RoutingKeys.MaxNameSegments + 1)),
    };

    [Fact]
    public void BuildsAScopeFromOnePair()
    {
        Assert.Equal("organization.1234", RoutingKeys.Scope(("organization", 1234)));
    }

    [Fact]
    public void BuildsAScopeFromTwoPairsOutermostFirst()
    {
        Assert.Equal("organization.1234.user.42", RoutingKeys.Scope(("organization", 1234), ("user", "42")));
    }

    [Fact]
    public void BuildsTheEmptyScopeFromNoPairs()
    {
        Assert.Equal(string.Empty, RoutingKeys.Scope());
    }

    [Fact]
    public void WritesIdsWithTheInvariantCulture()
    {
        Assert.Equal("organization.12345678901", RoutingKeys.Scope(("organization", 12345678901L)));
        Assert.Equal("organization.-3", RoutingKeys.Scope(("organization", -3)));
        Assert.Equal("user.0f8fad5bd9cb469fa16570867728950e", RoutingKeys.Scope(("user", Guid.Parse("0f8fad5b-d9cb-469f-a165-70867728950e").ToString("N"))));
    }

    [Theory]
    [InlineData("organization", "12.5")]
    [InlineData("organization", "")]
    [InlineData("organization", null)]
    [InlineData("organization", "12 5")]
    [InlineData("organization", "*")]
    [InlineData("", "1")]
    [InlineData("org.anization", "1")]
    [InlineData("organización", "1")]
    public void RefusesAPairThatIsNotTwoValidSegments(string type, string? id)
    {
        Assert.Throws<ArgumentException>(() => RoutingKeys.Scope((type, id)));
    }

    [Fact]
    public void RefusesADecimalIdBecauseItsDotWouldSplitTheSegment()
    {
        Assert.Throws<ArgumentException>(() => RoutingKeys.Scope(("organization", 12.5)));
    }

    [Fact]
    public void RefusesMoreThanTheMaximumNumberOfPairs()
    {
        var pairs = Enumerable.Repeat<(string, object?)>(("t", 1), RoutingKeys.MaxScopePairs + 1).ToArray();

        Assert.Throws<ArgumentException>(() => RoutingKeys.Scope(pairs));
        Assert.Equal(
            string.Join('.', Enumerable.Repeat("t.1", RoutingKeys.MaxScopePairs)),
            RoutingKeys.Scope(pairs.AsSpan(0, RoutingKeys.MaxScopePairs)));
    }

    [Theory]
    [InlineData("organization.1234", "post.created", "organization.1234.post.created")]
    [InlineData("", "post.created", "post.created")]
    public void CombinesAScopeAndANameIntoARoutingKey(string scope, string name, string expected)
    {
        Assert.Equal(expected, RoutingKeys.Combine(scope, name));
    }

    [Fact]
    public void CombineRefusesNulls()
    {
        Assert.Throws<ArgumentNullException>(() => RoutingKeys.Combine(null!, "post.created"));
        Assert.Throws<ArgumentNullException>(() => RoutingKeys.Combine(string.Empty, null!));
    }

    [Theory]
    [MemberData(nameof(ValidScopes))]
    public void AcceptsAValidScope(string scope)
    {
        Assert.True(RoutingKeys.IsValidScope(scope));
    }

    [Theory]
    [MemberData(nameof(InvalidScopes))]
    public void RejectsAnInvalidScope(string scope)
    {
        Assert.False(RoutingKeys.IsValidScope(scope));
    }

    [Theory]
    [MemberData(nameof(ValidNames))]
    public void AcceptsAValidName(string name)
    {
        Assert.True(RoutingKeys.IsValidName(name));
    }

    [Theory]
    [MemberData(nameof(InvalidNames))]
    public void RejectsAnInvalidName(string name)
    {
        Assert.False(RoutingKeys.IsValidName(name));
    }

    [Theory]
    [MemberData(nameof(InvalidScopes))]
    public void AtrEventRefusesAnInvalidScope(string scope)
    {
        var exception = Assert.Throws<ArgumentException>(
            () => new AtrEvent("9f1c2b7e4a5d46c0b1e2f3a4b5c6d7e8", scope, "post.created", DateTimeOffset.UnixEpoch, null, null));

        Assert.Equal("scope", exception.ParamName);
    }

    [Theory]
    [MemberData(nameof(InvalidNames))]
    public void AtrEventRefusesAnInvalidName(string name)
    {
        var exception = Assert.Throws<ArgumentException>(
            () => new AtrEvent("9f1c2b7e4a5d46c0b1e2f3a4b5c6d7e8", "organization.1234", name, DateTimeOffset.UnixEpoch, null, null));

        Assert.Equal("name", exception.ParamName);
    }

    [Theory]
    [InlineData("a", true)]
    [InlineData("A-z_09", true)]
    [InlineData("", false)]
    [InlineData("a.b", false)]
    [InlineData("ä", false)]
    public void ChecksOneSegment(string segment, bool expected)
    {
        Assert.Equal(expected, RoutingKeys.IsValidSegment(segment));
    }

    [Fact]
    public void AcceptsSegmentsOfUpTo64Characters()
    {
        Assert.True(RoutingKeys.IsValidSegment(Segment64));
        Assert.False(RoutingKeys.IsValidSegment(Segment65));
    }
}
