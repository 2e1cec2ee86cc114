using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.Options;

namespace Atr.Hub.Security;

/// <summary>Counts open connections per remote address against <see cref="AtrHubOptions.MaxConnectionsPerIp"/>.</summary>
internal sealed class ConnectionLimiter(IOptions<AtrHubOptions> options)
{
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
