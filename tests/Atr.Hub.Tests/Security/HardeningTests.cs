using System.Text;
using Atr.Hub.Tests.Infrastructure;
using Atr.Testing;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Xunit;

namespace Atr.Hub.Tests.Security;

/// <summary>Odd but legal inputs that must not break a hub: long-lived tokens, hostile payloads, unreachable key sources.</summary>
[Collection(UsesRedis.Name)]
public sealed class HardeningTests(RedisServer redis)
{
    [Fact]
    public async Task TokensValidForMonthsConnectOnBothEndpoints()
    {
        // Past the longest wait a .NET timer takes (about 49.7 days).
        await using var hub = await HubHost.StartWithJwtAsync();
        var token = TestTokens.Hs256(["organization.1"], expiresIn: TimeSpan.FromDays(90));

        await using var raw = await hub.ConnectAsync("/organization/1?access_token=" + token);
        await using var signalR = await SignalRClient.ConnectWithTokenAsync(hub.BaseUri, token, "organization.1");
        await hub.PostPublishAsync(TestTokens.Hs256(publish: true), new { scope = "organization.1", name = "still.here" });

        Assert.Contains("still.here", await raw.ReceiveAsync(), StringComparison.Ordinal);
        Assert.Contains("still.here", await signalR.ReceiveAsync(), StringComparison.Ordinal);
        Assert.Equal(2, hub.Metrics.Connections);
    }

    [Fact]
    public async Task EventWithALoneSurrogateDoesNotDisconnectMessagePackClients()
    {
        await using var hub = await HubHost.StartAsync(redis.Configuration);
        await using var messagePack = await SignalRClient.ConnectMessagePackAsync(hub.BaseUri, "organization.1");
        await using var raw = await hub.ConnectAsync("/organization/1");

        await redis.PublishAsync("atr:organization.1", """{"name":"odd","record":"\uD800"}""");
        await redis.PublishAsync("atr:organization.1", """{"name":"after"}""");

        Assert.Equal("odd", EventFrame.Name(await raw.ReceiveAsync()));
        Assert.Equal("after", EventFrame.Name(await raw.ReceiveAsync()));
        Assert.Equal("odd", EventFrame.Name(await messagePack.ReceiveAsync()));
        Assert.Equal("after", EventFrame.Name(await messagePack.ReceiveAsync()));
        Assert.Equal(HubConnectionState.Connected, messagePack.Connection.State);
    }

    [Fact]
    public async Task PayloadThatIsNotUtf8IsDroppedBeforeItReachesABrowser()
    {
        await using var hub = await HubHost.StartAsync(redis.Configuration);
        await using var client = await hub.ConnectAsync("/organization/1");
        var invalid = Encoding.UTF8.GetBytes("""{"name":"bad","record":"x"}""");
        invalid[^3] = 0xFF;

        await redis.PublishAsync("atr:organization.1", invalid);
        await redis.PublishAsync("atr:organization.1", """{"name":"good"}""");

        Assert.Equal("""{"name":"good"}""", await client.ReceiveAsync());
        await TestTimeouts.UntilAsync(() => hub.Metrics.PayloadsDropped == 1, "the payload is counted as dropped");
    }

    [Fact]
    public async Task EventLargerThanASendQueueIsDroppedInsteadOfClosingTheScopesClients()
    {
        await using var hub = await HubHost.StartAsync(redis.Configuration, o => o.MaxSendQueueBytes = 64 * 1024);
        await using var one = await hub.ConnectAsync("/organization/1");
        await using var two = await hub.ConnectAsync("/organization/1");
        var huge = $$"""{"name":"huge","pad":"{{new string('p', 100 * 1024)}}"}""";

        await redis.PublishAsync("atr:organization.1", huge);
        await redis.PublishAsync("atr:organization.1", """{"name":"after"}""");

        // Delivered, it would close every client with a frame still queued as a slow consumer.
        Assert.Equal("""{"name":"after"}""", await one.ReceiveAsync());
        Assert.Equal("""{"name":"after"}""", await two.ReceiveAsync());
        await TestTimeouts.UntilAsync(() => hub.Metrics.PayloadsDropped == 1, "the payload is counted as dropped");
        Assert.Equal(0, hub.Metrics.SlowConsumers);
    }

    [Fact]
    public async Task UnreachableAuthorityAnswers503AndNot500()
    {
        var port = LoopbackPort.Free();
        await using var hub = await HubHost.StartAsync(options: o => o.JwtAuthority = $"http://127.0.0.1:{port}");

        var response = await RawHttp.HandshakeAsync(hub.Port, "/organization/1?access_token=" + TestTokens.Hs256(["organization.1"]));

        Assert.Equal(503, response.Status);
        Assert.Contains("cannot be fetched", response.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AConnectionListensToABoundedNumberOfScopes()
    {
        await using var hub = await HubHost.StartAsync(options: o => o.MaxScopesPerConnection = 3);
        await using var client = await SignalRClient.ConnectAsync(hub.BaseUri, "organization.1", "organization.2", "organization.3");

        var error = await Assert.ThrowsAsync<HubException>(() => client.Connection.InvokeAsync("Subscribe", "organization.4").DefaultTimeout());
        await client.Connection.InvokeAsync("Unsubscribe", "organization.1").DefaultTimeout();
        await client.Connection.InvokeAsync("Subscribe", "organization.4").DefaultTimeout();

        Assert.Contains("429", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnusableKeyFileStopsTheStartWithTheReason()
    {
        var file = Path.Combine(Path.GetTempPath(), $"atr-not-a-key-{Guid.NewGuid():N}.pem");
        await File.WriteAllTextAsync(file, "this is not a key");

        var (exitCode, output) = await AtrServerProcess.RunAsync("start", "--server-port", "0", "--jwt-public-key-file", file);

        Assert.Equal(2, exitCode);
        Assert.Contains("JWT key cannot be used", output, StringComparison.Ordinal);
    }
}
