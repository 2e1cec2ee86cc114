using System.Collections.Concurrent;
using System.Net.WebSockets;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Atr.Hub.Connections;

/// <summary>
/// Every open raw connection of the node, so that shutdown can refuse new ones and close the open
/// ones with 1001 before the server stops.
/// </summary>
/// <remarks>
/// Shutdown has two steps. When the application starts stopping, the node turns unready and
/// refuses new handshakes with 503 at once. Then, before Kestrel stops (which is why this is a
/// lifecycle service: its <see cref="StoppingAsync"/> runs before any service's <c>StopAsync</c>),
/// the open connections are closed with 1001 at <see cref="AtrHubOptions.ShutdownCloseRate"/> per
/// second, so that their clients do not all reconnect to the other nodes in the same millisecond.
/// </remarks>
internal sealed class ConnectionManager : IHostedLifecycleService
{
    private const string ShuttingDown = "Server shutting down";
    private static readonly TimeSpan PaceTick = TimeSpan.FromMilliseconds(10);

    private readonly ConcurrentDictionary<WebSocketConnection, byte> _connections = new();
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly AtrHubOptions _options;
    private readonly TimeProvider _time;
    private long _nextId;
    private int _stopping;

    public ConnectionManager(IHostApplicationLifetime lifetime, IOptions<AtrHubOptions> options, TimeProvider time)
    {
        _options = options.Value;
        _time = time;

        // Readiness and new handshakes see the stop at once, before any connection is closed.
        lifetime.ApplicationStopping.Register(() => Interlocked.Exchange(ref _stopping, 1));
    }

    public bool IsStopping => Volatile.Read(ref _stopping) != 0;



    public string NextId() => Interlocked.Increment(ref _nextId).ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Tracks a connection; one added while the node stops is closed at once.</summary>
    public void Add(WebSocketConnection connection)
    {
        _connections.TryAdd(connection, 0);

        // Full fences on both sides: either the drain sees this connection, or this sees the stop.
        Interlocked.MemoryBarrier();
        if (IsStopping)
        {
            connection.RequestClose(WebSocketCloseStatus.EndpointUnavailable, ShuttingDown);
        }
    }

    public void Remove(WebSocketConnection connection)
    {
        _connections.TryRemove(connection, out _);
        if (IsStopping && _connections.IsEmpty)
        {
            _drained.TrySetResult();
        }
    }

    /// <summary>Closes every connection with 1001, paced, and waits until they are gone or the host's shutdown timeout ends.</summary>
    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        Interlocked.Exchange(ref _stopping, 1);
        Interlocked.MemoryBarrier();
        if (_connections.IsEmpty)
        {
            return;
        }

        var perTick = Math.Max(1, (int)(_options.ShutdownCloseRate * PaceTick.TotalSeconds));
        var closed = 0;
        try
        {
            foreach (var connection in _connections.Keys)
            {
                connection.RequestClose(WebSocketCloseStatus.EndpointUnavailable, ShuttingDown);
                if (++closed % perTick == 0)
                {
                    await Task.Delay(PaceTick, _time, cancellationToken).ConfigureAwait(false);
                }
            }

            if (_connections.IsEmpty)
            {
                return;
            }

            await _drained.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Out of time: what is left is closed at once, and Kestrel aborts whoever does not answer.
            foreach (var connection in _connections.Keys)
            {
                connection.RequestClose(WebSocketCloseStatus.EndpointUnavailable, ShuttingDown);
            }
        }
    }

    Task IHostedService.StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    Task IHostedService.StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    Task IHostedLifecycleService.StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    Task IHostedLifecycleService.StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    Task IHostedLifecycleService.StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
