using System.Text;
using System.Text.Json;
using Atr.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using StackExchange.Redis;
using Xunit;

namespace Atr.Publishing.Tests;

[Collection(UsesRedis.Name)]
public sealed class RedisEventPublisherTests(RedisServer redis)
{
    private const string Id = "9f1c2b7e4a5d46c0b1e2f3a4b5c6d7e8";

    private static readonly DateTimeOffset Now = new(2026, 11, 27, 16, 52, 25, 123, TimeSpan.Zero);

    private readonly FakeTimeProvider _time = new(Now);

    [Fact]
    public async Task PublishesTheSerializedEventBytesToTheScopeChannel()
    {
        await using var services = BuildServices();
        var publisher = services.GetRequiredService<IEventPublisher>();
        var atrEvent = new AtrEvent(Id, "organization.1234", "post.created", Now, new { id = 7, title = "Hello" }, "Post");
        await using var subscription = await SubscribeAsync("atr:organization.1234");

        await publisher.PublishAsync(atrEvent).DefaultTimeout();

        var message = await subscription.ReadAsync();
        Assert.Equal("atr:organization.1234", message.Channel.ToString());
        Assert.Equal(JsonEventSerializer.ToBytes(new JsonEventSerializer(), atrEvent), (byte[])message.Message!);
        Assert.Equal(
            """{"id":"9f1c2b7e4a5d46c0b1e2f3a4b5c6d7e8","name":"post.created","occured_at":"2026-11-27T16:52:25.123+00:00","record":{"id":7,"title":"Hello"},"record_type":"Post","routing_key":"organization.1234.post.created"}""",
            Encoding.UTF8.GetString((byte[])message.Message!));
    }

    [Fact]
    public async Task AnEventOverMaxEventBytesIsRefusedBeforeItIsPublished()
    {
        await using var services = BuildServices();
        var publisher = services.GetRequiredService<IEventPublisher>();
        var limit = services.GetRequiredService<IOptions<AtrPublishingOptions>>().Value.MaxEventBytes;
        await using var subscription = await SubscribeAsync("atr:organization.1");

        var refused = await Assert.ThrowsAsync<ArgumentException>(() => publisher.PublishAsync("organization.1", "post.created", new { text = new string('x', limit) }));
        await publisher.PublishAsync("organization.1", "post.small", null).DefaultTimeout();

        Assert.Contains($"limited to {limit} bytes", refused.Message, StringComparison.Ordinal);
        Assert.Contains("post.small", Encoding.UTF8.GetString((byte[])(await subscription.ReadAsync()).Message!), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("atr.resync")]
    [InlineData("atr")]
    public async Task NamesReservedForTheHubAreRefused(string name)
    {
        await using var services = BuildServices();
        var publisher = services.GetRequiredService<IEventPublisher>();

        var refused = await Assert.ThrowsAsync<ArgumentException>(() => publisher.PublishAsync("organization.1", name, null));

        Assert.Contains("reserved", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PublishesANewEventWithAFreshIdAndTheInjectedTime()
    {
        await using var services = BuildServices();
        var publisher = services.GetRequiredService<IEventPublisher>();
        var serializer = services.GetRequiredService<IEventSerializer>();
        await using var subscription = await SubscribeAsync("atr:organization.1234.user.42");

        var atrEvent = await publisher.PublishAsync("organization.1234.user.42", "post.updated", new Post { Id = 7, Title = "Hi" }, "Post").DefaultTimeout();

        var message = await subscription.ReadAsync();
        Assert.Equal(JsonEventSerializer.ToBytes(serializer, atrEvent), (byte[])message.Message!);
        Assert.Equal(Now, atrEvent.OccurredAt);
        Assert.Equal("organization.1234.user.42.post.updated", atrEvent.RoutingKey);
        Assert.Matches("^[0-9a-f]{32}$", atrEvent.Id);
    }

    [Fact]
    public async Task PublishesAnUnscopedEventToTheBarePrefixChannel()
    {
        await using var services = BuildServices();
        var publisher = services.GetRequiredService<IEventPublisher>();
        await using var subscription = await SubscribeAsync("atr:");

        var atrEvent = await publisher.PublishAsync(string.Empty, "system.announced", null).DefaultTimeout();

        var message = await subscription.ReadAsync();
        Assert.Equal("atr:", message.Channel.ToString());
        Assert.Equal(JsonEventSerializer.ToBytes(new JsonEventSerializer(), atrEvent), (byte[])message.Message!);
        using var document = JsonDocument.Parse((byte[])message.Message!);
        Assert.Equal("system.announced", document.RootElement.GetProperty("routing_key").GetString());
    }

    [Fact]
    public async Task HonoursACustomChannelPrefix()
    {
        await using var services = BuildServices(configure: o => o.ChannelPrefix = "tenant-a/");
        var publisher = services.GetRequiredService<IEventPublisher>();
        await using var custom = await SubscribeAsync("tenant-a/organization.5");
        await using var standard = await SubscribeAsync("atr:organization.5");

        var atrEvent = await publisher.PublishAsync("organization.5", "post.created", null).DefaultTimeout();

        var message = await custom.ReadAsync();
        Assert.Equal("tenant-a/organization.5", message.Channel.ToString());
        Assert.Equal(JsonEventSerializer.ToBytes(new JsonEventSerializer(), atrEvent), (byte[])message.Message!);
        await AssertNextIsSentinelAsync(standard);
    }

    [Fact]
    public async Task PublishModelAsyncPublishesTheModelEventToTheModelScope()
    {
        await using var services = BuildServices();
        var publisher = services.GetRequiredService<IEventPublisher>();
        await using var subscription = await SubscribeAsync("atr:organization.4321");

        var atrEvent = await publisher.PublishModelAsync(new Post { Id = 7, Title = "Hello", OrganizationId = 4321 }, ModelAction.Created).DefaultTimeout();

        var message = await subscription.ReadAsync();
        Assert.Equal(JsonEventSerializer.ToBytes(new JsonEventSerializer(), atrEvent), (byte[])message.Message!);
        using var document = JsonDocument.Parse((byte[])message.Message!);
        var root = document.RootElement;
        Assert.Equal("post.created", root.GetProperty("name").GetString());
        Assert.Equal("Post", root.GetProperty("record_type").GetString());
        Assert.Equal("organization.4321.post.created", root.GetProperty("routing_key").GetString());
        Assert.Equal("2026-11-27T16:52:25.123+00:00", root.GetProperty("occured_at").GetString());
        Assert.Equal(4321, root.GetProperty("record").GetProperty("organization_id").GetInt32());
    }

    [Fact]
    public async Task DeliversOneThousandEventsPublishedOneAfterAnotherInOrder()
    {
        const int count = 1000;
        await using var services = BuildServices();
        var publisher = services.GetRequiredService<IEventPublisher>();
        await using var subscription = await SubscribeAsync("atr:organization.77");

        var published = new List<string>(count);
        for (var i = 0; i < count; i++)
        {
            var atrEvent = await publisher.PublishAsync("organization.77", "counter.incremented", new { n = i }).DefaultTimeout();
            published.Add(atrEvent.Id);
        }

        var received = new List<string>(count);
        for (var i = 0; i < count; i++)
        {
            var message = await subscription.ReadAsync();
            using var document = JsonDocument.Parse((byte[])message.Message!);
            received.Add(document.RootElement.GetProperty("id").GetString()!);
            Assert.Equal(i, document.RootElement.GetProperty("record").GetProperty("n").GetInt32());
        }

        Assert.Equal(published, received);
    }

    [Fact]
    public async Task AddAtrPublishingTwiceRegistersOnePublisherThatPublishesOnce()
    {
        var collection = new ServiceCollection();
        collection.AddSingleton<TimeProvider>(_time);
        collection.AddAtrPublishing(o => o.Redis = redis.Configuration);
        collection.AddAtrPublishing(o => o.Redis = redis.Configuration);
        await using var services = collection.BuildServiceProvider(validateScopes: true);
        await using var subscription = await SubscribeAsync("atr:organization.2");

        Assert.Single(services.GetServices<IEventPublisher>());
        Assert.Single(services.GetServices<IEventSerializer>());
        var atrEvent = await services.GetRequiredService<IEventPublisher>().PublishAsync("organization.2", "post.created", null).DefaultTimeout();

        var message = await subscription.ReadAsync();
        Assert.Equal(JsonEventSerializer.ToBytes(new JsonEventSerializer(), atrEvent), (byte[])message.Message!);
        await AssertNextIsSentinelAsync(subscription);
    }

    [Fact]
    public async Task UsesASerializerRegisteredBeforeAddAtrPublishing()
    {
        await using var services = BuildServices(before: s => s.AddSingleton<IEventSerializer, NameOnlySerializer>());
        var publisher = services.GetRequiredService<IEventPublisher>();
        await using var subscription = await SubscribeAsync("atr:organization.3");

        await publisher.PublishAsync("organization.3", "post.created", new Post { Id = 1 }).DefaultTimeout();

        var message = await subscription.ReadAsync();
        Assert.Equal("""{"name":"post.created","at":"organization.3"}""", Encoding.UTF8.GetString((byte[])message.Message!));
    }

    [Fact]
    public async Task WritesRecordsWithTheConfiguredRecordOptions()
    {
        var camelCase = new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.CamelCase };
        await using var services = BuildServices(configure: o => o.RecordSerializerOptions = camelCase);
        var publisher = services.GetRequiredService<IEventPublisher>();
        await using var subscription = await SubscribeAsync("atr:organization.4");

        await publisher.PublishAsync("organization.4", "post.created", new Post { Id = 1, OrganizationId = 4 }).DefaultTimeout();

        var message = await subscription.ReadAsync();
        Assert.Contains(
            """record":{"id":1,"title":null,"organizationId":4}""",
            Encoding.UTF8.GetString((byte[])message.Message!),
            StringComparison.Ordinal);
    }

    [Fact]
    public async Task SharesARegisteredMultiplexerAndLeavesItOpen()
    {
        var collection = new ServiceCollection();
        collection.AddSingleton<TimeProvider>(_time);
        collection.AddSingleton<IConnectionMultiplexer>(redis.Client);
        collection.AddAtrPublishing();
        await using var subscription = await SubscribeAsync("atr:organization.6");

        await using (var services = collection.BuildServiceProvider(validateScopes: true))
        {
            var atrEvent = await services.GetRequiredService<IEventPublisher>().PublishAsync("organization.6", "post.created", null).DefaultTimeout();

            var message = await subscription.ReadAsync();
            Assert.Equal(JsonEventSerializer.ToBytes(new JsonEventSerializer(), atrEvent), (byte[])message.Message!);
        }

        Assert.True(redis.Client.IsConnected);
        await redis.Client.GetDatabase().PingAsync().DefaultTimeout();
    }

    [Fact]
    public async Task UsesTheSystemClockUnlessATimeProviderIsRegisteredFirst()
    {
        var collection = new ServiceCollection();
        collection.AddAtrPublishing(o => o.Redis = redis.Configuration);
        await using var services = collection.BuildServiceProvider(validateScopes: true);
        await using var withFakeClock = BuildServices();

        Assert.Same(TimeProvider.System, services.GetRequiredService<TimeProvider>());
        Assert.Same(_time, withFakeClock.GetRequiredService<TimeProvider>());
    }

    [Fact]
    public async Task FailsClearlyWhenNoRedisIsConfigured()
    {
        var collection = new ServiceCollection();
        collection.AddAtrPublishing();
        await using var services = collection.BuildServiceProvider(validateScopes: true);
        var publisher = services.GetRequiredService<IEventPublisher>();

        var exception = await Assert.ThrowsAsync<InvalidOperationException>(
            () => publisher.PublishAsync("organization.1234", "post.created", null)).DefaultTimeout();

        Assert.Contains("AtrPublishingOptions.Redis", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RefusesANullChannelPrefixWhenThePublisherIsResolved()
    {
        await using var services = BuildServices(configure: o => o.ChannelPrefix = null!);

        var exception = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IEventPublisher>());

        Assert.Contains("ChannelPrefix", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RefusesAMalformedScopeBeforeReachingRedis()
    {
        await using var services = BuildServices();
        var publisher = services.GetRequiredService<IEventPublisher>();

        await Assert.ThrowsAsync<ArgumentException>(() => publisher.PublishAsync("organization.*", "post.created", null)).DefaultTimeout();
        await Assert.ThrowsAsync<ArgumentNullException>(() => publisher.PublishAsync(null!)).DefaultTimeout();
    }

    [Fact]
    public async Task GivesUpWhenRedisIsUnreachableAndTheCallerCancels()
    {
        var collection = new ServiceCollection();
        collection.AddAtrPublishing(o => o.Redis = $"127.0.0.1:{LoopbackPort.Free()},connectTimeout=1000");
        await using var services = collection.BuildServiceProvider(validateScopes: true);
        var publisher = services.GetRequiredService<IEventPublisher>();
        using var cancellation = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => publisher.PublishAsync("organization.1234", "post.created", null, cancellationToken: cancellation.Token)).DefaultTimeout();
    }

    [Fact]
    public async Task EventsStartedTogetherBeforeTheConnectionExistsStillArriveInOrder()
    {
        // A fresh publisher connects on its first publish; the ones started meanwhile must not overtake
        // each other. A race: five fresh publishers give it five chances to show.
        for (var attempt = 1; attempt <= 5; attempt++)
        {
            await using var services = BuildServices();
            var publisher = services.GetRequiredService<IEventPublisher>();
            var channel = $"organization.{attempt}00";
            await using var subscription = await SubscribeAsync("atr:" + channel);

            var publishing = Enumerable.Range(0, 200).Select(i => publisher.PublishAsync(channel, "counter.incremented", new { n = i })).ToArray();
            await Task.WhenAll(publishing).DefaultTimeout();

            for (var i = 0; i < 200; i++)
            {
                var message = await subscription.ReadAsync();
                using var document = JsonDocument.Parse((byte[])message.Message!);
                Assert.Equal(i, document.RootElement.GetProperty("record").GetProperty("n").GetInt32());
            }
        }
    }

    private ServiceProvider BuildServices(Action<IServiceCollection>? before = null, Action<AtrPublishingOptions>? configure = null)
    {
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(_time);
        before?.Invoke(services);
        services.AddAtrPublishing(o =>
        {
            o.Redis = redis.Configuration;
            configure?.Invoke(o);
        });
        return services.BuildServiceProvider(validateScopes: true);
    }

    private async Task<Subscription> SubscribeAsync(string channel)
        => new(await redis.Client.GetSubscriber().SubscribeAsync(RedisChannel.Literal(channel)).DefaultTimeout());

    // Nothing else was published to the channel: a marker published after the event arrives next.
    private async Task AssertNextIsSentinelAsync(Subscription subscription)
    {
        var channel = subscription.Queue.Channel.ToString();
        await redis.PublishAsync(channel, "sentinel").DefaultTimeout();

        var next = await subscription.ReadAsync();
        Assert.Equal("sentinel", next.Message.ToString());
    }

    private sealed class Subscription(ChannelMessageQueue queue) : IAsyncDisposable
    {
        public ChannelMessageQueue Queue { get; } = queue;

        public async Task<ChannelMessage> ReadAsync()
        {
            using var timeout = new CancellationTokenSource(TestTimeouts.Default);
            return await Queue.ReadAsync(timeout.Token).AsTask().DefaultTimeout();
        }

        public async ValueTask DisposeAsync() => await Queue.UnsubscribeAsync().DefaultTimeout();
    }

    [PublicationScope(nameof(OrganizationId))]
    private sealed class Post
    {
        public int Id { get; init; }

        public string? Title { get; init; }

        public int OrganizationId { get; init; }
    }

    private sealed class NameOnlySerializer : IEventSerializer
    {
        public void Serialize(AtrEvent atrEvent, System.Buffers.IBufferWriter<byte> output)
        {
            using var writer = new Utf8JsonWriter(output);
            writer.WriteStartObject();
            writer.WriteString("name", atrEvent.Name);
            writer.WriteString("at", atrEvent.Scope);
            writer.WriteEndObject();
        }
    }
}
