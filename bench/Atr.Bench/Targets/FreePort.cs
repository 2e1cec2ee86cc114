using System.Net;
using System.Net.Sockets;

namespace Atr.Bench.Targets;

internal static class FreePort
{
    /// <summary>A loopback port free now; it can be taken before it is used, so callers retry.</summary>
    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
