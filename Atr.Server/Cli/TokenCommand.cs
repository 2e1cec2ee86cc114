using System.CommandLine;
using System.Globalization;
using System.Text;
using Atr.Hub;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Atr.Server.Cli;

/// <summary><c>atr-server token</c>: mints an HS256 token with <c>atr_scopes</c> (and <c>atr_publish</c>) for development and scripts.</summary>
internal static class TokenCommand
{
    public static readonly ListOption Scope = new("--scope") { Description = "A scope the token may listen to: organization.1234, organization.*, or *. Repeatable, or comma-separated." };
    public static readonly Option<bool> Publish = new("--publish") { Description = "Also allow POST /publish (within the scopes, when given)." };
    public static readonly Option<string> Ttl = new("--ttl") { Description = "Lifetime: 90s, 15m, 1h, 7d (default 1h)." };
    public static readonly Option<string> Subject = new("--subject") { Description = "The token's sub claim (default atr-cli)." };
    public static readonly Option<string> JwtKey = new("--jwt-key") { Description = "HS256 secret that signs the token (or Atr__JwtKey)." };
    public static readonly Option<string> JwtKeyFile = new("--jwt-key-file") { Description = "File holding the HS256 secret." };
    public static readonly Option<string> JwtIssuer = new("--jwt-issuer") { Description = "Issuer (default atr)." };
    public static readonly Option<string> JwtAudience = new("--jwt-audience") { Description = "Audience (default atr)." };

    public static Command Create()
    {
        var command = new Command("token", "Print a signed token (HS256) for development and scripts.")
        {
            Scope, Publish, Ttl, Subject, JwtKey, JwtKeyFile, JwtIssuer, JwtAudience,
        };
        command.SetAction(Run);
        return command;
    }

    private static int Run(ParseResult result)
    {
        var scopes = result.GetValue(Scope) ?? [];
        var publish = result.GetValue(Publish);
        if (scopes.Length == 0 && !publish)
        {
            throw new CommandLineException("token needs --scope (e.g. --scope organization.1234) or --publish.");
        }

        var secret = result.GetValue(JwtKey) ?? Environment.GetEnvironmentVariable("Atr__JwtKey");
        if (string.IsNullOrEmpty(secret) && result.GetValue(JwtKeyFile) is { } file)
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

        var lifetime = ParseDuration(result.GetValue(Ttl) ?? "1h");
        var now = DateTime.UtcNow;
        var claims = new Dictionary<string, object>();
        if (scopes.Length > 0)
        {
            claims[AtrClaims.Scopes] = scopes;
        }

        if (publish)
        {
            claims[AtrClaims.Publish] = true;
        }

        var token = new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = result.GetValue(JwtIssuer) ?? "atr",
            Audience = result.GetValue(JwtAudience) ?? "atr",
            Subject = new System.Security.Claims.ClaimsIdentity([new System.Security.Claims.Claim("sub", result.GetValue(Subject) ?? "atr-cli")]),
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
