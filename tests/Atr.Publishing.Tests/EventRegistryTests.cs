using Atr.Testing;
using Xunit;

namespace Atr.Publishing.Tests;

public sealed class EventRegistryTests
{
    private static readonly string Segment65 = new('a', 65);

    public static TheoryData<string> InvalidNames => new()
    {
        string.Empty,
        ".",
        "post.",
        ".created",
        "post..created",
        "bad name",
        "post.*",
        "post.created\n",
        $"post.{Segment65}",
        string.Join('.', Enumerable.Repeat("a", RoutingKeys.MaxNameSegments + 1)),
    };

    [Fact]
    public void AddReturnsTrueForANewNameAndFalseForADuplicate()
    {
        var registry = new EventRegistry();

        Assert.True(registry.Add("post.published"));
        Assert.False(registry.Add("post.published"));

        Assert.Equal(["post.published"], registry.Channels);
    }

    [Fact]
    public void ChannelsAreSortedOrdinally()
    {
        var registry = new EventRegistry();

        registry.Add("post.updated");
        registry.Add("Zebra.created");
        registry.Add("apple.created");
        registry.Add("post.created");
        registry.Add("_underscore");
        registry.Add("Apple.created");
        registry.Add("1.created");

        Assert.Equal(["1.created", "Apple.created", "Zebra.created", "_underscore", "apple.created", "post.created", "post.updated"], registry.Channels);
    }

    [Fact]
    public void AnEmptyRegistryHasNoChannels()
    {
        Assert.Empty(new EventRegistry().Channels);
    }

    [Fact]
    public void ChannelsIsASnapshotThatALaterAddDoesNotChange()
    {
        var registry = new EventRegistry();
        registry.Add("post.created");
        var before = registry.Channels;

        registry.Add("post.updated");

        Assert.Equal(["post.created"], before);
        Assert.Equal(["post.created", "post.updated"], registry.Channels);
    }

    [Theory]
    [MemberData(nameof(InvalidNames))]
    public void AddRejectsAnInvalidName(string name)
    {
        var registry = new EventRegistry();

        var exception = Assert.Throws<ArgumentException>(() => registry.Add(name));

        Assert.Equal("name", exception.ParamName);
        Assert.Empty(registry.Channels);
        Assert.Equal(0, registry.Version);
    }

    [Fact]
    public void AddRejectsANullName()
    {
        Assert.Throws<ArgumentNullException>(() => new EventRegistry().Add(null!));
    }

    [Fact]
    public void AddModelAddsTheUpdatedCreatedAndDestroyedNamesOfTheModel()
    {
        var registry = new EventRegistry();

        registry.AddModel(typeof(BlogPost));

        Assert.Equal(["blog_post.created", "blog_post.destroyed", "blog_post.updated"], registry.Channels);
    }

    [Fact]
    public void AddModelUsesTheNameOfThePublishableAttribute()
    {
        var registry = new EventRegistry();

        registry.AddModel(typeof(NewsArticle));

        Assert.Equal(["article.created", "article.destroyed", "article.updated"], registry.Channels);
    }

    [Fact]
    public void AddModelTwiceChangesNothingTheSecondTime()
    {
        var registry = new EventRegistry();
        registry.AddModel(typeof(BlogPost));
        var version = registry.Version;

        registry.AddModel(typeof(BlogPost));

        Assert.Equal(version, registry.Version);
        Assert.Equal(3, registry.Channels.Count);
    }

    [Fact]
    public void AddModelsAddsExactlyThePublishableTypesOfAnAssembly()
    {
        var assembly = typeof(EventRegistryTests).Assembly;
        var registry = new EventRegistry();

        // The test assembly has lambdas, closures and async state machines: scanning must pass over them.
        registry.AddModels(assembly);

        var expected = assembly.GetTypes()
            .Where(t => t is { IsClass: true, IsAbstract: false } && Attribute.IsDefined(t, typeof(PublishableAttribute), inherit: true))
            .SelectMany(ModelNames.EventNames)
            .Distinct()
            .Order(StringComparer.Ordinal);
        Assert.Equal(expected, registry.Channels);
        Assert.Contains("blog_post.updated", registry.Channels);
        Assert.Contains("blog_post.created", registry.Channels);
        Assert.Contains("blog_post.destroyed", registry.Channels);
        Assert.Contains("article.updated", registry.Channels);
        Assert.Contains("article.created", registry.Channels);
        Assert.Contains("article.destroyed", registry.Channels);
        Assert.DoesNotContain(registry.Channels, name => name.StartsWith("draft.", StringComparison.Ordinal));
        Assert.DoesNotContain(registry.Channels, name => name.StartsWith("news_article.", StringComparison.Ordinal));
        Assert.DoesNotContain(registry.Channels, name => name.StartsWith("abstract_model.", StringComparison.Ordinal));
    }

    [Fact]
    public void AddModelsAddsASubclassOfAPublishableModelUnderItsOwnName()
    {
        var registry = new EventRegistry();

        registry.AddModels(typeof(EventRegistryTests).Assembly);

        Assert.Contains("concrete_model.created", registry.Channels);
    }

    [Fact]
    public void AddModelsRefusesANullAssembly()
    {
        Assert.Throws<ArgumentNullException>(() => new EventRegistry().AddModels(null!));
    }

    [Fact]
    public void VersionGrowsByOneWithEveryChangeAndNotOnADuplicate()
    {
        var registry = new EventRegistry();
        Assert.Equal(0, registry.Version);

        registry.Add("post.published");
        Assert.Equal(1, registry.Version);

        registry.Add("post.published");
        Assert.Equal(1, registry.Version);

        registry.Add("post.archived");
        Assert.Equal(2, registry.Version);

        registry.AddModel(typeof(BlogPost));
        Assert.Equal(5, registry.Version);
    }

    [Fact]
    public async Task WaitForChangeCompletesAfterALaterAdd()
    {
        var registry = new EventRegistry();
        registry.Add("post.created");
        var version = registry.Version;

        var waiting = registry.WaitForChangeAsync(version, CancellationToken.None);
        Assert.False(waiting.IsCompleted);

        registry.Add("post.updated");

        await waiting.DefaultTimeout();
        Assert.Equal(version + 1, registry.Version);
    }

    [Fact]
    public async Task WaitForChangeDoesNotCompleteForADuplicate()
    {
        var registry = new EventRegistry();
        registry.Add("post.created");
        var waiting = registry.WaitForChangeAsync(registry.Version, CancellationToken.None);

        registry.Add("post.created");

        await Assert.ThrowsAsync<TimeoutException>(() => waiting.WaitAsync(TestTimeouts.Nothing));
    }

    [Fact]
    public void WaitForChangeIsAlreadyCompleteForAStaleVersion()
    {
        var registry = new EventRegistry();
        var stale = registry.Version;
        registry.Add("post.created");

        Assert.True(registry.WaitForChangeAsync(stale, CancellationToken.None).IsCompletedSuccessfully);
    }

    [Fact]
    public async Task WaitForChangeEndsWhenItsTokenIsCancelled()
    {
        var registry = new EventRegistry();
        using var cancellation = new CancellationTokenSource();
        var waiting = registry.WaitForChangeAsync(registry.Version, cancellation.Token);
        Assert.False(waiting.IsCompleted);

        await cancellation.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.DefaultTimeout());
        Assert.True(waiting.IsCanceled);
    }

    [Fact]
    public async Task WaitForChangeWithACancelledTokenIsCancelledAtOnce()
    {
        var registry = new EventRegistry();
        using var cancellation = new CancellationTokenSource();
        await cancellation.CancelAsync();

        var waiting = registry.WaitForChangeAsync(registry.Version, cancellation.Token);

        Assert.True(waiting.IsCanceled);
    }

    [Fact]
    public async Task ACancelledWaitDoesNotDisturbTheNextOne()
    {
        var registry = new EventRegistry();
        var version = registry.Version;
        using var cancellation = new CancellationTokenSource();
        var cancelled = registry.WaitForChangeAsync(version, cancellation.Token);
        var waiting = registry.WaitForChangeAsync(version, CancellationToken.None);

        await cancellation.CancelAsync();
        registry.Add("post.created");

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled.DefaultTimeout());
        await waiting.DefaultTimeout();
    }

    [Fact]
    public async Task ConcurrentAddsOfTheSameNamesCountEachNameOnce()
    {
        const int names = 200;
        var registry = new EventRegistry();
        var added = 0;

        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
        {
            for (var i = 0; i < names; i++)
            {
                if (registry.Add($"event.n{i}"))
                {
                    Interlocked.Increment(ref added);
                }
            }
        }))).DefaultTimeout();

        Assert.Equal(names, added);
        Assert.Equal(names, registry.Version);
        Assert.Equal(names, registry.Channels.Count);
    }

    [Publishable]
    private sealed class BlogPost
    {
        private readonly List<string> _tags = [];

        public int Id { get; init; }

        // A lambda with a capture and an async method: compiler-generated types nested in a publishable model.
        public IEnumerable<string> TagsStartingWith(string prefix) => _tags.Where(t => t.StartsWith(prefix, StringComparison.Ordinal));

        public async Task<int> CountAsync()
        {
            await Task.Yield();
            return _tags.Count;
        }
    }

    [Publishable(Name = "article")]
    private sealed class NewsArticle
    {
        public string? Title { get; init; }
    }

    private sealed class Draft
    {
        public string? Body { get; init; }
    }

    [Publishable]
    private abstract class AbstractModel;

    private sealed class ConcreteModel : AbstractModel;
}
