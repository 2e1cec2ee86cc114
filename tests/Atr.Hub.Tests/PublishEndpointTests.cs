using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Atr.Hub.Tests.Infrastructure;
using Atr.Testing;
using Xunit;

namespace Atr.Hub.Tests;

/// <summary><c>POST /publish</c>: events from any language, and clear answers to bad input.</summary>
public sealed class PublishEndpointTests
{
    [Fact]
    public async Task SingleEventIsAcceptedWithItsIdAndDeliveredWithTheHubsFields()
    {
        await using var hub = await HubHost.StartAsync();
        await using var client = await hub.ConnectAsync("/organization/1234");

        var response = await hub.PostPublishAsync(new { scope = "organization.1234", name = "post.created", record = new { id = 7, title = "Hello" }, record_type = "Post" });

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var id = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("ids")[0].GetString();
        var frame = await client.ReceiveAsync();
        Assert.Matches("""^\{"id":"[0-9a-f]{32}","name":"post.created","occured_at":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00","record":\{"id":7,"title":"Hello"\},"record_type":"Post","routing_key":"organization.1234.post.created"\}$""", frame);
        Assert.Contains($"\"id\":\"{id}\"", frame, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ArrayIsPublishedWholeAndInOrder()
    {
        await using var hub = await HubHost.StartAsync();
        await using var client = await hub.ConnectAsync("/organization/1");

        var batch = Enumerable.Range(0, 100).Select(i => new { scope = "organization.1", name = "post.created", record = new { seq = i } }).ToArray();
        var response = await hub.PostPublishAsync(batch);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var ids = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("ids").EnumerateArray().Select(e => e.GetString()).ToList();
        Assert.Equal(100, ids.Distinct().Count());
        for (var i = 0; i < 100; i++)
        {
            var frame = JsonDocument.Parse(await client.ReceiveAsync()).RootElement;
            Assert.Equal(i, frame.GetProperty("record").GetProperty("seq").GetInt32());
            Assert.Equal(ids[i], frame.GetProperty("id").GetString());
        }
    }

    [Theory]
    [InlineData("not json", "not valid JSON")]
    [InlineData("42", "event object or a non-empty array")]
    [InlineData("[]", "event object or a non-empty array")]
    [InlineData("""{"scope":"organization.1"}""", "'name' is required")]
    [InlineData("""{"name":7}""", "'name' must be a string")]
    [InlineData("""{"name":"post.created","scope":"organization.*"}""", "'scope'")]
    [InlineData("""{"name":"post.created","scope":"organization"}""", "'scope'")]
    [InlineData("""{"name":"post created"}""", "'name'")]
    [InlineData("""{"name":"post.created","recordtype":"Post"}""", "unknown property 'recordtype'")]
    [InlineData("""[{"name":"ok"},{"name":"bad name"}]""", "Item 1:")]
    [InlineData("""[{"name":"ok"},3]""", "Item 1: an event must be a JSON object")]
    [InlineData("""{"name":"atr.resync","scope":"organization.1"}""", "is reserved")]
    [InlineData("""{"name":"atr"}""", "is reserved")]
    [InlineData("""[{"name":"ok"},{"name":"atr.anything"}]""", "Item 1: 'name' \"atr.anything\" is reserved")]
    public async Task BadInputIsRefusedWithProblemDetailsAndNothingIsPublished(string body, string expected)
    {
        await using var hub = await HubHost.StartAsync();
        await using var client = await hub.ConnectAsync("/");

        var response = await hub.Http.PostAsync("/publish", new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(400, problem.GetProperty("status").GetInt32());
        Assert.Contains(expected, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, hub.Metrics.EventsPublished);
        await client.AssertNothingAsync();
    }

    [Theory]
    [InlineData("name")]
    [InlineData("scope")]
    [InlineData("record_type")]
    [InlineData("record")]
    public async Task InvalidUtf8AnywhereInTheBodyIsRefusedWith400(string where)
    {
        await using var hub = await HubHost.StartAsync();
        await using var client = await hub.ConnectAsync("/");
        var text = where switch
        {
            "name" => """{"name":"post.cr~ated"}""",
            "scope" => """{"name":"post.created","scope":"organization.~"}""",
            "record_type" => """{"name":"post.created","record_type":"P~st"}""",
            _ => """{"name":"post.created","record":{"title":"caf~"}}""",
        };

        // An overlong encoding and a lone continuation byte: neither is UTF-8.
        var bytes = Encoding.ASCII.GetBytes(text).SelectMany(b => b == (byte)'~' ? new byte[] { 0xC0, 0xAF, 0x80 } : [b]).ToArray();
        using var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        var response = await hub.Http.PostAsync("/publish", content);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("not valid UTF-8", JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, hub.Metrics.EventsPublished);
        await client.AssertNothingAsync();
    }

    [Fact]
    public async Task AnEventOverMaxEventBytesIsRefusedWith413AndTheBatchIsNotPublished()
    {
        await using var hub = await HubHost.StartAsync();
        await using var client = await hub.ConnectAsync("/");
        var limit = new AtrHubOptions().MaxEventBytes;
        var batch = new object[] { new { name = "small.one" }, new { name = "big.one", record = new { text = new string('x', limit) } } };

        var response = await hub.PostPublishAsync(batch);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        var detail = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("detail").GetString();
        Assert.Contains("Item 1:", detail, StringComparison.Ordinal);
        Assert.Contains($"limited to {limit} bytes", detail, StringComparison.Ordinal);
        Assert.Equal(0, hub.Metrics.EventsPublished);
        await client.AssertNothingAsync();
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/x-www-form-urlencoded")]
    [InlineData(null)]
    public async Task BodyThatIsNotDeclaredJsonIsRefusedWith415(string? contentType)
    {
        await using var hub = await HubHost.StartAsync();
        await using var client = await hub.ConnectAsync("/");
        var content = new StringContent("""{"name":"post.created"}""");
        content.Headers.ContentType = contentType is null ? null : new System.Net.Http.Headers.MediaTypeHeaderValue(contentType);

        var response = await hub.Http.PostAsync("/publish", content);

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        await client.AssertNothingAsync();
    }

    [Fact]
    public async Task BodyOverTheLimitIsRefusedWith413()
    {
        await using var hub = await HubHost.StartAsync(options: o => o.MaxPublishBodyBytes = 64 * 1024);
        var big = JsonSerializer.Serialize(new { name = "post.created", record = new { text = new string('x', 70 * 1024) } });

        var declared = await hub.Http.PostAsync("/publish", new StringContent(big, Encoding.UTF8, "application/json"));
        var chunked = await hub.Http.PostAsync("/publish", new ChunkedContent(big));

        foreach (var response in new[] { declared, chunked })
        {
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }

        Assert.Equal(0, hub.Metrics.EventsPublished);
    }

    [Fact]
    public async Task BatchOverTheItemLimitIsRefused()
    {
        await using var hub = await HubHost.StartAsync(options: o => o.MaxPublishBatch = 10);

        var response = await hub.Http.PostAsJsonAsync("/publish", Enumerable.Range(0, 11).Select(_ => new { name = "a.b" }));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("At most 10", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task StatsCountWhatTheHubDid()
    {
        await using var hub = await HubHost.StartAsync();
        await using var client = await hub.ConnectAsync("/organization/1");
        await hub.PostPublishAsync(new { scope = "organization.1", name = "a.b" });
        await client.ReceiveAsync();

        // The frame is counted once the socket write returns, which may be just after the client read it.
        await TestTimeouts.UntilAsync(() => hub.Metrics.FramesSent == 1, "the frame is counted as sent");
        var stats = JsonDocument.Parse(await hub.Http.GetStringAsync("/stats")).RootElement;

        Assert.Equal("in-memory", stats.GetProperty("backplane").GetString());
        Assert.Equal(1, stats.GetProperty("connections").GetInt64());
        Assert.Equal(1, stats.GetProperty("scopes").GetInt32());
        Assert.Equal(1, stats.GetProperty("events_published").GetInt64());
        Assert.Equal(1, stats.GetProperty("frames_sent").GetInt64());
    }

    /// <summary>A body without Content-Length, so the limit must hold while reading.</summary>
    private sealed class ChunkedContent : HttpContent
    {
        private readonly string _text;

        public ChunkedContent(string text)
        {
            _text = text;
            Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        }

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context)
            => stream.WriteAsync(Encoding.UTF8.GetBytes(_text)).AsTask();

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
