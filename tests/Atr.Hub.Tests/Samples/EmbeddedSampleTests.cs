using System.Net.Http.Json;
using System.Text.Json;
using Atr.Hub.Tests.Infrastructure;
using Atr.Hub.Tests.Security;
using Atr.Testing;
using Xunit;

namespace Atr.Hub.Tests.Samples;

/// <summary>
/// samples/Atr.Samples.Embedded, which README.md shows verbatim, run as a user runs it: its own
/// process, its key from configuration, real WebSocket clients with real tokens.
/// </summary>
public sealed class EmbeddedSampleTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task OnlyKnownOrganizationsListenAndReceiveWhatTheApplicationPublishes(bool redis)
    {
        await using var server = redis ? new RedisServer() : null;
        var environment = new Dictionary<string, string> { ["Atr__JwtKey"] = TestTokens.Key };
        if (server is not null)
        {
            await server.InitializeAsync();
            environment["Atr__Redis"] = server.Configuration;
        }

        await using var sample = SampleProcess.Start("Atr.Samples.Embedded", environment);
        var address = await sample.ListeningAsync();
        await TestTimeouts.UntilAsync(() => sample.Output.Contains("Atr hub at /events", StringComparison.Ordinal), "the hub logs its start");
        Assert.Contains($"backplane {(redis ? "Redis" : "in-memory")}", sample.Output, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("security JWT", sample.Output, StringComparison.Ordinal);

        // A token that grants the scope does not make an organization exist: the authenticator refuses it.
        var unknown = await RawHttp.HandshakeAsync(address.Port, $"/events/organization/999?access_token={TestTokens.Hs256(["organization.999"])}");
        Assert.Equal(403, unknown.Status);
        Assert.Equal(401, (await RawHttp.HandshakeAsync(address.Port, "/events/organization/1234")).Status);

        await using var client = await WsClient.ConnectAsync(new Uri($"ws://127.0.0.1:{address.Port}/events/organization/1234?access_token={TestTokens.Hs256(["organization.1234"])}"));
        if (server is not null)
        {
            Assert.Equal(1, await server.SubscriberCountAsync("atr:organization.1234"));
        }

        using var http = new HttpClient { BaseAddress = address, Timeout = TestTimeouts.Default };
        using var published = await http.PostAsJsonAsync("/organizations/1234/posts", new { title = "Hello" });
        Assert.Equal(202, (int)published.StatusCode);
        using var notFound = await http.PostAsJsonAsync("/organizations/999/posts", new { title = "Hello" });
        Assert.Equal(404, (int)notFound.StatusCode);

        var frame = JsonDocument.Parse(await client.ReceiveAsync()).RootElement;
        Assert.Equal("post.created", frame.GetProperty("name").GetString());
        Assert.Equal("Hello", frame.GetProperty("record").GetProperty("title").GetString());
        Assert.Equal("organization.1234.post.created", frame.GetProperty("routing_key").GetString());
        await client.AssertNothingAsync();
    }
}
