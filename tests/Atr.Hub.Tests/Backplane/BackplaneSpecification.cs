using System.Text;
using System.Threading.Channels;
using Atr.Hub.Backplane;
using Atr.Hub.Subscriptions;
using Atr.Testing;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Atr.Hub.Tests.Backplane;

/// <summary>
/// The backplane contract, through the subscription manager that drives it: run against the
/// in-memory and the Redis implementation alike.
/// </summary>
public abstract class BackplaneSpecification : IAsyncLifetime
{
    private ServiceProvider? _services;

    private SubscriptionManager Subscriptions => Service<SubscriptionManager>();

    private IBackplane Backplane => Service<IBackplane>();

    private protected T Service<T>()
        where T : notnull => _services!.GetRequiredService<T>();

    public Task InitializeAsync()
    {
        _services = new ServiceCollection().AddLogging().AddAtrHub(Configure).BuildServiceProvider();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _services!.DisposeAsync();

    [Fact]
    public async Task SubscribedRecipientReceivesThePayloadUnchanged()
    {
        var recipient = new Recipient();
        await Subscriptions.AddAsync("organization.1", recipient, CancellationToken.None).DefaultTimeout();

        await PublishAsync("organization.1", """{"name":"post.created","x":"é"}""");

        Assert.Equal("""{"name":"post.created","x":"é"}""", await recipient.NextAsync());
    }

    [Fact]
    public async Task ScopesAreIsolated()
    {
        var one = new Recipient();
        var two = new Recipient();
        await Subscriptions.AddAsync("organization.1", one, CancellationToken.None).DefaultTimeout();
        await Subscriptions.AddAsync("organization.2", two, CancellationToken.None).DefaultTimeout();

        await PublishAsync("organization.2", """{"name":"for.two"}""");
        await PublishAsync("organization.1", """{"name":"for.one"}""");

        Assert.Equal("""{"name":"for.one"}""", await one.NextAsync());
        Assert.Equal("""{"name":"for.two"}""", await two.NextAsync());
        Assert.Equal(0, one.Count);
    }

    [Fact]
    public async Task EventsOfOneScopeArriveInPublishOrder()
    {
        var recipient = new Recipient();
        await Subscriptions.AddAsync("organization.1", recipient, CancellationToken.None).DefaultTimeout();

        await Task.WhenAll(Enumerable.Range(0, 1000).Select(i => Backplane.PublishAsync("organization.1", Atr.Publishing.EventIds.NewId(), Encoding.UTF8.GetBytes($$"""{"name":"n","seq":{{i}}}"""), CancellationToken.None))).DefaultTimeout();

        for (var i = 0; i < 1000; i++)
        {
            Assert.Equal($$"""{"name":"n","seq":{{i}}}""", await recipient.NextAsync());
        }
    }

    [Fact]
    public async Task RemovedRecipientReceivesNothingMore()
    {
        var leaving = new Recipient();
        await Subscriptions.AddAsync("organization.1", leaving, CancellationToken.None).DefaultTimeout();
        await Subscriptions.RemoveAsync("organization.1", leaving).DefaultTimeout();
        await PublishAsync("organization.1", """{"name":"gone"}""");

        // A newcomer on the same scope: once its marker arrives, anything meant for the scope before it has been dispatched.
        var arriving = new Recipient();
        await Subscriptions.AddAsync("organization.1", arriving, CancellationToken.None).DefaultTimeout();
        await PublishAsync("organization.1", """{"name":"marker"}""");

        Assert.Equal("""{"name":"marker"}""", await arriving.NextAsync());
        Assert.Equal(0, leaving.Count);
        Assert.Equal(0, arriving.Count);
    }

    [Fact]
    public async Task ChurnOnOneScopeLeavesItSubscribedExactlyWhileARecipientRemains()
    {
        // Many clients arriving and leaving at once race first-subscribe against last-unsubscribe.
        await Task.WhenAll(Enumerable.Range(0, 50).Select(async _ =>
        {
            var recipient = new Recipient();
            await Subscriptions.AddAsync("organization.9", recipient, CancellationToken.None);
            await Subscriptions.RemoveAsync("organization.9", recipient);
        })).DefaultTimeout();

        var last = new Recipient();
        await Subscriptions.AddAsync("organization.9", last, CancellationToken.None).DefaultTimeout();
        await PublishAsync("organization.9", """{"name":"after.churn"}""");

        Assert.Equal("""{"name":"after.churn"}""", await last.NextAsync());
        Assert.Equal(1, await SubscriberCountAsync("organization.9"));

        await Subscriptions.RemoveAsync("organization.9", last).DefaultTimeout();
        Assert.Equal(0, await SubscriberCountAsync("organization.9"));
    }

    protected abstract void Configure(AtrHubOptions options);

    /// <summary>How many subscriptions the transport holds for a scope (Redis: <c>PUBSUB NUMSUB</c>).</summary>
    protected abstract Task<long> SubscriberCountAsync(string scope);

    private async Task PublishAsync(string scope, string json)
        => Assert.True(await Backplane.PublishAsync(scope, Atr.Publishing.EventIds.NewId(), Encoding.UTF8.GetBytes(json), CancellationToken.None).DefaultTimeout(), "the backplane took the event");

    /// <summary>A stand-in for a connection: keeps what it is given.</summary>
    private sealed class Recipient : IEventRecipient
    {
        private readonly Channel<string> _frames = Channel.CreateUnbounded<string>();

        public int Count => _frames.Reader.Count;

        public long PendingBytes => 0;

        public bool Deliver(EventFrame frame) => _frames.Writer.TryWrite(Encoding.UTF8.GetString(frame.Payload.Span));

        public void Hold()
        {
        }

        public void Resume(IReadOnlyList<EventFrame> first)
        {
            foreach (var frame in first)
            {
                Deliver(frame);
            }
        }

        public Task<string> NextAsync() => _frames.Reader.ReadAsync().AsTask().DefaultTimeout();
    }
}

public sealed class InMemoryBackplaneTests : BackplaneSpecification
{
    protected override void Configure(AtrHubOptions options)
    {
    }

    // In memory, delivery follows the scope registry: a scope with a group counts as one subscription.
    protected override Task<long> SubscriberCountAsync(string scope)
        => Task.FromResult(Service<ScopeRegistry>().TryGet(scope, out _) ? 1L : 0L);
}

[Collection(UsesRedis.Name)]
public sealed class RedisBackplaneTests(RedisServer redis) : BackplaneSpecification
{
    protected override void Configure(AtrHubOptions options)
    {
        options.Redis = redis.Configuration;

        // A prefix of its own per test class instance keeps tests from seeing each other's channels.
        options.ChannelPrefix = Prefix;
    }

    private string Prefix { get; } = $"spec{Guid.NewGuid():N}:";

    protected override Task<long> SubscriberCountAsync(string scope) => redis.SubscriberCountAsync(Prefix + scope);
}
