using System.Net.WebSockets;
using Atr.Hub.Tests.Infrastructure;
using Atr.Testing;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.IdentityModel.Tokens;
using Xunit;

namespace Atr.Hub.Tests.Security;

/// <summary>Tries to get in without the right token, on the raw endpoint, the SignalR hub and POST /publish.</summary>
public sealed class JwtAuthenticationTests
{
    private static readonly string[] CriticalExtension = ["urn:example:ext"];

    public static TheoryData<string, string?> BadTokens => new()
    {
        { "no token", null },
        { "expired", TestTokens.Hs256(["organization.1"], expiresIn: TimeSpan.FromMinutes(-5), notBeforeIn: TimeSpan.FromHours(-1)) },
        { "not yet valid", TestTokens.Hs256(["organization.1"], notBeforeIn: TimeSpan.FromMinutes(5)) },
        { "wrong signature", TestTokens.Hs256(["organization.1"], key: "another-signing-key-that-is-long-enough-for-hs256") },
        { "alg none", TestTokens.AlgNone(["organization.1"]) },
        { "wrong issuer", TestTokens.Hs256(["organization.1"], issuer: "someone-else") },
        { "wrong audience", TestTokens.Hs256(["organization.1"], audience: "someone-else") },
        { "garbage", "not.a.jwt" },
        { "empty", string.Empty },
        { "truncated", TestTokens.Hs256(["organization.1"])[..^10] },
        { "an unknown critical header (RFC 7515 4.1.11)", TestTokens.Hs256(["organization.1"], header: new Dictionary<string, object> { ["crit"] = CriticalExtension, ["urn:example:ext"] = 1 }) },
    };

    [Theory]
    [MemberData(nameof(BadTokens))]
    public async Task BadTokenIsRefusedWith401BeforeTheUpgradeAndNothingIsDelivered(string because, string? token)
    {
        await using var hub = await HubHost.StartWithJwtAsync();

        var response = await RawHttp.HandshakeAsync(hub.Port, "/organization/1" + (token is null ? string.Empty : "?access_token=" + Uri.EscapeDataString(token)));
        await hub.PostPublishAsync(Authorized(), new { scope = "organization.1", name = "secret" });

        Assert.True(response.Status == 401, $"{because}: {response.Status} {response.Body}");
        Assert.Contains("WWW-Authenticate: Bearer", response.Head, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(0, hub.Metrics.ConnectionsOpened);
        Assert.Equal(0, hub.Metrics.FramesQueued);
    }

    [Theory]
    [MemberData(nameof(BadTokens))]
    public async Task BadTokenIsRefusedBySignalRAndNothingIsDelivered(string because, string? token)
    {
        await using var hub = await HubHost.StartWithJwtAsync();

        var connection = new HubConnectionBuilder()
            .WithUrl(new Uri(hub.BaseUri, "/hub?scope=organization.1"), o => o.AccessTokenProvider = () => Task.FromResult(token))
            .Build();
        await SignalRClient.AssertRefusedAsync(connection, because);
        await hub.PostPublishAsync(Authorized(), new { scope = "organization.1", name = "secret" });

        Assert.Equal(0, hub.Metrics.FramesQueued);
    }

    [Fact]
    public async Task ValidTokenInTheQueryOrTheHeaderConnects()
    {
        await using var hub = await HubHost.StartWithJwtAsync();
        var token = TestTokens.Hs256(["organization.1"]);

        await using var byQuery = await hub.ConnectAsync("/organization/1?access_token=" + token);
        using var byHeader = new ClientWebSocket();
        byHeader.Options.SetRequestHeader("Authorization", "Bearer " + token);
        await byHeader.ConnectAsync(hub.WebSocketUri("/organization/1"), CancellationToken.None).DefaultTimeout();

        await hub.PostPublishAsync(Authorized(), new { scope = "organization.1", name = "post.created" });
        Assert.Equal("post.created", EventFrame.Name(await byQuery.ReceiveAsync()));
    }

    [Theory]
    [InlineData("organization.*", "organization.5", true)]
    [InlineData("organization.*", "organization.5.user.2", true)]
    [InlineData("organization.*", "organization5.x", false)]
    [InlineData("organization.*", "organizations.5", false)]
    [InlineData("organization.*", "user.5", false)]
    [InlineData("organization.1", "organization.1", true)]
    [InlineData("organization.1", "organization.12", false)]
    [InlineData("organization.1", "organization.1.user.2", false)]
    [InlineData("organization.1", "", false)]
    [InlineData("*", "", true)]
    [InlineData("*", "anything.7", true)]
    [InlineData("organization.1 organization.2", "organization.2", true)]
    public async Task ScopesAreGrantedOnWholeSegmentsOnBothEndpoints(string grant, string scope, bool granted)
    {
        await using var hub = await HubHost.StartWithJwtAsync();
        var token = TestTokens.Hs256(grant.Split(' '));
        var path = "/" + scope.Replace('.', '/');

        var response = await RawHttp.HandshakeAsync(hub.Port, (path == "/" ? "/" : path) + "?access_token=" + token);
        await using var signalR = await SignalRClient.ConnectWithTokenAsync(hub.BaseUri, token);
        var subscribe = signalR.Connection.InvokeAsync("Subscribe", scope);

        if (granted)
        {
            Assert.Equal(101, response.Status);
            await subscribe.DefaultTimeout();
        }
        else
        {
            Assert.Equal(403, response.Status);
            Assert.Contains("atr_scopes", response.Body, StringComparison.Ordinal);
            var error = await Assert.ThrowsAsync<HubException>(() => subscribe.DefaultTimeout());
            Assert.Contains("403", error.Message, StringComparison.Ordinal);
            await hub.PostPublishAsync(Authorized(), new { scope, name = "secret" });
            await signalR.AssertNothingAsync();
        }
    }

    [Fact]
    public async Task PublishNeedsAPublishTokenWithinItsScopes()
    {
        await using var hub = await HubHost.StartWithJwtAsync();
        await using var listener = await hub.ConnectAsync("/organization/1?access_token=" + TestTokens.Hs256(["organization.1"]));

        var none = await Publish(hub, null, "organization.1");
        var listenOnly = await Publish(hub, TestTokens.Hs256(["organization.1"]), "organization.1");
        var outside = await Publish(hub, TestTokens.Hs256(["organization.2"], publish: true), "organization.1");
        var batchPartlyOutside = await hub.PostPublishAsync(
            new[] { new { scope = "organization.2", name = "ok" }, new { scope = "organization.1", name = "sneaky" } },
            TestTokens.Hs256(["organization.2"], publish: true));
        var stringTrue = await Publish(hub, TestTokens.Hs256(["organization.1"], claims: new Dictionary<string, object> { ["atr_publish"] = "true" }), "organization.1");
        var within = await Publish(hub, TestTokens.Hs256(["organization.*"], publish: true), "organization.1");
        var anywhere = await Publish(hub, TestTokens.Hs256(publish: true), "organization.1");

        Assert.Equal(401, (int)none.StatusCode);
        Assert.Equal("application/problem+json", none.Content.Headers.ContentType?.MediaType);
        Assert.Equal(403, (int)listenOnly.StatusCode);
        Assert.Equal(403, (int)stringTrue.StatusCode);
        Assert.Equal(403, (int)outside.StatusCode);
        Assert.Equal(403, (int)batchPartlyOutside.StatusCode);
        Assert.Contains("Item 1", await batchPartlyOutside.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(202, (int)within.StatusCode);
        Assert.Equal(202, (int)anywhere.StatusCode);

        // Only the two allowed publishes reached the listener.
        Assert.Equal("allowed", EventFrame.Name(await listener.ReceiveAsync()));
        Assert.Equal("allowed", EventFrame.Name(await listener.ReceiveAsync()));
        await listener.AssertNothingAsync();
    }

    [Fact]
    public async Task RsaHubRefusesAnHs256TokenSignedWithItsPublicKey()
    {
        var (rsa, publicPem) = TestTokens.NewRsa();
        using var _ = rsa;
        var file = await WriteTempAsync(publicPem);
        await using var hub = await HubHost.StartAsync(options: o => o.JwtPublicKeyFile = file);

        var confused = await RawHttp.HandshakeAsync(hub.Port, "/organization/1?access_token=" + TestTokens.HmacWithPublicKey(publicPem, ["organization.1"]));
        var genuine = await RawHttp.HandshakeAsync(hub.Port, "/organization/1?access_token=" + TestTokens.Signed(new RsaSecurityKey(rsa), SecurityAlgorithms.RsaSha256, ["organization.1"]));

        Assert.Equal(401, confused.Status);
        Assert.Equal(101, genuine.Status);
    }

    [Fact]
    public async Task EcHubAcceptsEs256AndRefusesOtherKeys()
    {
        var (ec, publicPem) = TestTokens.NewEc();
        var (otherEc, _) = TestTokens.NewEc();
        using var a = ec;
        using var b = otherEc;
        var file = await WriteTempAsync(publicPem);
        await using var hub = await HubHost.StartAsync(options: o => o.JwtPublicKeyFile = file);

        var genuine = await RawHttp.HandshakeAsync(hub.Port, "/organization/1?access_token=" + TestTokens.Signed(new ECDsaSecurityKey(ec), SecurityAlgorithms.EcdsaSha256, ["organization.1"]));
        var forged = await RawHttp.HandshakeAsync(hub.Port, "/organization/1?access_token=" + TestTokens.Signed(new ECDsaSecurityKey(otherEc), SecurityAlgorithms.EcdsaSha256, ["organization.1"]));
        var hmac = await RawHttp.HandshakeAsync(hub.Port, "/organization/1?access_token=" + TestTokens.Hs256(["organization.1"]));

        Assert.Equal(101, genuine.Status);
        Assert.Equal(401, forged.Status);
        Assert.Equal(401, hmac.Status);
    }

    [Fact]
    public async Task RequestAuthenticatorComposesWithTheTokenAndSeesItsClaims()
    {
        string? seenSubject = null;
        await using var hub = await HubHost.StartWithJwtAsync(o => o.RequestAuthenticator = new Delegating((context, scope) =>
        {
            seenSubject = context.User.FindFirst("atr_scopes")?.Value;
            return scope != "organization.2";
        }));
        var token = TestTokens.Hs256(["organization.*"]);

        var allowed = await RawHttp.HandshakeAsync(hub.Port, "/organization/1?access_token=" + token);
        var refusedByApp = await RawHttp.HandshakeAsync(hub.Port, "/organization/2?access_token=" + token);

        Assert.Equal(101, allowed.Status);
        Assert.Equal(403, refusedByApp.Status);
        Assert.Contains("authenticator", refusedByApp.Body, StringComparison.Ordinal);
        Assert.Equal("organization.*", seenSubject);
    }

    private static string Authorized() => TestTokens.Hs256(publish: true);

    private static Task<HttpResponseMessage> Publish(HubHost hub, string? token, string scope)
        => hub.PostPublishAsync(new { scope, name = "allowed" }, token);

    private static async Task<string> WriteTempAsync(string text)
    {
        var path = Path.Combine(Path.GetTempPath(), $"atr-key-{Guid.NewGuid():N}.pem");
        await File.WriteAllTextAsync(path, text);
        return path;
    }

    private sealed class Delegating(Func<Microsoft.AspNetCore.Http.HttpContext, string, bool> decide) : IRequestAuthenticator
    {
        public ValueTask<bool> MatchesAsync(Microsoft.AspNetCore.Http.HttpContext context, string scope) => ValueTask.FromResult(decide(context, scope));
    }
}
