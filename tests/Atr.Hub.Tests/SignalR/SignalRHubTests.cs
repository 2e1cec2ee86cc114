using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Atr.Hub.SignalR;
using Atr.Hub.Tests.Infrastructure;
using Atr.Testing;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;
using Xunit;

namespace Atr.Hub.Tests.SignalR;

/// <summary>SignalR clients at <c>/hub</c> get the same events as raw clients, exactly once, on every node.</summary>
[Collection(UsesRedis.Name)]
public sealed class SignalRHubTests(RedisServer redis)
{
    private static readonly string[] Tags = ["a", "b"];

    [Fact]
    public async Task HubConnectionReceivesTheSameObjectAsTheRawFrame()
    {
        await using var hub = await HubHost.StartAsync(redis.Configuration);
        await using var raw = await hub.ConnectAsync("/organization/1234");
        await using var json = await SignalRClient.ConnectAsync(hub.BaseUri, "organization.1234");
        await using var messagePack = await SignalRClient.ConnectMessagePackAsync(hub.BaseUri, "organization.1234");

        // The same over SignalR's own transport, which negotiated connections use.
        await using var negotiatedJson = await SignalRClient.ConnectNegotiatedAsync(hub.BaseUri, "organization.1234");
        await using var negotiatedMessagePack = await SignalRClient.ConnectMessagePackNegotiatedAsync(hub.BaseUri, "organization.1234");

        await hub.PostPublishAsync(new { scope = "organization.1234", name = "post.created", record = new { id = 7, title = "Héllo <b>", tags = Tags, score = 1.5, big = long.MaxValue, draft = false, body = (string?)null }, record_type = "Post" });

        var frame = await raw.ReceiveAsync();
        Assert.Equal(frame, await json.ReceiveAsync());
        Assert.Equal(frame, await negotiatedJson.ReceiveAsync());

        // MessagePack carries a map: same keys, same order, same values.
        var expected = JsonDocument.Parse(frame).RootElement;
        foreach (var client in new[] { messagePack, negotiatedMessagePack })
        {
            var fromMessagePack = JsonDocument.Parse(await client.ReceiveAsync()).RootElement;
            Assert.Equal(expected.EnumerateObject().Select(p => p.Name), fromMessagePack.EnumerateObject().Select(p => p.Name));
            Assert.Equal(expected.GetProperty("record").EnumerateObject().Select(p => p.Name), fromMessagePack.GetProperty("record").EnumerateObject().Select(p => p.Name));
            Assert.True(JsonElement.DeepEquals(expected, fromMessagePack), $"{expected} != {fromMessagePack}");
        }
    }

    [Fact]
    public async Task SubscribeAndUnsubscribeChangeWhatAConnectionReceives()
    {
        await using var hub = await HubHost.StartAsync(redis.Configuration);
        await using var client = await SignalRClient.ConnectAsync(hub.BaseUri);

        await client.Connection.InvokeAsync("Subscribe", "organization.1").DefaultTimeout();
        await client.Connection.InvokeAsync("Subscribe", "organization.2").DefaultTimeout();
        await redis.PublishAsync("atr:organization.1", """{"name":"one"}""");
        await redis.PublishAsync("atr:organization.2", """{"name":"two"}""");
        var first = new[] { await client.ReceiveAsync(), await client.ReceiveAsync() }.Order().ToArray();
        Assert.Equal(["""{"name":"one"}""", """{"name":"two"}"""], first);

        await client.Connection.InvokeAsync("Unsubscribe", "organization.1").DefaultTimeout();
        await redis.PublishAsync("atr:organization.1", """{"name":"one.again"}""");
        await redis.PublishAsync("atr:organization.2", """{"name":"two.again"}""");
        Assert.Equal("""{"name":"two.again"}""", await client.ReceiveAsync());
        await client.AssertNothingAsync();
        Assert.Equal(0, await redis.SubscriberCountAsync("atr:organization.1"));
    }

    [Fact]
    public async Task ScopeTheConnectionMayNotHaveIsRefusedWithAHubErrorAndChangesNothing()
    {
        await using var hub = await HubHost.StartAsync(redis.Configuration, o => o.RequestAuthenticator = new OnlyScope("organization.1"));
        await using var client = await SignalRClient.ConnectAsync(hub.BaseUri, "organization.1");

        var refused = await Assert.ThrowsAsync<HubException>(() => client.Connection.InvokeAsync("Subscribe", "organization.2").DefaultTimeout());
        var malformed = await Assert.ThrowsAsync<HubException>(() => client.Connection.InvokeAsync("Subscribe", "organization.*").DefaultTimeout());
        var none = await Assert.ThrowsAsync<HubException>(() => client.Connection.InvokeAsync("Subscribe", (string?)null).DefaultTimeout());

        Assert.Contains("not allowed", refused.Message, StringComparison.Ordinal);
        Assert.Contains("Malformed scope", malformed.Message, StringComparison.Ordinal);
        Assert.Contains("400: Subscribe needs a scope", none.Message, StringComparison.Ordinal);
        Assert.Equal(0, await redis.SubscriberCountAsync("atr:organization.2"));
        await redis.PublishAsync("atr:organization.2", """{"name":"secret"}""");
        await redis.PublishAsync("atr:organization.1", """{"name":"mine"}""");
        Assert.Equal("""{"name":"mine"}""", await client.ReceiveAsync());
        await client.AssertNothingAsync();
    }

    [Fact]
    public async Task ConnectingWithAScopeNotAllowedFails()
    {
        await using var hub = await HubHost.StartAsync(redis.Configuration, o => o.RequestAuthenticator = new OnlyScope("organization.1"));

        var connection = new HubConnectionBuilder().WithUrl(new Uri(hub.BaseUri, "/hub?scope=organization.2")).Build();
        await SignalRClient.AssertRefusedAsync(connection, "scope not allowed");

        Assert.Equal(0, await redis.SubscriberCountAsync("atr:organization.2"));
    }

    [Fact]
    public async Task RawAndSignalRClientsOnTwoNodesEachGetEveryEventOnceInOrder()
    {
        await using var nodeA = await HubHost.StartAsync(redis.Configuration);
        await using var nodeB = await HubHost.StartAsync(redis.Configuration);
        await using var rawA = await nodeA.ConnectAsync("/organization/1234");
        await using var rawB = await nodeB.ConnectAsync("/organization/1234");
        await using var signalRA = await SignalRClient.ConnectAsync(nodeA.BaseUri, "organization.1234");
        await using var signalRB = await SignalRClient.ConnectMessagePackAsync(nodeB.BaseUri, "organization.1234");

        var subscriber = redis.Client.GetSubscriber();
        await Task.WhenAll(Enumerable.Range(0, 1000).Select(i => subscriber.PublishAsync(RedisChannel.Literal("atr:organization.1234"), $$"""{"name":"post.created","seq":{{i}}}"""))).DefaultTimeout();
        await subscriber.PublishAsync(RedisChannel.Literal("atr:organization.1234"), """{"name":"end"}""").DefaultTimeout();

        var receivers = new Func<Task<string>>[] { rawA.ReceiveAsync, rawB.ReceiveAsync, signalRA.ReceiveAsync, signalRB.ReceiveAsync };
        foreach (var receive in receivers)
        {
            for (var i = 0; i < 1000; i++)
            {
                Assert.Equal(i, JsonDocument.Parse(await receive()).RootElement.GetProperty("seq").GetInt32());
            }

            Assert.Equal("end", EventFrame.Name(await receive()));
        }

        await rawA.AssertNothingAsync();
        await signalRB.AssertNothingAsync();
    }

    [Fact]
    public async Task ApplicationGroupSendOnOneNodeReachesASignalRClientOnAnother()
    {
        await using var nodeA = await HubHost.StartAsync(redis.Configuration);
        await using var nodeB = await HubHost.StartAsync(redis.Configuration);
        await using var client = await SignalRClient.ConnectAsync(nodeB.BaseUri, "organization.1234");
        var notices = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        client.Connection.On<string>("notice", text => notices.TrySetResult(text));

        var hubContext = nodeA.Services.GetRequiredService<IHubContext<AtrHub>>();
        await hubContext.Clients.Group("organization.1234").SendAsync("notice", "maintenance at noon").DefaultTimeout();

        Assert.Equal("maintenance at noon", await notices.Task.DefaultTimeout());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task SignalRClientThatStopsReadingIsDroppedWithoutDelayingOthers(bool hubsOwnTransport)
    {
        await using var hub = await HubHost.StartAsync(redis.Configuration, o =>
        {
            o.MaxSendQueueBytes = 256 * 1024;
            o.SignalRDirectWebSockets = hubsOwnTransport;
        });
        await using var raw = await hub.ConnectAsync("/organization/1");
        await using var signalR = await SignalRClient.ConnectAsync(hub.BaseUri, "organization.1");

        // A SignalR client over a bare WebSocket that completes the handshake and then never reads.
        using var stalled = new ClientWebSocket();
        await stalled.ConnectAsync(new Uri($"ws://127.0.0.1:{hub.Port}/hub?scope=organization.1"), CancellationToken.None).DefaultTimeout();
        await stalled.SendAsync(Encoding.UTF8.GetBytes("{\"protocol\":\"json\",\"version\":1}\u001e"), WebSocketMessageType.Text, true, CancellationToken.None).DefaultTimeout();
        await TestTimeouts.UntilAsync(() => hub.Metrics.Connections == 3, "the stalled client is connected");

        var padding = new string('p', 4096);
        var subscriber = redis.Client.GetSubscriber();
        for (var round = 0; round < 120; round++)
        {
            await Task.WhenAll(Enumerable.Range(0, 25).Select(i => subscriber.PublishAsync(RedisChannel.Literal("atr:organization.1"), $$"""{"name":"n","seq":{{(round * 25) + i}},"pad":"{{padding}}"}"""))).DefaultTimeout();
            for (var i = 0; i < 25; i++)
            {
                Assert.Equal((round * 25) + i, JsonDocument.Parse(await raw.ReceiveAsync()).RootElement.GetProperty("seq").GetInt32());
                Assert.Equal((round * 25) + i, JsonDocument.Parse(await signalR.ReceiveAsync()).RootElement.GetProperty("seq").GetInt32());
            }
        }

        await TestTimeouts.UntilAsync(() => hub.Metrics.SlowConsumers == 1, "the stalled SignalR client was dropped");
        await TestTimeouts.UntilAsync(() => hub.Metrics.Connections == 2, "the stalled SignalR client left");
    }

    [Fact]
    public async Task HubCanBeTurnedOff()
    {
        await using var hub = await HubHost.StartAsync(options: o => o.EnableSignalR = false);

        var response = await hub.Http.PostAsync("/hub/negotiate?negotiateVersion=1", null);

        Assert.NotEqual(System.Net.HttpStatusCode.OK, response.StatusCode);
    }

    private sealed class OnlyScope(string allowed) : IRequestAuthenticator
    {
        public ValueTask<bool> MatchesAsync(Microsoft.AspNetCore.Http.HttpContext context, string scope) => ValueTask.FromResult(scope == allowed);
    }
}
