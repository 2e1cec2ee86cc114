using System.Net;
using Atr.Bench.Measurement;

namespace Atr.Bench.Clients;

/// <summary>The clients of one target run: opened in batches with a bounded number of handshakes at once, kept alive, aborted at the end.</summary>
internal sealed class ClientPool : IAsyncDisposable
{
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan SignalRPingInterval = TimeSpan.FromSeconds(15);

    private readonly List<BenchClient> _clients = [];
    private readonly Func<ScopeTracker, Uri> _uriOf;
    private readonly ClientProtocol _protocol;
    private readonly string? _signalRMethod;
    private readonly DeliveryStats _stats;
    private readonly int _perSourceAddress;
    private readonly int _concurrency;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _keepAlive;
    private int _failures;

    public ClientPool(Func<ScopeTracker, Uri> uriOf, ClientProtocol protocol, string? signalRMethod, DeliveryStats stats, int perSourceAddress, int concurrency)
    {
        _uriOf = uriOf;
        _protocol = protocol;
        _signalRMethod = signalRMethod;
        _stats = stats;
        _perSourceAddress = perSourceAddress;
        _concurrency = concurrency;
        _keepAlive = protocol == ClientProtocol.SignalR ? KeepAliveAsync(_stop.Token) : Task.CompletedTask;
    }

    public IReadOnlyList<BenchClient> Clients => _clients;

    /// <summary>Clients whose connection is still open.</summary>
    public int OpenCount
    {
        get
        {
            lock (_clients)
            {
                return _clients.Count(client => client.IsOpen);
            }
        }
    }

    /// <summary>Opens <paramref name="count"/> more clients, the i-th (over the pool's life) in scope i mod scopes.</summary>
    /// <returns>The handshake errors (empty when all connected).</returns>
    public async Task<IReadOnlyList<string>> OpenAsync(int count, IReadOnlyList<ScopeTracker> scopes, CancellationToken cancellationToken)
    {
        int first;
        lock (_clients)
        {
            first = _clients.Count + _failures;
        }

        var errors = new List<string>();
        var next = first;
        var end = first + count;
        var workers = Enumerable.Range(0, Math.Min(_concurrency, count)).Select(async _ =>
        {
            while (true)
            {
                var index = Interlocked.Increment(ref next) - 1;
                if (index >= end)
                {
                    return;
                }

                var scope = scopes[index % scopes.Count];
                try
                {
                    var client = await BenchClient.ConnectAsync(
                        _uriOf(scope), SourceAddress(index), _protocol, _signalRMethod, scope, _stats, ConnectTimeout, cancellationToken).ConfigureAwait(false);
                    lock (_clients)
                    {
                        _clients.Add(client);
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                {
                    Interlocked.Increment(ref _failures);
                    lock (errors)
                    {
                        errors.Add(ex.Message);
                    }
                }
            }
        });
        await Task.WhenAll(workers).ConfigureAwait(false);

        foreach (var scope in scopes)
        {
            scope.Recipients = 0;
        }

        lock (_clients)
        {
            foreach (var client in _clients)
            {
                client.Scope.Recipients++;
            }
        }

        return errors;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _keepAlive.ConfigureAwait(false);
        lock (_clients)
        {
            foreach (var client in _clients)
            {
                client.Abort();
            }
        }

        _stop.Dispose();
    }

    /// <summary>127.0.0.1 for the first clients, then 127.0.0.2…: each address has its own ~28,000 ephemeral ports.</summary>
    private IPAddress SourceAddress(int index) => new([127, 0, 0, (byte)(1 + (index / _perSourceAddress))]);

    private async Task KeepAliveAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(SignalRPingInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                BenchClient[] clients;
                lock (_clients)
                {
                    clients = [.. _clients];
                }

                foreach (var client in clients)
                {
                    await client.PingAsync(cancellationToken).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The pool is being disposed.
        }
    }
}
