using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.Options;

namespace Atr.Hub.Security;

/// <summary>
/// Counts open connections per remote address against <see cref="AtrHubOptions.MaxConnectionsPerIp"/>:
/// every socket from its accept when the endpoint has a <see cref="Connections.ConnectionGate"/>
/// (<see cref="CountsConnections"/>), otherwise each admitted raw or SignalR connection.
/// </summary>
internal sealed class ConnectionLimiter(IOptions<AtrHubOptions> options)
{
    /// <summary>Whether places are taken by socket at accept, by the connection gate; admissions then only read its verdict.</summary>
    public bool CountsConnections { get; set; }

    /// <summary>Whether <paramref name="request"/> may be admitted by its address, taking its place unless the gate took it at accept. Give it back with <see cref="Leave"/>.</summary>
    public bool TryAdmit(ClientRequest request)
        => CountsConnections ? !request.OverAddressLimit : TryAcquire(request.RemoteAddress);

    /// <summary>Whether <paramref name="request"/> could be admitted by its address, taking nothing.</summary>
    public bool HasRoomFor(ClientRequest request)
        => CountsConnections ? !request.OverAddressLimit : HasRoom(request.RemoteAddress);

    /// <summary>Gives back what <see cref="TryAdmit"/> took.</summary>
    public void Leave(IPAddress? address)
    {
        if (!CountsConnections)
        {
            Release(address);
        }
    }

    private readonly ConcurrentDictionary<IPAddress, int> _open = new();
    private readonly int _limit = options.Value.MaxConnectionsPerIp;

    /// <summary>Takes a place for <paramref name="address"/>; <see langword="false"/> when it has the most it may. Release every place taken.</summary>
    public bool TryAcquire(IPAddress? address)
    {
        if (_limit <= 0 || address is null)
        {
            return true;
        }

        while (true)
        {
            var current = _open.GetOrAdd(address, 0);
            if (current >= _limit)
            {
                return false;
            }

            if (_open.TryUpdate(address, current + 1, current))
            {
                return true;
            }
        }
    }

    /// <summary>Whether <paramref name="address"/> could take a place now, without taking it.</summary>
    public bool HasRoom(IPAddress? address)
        => _limit <= 0 || address is null || _open.GetValueOrDefault(address) < _limit;

    public void Release(IPAddress? address)
    {
        if (_limit <= 0 || address is null)
        {
            return;
        }

        while (_open.TryGetValue(address, out var current))
        {
            if (current <= 1 ? _open.TryRemove(new KeyValuePair<IPAddress, int>(address, current)) : _open.TryUpdate(address, current - 1, current))
            {
                return;
            }
        }
    }
}
