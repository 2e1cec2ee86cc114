using System.Security.Cryptography;
using Atr.Hub.Tests.Infrastructure;
using Atr.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.Tokens;
using Xunit;

namespace Atr.Hub.Tests.Security;

/// <summary>Tokens verified with the keys an OpenID Connect authority publishes (its JWKS).</summary>
public sealed class OpenIdAuthorityTests
{
    [Fact]
    public async Task TokensSignedWithTheAuthoritysPublishedKeyAreAcceptedAndOthersRefused()
    {
        using var rsa = RSA.Create(2048);
        using var stranger = RSA.Create(2048);
        await using var authority = await StartAuthorityAsync(rsa);
        await using var hub = await HubHost.StartAsync(options: o => o.JwtAuthority = authority.Urls.First());

        var signingKey = new RsaSecurityKey(rsa) { KeyId = "key-1" };
        var genuine = await RawHttp.HandshakeAsync(hub.Port, "/organization/1?access_token=" + TestTokens.Signed(signingKey, SecurityAlgorithms.RsaSha256, ["organization.1"]));
        var forged = await RawHttp.HandshakeAsync(hub.Port, "/organization/1?access_token=" + TestTokens.Signed(new RsaSecurityKey(stranger) { KeyId = "key-1" }, SecurityAlgorithms.RsaSha256, ["organization.1"]));
        var hmac = await RawHttp.HandshakeAsync(hub.Port, "/organization/1?access_token=" + TestTokens.Hs256(["organization.1"]));

        Assert.Equal(101, genuine.Status);
        Assert.Equal(401, forged.Status);
        Assert.Equal(401, hmac.Status);
    }

    /// <summary>A minimal authority on loopback: a discovery document and a JWKS with one RSA key.</summary>
    private static async Task<WebApplication> StartAuthorityAsync(RSA rsa)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var parameters = rsa.ExportParameters(includePrivateParameters: false);
        app.MapGet("/.well-known/openid-configuration", (HttpContext context) => Results.Json(new Dictionary<string, object>
        {
            ["issuer"] = "atr",
            ["jwks_uri"] = $"{context.Request.Scheme}://{context.Request.Host}/jwks",
        }));
        app.MapGet("/jwks", () => Results.Json(new Dictionary<string, object>
        {
            ["keys"] = new[]
            {
                new Dictionary<string, string>
                {
                    ["kty"] = "RSA",
                    ["kid"] = "key-1",
                    ["use"] = "sig",
                    ["alg"] = "RS256",
                    ["n"] = Base64UrlEncoder.Encode(parameters.Modulus),
                    ["e"] = Base64UrlEncoder.Encode(parameters.Exponent),
                },
            },
        }));
        await app.StartAsync().DefaultTimeout();
        return app;
    }
}
