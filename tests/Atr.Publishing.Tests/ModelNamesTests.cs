using System.Reflection;
using System.Reflection.Emit;
using Xunit;

namespace Atr.Publishing.Tests;

public sealed class ModelNamesTests
{
    [Theory]
    [InlineData(typeof(Post), "post")]
    [InlineData(typeof(BlogPost), "blog_post")]
    [InlineData(typeof(HTMLPage), "html_page")]
    [InlineData(typeof(Envelope<int>), "envelope")]
    public void EventPrefixIsTheTypeNameInSnakeCase(Type modelType, string expected)
    {
        Assert.Equal(expected, ModelNames.EventPrefix(modelType));
    }

    [Theory]
    [InlineData(typeof(Post), ModelAction.Created, "post.created")]
    [InlineData(typeof(Post), ModelAction.Updated, "post.updated")]
    [InlineData(typeof(BlogPost), ModelAction.Destroyed, "blog_post.destroyed")]
    [InlineData(typeof(HTMLPage), ModelAction.Created, "html_page.created")]
    public void EventNameIsThePrefixThenTheAction(Type modelType, ModelAction action, string expected)
    {
        Assert.Equal(expected, ModelNames.EventName(modelType, action));
        Assert.True(RoutingKeys.IsValidName(expected));
    }

    [Theory]
    [InlineData(ModelAction.Created, "created")]
    [InlineData(ModelAction.Updated, "updated")]
    [InlineData(ModelAction.Destroyed, "destroyed")]
    public void ActionNameIsTheLowercaseAction(ModelAction action, string expected)
    {
        Assert.Equal(expected, ModelNames.ActionName(action));
    }

    [Fact]
    public void RefusesAnUndefinedAction()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ModelNames.ActionName((ModelAction)42));
        Assert.Throws<ArgumentOutOfRangeException>(() => ModelNames.EventName(typeof(Post), (ModelAction)42));
    }

    [Theory]
    [InlineData("OrganizationId", "organization")]
    [InlineData("organization_id", "organization")]
    [InlineData("UserID", "user")]
    [InlineData("Team", "team")]
    [InlineData("Id", "id")]
    public void ScopeTypeIsThePropertyNameInSnakeCaseWithoutItsId(string propertyName, string expected)
    {
        Assert.Equal(expected, ModelNames.ScopeType(propertyName));
    }

    [Fact]
    public void ScopeOfAModelIsItsPublicationScopeProperty()
    {
        Assert.Equal("organization.1234", ModelNames.ScopeOf(new Post { OrganizationId = 1234 }));
    }

    [Fact]
    public void ScopesOfSeveralPropertiesConcatenateInTheOrderGiven()
    {
        Assert.Equal("organization.1.user.2", ModelNames.ScopeOf(new Comment { UserId = 2, OrganizationId = 1 }));
    }

    [Fact]
    public void APropertyNamedInSnakeCaseGivesTheSameScopeType()
    {
        Assert.Equal("organization.1234", ModelNames.ScopeOf(new LegacyRow { organization_id = 1234 }));
    }

    [Fact]
    public void AStringPropertyScopesByItsValue()
    {
        Assert.Equal("team.core-devs", ModelNames.ScopeOf(new TeamNote { Team = "core-devs" }));
    }

    [Fact]
    public void AModelWithoutPublicationScopeIsUnscoped()
    {
        Assert.Equal(string.Empty, ModelNames.ScopeOf(new BlogPost()));
    }

    [Fact]
    public void ASubclassInheritsThePublicationScope()
    {
        Assert.Equal("organization.9", ModelNames.ScopeOf(new PinnedPost { OrganizationId = 9 }));
        Assert.Equal("pinned_post.created", ModelNames.EventName(typeof(PinnedPost), ModelAction.Created));
    }

    [Fact]
    public void ANullScopeValueFailsWithAClearMessage()
    {
        var exception = Assert.Throws<InvalidOperationException>(() => ModelNames.ScopeOf(new TeamNote { Team = null }));

        Assert.Equal("TeamNote.Team is null, so its event has no 'team' scope to publish to.", exception.Message);
    }

    [Fact]
    public void AScopeValueThatIsNotASegmentFails()
    {
        var exception = Assert.Throws<InvalidOperationException>(() => ModelNames.ScopeOf(new TeamNote { Team = "core.devs" }));

        Assert.StartsWith("TeamNote has no valid publication scope:", exception.Message, StringComparison.Ordinal);
        Assert.IsType<ArgumentException>(exception.InnerException);
    }

    [Fact]
    public void AnAttributeNamingAMissingPropertyFails()
    {
        var exception = Assert.Throws<InvalidOperationException>(() => ModelNames.ScopeOf(new Misnamed()));

        Assert.Contains("'TenantId'", exception.Message, StringComparison.Ordinal);
        Assert.Contains("Misnamed", exception.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidOperationException>(() => ModelNames.EventPrefix(typeof(Misnamed)));
    }

    [Fact]
    public void RefusesNullArguments()
    {
        Assert.Throws<ArgumentNullException>(() => ModelNames.ScopeOf(null!));
        Assert.Throws<ArgumentNullException>(() => ModelNames.EventPrefix(null!));
        Assert.ThrowsAny<ArgumentException>(() => ModelNames.ScopeType(string.Empty));
    }

    [Fact]
    public void ThePublishableNameOverridesThePrefix()
    {
        Assert.Equal("article", ModelNames.EventPrefix(typeof(NewsArticle)));
        Assert.Equal("article.created", ModelNames.EventName(typeof(NewsArticle), ModelAction.Created));
        Assert.Equal("article.destroyed", ModelNames.EventName(typeof(NewsArticle), ModelAction.Destroyed));
    }

    [Fact]
    public void APublishableNameMayHaveSeveralSegments()
    {
        Assert.Equal(["blog.entry.updated", "blog.entry.created", "blog.entry.destroyed"], ModelNames.EventNames(typeof(Entry)));
    }

    [Fact]
    public void AnInvalidPublishableNameFailsWhenItsEventNameIsAskedFor()
    {
        // Emitted into an assembly of its own: in this one, it would break every test that scans the test assembly.
        var badlyNamed = EmitPublishable("BadlyNamed", "bad name");

        var exception = Assert.Throws<InvalidOperationException>(() => ModelNames.EventName(badlyNamed, ModelAction.Created));

        Assert.Contains("\"bad name\"", exception.Message, StringComparison.Ordinal);
        Assert.Contains("BadlyNamed", exception.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidOperationException>(() => ModelNames.EventNames(badlyNamed));
        Assert.Throws<InvalidOperationException>(() => ModelNames.EventPrefix(badlyNamed));
    }

    [Theory]
    [InlineData("bad name")]
    [InlineData("")]
    [InlineData("article.")]
    [InlineData("article.*")]
    [InlineData("a.b.c.d.e.f.g.h")]
    public void EveryInvalidPublishableNameFails(string name)
    {
        var badlyNamed = EmitPublishable("BadlyNamed", name);

        Assert.Throws<InvalidOperationException>(() => ModelNames.EventNames(badlyNamed));
    }

    [Fact]
    public void IsPublishableDoesNotValidateTheName()
    {
        var badlyNamed = EmitPublishable("BadlyNamed", "bad name");

        Assert.True(ModelNames.IsPublishable(badlyNamed));
    }

    [Fact]
    public void IsPublishableTellsWhetherATypeIsMarked()
    {
        Assert.True(ModelNames.IsPublishable(typeof(NewsArticle)));
        Assert.True(ModelNames.IsPublishable(typeof(Entry)));
        Assert.False(ModelNames.IsPublishable(typeof(BlogPost)));
        Assert.False(ModelNames.IsPublishable(typeof(Post)));
        Assert.False(ModelNames.IsPublishable(typeof(string)));
    }

    [Fact]
    public void ASubclassOfAPublishableModelIsPublishableWithTheSameName()
    {
        Assert.True(ModelNames.IsPublishable(typeof(BreakingNewsArticle)));
        Assert.Equal("article.created", ModelNames.EventName(typeof(BreakingNewsArticle), ModelAction.Created));
    }

    [Fact]
    public void IsPublishableRefusesNull()
    {
        Assert.Throws<ArgumentNullException>(() => ModelNames.IsPublishable(null!));
    }

    [Fact]
    public void EventNamesAreUpdatedCreatedDestroyedInThatOrder()
    {
        Assert.Equal(["post.updated", "post.created", "post.destroyed"], ModelNames.EventNames(typeof(Post)));
        Assert.Equal(["article.updated", "article.created", "article.destroyed"], ModelNames.EventNames(typeof(NewsArticle)));
    }

    private static Type EmitPublishable(string typeName, string publishableName)
    {
        var assembly = AssemblyBuilder.DefineDynamicAssembly(new AssemblyName($"Atr.Publishing.Tests.Emitted.{Guid.NewGuid():N}"), AssemblyBuilderAccess.Run);
        var type = assembly.DefineDynamicModule("Models").DefineType(typeName, TypeAttributes.Public | TypeAttributes.Sealed | TypeAttributes.Class);
        type.SetCustomAttribute(new CustomAttributeBuilder(
            typeof(PublishableAttribute).GetConstructor(Type.EmptyTypes)!,
            [],
            [typeof(PublishableAttribute).GetProperty(nameof(PublishableAttribute.Name))!],
            [publishableName]));
        return type.CreateType();
    }

    [PublicationScope(nameof(OrganizationId))]
    private class Post
    {
        public int OrganizationId { get; init; }
    }

    private sealed class PinnedPost : Post;

    private sealed class BlogPost;

    private sealed class HTMLPage;

    private sealed class Envelope<T>
    {
        public T? Value { get; init; }
    }

    [PublicationScope(nameof(OrganizationId), nameof(UserId))]
    private sealed class Comment
    {
        public int UserId { get; init; }

        public int OrganizationId { get; init; }
    }

    [PublicationScope(nameof(organization_id))]
    private sealed class LegacyRow
    {
        public int organization_id { get; init; }
    }

    [PublicationScope(nameof(Team))]
    private sealed class TeamNote
    {
        public string? Team { get; init; }
    }

    [PublicationScope("TenantId")]
    private sealed class Misnamed
    {
        public int OrganizationId { get; init; }
    }

    [Publishable(Name = "article")]
    private class NewsArticle;

    private sealed class BreakingNewsArticle : NewsArticle;

    [Publishable(Name = "blog.entry")]
    private sealed class Entry;
}
