using System.Net;
using System.Text;
using System.Text.Json;
using Atr.Hub.Tests.Infrastructure;
using Atr.Hub.Tests.Security;
using Atr.Testing;
using Microsoft.AspNetCore.SignalR.Client;
using StackExchange.Redis;
using Xunit;
using Xunit.Abstractions;

namespace Atr.Hub.Tests.History;

/// <summary>A client that reconnects with the id of the last event it has misses nothing the history holds.</summary>
[Collection(UsesRedis.Name)]
public sealed class HistoryTests(RedisServer redis, ITestOutputHelper output)
{
    [Fact]
    public async Task AClientBackOnAnotherNodeWithSinceGetsExactlyWhatItMissedByteForByteThenLiveEvents()
    {
        var scope = UniqueScope();
        await using var a = await HubHost.StartAsync(redis.Configuration);
        await using var b = await HubHost.StartAsync(redis.Configuration);
        await using var reference = await b.ConnectAsync(Path(scope));
        var leaving = await a.ConnectAsync(Path(scope));

        await PublishAsync(a, scope, 0, 5);
        var held = await leaving.ReceiveAsync(5);
        await leaving.DisposeAsync();
        await PublishAsync(a, scope, 5, 7);
        var all = await reference.ReceiveAsync(12);

        await using var back = await b.ConnectAsync($"{Path(scope)}?since={Id(held[^1])}");
        Assert.Equal(all[5..], await back.ReceiveAsync(7));

        await PublishAsync(b, scope, 12, 1);
        Assert.Equal(await reference.ReceiveAsync(), await back.ReceiveAsync());
        await back.AssertNothingAsync();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task RecoveriesRacingAPublisherHaveNoGapAndNoDuplicate(bool onRedis)
    {
        var scope = UniqueScope();
        await using var hub = await HubHost.StartAsync(onRedis ? redis.Configuration : null);
        await using var reference = await hub.ConnectAsync(Path(scope));
        const int Events = 300;
        var random = new Random(20261207);

        // An event every few milliseconds; twenty clients come back meanwhile, each with the id of an
        // event the reference client already holds.
        var publishing = Task.Run(async () =>
        {
            for (var seq = 0; seq < Events; seq++)
            {
                await PublishAsync(hub, scope, seq, 1);
                await Task.Delay(3);
            }
        });
        var seen = new List<string>();
        var recovering = new List<(string Since, WsClient Client)>();
        while (seen.Count < Events)
        {
            seen.Add(await reference.ReceiveAsync());
            if (recovering.Count < 20 && seen.Count > 10 && seen.Count < Events - 20 && random.Next(8) == 0)
            {
                var since = Id(seen[^(1 + random.Next(Math.Min(seen.Count, 40)))]);
                recovering.Add((since, await hub.ConnectAsync($"{Path(scope)}?since={since}")));
            }
        }

        await publishing.DefaultTimeout();
        try
        {
            Assert.Equal(20, recovering.Count);
            foreach (var (since, client) in recovering)
            {
                var expected = seen[(seen.FindIndex(frame => Id(frame) == since) + 1)..];
                Assert.Equal(expected, await client.ReceiveAsync(expected.Count));
            }

            // Nothing more for any of them: one bounded wait for all.
            await Task.WhenAll(recovering.Select(r => r.Client.AssertNothingAsync()));
        }
        finally
        {
            foreach (var (_, client) in recovering)
            {
                await client.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task AnUnknownSinceGetsResyncFirstThenLiveEventsAndAMalformedOneIs400()
    {
        var scope = UniqueScope();
        await using var hub = await HubHost.StartAsync(redis.Configuration);

        await using var client = await hub.ConnectAsync($"{Path(scope)}?since={new string('a', 32)}");
        await PublishAsync(hub, scope, 0, 1);
        var malformed = await RawHttp.HandshakeAsync(hub.Port, $"{Path(scope)}?since=ABC");

        var resync = JsonDocument.Parse(await client.ReceiveAsync()).RootElement;
        Assert.Equal("atr.resync", resync.GetProperty("name").GetString());
        Assert.Equal("history_unavailable", resync.GetProperty("reason").GetString());
        Assert.Equal(scope, resync.GetProperty("scope").GetString());
        Assert.Equal(0, Seq(await client.ReceiveAsync()));
        Assert.Equal(400, malformed.Status);
        Assert.Contains("since", malformed.Body, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task SignalRSubscribeSinceGetsTheSameEventsAsTheRawClient(bool messagePack)
    {
        var scope = UniqueScope();
        await using var hub = await HubHost.StartAsync(redis.Configuration);
        await using var raw = await hub.ConnectAsync(Path(scope));
        await PublishAsync(hub, scope, 0, 6);
        var frames = await raw.ReceiveAsync(6);

        await using var signalR = messagePack ? await SignalRClient.ConnectMessagePackAsync(hub.BaseUri) : await SignalRClient.ConnectAsync(hub.BaseUri);
        await signalR.Connection.InvokeAsync("SubscribeSince", scope, Id(frames[1])).DefaultTimeout();
        await PublishAsync(hub, scope, 6, 1);
        var live = await raw.ReceiveAsync();

        foreach (var expected in frames[2..].Append(live))
        {
            // The same object, key for key (MessagePack's map, re-encoded by the test client, may escape differently).
            var received = await signalR.ReceiveAsync();
            Assert.True(JsonElement.DeepEquals(JsonDocument.Parse(expected).RootElement, JsonDocument.Parse(received).RootElement), $"expected {expected}, got {received}");
        }

        await signalR.AssertNothingAsync();
    }

    [Fact]
    public async Task GetHistoryAnswersTheEventsAfterSinceAsListeningIsAuthorized()
    {
        var scope = UniqueScope();
        await using var hub = await HubHost.StartAsync(redis.Configuration, o => o.JwtKey = TestTokens.Key);
        var token = TestTokens.Hs256([scope], publish: true);
        await using var raw = await hub.ConnectAsync($"{Path(scope)}?access_token={token}");
        for (var seq = 0; seq < 5; seq++)
        {
            await hub.PostPublishAsync(token, new { scope, name = "history.tick", record = new { seq } });
        }

        var frames = await raw.ReceiveAsync(5);
        var all = await GetAsync(hub, $"/history?scope={scope}&access_token={token}");
        var after = await GetAsync(hub, $"/history?scope={scope}&since={Id(frames[1])}&access_token={token}");
        var limited = await GetAsync(hub, $"/history?scope={scope}&since={Id(frames[1])}&limit=2&access_token={token}");
        var last = await GetAsync(hub, $"/history?scope={scope}&limit=2&access_token={token}");
        var gone = await GetAsync(hub, $"/history?scope={scope}&since={new string('b', 32)}&access_token={token}");
        var anonymous = await GetAsync(hub, $"/history?scope={scope}");
        var otherScope = await GetAsync(hub, $"/history?scope={scope}&access_token={TestTokens.Hs256(["organization.999"])}");

        Assert.Equal((HttpStatusCode.OK, "[" + string.Join(",", frames) + "]"), all);
        Assert.Equal((HttpStatusCode.OK, "[" + string.Join(",", frames[2..]) + "]"), after);
        Assert.Equal((HttpStatusCode.OK, "[" + string.Join(",", frames[2..4]) + "]"), limited);
        Assert.Equal((HttpStatusCode.OK, "[" + string.Join(",", frames[3..]) + "]"), last);
        Assert.Equal(HttpStatusCode.Gone, gone.Status);
        Assert.Contains("does not hold", gone.Body, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.Status);
        Assert.Equal(HttpStatusCode.Forbidden, otherScope.Status);
    }

    [Fact]
    public async Task TheHistoryKeepsAboutItsSizeAndExpiresAfterItsTtl()
    {
        var scope = UniqueScope();
        await using var hub = await HubHost.StartAsync(redis.Configuration, o =>
        {
            o.HistorySize = 50;
            o.HistoryTtl = TimeSpan.FromSeconds(2);
        });

        for (var batch = 0; batch < 10; batch++)
        {
            using var response = await hub.PostPublishAsync(Enumerable.Range(0, 50).Select(i => new { scope, name = "history.tick", record = new { seq = (batch * 50) + i } }).ToArray());
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }

        var database = redis.Client.GetDatabase();
        var key = "atr:" + scope;
        var length = await database.StreamLengthAsync(key);
        var ttl = await database.KeyTimeToLiveAsync(key);
        output.WriteLine($"XLEN {length} after 500 events, history size 50; PTTL {ttl?.TotalMilliseconds} ms");

        // MAXLEN ~ trims by whole nodes of the stream (100 entries by default): near the size, never the whole stream.
        Assert.InRange(length, 50, 150);
        Assert.NotNull(ttl);
        Assert.InRange(ttl.Value, TimeSpan.FromMilliseconds(1), TimeSpan.FromSeconds(2));
        await TestTimeouts.UntilAsync(async () => !await database.KeyExistsAsync(key), "the history expires after its TTL");
    }

    private static async Task<(HttpStatusCode Status, string Body)> GetAsync(HubHost hub, string path)
    {
        using var response = await hub.Http.GetAsync(path);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>Publishes <paramref name="count"/> events numbered from <paramref name="first"/> through <c>POST /publish</c>, in one request.</summary>
    internal static async Task PublishAsync(HubHost hub, string scope, int first, int count)
    {
        using var response = await hub.PostPublishAsync(Enumerable.Range(first, count).Select(seq => new { scope, name = "history.tick", record = new { seq } }).ToArray());
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }

    internal static string UniqueScope() => "organization." + Guid.NewGuid().ToString("N")[..12];

    internal static string Path(string scope) => "/" + scope.Replace('.', '/');

    internal static string Id(string frame) => JsonDocument.Parse(frame).RootElement.GetProperty("id").GetString()!;

    internal static int Seq(string frame) => JsonDocument.Parse(frame).RootElement.GetProperty("record").GetProperty("seq").GetInt32();
}
