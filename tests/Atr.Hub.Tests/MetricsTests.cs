using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Atr.Hub.Tests.Infrastructure;
using Atr.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Xunit;

namespace Atr.Hub.Tests;

/// <summary>The hub's metrics as Prometheus scrapes them from <c>GET /metrics</c>.</summary>
[Collection(UsesRedis.Name)]
public sealed partial class MetricsTests(RedisServer redis)
{
    [Fact]
    public async Task MetricsEndpointCountsEveryDeliveredFrameAndConnectionsByEndpoint()
    {
        const int rawClients = 5;
        const int signalRClients = 3;

        // Its own process: a scrape then sees this hub's meter alone, as in production.
        await using var server = AtrServerProcess.Start(["start", "--server-port", "0", "--redis", redis.Configuration]);
        var baseUri = await server.ListeningAsync();
        Assert.Contains($"metrics:   GET {baseUri.ToString().TrimEnd('/')}/metrics", server.Output, StringComparison.Ordinal);

        var raw = new List<WsClient>();
        var signalR = new List<SignalRClient>();
        try
        {
            for (var i = 0; i < rawClients; i++)
            {
                raw.Add(await WsClient.ConnectAsync(server.WebSocketUri("/organization/1234")));
            }

            for (var i = 0; i < signalRClients; i++)
            {
                signalR.Add(await SignalRClient.ConnectAsync(baseUri, "organization.1234"));
            }

            await redis.PublishAsync("atr:organization.1234", """{"name":"post.created","id":"1"}""");
            await redis.PublishAsync("atr:organization.1234", "not an event");
            foreach (var client in raw)
            {
                Assert.Equal("""{"name":"post.created","id":"1"}""", await client.ReceiveAsync());
            }

            foreach (var client in signalR)
            {
                Assert.Equal("""{"name":"post.created","id":"1"}""", await client.ReceiveAsync());
            }

            // Counted once the frames are handed to the sockets; a scrape may be up to 300 ms old.
            var metrics = await ScrapeUntilAsync(server.Http, m => Value(m, "atr_frames_sent_total") == rawClients + signalRClients, "every frame was counted as sent");
            Assert.Equal(rawClients + signalRClients, Value(metrics, "atr_frames_queued_total"));
            Assert.Equal(2, Value(metrics, "atr_events_received_total"));
            Assert.Equal(1, Value(metrics, "atr_events_dropped_total"));
            Assert.Equal(rawClients, Value(metrics, "atr_connections", "endpoint=\"raw\""));
            Assert.Equal(signalRClients, Value(metrics, "atr_connections", "endpoint=\"signalr\""));
            // atr-server upgrades plain handshakes at the connection: every raw client was counted as such.
            Assert.Equal(rawClients, Value(metrics, "atr_connections_opened_total", "upgrade=\"direct\""));
            Assert.Equal(0, Value(metrics, "atr_connections_opened_total", "upgrade=\"http\""));
            Assert.Equal(signalRClients, Value(metrics, "atr_connections_opened_total", "endpoint=\"signalr\""));
            Assert.Equal(0, Value(metrics, "atr_send_queue_size_bytes"));
            Assert.Equal(0, Value(metrics, "atr_connections_slow_consumer_total"));
            Assert.Equal(0, Value(metrics, "atr_backplane_reconnects_total"));
            Assert.Contains("# TYPE atr_frames_sent_total counter", metrics, StringComparison.Ordinal);
            Assert.Contains("# TYPE atr_connections gauge", metrics, StringComparison.Ordinal);
        }
        finally
        {
            foreach (var client in raw)
            {
                await client.DisposeAsync();
            }

            foreach (var client in signalR)
            {
                await client.DisposeAsync();
            }
        }

        // Closed connections leave the gauge, endpoint by endpoint.
        await ScrapeUntilAsync(
            server.Http,
            m => Value(m, "atr_connections", "endpoint=\"raw\"") == 0 && Value(m, "atr_connections", "endpoint=\"signalr\"") == 0,
            "both endpoints show no open connection");
    }

    [Fact]
    public async Task NoMetricsFlagLeavesMetricsUnserved()
    {
        await using var server = AtrServerProcess.Start(["start", "--server-port", "0", "--no-metrics"]);
        await server.ListeningAsync();

        // The raw endpoint's catch-all answers the path: not a scope path, so 400 with its one-line reason.
        using var response = await server.Http.GetAsync(new Uri("/metrics", UriKind.Relative));
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(400, (int)response.StatusCode);
        Assert.DoesNotContain("atr_", body, StringComparison.Ordinal);
        Assert.DoesNotContain("metrics:", server.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EmbeddingAppOptsInWithAddAtrHubMetricsAndMapAtrHubMetrics()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Services.AddAtrHub(o => o.AllowAnonymous = true);
        builder.Services.AddAtrHubMetrics();
        await using var app = builder.Build();
        app.MapAtrHub("/events");
        app.MapAtrHubMetrics("/ops/metrics");
        await app.StartAsync().DefaultTimeout();
        using var http = new HttpClient { BaseAddress = new Uri(app.Urls.First()), Timeout = TestTimeouts.Default };

        var metrics = await http.GetStringAsync(new Uri("/ops/metrics", UriKind.Relative));

        Assert.Contains("# TYPE atr_frames_sent_total counter", metrics, StringComparison.Ordinal);
        Assert.Contains("atr_connections{", metrics, StringComparison.Ordinal);
        await app.StopAsync().DefaultTimeout();
    }

    [Fact]
    public void MapAtrHubMetricsWithoutAddAtrHubMetricsSaysWhatToDo()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Services.AddAtrHub();
        using var app = builder.Build();

        var error = Assert.Throws<InvalidOperationException>(() => app.MapAtrHubMetrics());

        Assert.Contains("AddAtrHubMetrics", error.Message, StringComparison.Ordinal);
    }

    private static async Task<string> ScrapeUntilAsync(HttpClient http, Func<string, bool> condition, string what)
    {
        var last = string.Empty;
        try
        {
            await TestTimeouts.UntilAsync(
                async () =>
                {
                    last = await http.GetStringAsync(new Uri("/metrics", UriKind.Relative));
                    return condition(last);
                },
                what);
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"{ex.Message} Last scrape:\n{last}", ex);
        }

        return last;
    }

    /// <summary>The value of the sample <paramref name="name"/> whose labels include <paramref name="label"/>; -1 when absent.</summary>
    private static long Value(string metrics, string name, string? label = null)
    {
        foreach (Match match in Sample().Matches(metrics))
        {
            if (match.Groups["name"].Value == name && (label is null || match.Groups["labels"].Value.Contains(label, StringComparison.Ordinal)))
            {
                return (long)double.Parse(match.Groups["value"].Value, CultureInfo.InvariantCulture);
            }
        }

        return -1;
    }

    [GeneratedRegex(@"^(?<name>[a-z_]+)\{(?<labels>[^}]*)\} (?<value>\S+)", RegexOptions.Multiline)]
    private static partial Regex Sample();
}
