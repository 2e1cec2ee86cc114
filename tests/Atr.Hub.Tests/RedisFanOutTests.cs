using System.Text;
using System.Text.Json;
using Atr.Hub.Tests.Infrastructure;
using Atr.Publishing;
using Atr.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Atr.Hub.Tests;

/// <summary>Events published to Redis, by Atr.Publishing or by anyone, reach exactly the clients of their scope.</summary>
[Collection(UsesRedis.Name)]
public sealed class RedisFanOutTests(RedisServer redis)
{
    [Fact]
    public async Task EventPublishedThroughAtrPublishingReachesOnlyItsScope()
    {
        await using var hub = await HubHost.StartAsync(redis.Configuration);
        await using var scoped = await hub.ConnectAsync("/organization/1234");
        await using var other = await hub.ConnectAsync("/organization/999");
        await using var unscoped = await hub.ConnectAsync("/");

        await using var services = PublisherServices();
        var publisher = services.GetRequiredService<IEventPublisher>();
        var serializer = services.GetRequiredService<IEventSerializer>();

        var published = await publisher.PublishAsync("organization.1234", "post.created", new { Id = 7, Title = "Hello" }, "Post").DefaultTimeout();

        var frame = await scoped.ReceiveAsync();
        Assert.Equal(Encoding.UTF8.GetString(JsonEventSerializer.ToBytes(serializer, published)), frame);
        Assert.Equal($$"""{"id":"{{published.Id}}","name":"post.created","occured_at":"2026-11-27T16:52:25.123+00:00","record":{"id":7,"title":"Hello"},"record_type":"Post","routing_key":"organization.1234.post.created"}""", frame);

        // Markers on the other scopes prove those clients were listening when the event went by.
        await publisher.PublishAsync("organization.999", "marker", null).DefaultTimeout();
        await publisher.PublishAsync(string.Empty, "marker", null).DefaultTimeout();
        Assert.Equal("marker", EventFrame.Name(await other.ReceiveAsync()));
        Assert.Equal("marker", EventFrame.Name(await unscoped.ReceiveAsync()));
        await other.AssertNothingAsync();
        await unscoped.AssertNothingAsync();
    }

    [Fact]
    public async Task UnscopedEventReachesOnlyTheUnscopedStream()
    {
        await using var hub = await HubHost.StartAsync(redis.Configuration);
        await using var scoped = await hub.ConnectAsync("/organization/1234");
        await using var unscoped = await hub.ConnectAsync("/");
        await using var services = PublisherServices();
        var publisher = services.GetRequiredService<IEventPublisher>();

        await publisher.PublishAsync(string.Empty, "system.announced", new { Text = "maintenance" }).DefaultTimeout();

        var frame = JsonDocument.Parse(await unscoped.ReceiveAsync()).RootElement;
        Assert.Equal("system.announced", frame.GetProperty("routing_key").GetString());
        await scoped.AssertNothingAsync();
    }

    [Fact]
    public async Task PlainRedisPublishByAnyClientReachesTheScopeUnchanged()
    {
        await using var hub = await HubHost.StartAsync(redis.Configuration);
        await using var client = await hub.ConnectAsync("/organization/1234");

        // Written by hand, as a publisher in another language would: key order and spacing are its own.
        const string payload = """{"name":"post.updated", "id":"0123456789abcdef0123456789abcdef","record":{"title":"Héllo <b>"},"extra":[1,2,3]}""";
        var receivers = await redis.PublishAsync("atr:organization.1234", payload);

        Assert.Equal(1, receivers);
        Assert.Equal(payload, await client.ReceiveAsync());
    }

    [Fact]
    public async Task GlobCharactersInChannelNamesAreLiteral()
    {
        await using var hub = await HubHost.StartAsync(redis.Configuration);
        await using var client = await hub.ConnectAsync("/organization/1234");

        foreach (var channel in new[] { "atr:organization.*", "atr:organization.123?", "atr:organization.[1]234", "atr:*", "atr:organization.12345", "atr:organization.1234.user.1" })
        {
            await redis.PublishAsync(channel, """{"name":"leak"}""");
        }

        await redis.PublishAsync("atr:organization.1234", """{"name":"marker"}""");
        Assert.Equal("marker", EventFrame.Name(await client.ReceiveAsync()));
        await client.AssertNothingAsync();
    }

    [Fact]
    public async Task TenThousandEventsArriveCompleteAndInOrderAtThreeClients()
    {
        const int count = 10_000;
        await using var hub = await HubHost.StartAsync(redis.Configuration);
        var clients = new[]
        {
            await hub.ConnectAsync("/organization/1234"),
            await hub.ConnectAsync("/organization/1234"),
            await hub.ConnectAsync("/organization/1234"),
        };

        try
        {
            var subscriber = redis.Client.GetSubscriber();
            var publishes = new Task[count];
            for (var i = 0; i < count; i++)
            {
                publishes[i] = subscriber.PublishAsync(StackExchange.Redis.RedisChannel.Literal("atr:organization.1234"), $$"""{"name":"post.created","seq":{{i}}}""");
            }

            await Task.WhenAll(publishes).DefaultTimeout();

            foreach (var client in clients)
            {
                for (var i = 0; i < count; i++)
                {
                    var seq = JsonDocument.Parse(await client.ReceiveAsync()).RootElement.GetProperty("seq").GetInt32();
                    Assert.Equal(i, seq);
                }
            }
        }
        finally
        {
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task GarbageOnTheChannelIsDroppedAndCountedWhileValidEventsStillFlow()
    {
        await using var hub = await HubHost.StartAsync(redis.Configuration);
        await using var client = await hub.ConnectAsync("/organization/1234");
        string[] garbage = ["not json", "", "[1,2,3]", "\"name\"", """{"id":"x"}""", """{"name":7}""", """{"name":"a"} trailing""", "{\"name\":\"a\"", "\u0000\u00ff", "{\"nested\":{\"name\":\"x\"}}"];

        for (var i = 0; i < 1000; i++)
        {
            await redis.PublishAsync("atr:organization.1234", garbage[i % garbage.Length]);
        }

        await redis.PublishAsync("atr:organization.1234", """{"name":"post.created","id":"after"}""");

        var frame = JsonDocument.Parse(await client.ReceiveAsync()).RootElement;
        Assert.Equal("after", frame.GetProperty("id").GetString());
        await TestTimeouts.UntilAsync(() => hub.Metrics.PayloadsDropped == 1000, "1,000 payloads were counted as dropped");
        await client.AssertNothingAsync();
    }

    [Fact]
    public async Task NodeSubscribesWithTheFirstConnectionAndUnsubscribesAfterTheLast()
    {
        const string channel = "atr:organization.4242";
        await using var hub = await HubHost.StartAsync(redis.Configuration);
        Assert.Equal(0, await redis.SubscriberCountAsync(channel));

        var first = await hub.ConnectAsync("/organization/4242");
        var second = await hub.ConnectAsync("/organization/4242");

        // One subscription per node and scope, however many clients.
        Assert.Equal(1, await redis.SubscriberCountAsync(channel));

        await first.DisposeAsync();
        await TestTimeouts.UntilAsync(() => hub.Metrics.Connections == 1, "the first client is gone");
        Assert.Equal(1, await redis.SubscriberCountAsync(channel));

        await second.DisposeAsync();
        await TestTimeouts.UntilAsync(async () => await redis.SubscriberCountAsync(channel) == 0, "PUBSUB NUMSUB shows no subscriber");
    }

    [Fact]
    public async Task ClientsOnTwoNodesEachReceiveEveryEventExactlyOnce()
    {
        await using var nodeA = await HubHost.StartAsync(redis.Configuration);
        await using var nodeB = await HubHost.StartAsync(redis.Configuration);
        var clients = new[]
        {
            await nodeA.ConnectAsync("/organization/1234"),
            await nodeA.ConnectAsync("/organization/1234"),
            await nodeB.ConnectAsync("/organization/1234"),
            await nodeB.ConnectAsync("/organization/1234"),
        };
        await using var elsewhere = await nodeB.ConnectAsync("/organization/5");

        try
        {
            // Half through each node's POST /publish, half straight into Redis.
            var ids = new List<string>();
            for (var i = 0; i < 50; i++)
            {
                var node = i % 2 == 0 ? nodeA : nodeB;
                var response = await node.PostPublishAsync(new { scope = "organization.1234", name = "post.created", record = new { seq = i } });
                response.EnsureSuccessStatusCode();
                ids.Add(JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("ids")[0].GetString()!);
            }

            for (var i = 50; i < 100; i++)
            {
                var id = i.ToString("x32", System.Globalization.CultureInfo.InvariantCulture);
                await redis.PublishAsync("atr:organization.1234", $$"""{"id":"{{id}}","name":"post.created"}""");
                ids.Add(id);
            }

            await redis.PublishAsync("atr:organization.1234", """{"name":"end"}""");
            foreach (var client in clients)
            {
                var received = new List<string>();
                while (true)
                {
                    var frame = JsonDocument.Parse(await client.ReceiveAsync()).RootElement;
                    if (frame.GetProperty("name").GetString() == "end")
                    {
                        break;
                    }

                    received.Add(frame.GetProperty("id").GetString()!);
                }

                Assert.Equal(ids, received);
            }

            await elsewhere.AssertNothingAsync();
        }
        finally
        {
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }
        }
    }

    private ServiceProvider PublisherServices()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.Parse("2026-11-27T16:52:25.123+00:00", System.Globalization.CultureInfo.InvariantCulture));
        return new ServiceCollection()
            .AddSingleton<TimeProvider>(clock)
            .AddAtrPublishing(o => o.Redis = redis.Configuration)
            .BuildServiceProvider();
    }
}
