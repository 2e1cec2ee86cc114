using System.Net;
using Atr.Hub.Diagnostics;
using Atr.Hub.Security;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Atr.Hub.Connections;

/// <summary>
/// Kestrel connection middleware, first on the hub's endpoint, that counts every accepted socket —
/// handshake or not, authenticated or not — from the moment it is accepted: toward the node's
/// ceiling (below its open-files limit, <see cref="DescriptorBudget"/>), and toward its address's
/// place among <see cref="AtrHubOptions.MaxConnectionsPerIp"/>. Past the ceiling a socket is closed
/// at once; past its address's limit it goes on, marked, so that its request is answered 429.
/// </summary>
internal sealed partial class ConnectionGate
{
    private static readonly TimeSpan LogInterval = TimeSpan.FromSeconds(10);

    private readonly ConnectionDelegate _next;
    private readonly ConnectionLimiter? _limiter;
    private readonly HubMetrics _metrics;
    private readonly LogThrottle _refusals;
    private readonly ILogger _logger;
    private readonly int _ceiling;
    private int _open;

    /// <param name="next">The rest of the connection's pipeline.</param>
    /// <param name="ceiling">The most sockets held at once.</param>
    /// <param name="limiter">The per-address places; null when a socket's address is a proxy's (forwarded headers), and they are taken by each handshake instead.</param>
    /// <param name="metrics">Counts the sockets refused.</param>
    /// <param name="time">The clock of the rate-limited log.</param>
    /// <param name="logger">Where refusals are said.</param>
    public ConnectionGate(ConnectionDelegate next, int ceiling, ConnectionLimiter? limiter, HubMetrics metrics, TimeProvider time, ILogger<ConnectionGate> logger)
    {
        _next = next;
        _ceiling = ceiling;
        _limiter = limiter;
        _metrics = metrics;
        _refusals = new LogThrottle(time, LogInterval);
        _logger = logger;

        // The per-address places are taken here, by socket, rather than by each handshake.
        limiter?.CountsConnections = true;
    }

    /// <summary>The gate in front of <paramref name="next"/>, with the ceiling of <see cref="AtrHubOptions.MaxConnections"/> or the process's descriptor budget.</summary>
    public static ConnectionDelegate Create(ConnectionDelegate next, IServiceProvider services)
    {
        var options = services.GetRequiredService<IOptions<AtrHubOptions>>().Value;
        var logger = services.GetRequiredService<ILogger<ConnectionGate>>();
        int ceiling;
        if (options.MaxConnections > 0)
        {
            ceiling = options.MaxConnections;
        }
        else if (DescriptorBudget.Ceiling(out var limit, out var reserve) is { } budget)
        {
            ceiling = budget;
            LogCeiling(logger, ceiling, limit, reserve);
        }
        else
        {
            ceiling = int.MaxValue;
        }

        var limiter = ForwardedHeaders.Enabled(services.GetRequiredService<IConfiguration>()) ? null : services.GetRequiredService<ConnectionLimiter>();
        return new ConnectionGate(next, ceiling, limiter, services.GetRequiredService<HubMetrics>(), services.GetRequiredService<TimeProvider>(), logger).OnConnectedAsync;
    }

    /// <summary>Sockets open now, counted from accept.</summary>
    public int Open => Volatile.Read(ref _open);

    public async Task OnConnectedAsync(ConnectionContext connection)
    {
        if (Interlocked.Increment(ref _open) > _ceiling)
        {
            Interlocked.Decrement(ref _open);
            Refuse();
            connection.Abort(new ConnectionAbortedException("The node holds as many connections as its open-files limit allows."));
            return;
        }

        var address = (connection.RemoteEndPoint as IPEndPoint)?.Address;
        var placed = _limiter?.TryAcquire(address) ?? false;
        if (_limiter is not null && !placed)
        {
            connection.Features.Set(AddressOverLimit.Instance);
        }

        try
        {
            await _next(connection).ConfigureAwait(false);
        }
        finally
        {
            if (placed)
            {
                _limiter!.Release(address);
            }

            Interlocked.Decrement(ref _open);
        }
    }

    private void Refuse()
    {
        _metrics.ConnectionRefusedAtAccept();
        if (_refusals.Count(out var refused))
        {
            LogRefusing(_logger, refused, _ceiling);
        }
    }
}
