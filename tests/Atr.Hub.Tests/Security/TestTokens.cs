using System.Security.Cryptography;
using System.Text;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Atr.Hub.Tests.Security;

/// <summary>Tokens for the tests, good and bad, signed the way an attacker or a real issuer would.</summary>
internal static class TestTokens
{
    public const string Key = "test-signing-key-that-is-long-enough-for-hs256";

    public static string Hs256(
        string[]? scopes = null,
        bool publish = false,
        TimeSpan? expiresIn = null,
        TimeSpan? notBeforeIn = null,
        string issuer = "atr",
        string audience = "atr",
        string key = Key,
        IDictionary<string, object>? claims = null,
        IDictionary<string, object>? header = null)
        => Create(new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(key)), SecurityAlgorithms.HmacSha256), scopes, publish, expiresIn, notBeforeIn, issuer, audience, claims, header);

    public static string Signed(SecurityKey key, string algorithm, string[]? scopes = null)
        => Create(new SigningCredentials(key, algorithm), scopes, publish: false, expiresIn: null, notBeforeIn: null, "atr", "atr");

    /// <summary>An unsigned token: header <c>{"alg":"none"}</c>, no signature.</summary>
    public static string AlgNone(string[] scopes)
    {
        var exp = DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds();
        var header = Base64Url("""{"alg":"none","typ":"JWT"}""");
        var payload = Base64Url($$"""{"iss":"atr","aud":"atr","exp":{{exp}},"atr_scopes":["{{string.Join("\",\"", scopes)}}"]}""");
        return $"{header}.{payload}.";
    }

    /// <summary>Algorithm confusion: an HS256 token whose HMAC secret is the server's RSA public key (PEM bytes).</summary>
    public static string HmacWithPublicKey(string publicKeyPem, string[] scopes)
    {
        var bytes = Encoding.UTF8.GetBytes(publicKeyPem);
        return Create(new SigningCredentials(new SymmetricSecurityKey(bytes), SecurityAlgorithms.HmacSha256), scopes, false, null, null, "atr", "atr");
    }

    public static (RSA Key, string PublicPem) NewRsa()
    {
        var rsa = RSA.Create(2048);
        return (rsa, rsa.ExportSubjectPublicKeyInfoPem());
    }

    public static (ECDsa Key, string PublicPem) NewEc()
    {
        var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return (ec, ec.ExportSubjectPublicKeyInfoPem());
    }

    private static string Create(SigningCredentials credentials, string[]? scopes, bool publish, TimeSpan? expiresIn, TimeSpan? notBeforeIn, string issuer, string audience, IDictionary<string, object>? extraClaims = null, IDictionary<string, object>? header = null)
    {
        var now = DateTime.UtcNow;
        var claims = new Dictionary<string, object>(extraClaims ?? new Dictionary<string, object>());
        if (scopes is not null)
        {
            claims["atr_scopes"] = scopes;
        }

        if (publish)
        {
            claims["atr_publish"] = true;
        }

        var expires = now + (expiresIn ?? TimeSpan.FromHours(1));
        var notBefore = now + (notBeforeIn ?? TimeSpan.Zero);
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = audience,
            IssuedAt = notBefore < now ? notBefore : now,
            NotBefore = notBefore,
            Expires = expires,
            Claims = claims,
            AdditionalHeaderClaims = header,
            SigningCredentials = credentials,
        });
    }

    private static string Base64Url(string json) => Base64UrlEncoder.Encode(Encoding.UTF8.GetBytes(json));
}
