using System.Net;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;
using Microsoft.AspNetCore.WebUtilities;

namespace Atr.Hub.Security;

/// <summary>
/// Validates connection and publish tokens with the IdentityModel stack that ASP.NET Core's JwtBearer
/// handler uses, configured from <see cref="AtrHubOptions"/>.
/// </summary>
/// <remarks>
/// The hub validates tokens itself rather than registering an authentication scheme: a scheme of its
/// own would become an embedding application's default scheme when it is the only one, or take the
/// default away from the application's when it is not. Algorithms are pinned to the configured key
/// type, which refuses <c>alg: none</c> and algorithm confusion (an HS256 token signed with an RSA
/// public key's bytes); issuer, audience, lifetime and signature are always checked.
/// </remarks>
internal sealed class JwtValidator
{
    /// <summary>The query parameter browsers (and SignalR's WebSocket transport) carry the token in.</summary>
    public const string QueryParameter = "access_token";

    /// <summary>The shortest HS256 secret: 256 bits.</summary>
    public const int MinimumSecretBytes = AtrHubOptions.MinimumJwtKeyBytes;

    private readonly JsonWebTokenHandler _handler = new() { MapInboundClaims = false };
    private readonly Lazy<(TokenValidationParameters Parameters, ConfigurationManager<OpenIdConnectConfiguration>? Authority)> _setup;

    public JwtValidator(IOptions<AtrHubOptions> options)
    {
        _setup = new(() => Create(options.Value));
    }

    /// <summary>The request's token: <c>?access_token=</c> first (what browsers can send), else <c>Authorization: Bearer</c>.</summary>
    /// <param name="query">The query string, with or without its leading <c>?</c>; read as <c>HttpRequest.Query</c> reads it.</param>
    /// <param name="authorization">The Authorization header, or null.</param>
    public static string? TokenOf(string query, string? authorization)
    {
        if (QueryHelpers.ParseNullableQuery(query) is { } parameters
            && parameters.TryGetValue(QueryParameter, out var token)
            && !string.IsNullOrEmpty(token))
        {
            return token.ToString();
        }

        return authorization is not null && authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? authorization["Bearer ".Length..].Trim() : null;
    }

    /// <summary>The token's principal, or null when it is not valid.</summary>
    /// <exception cref="KeysUnavailableException">The authority's keys cannot be fetched.</exception>
    public async Task<ClaimsPrincipal?> ValidateAsync(string token, CancellationToken cancellationToken)
    {
        var (parameters, authority) = _setup.Value;
        if (authority is not null)
        {
            OpenIdConnectConfiguration configuration;
            try
            {
                configuration = await authority.GetConfigurationAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is InvalidOperationException or IOException or HttpRequestException or ArgumentException)
            {
                throw new KeysUnavailableException($"The keys of {authority.MetadataAddress} cannot be fetched: {ex.Message}", ex);
            }

            parameters = parameters.Clone();
            parameters.IssuerSigningKeys = configuration.SigningKeys;
        }

        var result = await _handler.ValidateTokenAsync(token, parameters).ConfigureAwait(false);

        // RFC 7515, section 4.1.11: a token that names critical extensions the hub does not implement
        // (it implements none) must be refused, even with a valid signature.
        return result.IsValid && !(result.SecurityToken is JsonWebToken jwt && jwt.TryGetHeaderValue<object>("crit", out _))
            ? new ClaimsPrincipal(result.ClaimsIdentity)
            : null;
    }

    /// <summary>The HS256 key of a secret.</summary>
    /// <exception cref="InvalidOperationException">The secret is shorter than 32 bytes.</exception>
    public static SymmetricSecurityKey SymmetricKey(string secret)
    {
        var bytes = Encoding.UTF8.GetBytes(secret);
        if (bytes.Length < MinimumSecretBytes)
        {
            throw new InvalidOperationException($"The JWT key must be at least {MinimumSecretBytes} bytes; it is {bytes.Length}. Generate one with: openssl rand -base64 48");
        }

        return new SymmetricSecurityKey(bytes);
    }

    /// <summary>Why the configured key source cannot verify tokens, or null when it can; checked at start.</summary>
    public static string? Problem(AtrHubOptions hub)
    {
        if (!hub.AuthenticationEnabled)
        {
            return null;
        }

        if (!string.IsNullOrEmpty(hub.JwtAuthority))
        {
            if (!Uri.TryCreate(hub.JwtAuthority, UriKind.Absolute, out var authority))
            {
                return "The --jwt-authority must be an absolute URL.";
            }

            return authority.Scheme == Uri.UriSchemeHttps || (authority.Scheme == Uri.UriSchemeHttp && IsLoopback(authority))
                ? null
                : "The --jwt-authority must use https (http is accepted on loopback only).";
        }

        try
        {
            using var _ = SigningKey(hub).Key as IDisposable;
            return null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or CryptographicException or InvalidOperationException)
        {
            return $"The JWT key cannot be used: {ex.Message}";
        }
    }

    private static (TokenValidationParameters, ConfigurationManager<OpenIdConnectConfiguration>?) Create(AtrHubOptions hub)
    {
        var parameters = new TokenValidationParameters
        {
            ValidateIssuer = true,
            ValidIssuer = hub.JwtIssuer,
            ValidateAudience = true,
            ValidAudience = hub.JwtAudience,
            ValidateLifetime = true,
            RequireExpirationTime = true,
            RequireSignedTokens = true,
            ValidateIssuerSigningKey = true,
            ClockSkew = hub.JwtClockSkew,
        };

        if (!string.IsNullOrEmpty(hub.JwtAuthority))
        {
            var authority = new Uri(hub.JwtAuthority.TrimEnd('/') + "/");
            var retriever = new HttpDocumentRetriever { RequireHttps = !(authority.Scheme == Uri.UriSchemeHttp && IsLoopback(authority)) };
            parameters.ValidAlgorithms = [SecurityAlgorithms.RsaSha256, SecurityAlgorithms.EcdsaSha256];
            return (parameters, new ConfigurationManager<OpenIdConnectConfiguration>(
                new Uri(authority, ".well-known/openid-configuration").ToString(),
                new OpenIdConnectConfigurationRetriever(),
                retriever));
        }

        var (key, algorithm) = SigningKey(hub);
        parameters.IssuerSigningKey = key;
        parameters.ValidAlgorithms = [algorithm];
        return (parameters, null);
    }

    private static (SecurityKey Key, string Algorithm) SigningKey(AtrHubOptions hub)
    {
        if (!string.IsNullOrEmpty(hub.JwtPublicKeyFile))
        {
            var pem = File.ReadAllText(hub.JwtPublicKeyFile);
            if (!pem.Contains("-----BEGIN PUBLIC KEY-----", StringComparison.Ordinal) && !pem.Contains("-----BEGIN RSA PUBLIC KEY-----", StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"{hub.JwtPublicKeyFile} holds no PEM public key (-----BEGIN PUBLIC KEY-----).");
            }

            var ec = ECDsa.Create();
            try
            {
                ec.ImportFromPem(pem);
                return (new ECDsaSecurityKey(ec), SecurityAlgorithms.EcdsaSha256);
            }
            catch (Exception ex) when (ex is ArgumentException or CryptographicException)
            {
                ec.Dispose();
            }

            var rsa = RSA.Create();
            rsa.ImportFromPem(pem);
            return (new RsaSecurityKey(rsa), SecurityAlgorithms.RsaSha256);
        }

        var secret = !string.IsNullOrEmpty(hub.JwtKey) ? hub.JwtKey : File.ReadAllText(hub.JwtKeyFile!).Trim();
        return (SymmetricKey(secret), SecurityAlgorithms.HmacSha256);
    }

    private static bool IsLoopback(Uri uri)
        => uri.IsLoopback || (IPAddress.TryParse(uri.Host, out var address) && IPAddress.IsLoopback(address));
}
