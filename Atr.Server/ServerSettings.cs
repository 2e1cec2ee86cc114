using System.Net;
using Atr.Hub;
using Atr.Server.Cli;

namespace Atr.Server;

/// <summary>What <c>atr-server start</c> needs beyond <see cref="AtrHubOptions"/>: where to listen and in which mode.</summary>
internal sealed class ServerSettings
{
    /// <summary>The address to bind: an IP address or <c>localhost</c>. Default 127.0.0.1.</summary>
    public string ServerHost { get; set; } = "127.0.0.1";

    /// <summary>The port; 0 picks a free one. Default 7777.</summary>
    public int ServerPort { get; set; } = 7777;

    /// <summary>
    /// Upgrades the raw endpoint's WebSockets at the connection, ahead of the HTTP layer, so that an
    /// open connection does not keep its HTTP request alive under it. Default true.
    /// </summary>
    public bool DirectUpgrade { get; set; } = true;

    /// <summary>Serves the hub's metrics for Prometheus at <c>GET /metrics</c>. Default true.</summary>
    public bool Metrics { get; set; } = true;

    /// <summary>Serves the demo page at <c>/demo/</c>. Default false.</summary>
    public bool Demo { get; set; }

    /// <summary>The folder of the browser bundle for the demo. Default: <c>Atr.Client.Js/dist/browser</c> found above the working directory.</summary>
    public string? DemoAssets { get; set; }

    /// <summary>The address to bind, or an error for a host that is not an IP address or <c>localhost</c>.</summary>
    public IPAddress BindAddress()
    {
        if (string.Equals(ServerHost, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            return IPAddress.Loopback;
        }

        return IPAddress.TryParse(ServerHost, out var address)
            ? address
            : throw new CommandLineException($"--server-host must be an IP address or 'localhost'; got '{ServerHost}'.");
    }
}
