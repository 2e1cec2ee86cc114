using System.Net;
using Atr.Hub.Tests.Infrastructure;
using Atr.Hub.Tests.Security;
using Atr.Testing;
using Xunit;

namespace Atr.Hub.Tests;

/// <summary>
/// A browser never sees why a WebSocket handshake was refused; a plain GET of the same path, with
/// the same credentials, answers the status the handshake would get.
/// </summary>
public sealed class PlainGetTests
{
    [Fact]
    public async Task APlainGetAnswersWhatTheHandshakeWouldGetInJwtMode()
    {
        await using var hub = await HubHost.StartWithJwtAsync();

        using var noToken = await hub.Http.GetAsync("/organization/1");
        using var notGranted = await hub.Http.GetAsync("/organization/1?access_token=" + TestTokens.Hs256(["organization.2"]));
        using var granted = await hub.Http.GetAsync("/organization/1?access_token=" + TestTokens.Hs256(["organization.1"]));
        using var malformed = await hub.Http.GetAsync("/organization");

        Assert.Equal(HttpStatusCode.Unauthorized, noToken.StatusCode);
        Assert.Equal("Bearer", noToken.Headers.WwwAuthenticate.ToString());
        Assert.Contains("A valid token is required", await noToken.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, notGranted.StatusCode);
        Assert.Contains("atr_scopes", await notGranted.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, granted.StatusCode);
        Assert.StartsWith("Atr event hub.", await granted.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
    }

    [Fact]
    public async Task AnAllowedOriginMayReadTheAnswerAndAnotherIsRefused()
    {
        await using var hub = await HubHost.StartAsync(options: o => o.AllowedOrigins.Add("https://app.example"));

        using var allowed = await GetAsync(hub, "/organization/1", "https://app.example");
        using var other = await GetAsync(hub, "/organization/1", "https://evil.example");

        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        Assert.Equal("https://app.example", allowed.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.Equal(HttpStatusCode.Forbidden, other.StatusCode);
        Assert.False(other.Headers.Contains("Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task ASocketPastItsAddressesLimitIsAnswered429()
    {
        // Every socket holds a place from its accept: the hub's own client's, then the WebSocket's.
        await using var hub = await HubHost.StartAsync(options: o => o.MaxConnectionsPerIp = 2);
        using var asked = await hub.Http.GetAsync("/organization/1");
        await using var client = await hub.ConnectAsync("/organization/1");

        using var another = new HttpClient { BaseAddress = hub.BaseUri, Timeout = TestTimeouts.Default };
        using var full = await another.GetAsync("/organization/1");
        using var again = await hub.Http.GetAsync("/organization/1");

        Assert.Equal(HttpStatusCode.OK, asked.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, full.StatusCode);
        Assert.Contains("Too many connections", await full.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
    }

    private static async Task<HttpResponseMessage> GetAsync(HubHost hub, string path, string origin)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add("Origin", origin);
        return await hub.Http.SendAsync(request);
    }
}
