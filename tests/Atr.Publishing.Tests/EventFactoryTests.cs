using System.Text.RegularExpressions;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Atr.Publishing.Tests;

public sealed partial class EventFactoryTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 27, 16, 52, 25, 123, TimeSpan.Zero);

    private readonly FakeTimeProvider _time = new(Start);

    [Fact]
    public void GivesEachEventAnIdOf32LowercaseHexDigits()
    {
        var atrEvent = new EventFactory(_time).Create("organization.1234", "post.created", null);

        Assert.Matches(LowercaseHexId(), atrEvent.Id);
    }

    [Fact]
    public void GivesTenThousandEventsTenThousandDistinctIds()
    {
        var factory = new EventFactory(_time);

        var ids = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < 10_000; i++)
        {
            var id = factory.Create(string.Empty, "post.created", null).Id;
            Assert.Matches(LowercaseHexId(), id);
            ids.Add(id);
        }

        Assert.Equal(10_000, ids.Count);
    }

    [Fact]
    public void TakesOccurredAtFromTheUtcNowOfTheInjectedTimeProvider()
    {
        _time.SetLocalTimeZone(TimeZoneInfo.CreateCustomTimeZone("Atr/Test+02", TimeSpan.FromHours(2), "Test+02", "Test+02"));
        var factory = new EventFactory(_time);

        var first = factory.Create("organization.1234", "post.created", null);
        _time.Advance(TimeSpan.FromMilliseconds(1500));
        var second = factory.Create("organization.1234", "post.updated", null);

        Assert.Equal(Start, first.OccurredAt);
        Assert.Equal(TimeSpan.Zero, first.OccurredAt.Offset);
        Assert.Equal(Start.AddMilliseconds(1500), second.OccurredAt);
        Assert.Equal(TimeSpan.Zero, second.OccurredAt.Offset);
    }

    [Fact]
    public void CreatesAnEventWithTheGivenScopeNameRecordAndRecordType()
    {
        var record = new { id = 7 };

        var atrEvent = new EventFactory(_time).Create("organization.1234", "post.created", record, "Post");

        Assert.Equal("organization.1234", atrEvent.Scope);
        Assert.Equal("post.created", atrEvent.Name);
        Assert.Same(record, atrEvent.Record);
        Assert.Equal("Post", atrEvent.RecordType);
        Assert.Equal("organization.1234.post.created", atrEvent.RoutingKey);
    }

    [Theory]
    [InlineData(ModelAction.Created, "blog_post.created")]
    [InlineData(ModelAction.Updated, "blog_post.updated")]
    [InlineData(ModelAction.Destroyed, "blog_post.destroyed")]
    public void CreatesAModelEventNamedAfterTheModelInItsPublicationScope(ModelAction action, string expectedName)
    {
        var model = new BlogPost { Id = 7, OrganizationId = 1234 };

        var atrEvent = new EventFactory(_time).ForModel(model, action);

        Assert.Equal(expectedName, atrEvent.Name);
        Assert.Equal("BlogPost", atrEvent.RecordType);
        Assert.Equal("organization.1234", atrEvent.Scope);
        Assert.Equal($"organization.1234.{expectedName}", atrEvent.RoutingKey);
        Assert.Same(model, atrEvent.Record);
        Assert.Equal(Start, atrEvent.OccurredAt);
    }

    [Fact]
    public void CreatesAnUnscopedModelEventForAModelWithoutPublicationScope()
    {
        var atrEvent = new EventFactory(_time).ForModel(new Announcement(), ModelAction.Created);

        Assert.Equal(string.Empty, atrEvent.Scope);
        Assert.Equal("announcement.created", atrEvent.RoutingKey);
    }

    [Theory]
    [InlineData("organization", "post.created")]
    [InlineData("organization.1234", "post..created")]
    [InlineData("organization.*", "post.created")]
    public void RefusesAMalformedScopeOrName(string scope, string name)
    {
        Assert.Throws<ArgumentException>(() => new EventFactory(_time).Create(scope, name, null));
    }

    [Fact]
    public void RefusesANullTimeProviderOrModel()
    {
        Assert.Throws<ArgumentNullException>(() => new EventFactory(null!));
        Assert.Throws<ArgumentNullException>(() => new EventFactory(_time).ForModel(null!, ModelAction.Created));
    }

    [GeneratedRegex("^[0-9a-f]{32}$")]
    private static partial Regex LowercaseHexId();

    [PublicationScope(nameof(OrganizationId))]
    private sealed class BlogPost
    {
        public int Id { get; init; }

        public int OrganizationId { get; init; }
    }

    private sealed class Announcement
    {
        public string? Text { get; init; }
    }
}
