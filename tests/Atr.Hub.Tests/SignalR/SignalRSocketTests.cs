using System.Net.WebSockets;
using System.Text;
using Atr.Hub.SignalR;
using Atr.Hub.Tests.Infrastructure;
using Atr.Testing;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Xunit;

namespace Atr.Hub.Tests.SignalR;

/// <summary>
/// The hub's own WebSocket transport for SignalR clients that skip negotiation: the same protocol and
/// events as SignalR's transport, with SignalR's keep-alive, client timeout and shutdown on the node's clock.
/// (Every other SignalR test connects this way too, through <see cref="SignalRClient.ConnectAsync"/>.)
/// </summary>
public sealed class SignalRSocketTests
{
    private const string Separator = "\u001e";
    private const string JsonHandshake = """{"protocol":"json","version":1}""" + Separator;

    [Fact]
    public async Task ClientThatSkipsNegotiationIsCarriedByTheHubsTransportAndGetsWhatANegotiatedOneGets()
    {
        await using var hub = await HubHost.StartAsync();
        var sockets = hub.Services.GetRequiredService<SignalRSockets>();
        await using var raw = await hub.ConnectAsync("/organization/1");
        await using var negotiated = await SignalRClient.ConnectNegotiatedAsync(hub.BaseUri, "organization.1");
        Assert.Equal(0, sockets.Count);
        var direct = await SignalRClient.ConnectAsync(hub.BaseUri, "organization.1");
        Assert.Equal(1, sockets.Count);

        await hub.PostPublishAsync(new { scope = "organization.1", name = "post.created", record = new { id = 7, title = "Héllo" }, record_type = "Post" });

        var frame = await raw.ReceiveAsync();
        Assert.Equal(frame, await direct.ReceiveAsync());
        Assert.Equal(frame, await negotiated.ReceiveAsync());

        await direct.DisposeAsync();
        await TestTimeouts.UntilAsync(() => sockets.Count == 0, "the direct connection left the transport");
        await TestTimeouts.UntilAsync(() => hub.Metrics.Connections == 2, "the direct connection was counted out");
    }

    [Fact]
    public async Task TurnedOffTheHubsTransportLeavesSuchClientsToSignalRs()
    {
        await using var hub = await HubHost.StartAsync(options: o => o.SignalRDirectWebSockets = false);
        await using var direct = await SignalRClient.ConnectAsync(hub.BaseUri, "organization.1");

        await hub.PostPublishAsync(new { scope = "organization.1", name = "post.created" });

        Assert.Contains("post.created", await direct.ReceiveAsync(), StringComparison.Ordinal);
        Assert.Equal(0, hub.Services.GetRequiredService<SignalRSockets>().Count);
    }

    [Fact]
    public async Task JsonTravelsInTextMessagesAndMessagePackInBinaryOnes()
    {
        await using var hub = await HubHost.StartAsync();
        using var json = new ClientWebSocket();
        using var messagePack = new ClientWebSocket();
        await json.ConnectAsync(hub.WebSocketUri("/hub?scope=organization.1"), CancellationToken.None).DefaultTimeout();
        await messagePack.ConnectAsync(hub.WebSocketUri("/hub?scope=organization.1"), CancellationToken.None).DefaultTimeout();

        await SendAsync(json, JsonHandshake);
        await SendAsync(messagePack, """{"protocol":"messagepack","version":1}""" + Separator);

        Assert.Equal((WebSocketMessageType.Text, "{}" + Separator), await ReceiveAsync(json));
        Assert.Equal(WebSocketMessageType.Binary, (await ReceiveAsync(messagePack)).Type);

        // The scope of ?scope= is subscribed once the hub's OnConnectedAsync has run: publish until the event comes.
        var received = ReceiveAsync(json);
        await TestTimeouts.UntilAsync(
            async () =>
            {
                await hub.PostPublishAsync(new { scope = "organization.1", name = "post.created" });
                return received.IsCompleted;
            },
            "an event reached the JSON client");
        var (type, text) = await received;
        Assert.Equal(WebSocketMessageType.Text, type);
        Assert.StartsWith("""{"type":1,"target":"event","arguments":[{""", text, StringComparison.Ordinal);
        Assert.EndsWith("]}" + Separator, text, StringComparison.Ordinal);
        Assert.Equal(WebSocketMessageType.Binary, (await ReceiveAsync(messagePack)).Type);
    }

    [Fact]
    public async Task QuietConnectionIsPingedOnTheNodesHeartbeat()
    {
        await using var hub = await HubHost.StartAsync(configure: b => b.Services.Configure<HubOptions>(o => o.KeepAliveInterval = TimeSpan.FromSeconds(1)));
        await using var client = await WsClient.ConnectAsync(hub.WebSocketUri("/hub"));
        await client.SendTextAsync(JsonHandshake);
        Assert.Equal("{}" + Separator, await client.ReceiveAsync());

        Assert.Equal("""{"type":6}""" + Separator, await client.ReceiveAsync());
        Assert.Equal("""{"type":6}""" + Separator, await client.ReceiveAsync());
        Assert.Equal(1, hub.Services.GetRequiredService<SignalRSockets>().Count);
    }

    [Fact]
    public async Task ClientThatFallsSilentIsClosedAfterSignalRsClientTimeout()
    {
        await using var hub = await HubHost.StartAsync(configure: b => b.Services.Configure<HubOptions>(o =>
        {
            o.KeepAliveInterval = TimeSpan.FromSeconds(1);
            o.ClientTimeoutInterval = TimeSpan.FromSeconds(2);
        }));
        var sockets = hub.Services.GetRequiredService<SignalRSockets>();
        await using var client = await WsClient.ConnectAsync(hub.WebSocketUri("/hub"));
        await client.SendTextAsync(JsonHandshake);
        Assert.Equal("{}" + Separator, await client.ReceiveAsync());

        // One ping starts the client's timeout; then nothing more.
        await client.SendTextAsync("""{"type":6}""" + Separator);

        var close = await NextCloseMessageAsync(client);
        Assert.Contains("\"error\":\"Connection closed with an error.\"", close, StringComparison.Ordinal);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, await client.Closed.DefaultTimeout());
        await TestTimeouts.UntilAsync(() => sockets.Count == 0, "the silent connection was removed");
    }

    [Fact]
    public async Task StoppingNodeEndsItsConnectionsWithAReconnectAllowedAnd1001()
    {
        await using var hub = await HubHost.StartAsync();
        await using var client = await WsClient.ConnectAsync(hub.WebSocketUri("/hub?scope=organization.1"));
        await client.SendTextAsync(JsonHandshake);
        Assert.Equal("{}" + Separator, await client.ReceiveAsync());

        var stopping = hub.App.StopAsync();

        Assert.Equal("""{"type":7,"allowReconnect":true}""" + Separator, await NextCloseMessageAsync(client));
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, await client.Closed.DefaultTimeout());
        await stopping.DefaultTimeout();
    }

    [Fact]
    public async Task ClientThatStopsReadingHoldsTheNodesStopUpForItsCloseTimeoutNotTheHostsShutdownTimeout()
    {
        // The host would wait 5 minutes for its requests: the stop must not.
        await using var hub = await HubHost.StartAsync(
            options: o =>
            {
                o.MaxSendQueueBytes = 256L * 1024 * 1024;
                o.SlowConsumerGrace = TimeSpan.FromMinutes(10);
                o.CloseTimeout = TimeSpan.FromSeconds(1);
            },
            configure: b => b.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromMinutes(5)));
        var sockets = hub.Services.GetRequiredService<SignalRSockets>();
        using var stalled = await StalledClient.ConnectAsync(hub.WebSocketUri("/hub?scope=organization.1"));
        await stalled.SendAsync(Encoding.UTF8.GetBytes(JsonHandshake), WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None).DefaultTimeout();
        await TestTimeouts.UntilAsync(() => hub.Metrics.SignalRConnections == 1, "the stalled client connected");

        // Events until the hub's send to it waits for the client and the next ones queue behind it.
        var pad = new string('p', 16 * 1024);
        await TestTimeouts.UntilAsync(
            async () =>
            {
                await hub.PostPublishAsync(new { scope = "organization.1", name = "post.created", record = new { pad } });
                return hub.Metrics.QueuedBytes > 0;
            },
            "a send to the stalled client waits");

        await hub.App.StopAsync().DefaultTimeout();

        Assert.Equal(0, sockets.Count);
    }

    [Fact]
    public async Task HubThatFailsClosesWith1011AndTheRequestEndsQuietly()
    {
        var logs = new CapturingLoggerProvider();
        await using var hub = await HubHost.StartAsync(configure: b =>
        {
            b.Services.Configure<HubOptions>(o => o.AddFilter(new FailingDisconnect()));
            b.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Information);
            b.Logging.AddProvider(logs);
        });
        await using var client = await WsClient.ConnectAsync(hub.WebSocketUri("/hub"));
        await client.SendTextAsync(JsonHandshake);
        Assert.Equal("{}" + Separator, await client.ReceiveAsync());

        // The client says goodbye; the hub's OnDisconnectedAsync throws.
        await client.SendTextAsync("""{"type":7}""" + Separator);

        Assert.Equal(WebSocketCloseStatus.InternalServerError, await client.Closed.DefaultTimeout());
        await TestTimeouts.UntilAsync(() => logs.Entries.Any(e => e.Message.StartsWith("Request finished", StringComparison.Ordinal) && e.Values.Contains("/hub", StringComparison.Ordinal)), "the request finished");
        Assert.Equal(0, hub.Services.GetRequiredService<SignalRSockets>().Count);

        // SignalR said what failed; the server saw no unhandled exception of the request.
        Assert.Contains(logs.Entries, e => e.Level == LogLevel.Error && e.Category.StartsWith("Microsoft.AspNetCore.SignalR", StringComparison.Ordinal) && (e.Exception?.Message.Contains("A filter of the application failed.", StringComparison.Ordinal) ?? false));
        Assert.DoesNotContain(logs.Entries, e => e.Level is LogLevel.Error or LogLevel.Critical && e.Category.StartsWith("Microsoft.AspNetCore.Server.Kestrel", StringComparison.Ordinal));
    }

    private static async Task<string> NextCloseMessageAsync(WsClient client)
    {
        while (true)
        {
            var message = await client.ReceiveAsync();
            if (message.StartsWith("""{"type":7""", StringComparison.Ordinal))
            {
                return message;
            }

            Assert.Equal("""{"type":6}""" + Separator, message);
        }
    }

    private sealed class FailingDisconnect : IHubFilter
    {
        public Task OnDisconnectedAsync(HubLifetimeContext context, Exception? exception, Func<HubLifetimeContext, Exception?, Task> next)
            => throw new InvalidOperationException("A filter of the application failed.");
    }

    private static Task SendAsync(ClientWebSocket socket, string text)
        => socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None).DefaultTimeout();

    private static async Task<(WebSocketMessageType Type, string Text)> ReceiveAsync(ClientWebSocket socket)
    {
        var buffer = new byte[16 * 1024];
        var length = 0;
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer.AsMemory(length), CancellationToken.None).AsTask().DefaultTimeout();
            length += result.Count;
            if (result.EndOfMessage)
            {
                return (result.MessageType, Encoding.UTF8.GetString(buffer, 0, length));
            }
        }
    }
}
