using Atr.Hub.Tests.Infrastructure;
using Atr.Testing;
using Xunit;

namespace Atr.Hub.Tests;

/// <summary>Redis reconnections are counted on the meter; a Redis of its own, since the test cuts its connections.</summary>
public sealed class BackplaneMetricsTests : IAsyncLifetime
{
    private readonly RedisServer _redis = new();

    public Task InitializeAsync() => _redis.InitializeAsync();

    public Task DisposeAsync() => _redis.DisposeAsync();

    [Fact]
    public async Task ReconnectOfTheSubscriberConnectionIsCounted()
    {
        await using var hub = await HubHost.StartAsync(_redis.Configuration);
        await using var client = await hub.ConnectAsync("/organization/1");
        Assert.Equal(0, hub.Metrics.BackplaneReconnects);

        var killed = await _redis.Client.GetServer(_redis.Configuration).ExecuteAsync("CLIENT", "KILL", "TYPE", "pubsub");
        Assert.True((long)killed! >= 1);

        await TestTimeouts.UntilAsync(() => hub.Metrics.BackplaneReconnects >= 1, "the restored connection was counted");

        // The node's own connection came back, and with it the scope's events.
        await TestTimeouts.UntilAsync(async () => await _redis.SubscriberCountAsync("atr:organization.1") == 1, "the scope is subscribed again");
        await _redis.PublishAsync("atr:organization.1", """{"name":"after.kill"}""");
        var names = new[] { await client.ReceiveAsync(), await client.ReceiveAsync() }
            .Select(f => System.Text.Json.JsonDocument.Parse(f).RootElement.GetProperty("name").GetString()).Order();
        Assert.Equal(["after.kill", "atr.resync"], names);
    }
}
