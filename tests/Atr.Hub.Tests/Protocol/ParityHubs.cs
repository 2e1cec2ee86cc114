using Atr.Hub.Tests.Infrastructure;
using Atr.Hub.Tests.Security;
using Microsoft.AspNetCore.Hosting;
using Xunit;

namespace Atr.Hub.Tests.Protocol;

/// <summary>
/// The four hubs of the parity tests, started once for the class: anonymous and JWT, each with the
/// connection-level path (<c>DirectUpgrade</c>) and without it (every request through Kestrel's HTTP
/// layer). All four have the same small Kestrel limits and the same allowed Origin.
/// </summary>
public sealed class ParityHubs : IAsyncLifetime
{
    internal static readonly ParityLimits Limits = new(
        MaxRequestLineSize: 1024,
        MaxRequestHeadersTotalSize: 1536,
        MaxRequestHeaderCount: 16,
        RequestHeadersTimeout: TimeSpan.FromSeconds(2));

    internal HubHost Direct { get; private set; } = null!;

    internal HubHost Kestrel { get; private set; } = null!;

    internal HubHost DirectJwt { get; private set; } = null!;

    internal HubHost KestrelJwt { get; private set; } = null!;

    /// <summary>A token that may publish to any scope, for <c>POST /publish</c> on the JWT hubs.</summary>
    internal string PublishToken { get; } = TestTokens.Hs256(publish: true, expiresIn: TimeSpan.FromHours(2));

    public async Task InitializeAsync()
    {
        Direct = await StartAsync(directUpgrade: true, jwt: false);
        Kestrel = await StartAsync(directUpgrade: false, jwt: false);
        DirectJwt = await StartAsync(directUpgrade: true, jwt: true);
        KestrelJwt = await StartAsync(directUpgrade: false, jwt: true);
    }

    public async Task DisposeAsync()
    {
        foreach (var hub in new[] { Direct, Kestrel, DirectJwt, KestrelJwt })
        {
            if (hub is not null)
            {
                await hub.DisposeAsync();
            }
        }
    }

    private static Task<HubHost> StartAsync(bool directUpgrade, bool jwt) => HubHost.StartAsync(
        directUpgrade: directUpgrade,
        options: o =>
        {
            o.AllowedOrigins.Add(HandshakeCorpus.Origin);
            if (jwt)
            {
                o.JwtKey = TestTokens.Key;
            }
        },
        configure: builder => builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Limits.MaxRequestLineSize = Limits.MaxRequestLineSize;
            kestrel.Limits.MaxRequestHeadersTotalSize = Limits.MaxRequestHeadersTotalSize;
            kestrel.Limits.MaxRequestHeaderCount = Limits.MaxRequestHeaderCount;
            kestrel.Limits.RequestHeadersTimeout = Limits.RequestHeadersTimeout;
        }));
}
