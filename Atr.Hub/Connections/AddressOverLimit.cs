namespace Atr.Hub.Connections;

/// <summary>
/// A connection feature <see cref="ConnectionGate"/> sets on a socket from an address that already
/// holds <see cref="AtrHubOptions.MaxConnectionsPerIp"/> connections: its handshake is answered 429.
/// </summary>
internal sealed class AddressOverLimit
{
    public static readonly AddressOverLimit Instance = new();
}
