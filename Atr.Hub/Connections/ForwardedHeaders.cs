using Microsoft.Extensions.Configuration;

namespace Atr.Hub.Connections;

/// <summary>
/// Whether ASP.NET Core takes the client's address from <c>X-Forwarded-For</c>
/// (<c>ASPNETCORE_FORWARDEDHEADERS_ENABLED=true</c>): a socket's own address is then a proxy's, and
/// what is decided per client address must wait for the request.
/// </summary>
internal static class ForwardedHeaders
{
    public static bool Enabled(IConfiguration configuration)
        => string.Equals(configuration["FORWARDEDHEADERS_ENABLED"], "true", StringComparison.OrdinalIgnoreCase);
}
