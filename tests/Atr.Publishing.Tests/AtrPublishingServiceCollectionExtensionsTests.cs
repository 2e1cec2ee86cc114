using System.Buffers;
using Atr.Publishing.Redis;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Xunit;

namespace Atr.Publishing.Tests;

public sealed class AtrPublishingServiceCollectionExtensionsTests
{
    // Nothing listens there; nothing in these tests connects.
    private const string NoRedis = "127.0.0.1:1";

    [Fact]
    public async Task TheRegistryHoldsTheModelsOfTheGivenAssembliesAndTheChannelsAddedByHand()
    {
        await using var services = BuildServices(o =>
        {
            o.ModelAssemblies.Add(typeof(Invoice).Assembly);
            o.Channels.Add("post.published");
        });

        var registry = services.GetRequiredService<EventRegistry>();

        Assert.Contains("invoice.updated", registry.Channels);
        Assert.Contains("invoice.created", registry.Channels);
        Assert.Contains("invoice.destroyed", registry.Channels);
        Assert.Contains("blog_post.created", registry.Channels);
        Assert.Contains("article.created", registry.Channels);
        Assert.Contains("post.published", registry.Channels);
        Assert.DoesNotContain(registry.Channels, name => name.StartsWith("receipt.", StringComparison.Ordinal));
        Assert.Equal(registry.Channels.Order(StringComparer.Ordinal), registry.Channels);
    }

    [Fact]
    public async Task TheRegistryIsOneSingleton()
    {
        await using var services = BuildServices(o => o.Channels.Add("post.published"));

        Assert.Same(services.GetRequiredService<EventRegistry>(), services.GetRequiredService<EventRegistry>());
    }

    [Fact]
    public async Task WithoutModelAssembliesTheRegistryHoldsOnlyTheEntryAssemblysModelsAndTheChannels()
    {
        await using var services = BuildServices(o => o.Channels.Add("post.published"));

        var registry = services.GetRequiredService<EventRegistry>();

        // The entry assembly is the test host, which has no publishable models.
        Assert.Equal(["post.published"], registry.Channels);
    }

    [Fact]
    public async Task AnInvalidChannelFailsWhenTheRegistryIsResolved()
    {
        await using var services = BuildServices(o => o.Channels.Add("bad name"));

        Assert.Throws<ArgumentException>(() => services.GetRequiredService<EventRegistry>());
    }

    [Fact]
    public async Task ResolvesThePublisherTheFactoryAndTheSerializer()
    {
        await using var services = BuildServices(o => o.ModelAssemblies.Add(typeof(Invoice).Assembly));

        Assert.IsType<RedisEventPublisher>(services.GetRequiredService<IEventPublisher>());
        Assert.NotNull(services.GetRequiredService<EventFactory>());
        Assert.IsType<JsonEventSerializer>(services.GetRequiredService<IEventSerializer>());
        Assert.Same(services.GetRequiredService<IEventSerializer>(), services.GetRequiredService<IEventSerializer>());
    }

    [Fact]
    public async Task RegistersTheRegistryAnnouncerOnceAsAHostedService()
    {
        var collection = new ServiceCollection();
        collection.AddLogging();
        collection.AddAtrPublishing(o => o.Redis = NoRedis);
        collection.AddAtrPublishing(o => o.Redis = NoRedis);
        await using var services = collection.BuildServiceProvider(validateScopes: true);

        Assert.IsType<RedisRegistryAnnouncer>(Assert.Single(services.GetServices<IHostedService>()));
    }

    [Fact]
    public async Task KeepsASerializerRegisteredBeforeAddAtrPublishing()
    {
        var serializer = new FixedSerializer();
        await using var services = BuildServices(o => o.Redis = NoRedis, before: s => s.AddSingleton<IEventSerializer>(serializer));

        Assert.Same(serializer, services.GetRequiredService<IEventSerializer>());
        Assert.Same(serializer, Assert.Single(services.GetServices<IEventSerializer>()));
    }

    private static ServiceProvider BuildServices(Action<AtrPublishingOptions> configure, Action<IServiceCollection>? before = null)
    {
        var collection = new ServiceCollection();
        before?.Invoke(collection);
        collection.AddAtrPublishing(o =>
        {
            o.Redis = NoRedis;
            configure(o);
        });
        return collection.BuildServiceProvider(validateScopes: true);
    }

    [Publishable]
    private sealed class Invoice
    {
        public int Id { get; init; }
    }

    private sealed class Receipt
    {
        public int Id { get; init; }
    }

    private sealed class FixedSerializer : IEventSerializer
    {
        public void Serialize(AtrEvent atrEvent, IBufferWriter<byte> output) => output.Write("{}"u8);
    }
}
