using System.Globalization;
using System.Text;
using Atr.Hub;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Atr.Server.Cli;

/// <summary><c>atr-server token</c>: mints an HS256 token with <c>atr_scopes</c> (and <c>atr_publish</c>) for development and scripts.</summary>
internal static class TokenCommand
{
    public static int Run(CommandLineArguments arguments)
    {
        var values = arguments.Values;
        var scopes = arguments.List("scope");
        var publish = string.Equals(values.GetValueOrDefault("publish"), "true", StringComparison.OrdinalIgnoreCase);
        if (scopes.Count == 0 && !publish)
        {
            throw new CommandLineException("token needs --scope (e.g. --scope organization.1234) or --publish.");
        }

        var secret = values.GetValueOrDefault("Atr:JwtKey") ?? Environment.GetEnvironmentVariable("Atr__JwtKey");
        if (string.IsNullOrEmpty(secret) && values.GetValueOrDefault("Atr:JwtKeyFile") is { } file)
        {
            secret = File.ReadAllText(file).Trim();
        }

        if (string.IsNullOrEmpty(secret))
        {
            throw new CommandLineException("token needs the hub's --jwt-key (or --jwt-key-file, or the Atr__JwtKey environment variable).");
        }

        var keyBytes = Encoding.UTF8.GetBytes(secret);
        if (keyBytes.Length < AtrHubOptions.MinimumJwtKeyBytes)
        {
            throw new CommandLineException($"The JWT key must be at least {AtrHubOptions.MinimumJwtKeyBytes} bytes; it is {keyBytes.Length}. Generate one with: openssl rand -base64 48");
        }

        var key = new SymmetricSecurityKey(keyBytes);

        var lifetime = ParseDuration(values.GetValueOrDefault("ttl") ?? "1h");
        var now = DateTime.UtcNow;
        var claims = new Dictionary<string, object>();
        if (scopes.Count > 0)
        {
            claims[AtrClaims.Scopes] = scopes.ToArray();
        }

        if (publish)
        {
            claims[AtrClaims.Publish] = true;
        }

        var token = new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = values.GetValueOrDefault("Atr:JwtIssuer") ?? "atr",
            Audience = values.GetValueOrDefault("Atr:JwtAudience") ?? "atr",
            Subject = new System.Security.Claims.ClaimsIdentity([new System.Security.Claims.Claim("sub", values.GetValueOrDefault("subject") ?? "atr-cli")]),
            IssuedAt = now,
            NotBefore = now,
            Expires = now + lifetime,
            Claims = claims,
            SigningCredentials = new SigningCredentials(key, SecurityAlgorithms.HmacSha256),
        });
        Console.WriteLine(token);
        return 0;
    }

    /// <summary>Parses <c>90s</c>, <c>15m</c>, <c>1h</c>, <c>7d</c>.</summary>
    internal static TimeSpan ParseDuration(string text)
    {
        if (text.Length >= 2 && int.TryParse(text.AsSpan(0, text.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var amount) && amount > 0)
        {
            switch (text[^1])
            {
                case 's': return TimeSpan.FromSeconds(amount);
                case 'm': return TimeSpan.FromMinutes(amount);
                case 'h': return TimeSpan.FromHours(amount);
                case 'd': return TimeSpan.FromDays(amount);
            }
        }

        throw new CommandLineException($"--ttl '{text}' is not a duration such as 90s, 15m, 1h or 7d.");
    }
}
