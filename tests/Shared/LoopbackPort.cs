using System.Net;
using System.Net.Sockets;

namespace Atr.Testing;

/// <summary>Ports on 127.0.0.1 for servers the tests start, or for addresses where nothing must answer.</summary>
public static class LoopbackPort
{
    /// <summary>A port nothing listens on at the moment; another process can still take it before it is used.</summary>
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
