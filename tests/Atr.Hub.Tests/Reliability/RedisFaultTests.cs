using System.Diagnostics;
using System.Net.WebSockets;
using System.Text.Json;
using Atr.Hub.Tests.Infrastructure;
using Atr.Testing;
using Microsoft.Extensions.Logging;
using Xunit;
using Xunit.Abstractions;

namespace Atr.Hub.Tests.Reliability;

/// <summary>A node outlives Redis crashing, restarting and cutting its subscriber, with its clients still connected.</summary>
public sealed class RedisFaultTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly RedisServer _redis = new();

    public Task InitializeAsync() => _redis.InitializeAsync();

    public Task DisposeAsync() => _redis.DisposeAsync();

    [Fact]
    public async Task NodeResubscribesEveryScopeAfterRedisCrashesAndRestarts()
    {
        await using var hub = await HubHost.StartAsync(_redis.Configuration);
        await using var raw = await hub.ConnectAsync("/organization/1");
        await using var signalR = await SignalRClient.ConnectAsync(hub.BaseUri, "organization.2");
        await TestTimeouts.UntilAsync(async () => await hub.ReadinessAsync() == 200, "the node is ready");

        // An event each scope's clients hold, recorded in a history that Redis, restarted without
        // persistence, then no longer has: the node cannot tell what its clients missed.
        await hub.PostPublishAsync(new object[] { new { scope = "organization.1", name = "before.crash" }, new { scope = "organization.2", name = "before.crash" } });
        Assert.Equal("before.crash", EventFrame.Name(await raw.ReceiveAsync()));
        Assert.Equal("before.crash", EventFrame.Name(await signalR.ReceiveAsync()));

        for (var cycle = 0; cycle < 3; cycle++)
        {
            await _redis.CrashAsync();
            await TestTimeouts.UntilAsync(async () => await hub.ReadinessAsync() == 503, "the node reports itself not ready");

            await _redis.RestartAsync();
            var back = Stopwatch.StartNew();
            await TestTimeouts.UntilAsync(
                async () => await _redis.SubscriberCountAsync("atr:organization.1") == 1 && await _redis.SubscriberCountAsync("atr:organization.2") == 1,
                "both scopes are subscribed again");
            output.WriteLine($"cycle {cycle}: resubscribed {back.ElapsedMilliseconds} ms after Redis accepted connections");
            await TestTimeouts.UntilAsync(async () => await hub.ReadinessAsync() == 200, "the node is ready again");

            await _redis.PublishAsync("atr:organization.1", $$"""{"name":"after.restart","cycle":{{cycle}}}""");
            await _redis.PublishAsync("atr:organization.2", $$"""{"name":"after.restart","cycle":{{cycle}}}""");

            // Each client hears that events may have been missed, and gets what came after.
            foreach (var receive in new Func<Task<string>>[] { raw.ReceiveAsync, signalR.ReceiveAsync })
            {
                var frames = new[] { JsonDocument.Parse(await receive()).RootElement, JsonDocument.Parse(await receive()).RootElement };
                Assert.Equal(["after.restart", "atr.resync"], frames.Select(f => f.GetProperty("name").GetString()).Order());
                Assert.Equal(cycle, frames.Single(f => f.GetProperty("name").GetString() == "after.restart").GetProperty("cycle").GetInt32());
                Assert.Equal("backplane_interrupted", frames.Single(f => f.GetProperty("name").GetString() == "atr.resync").GetProperty("reason").GetString());
            }
        }

        // The clients' sockets stayed open through every outage.
        Assert.Equal(WebSocketState.Open, raw.Socket.State);
        Assert.Equal(2, hub.Metrics.Connections);
        Assert.Equal(2, hub.Metrics.ConnectionsOpened);
    }

    [Fact]
    public async Task NodeResubscribesAfterRedisCutsItsPubSubConnection()
    {
        await using var hub = await HubHost.StartAsync(_redis.Configuration);
        await using var raw = await hub.ConnectAsync("/organization/1");
        Assert.Equal(0, hub.Metrics.BackplaneReconnects);

        var killed = await _redis.Client.GetServer(_redis.Configuration).ExecuteAsync("CLIENT", "KILL", "TYPE", "pubsub");
        Assert.True((long)killed! >= 1);

        // The reconnect is counted on the meter.
        await TestTimeouts.UntilAsync(() => hub.Metrics.BackplaneReconnects >= 1, "the restored connection was counted");
        await TestTimeouts.UntilAsync(async () => await _redis.SubscriberCountAsync("atr:organization.1") == 1, "the scope is subscribed again");
        await _redis.PublishAsync("atr:organization.1", """{"name":"after.kill"}""");

        // Redis kept the scope's history, which shows nothing was missed: no atr.resync.
        Assert.Equal("after.kill", EventFrame.Name(await raw.ReceiveAsync()));
        await raw.AssertNothingAsync();
        Assert.Equal(WebSocketState.Open, raw.Socket.State);
    }

    [Fact]
    public async Task NodeStartsWithoutRedisServesItsOwnClientsAndJoinsWhenRedisAppears()
    {
        var absent = RedisServer.NotYetStarted();
        try
        {
            await using var hub = await HubHost.StartAsync(absent.Configuration);
            var down = Stopwatch.StartNew();

            // Alive, not ready, and still serving: a client is accepted and gets what is published to this node.
            Assert.Equal(200, (int)(await hub.Http.GetAsync("/health/live")).StatusCode);
            await using var client = await hub.ConnectAsync("/organization/1");
            var accepted = await hub.PostPublishAsync(new { scope = "organization.1", name = "in.node" });
            Assert.Equal(202, (int)accepted.StatusCode);
            Assert.Equal("node", JsonDocument.Parse(await accepted.Content.ReadAsStringAsync()).RootElement.GetProperty("reach").GetString());
            Assert.Equal("in.node", EventFrame.Name(await client.ReceiveAsync()));

            // Redis stays away for 10 s; the node reports itself not ready the whole time.
            while (down.Elapsed < TimeSpan.FromSeconds(10))
            {
                Assert.Equal(503, await hub.ReadinessAsync());
                await Task.Delay(250);
            }

            await absent.RestartAsync();
            var appeared = Stopwatch.StartNew();
            await TestTimeouts.UntilAsync(async () => await hub.ReadinessAsync() == 200, "the node is ready once Redis appears");
            output.WriteLine($"ready {appeared.ElapsedMilliseconds} ms after Redis accepted connections");
            Assert.InRange(appeared.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(2));
            Assert.Equal(1, await absent.SubscriberCountAsync("atr:organization.1"));

            // The client accepted during the outage hears that it may have missed events, then gets the rest.
            Assert.Equal("atr.resync", EventFrame.Name(await client.ReceiveAsync()));
            await absent.PublishAsync("atr:organization.1", """{"name":"at.last"}""");
            Assert.Equal("at.last", EventFrame.Name(await client.ReceiveAsync()));
        }
        finally
        {
            await absent.DisposeAsync();
        }
    }

    [Fact]
    public async Task AnUnreachableRedisIsSaidAtStartAndTheRegistryAnswers503AtOnceInOneLine()
    {
        var closed = RedisServer.NotYetStarted();
        using var logs = new CapturingLoggerProvider();
        await using var hub = await HubHost.StartAsync(closed.Configuration, configure: builder => builder.Logging.AddProvider(logs));
        var started = Stopwatch.StartNew();

        // The start log names the address and the problem, and what the node does meanwhile.
        await TestTimeouts.UntilAsync(() => logs.Entries.Any(IsUnreachable), "the node logs that Redis is unreachable");
        output.WriteLine($"said after {started.ElapsedMilliseconds} ms: {logs.Entries.First(IsUnreachable).Message}");
        Assert.InRange(started.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(2));
        var said = logs.Entries.First(IsUnreachable);
        Assert.Equal(LogLevel.Warning, said.Level);
        Assert.Contains(closed.Configuration, said.Message, StringComparison.Ordinal);
        Assert.Contains("accepts clients", said.Message, StringComparison.Ordinal);

        // Once the node knows, a read of Redis fails fast with one short line, not the client library's
        // dump. (The first request of the client is made first: its connection and the server's first
        // request are no part of the answer's time.)
        (await hub.Http.GetAsync("/health/live")).Dispose();
        var asked = Stopwatch.StartNew();
        using var response = await hub.Http.GetAsync("/channels");
        var answeredIn = asked.Elapsed;
        var detail = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("detail").GetString()!;
        output.WriteLine($"/channels answered {(int)response.StatusCode} in {answeredIn.TotalMilliseconds:F0} ms: {detail}");

        Assert.Equal(503, (int)response.StatusCode);
        Assert.InRange(answeredIn, TimeSpan.Zero, TimeSpan.FromSeconds(1));
        Assert.InRange(detail.Length, 1, 199);
        Assert.DoesNotContain('\n', detail);
        Assert.Contains(closed.Configuration, detail, StringComparison.Ordinal);

        // Said once, not at every reconnect attempt.
        Assert.Single(logs.Entries, IsUnreachable);

        static bool IsUnreachable(CapturingLoggerProvider.Entry entry) => entry.Message.Contains("is unreachable", StringComparison.Ordinal);
    }

    [Fact]
    public async Task DuringAnOutageThisNodesPublishesStillReachItsClients()
    {
        await using var hub = await HubHost.StartAsync(_redis.Configuration);
        await using var client = await hub.ConnectAsync("/organization/1");
        await TestTimeouts.UntilAsync(async () => await hub.ReadinessAsync() == 200, "the node is ready");

        await _redis.CrashAsync();
        await TestTimeouts.UntilAsync(async () => await hub.ReadinessAsync() == 503, "the node reports itself not ready");
        var response = await hub.PostPublishAsync(new { scope = "organization.1", name = "during.outage" });
        Assert.Equal(202, (int)response.StatusCode);
        Assert.Equal("node", JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("reach").GetString());
        Assert.Equal("during.outage", EventFrame.Name(await client.ReceiveAsync()));

        // Nothing reached Redis while it was down, so the client missed nothing: no atr.resync.
        await _redis.RestartAsync();
        await TestTimeouts.UntilAsync(async () => await hub.ReadinessAsync() == 200, "the node is ready again");
        var after = await hub.PostPublishAsync(new { scope = "organization.1", name = "after.outage" });
        Assert.Equal("all", JsonDocument.Parse(await after.Content.ReadAsStringAsync()).RootElement.GetProperty("reach").GetString());
        Assert.Equal("after.outage", EventFrame.Name(await client.ReceiveAsync()));
        await client.AssertNothingAsync();
    }

    [Fact]
    public async Task LivenessAndReadinessFollowTheHealthCheckConventions()
    {
        await using var hub = await HubHost.StartAsync(_redis.Configuration);

        // The node connects to Redis as it starts, before any client asks for a scope.
        await TestTimeouts.UntilAsync(async () => await hub.ReadinessAsync() == 200, "the node is ready");
        var live = await hub.Http.GetAsync("/health/live");

        Assert.Equal(200, (int)live.StatusCode);
        Assert.Equal("Healthy", await live.Content.ReadAsStringAsync());

        await _redis.CrashAsync();
        await TestTimeouts.UntilAsync(async () => await hub.ReadinessAsync() == 503, "the node reports itself not ready");
        Assert.Equal(200, (int)(await hub.Http.GetAsync("/health/live")).StatusCode);
        Assert.Equal("Unhealthy", await (await hub.Http.GetAsync("/health/ready")).Content.ReadAsStringAsync());
    }
}
