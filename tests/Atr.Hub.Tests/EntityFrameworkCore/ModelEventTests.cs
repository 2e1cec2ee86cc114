using System.Text.Json;
using System.Text.RegularExpressions;
using Atr.Hub.Tests.Infrastructure;
using Atr.Publishing;
using Atr.Testing;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Atr.Hub.Tests.EntityFrameworkCore;

/// <summary>Saving publishable entities publishes their events after commit, through real SQLite, Redis, hub and clients.</summary>
[Collection(UsesRedis.Name)]
public sealed class ModelEventTests(RedisServer redis) : IAsyncLifetime
{
    private readonly string _database = Path.Combine(Path.GetTempPath(), $"atr-{Guid.NewGuid():N}.db");
    private readonly List<PublishFailure> _failures = [];
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.Parse("2026-11-27T16:52:25.123+00:00", System.Globalization.CultureInfo.InvariantCulture));
    private HubHost _hub = null!;
    private ServiceProvider _app = null!;

    public async Task InitializeAsync()
    {
        _hub = await HubHost.StartAsync(redis.Configuration);
        _app = PublisherApp(redis.Configuration);
        await using var context = NewContext();
        await context.Database.EnsureCreatedAsync();
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        await _hub.DisposeAsync();
        SqliteConnection.ClearAllPools();
        File.Delete(_database);
    }

    [Fact]
    public async Task CreateUpdateDeletePublishTheExactEnvelopesInOrderToTheScopeOnly()
    {
        await using var client = await _hub.ConnectAsync("/organization/1234");
        await using var other = await _hub.ConnectAsync("/organization/5");
        await using var context = NewContext();

        var post = new Post { OrganizationId = 1234, Title = "Hello", Slug = "hello" };
        context.Posts.Add(post);
        await context.SaveChangesAsync();
        post.Title = "Hello again";
        await context.SaveChangesAsync();
        context.Posts.Remove(post);
        await context.SaveChangesAsync();

        var created = await client.ReceiveAsync();
        var updated = await client.ReceiveAsync();
        var destroyed = await client.ReceiveAsync();
        Assert.Matches(Envelope("post.created", $$"""{"id":{{post.Id}},"body":null,"note_id":null,"organization_id":1234,"slug":"hello","title":"Hello"}""", "organization.1234.post.created"), created);
        Assert.Matches(Envelope("post.updated", $$"""{"id":{{post.Id}},"body":null,"note_id":null,"organization_id":1234,"slug":"hello","title":"Hello again"}""", "organization.1234.post.updated"), updated);
        Assert.Matches(Envelope("post.destroyed", $$"""{"id":{{post.Id}},"body":null,"note_id":null,"organization_id":1234,"slug":"hello","title":"Hello again"}""", "organization.1234.post.destroyed"), destroyed);
        Assert.True(post.Id > 0);

        // The navigation is not walked: its foreign key column is in the record, the note is not.
        Assert.DoesNotContain("\"note\":", created, StringComparison.Ordinal);
        await other.AssertNothingAsync();
        Assert.Empty(_failures);
    }

    [Fact]
    public async Task RolledBackTransactionPublishesNothing()
    {
        await using var client = await _hub.ConnectAsync("/organization/1");
        await using var context = NewContext();

        await using (var transaction = await context.Database.BeginTransactionAsync())
        {
            context.Posts.Add(new Post { OrganizationId = 1, Title = "Never", Slug = "never" });
            await context.SaveChangesAsync();
            await transaction.RollbackAsync();
        }

        await PublishMarkerAsync("organization.1");
        Assert.Equal("marker", EventFrame.Name(await client.ReceiveAsync()));
        await client.AssertNothingAsync();
    }

    [Fact]
    public async Task CommittedTransactionPublishesOnlyAfterCommitWhenTheRowIsReadableElsewhere()
    {
        await using var client = await _hub.ConnectAsync("/organization/1");
        await using var context = NewContext();

        await using var transaction = await context.Database.BeginTransactionAsync();
        context.Posts.Add(new Post { OrganizationId = 1, Title = "First", Slug = "first" });
        await context.SaveChangesAsync();
        context.Posts.Add(new Post { OrganizationId = 1, Title = "Second", Slug = "second" });
        await context.SaveChangesAsync();

        // Saved, not committed: nothing yet.
        await client.AssertNothingAsync();
        await transaction.CommitAsync();

        var first = JsonDocument.Parse(await client.ReceiveAsync()).RootElement;
        var id = first.GetProperty("record").GetProperty("id").GetInt32();

        // The moment a client hears of the row, another connection can read it.
        await using (var reader = new SqliteConnection($"Data Source={_database}"))
        {
            await reader.OpenAsync();
            await using var command = reader.CreateCommand();
            command.CommandText = "SELECT Title FROM Posts WHERE Id = $id";
            command.Parameters.AddWithValue("$id", id);
            Assert.Equal("First", await command.ExecuteScalarAsync());
        }

        Assert.Equal("Second", JsonDocument.Parse(await client.ReceiveAsync()).RootElement.GetProperty("record").GetProperty("title").GetString());
    }

    [Fact]
    public async Task TransactionDisposedWithoutCommitLeavesNothingForTheNextCommitToPublish()
    {
        await using var client = await _hub.ConnectAsync("/organization/1");
        await using var context = NewContext();

        await using (await context.Database.BeginTransactionAsync())
        {
            context.Posts.Add(new Post { OrganizationId = 1, Title = "Abandoned", Slug = "abandoned" });
            await context.SaveChangesAsync();
        }

        context.ChangeTracker.Clear();
        await using (var next = await context.Database.BeginTransactionAsync())
        {
            context.Posts.Add(new Post { OrganizationId = 1, Title = "Kept", Slug = "kept-after-abandon" });
            await context.SaveChangesAsync();
            await next.CommitAsync();
        }

        Assert.Equal("Kept", JsonDocument.Parse(await client.ReceiveAsync()).RootElement.GetProperty("record").GetProperty("title").GetString());
        await client.AssertNothingAsync();
    }

    [Fact]
    public async Task SerializerThatThrowsNeverReachesTheSave()
    {
        await using var app = PublisherApp(redis.Configuration, services => services.AddSingleton<IEventSerializer>(new ThrowingSerializer()));
        await using var context = app.GetRequiredService<BlogContext>();

        context.Posts.Add(new Post { OrganizationId = 1, Title = "Sync", Slug = "throwing-sync" });
        Assert.Equal(1, context.SaveChanges());
        context.Posts.Add(new Post { OrganizationId = 1, Title = "Async", Slug = "throwing-async" });
        Assert.Equal(1, await context.SaveChangesAsync());

        await TestTimeouts.UntilAsync(() => { lock (_failures) { return _failures.Count == 2; } }, "both failures are reported");
        Assert.All(_failures, f => Assert.IsType<InvalidOperationException>(f.Exception));
    }

    [Fact]
    public async Task FailedSavePublishesNothing()
    {
        await using var client = await _hub.ConnectAsync("/organization/1");
        await using (var seed = NewContext())
        {
            seed.Posts.Add(new Post { OrganizationId = 1, Title = "Taken", Slug = "taken" });
            await seed.SaveChangesAsync();
        }

        Assert.Equal("post.created", EventFrame.Name(await client.ReceiveAsync()));

        await using var context = NewContext();
        context.Posts.Add(new Post { OrganizationId = 1, Title = "Fine", Slug = "fine" });
        context.Posts.Add(new Post { OrganizationId = 1, Title = "Duplicate", Slug = "taken" });
        await Assert.ThrowsAsync<DbUpdateException>(() => context.SaveChangesAsync());

        await PublishMarkerAsync("organization.1");
        Assert.Equal("marker", EventFrame.Name(await client.ReceiveAsync()));
        await client.AssertNothingAsync();
    }

    [Fact]
    public async Task SaveWithoutARealChangePublishesNothing()
    {
        await using var client = await _hub.ConnectAsync("/organization/1");
        var post = new Post { OrganizationId = 1, Title = "Same", Slug = "same" };
        await using (var context = NewContext())
        {
            context.Posts.Add(post);
            await context.SaveChangesAsync();
        }

        Assert.Equal("post.created", EventFrame.Name(await client.ReceiveAsync()));

        await using (var context = NewContext())
        {
            var loaded = await context.Posts.SingleAsync(p => p.Id == post.Id);
            loaded.Title = "Same";
            await context.SaveChangesAsync();
        }

        await using (var context = NewContext())
        {
            // Update() marks every column modified although none changed.
            context.Update(new Post { Id = post.Id, OrganizationId = 1, Title = "Same", Slug = "same" });
            await context.SaveChangesAsync();
        }

        await using (var context = NewContext())
        {
            context.Notes.Add(new Note { Text = "not publishable" });
            await context.SaveChangesAsync();
        }

        await PublishMarkerAsync("organization.1");
        Assert.Equal("marker", EventFrame.Name(await client.ReceiveAsync()));
        await client.AssertNothingAsync();
    }

    [Fact]
    public async Task TwoScopesConcatenateInOrderAndTheNameCanBeOverridden()
    {
        await using var client = await _hub.ConnectAsync("/organization/1/user/2");
        await using var context = NewContext();

        context.UserPosts.Add(new UserPost { OrganizationId = 1, UserId = 2, Title = "Mine" });
        await context.SaveChangesAsync();

        var frame = JsonDocument.Parse(await client.ReceiveAsync()).RootElement;
        Assert.Equal("organization.1.user.2.post.created", frame.GetProperty("routing_key").GetString());
        Assert.Equal("post.created", frame.GetProperty("name").GetString());
        Assert.Equal("UserPost", frame.GetProperty("record_type").GetString());
    }

    [Fact]
    public async Task SynchronousSaveChangesPublishesToo()
    {
        await using var client = await _hub.ConnectAsync("/organization/3");
        await using var context = NewContext();

        context.Posts.Add(new Post { OrganizationId = 3, Title = "Sync", Slug = "sync" });
        context.SaveChanges();

        Assert.Equal("post.created", EventFrame.Name(await client.ReceiveAsync()));
    }

    [Fact]
    public async Task ThousandEntitiesInOneSavePublishAThousandEventsStartedTogether()
    {
        await using var client = await _hub.ConnectAsync("/organization/7");
        var counting = new GatedPublisher(_app.GetRequiredService<IEventPublisher>(), expected: 1000);
        await using var app = PublisherApp(redis.Configuration, services => services.AddSingleton<IEventPublisher>(counting));
        await using var context = app.GetRequiredService<BlogContext>();

        context.Posts.AddRange(Enumerable.Range(0, 1000).Select(i => new Post { OrganizationId = 7, Title = $"Post {i}", Slug = $"bulk-{i}" }));
        await context.SaveChangesAsync();

        // No publish completes until all 1,000 were started, so a save that awaited them one by one
        // would stall and report a failure: they went out as one pipelined batch.
        Assert.Equal(1000, counting.Calls);
        Assert.Empty(_failures);
        // Within one save, events follow the change tracker's order, not necessarily the order of Add.
        var titles = new HashSet<string>();
        for (var i = 0; i < 1000; i++)
        {
            var record = JsonDocument.Parse(await client.ReceiveAsync()).RootElement.GetProperty("record");
            Assert.True(titles.Add(record.GetProperty("title").GetString()!), "each event arrives once");
            Assert.True(record.GetProperty("id").GetInt32() > 0, "the generated id is in the record");
        }

        Assert.Equal(Enumerable.Range(0, 1000).Select(i => $"Post {i}").ToHashSet(), titles);
        await client.AssertNothingAsync();
    }

    [Fact]
    public async Task SaveStandsAndTheFailureIsReportedWhenRedisIsDown()
    {
        var doomed = new RedisServer();
        await doomed.InitializeAsync();
        await using var app = PublisherApp(doomed.Configuration, publishTimeoutSeconds: 1);
        await using (var warmUp = app.GetRequiredService<BlogContext>())
        {
            warmUp.Notes.Add(new Note { Text = "connects the multiplexer" });
            await warmUp.SaveChangesAsync();
            await app.GetRequiredService<IEventPublisher>().PublishAsync("organization.1", "warm.up", null).DefaultTimeout();
        }

        await doomed.DisposeAsync();

        await using var context = app.GetRequiredService<BlogContext>();
        context.Posts.Add(new Post { OrganizationId = 1, Title = "Kept", Slug = "kept" });
        var saved = await context.SaveChangesAsync().DefaultTimeout();

        Assert.Equal(1, saved);
        await using (var check = NewContext())
        {
            Assert.True(await check.Posts.AnyAsync(p => p.Slug == "kept"));
        }

        var failure = Assert.Single(_failures);
        Assert.Equal("post.created", Assert.Single(failure.Events).Name);
    }

    [Fact]
    public async Task ChannelsListsTheModelEventsOnEveryNodeOnceAPublisherStarts()
    {
        var prefix = $"reg{Guid.NewGuid():N}:";
        await using var nodeA = await HubHost.StartAsync(redis.Configuration, o => o.ChannelPrefix = prefix);
        await using var nodeB = await HubHost.StartAsync(redis.Configuration, o => o.ChannelPrefix = prefix);
        Assert.DoesNotContain("post.created", await ChannelsAsync(nodeA));

        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddAtrPublishing(o =>
        {
            o.Redis = redis.Configuration;
            o.ChannelPrefix = prefix;
            o.ModelAssemblies.Add(typeof(Post).Assembly);
            o.Channels.Add("post.published");
        });
        using var publisherApp = builder.Build();
        await publisherApp.StartAsync().DefaultTimeout();

        foreach (var node in new[] { nodeA, nodeB })
        {
            await TestTimeouts.UntilAsync(async () => (await ChannelsAsync(node)).Contains("post.destroyed"), "the node lists the announced names");
            var channels = await ChannelsAsync(node);
            Assert.Superset(new HashSet<string> { "post.created", "post.updated", "post.destroyed", "post.published" }, channels.ToHashSet());
            Assert.Equal(channels.Order(StringComparer.Ordinal), channels);
            Assert.DoesNotContain("note.created", channels);
        }

        await publisherApp.StopAsync().DefaultTimeout();
    }

    private static async Task<List<string>> ChannelsAsync(HubHost node)
        => JsonSerializer.Deserialize<List<string>>(await node.Http.GetStringAsync("/channels"))!;

    private ServiceProvider PublisherApp(string redisConfiguration, Action<IServiceCollection>? configure = null, double publishTimeoutSeconds = 10)
    {
        var services = new ServiceCollection()
            .AddLogging()
            .AddSingleton<TimeProvider>(_clock)
            .AddAtrPublishing(o =>
            {
                o.Redis = redisConfiguration;
                o.PublishTimeout = TimeSpan.FromSeconds(publishTimeoutSeconds);
                o.OnPublishFailed = failure =>
                {
                    lock (_failures)
                    {
                        _failures.Add(failure);
                    }
                };
            })
            .AddDbContext<BlogContext>((sp, o) => o.UseSqlite($"Data Source={_database}").UseAtrPublishing(sp), ServiceLifetime.Transient);
        configure?.Invoke(services);
        return services.BuildServiceProvider();
    }

    private BlogContext NewContext() => _app.GetRequiredService<BlogContext>();

    private Task<long> PublishMarkerAsync(string scope) => redis.PublishAsync("atr:" + scope, """{"name":"marker"}""");

    private static string Envelope(string name, string record, string routingKey)
    {
        var prefix = Regex.Escape("{\"id\":\"");
        var rest = Regex.Escape($"\",\"name\":\"{name}\",\"occured_at\":\"2026-11-27T16:52:25.123+00:00\",\"record\":{record},\"record_type\":\"Post\",\"routing_key\":\"{routingKey}\"}}");
        return $"^{prefix}[0-9a-f]{{32}}{rest}$";
    }

    private sealed class ThrowingSerializer : IEventSerializer
    {
        public void Serialize(AtrEvent atrEvent, System.Buffers.IBufferWriter<byte> output)
            => throw new InvalidOperationException("This serializer always fails.");
    }

    /// <summary>
    /// Our own publisher seam, decorated: each publish goes to Redis at once, but completes only when
    /// <c>expected</c> publishes have been started (or fails after a bounded wait).
    /// </summary>
    private sealed class GatedPublisher(IEventPublisher inner, int expected) : IEventPublisher
    {
        private readonly TaskCompletionSource _allStarted = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _calls;

        public int Calls => Volatile.Read(ref _calls);

        public async Task PublishAsync(AtrEvent atrEvent, CancellationToken cancellationToken = default)
        {
            if (Interlocked.Increment(ref _calls) == expected)
            {
                _allStarted.SetResult();
            }

            await inner.PublishAsync(atrEvent, cancellationToken);
            await _allStarted.Task.WaitAsync(TimeSpan.FromSeconds(5), cancellationToken);
        }

        public Task<AtrEvent> PublishAsync(string scope, string name, object? record, string? recordType = null, CancellationToken cancellationToken = default)
            => inner.PublishAsync(scope, name, record, recordType, cancellationToken);

        public Task<AtrEvent> PublishModelAsync(object model, ModelAction action, CancellationToken cancellationToken = default)
            => inner.PublishModelAsync(model, action, cancellationToken);
    }
}
