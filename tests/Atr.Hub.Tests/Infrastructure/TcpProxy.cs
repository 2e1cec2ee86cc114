using System.Net;
using System.Net.Sockets;

namespace Atr.Hub.Tests.Infrastructure;

/// <summary>
/// A loopback TCP proxy that can stop forwarding while keeping every connection open: the network
/// faults that no process crash shows, such as a subscriber that hears nothing while its socket
/// looks healthy, or a peer that vanished without a FIN.
/// </summary>
/// <remarks>
/// A stopped direction is not read at all, so the bytes wait in the kernel's buffers and the
/// sender sees no error, exactly as with a silent network path. Resuming lets them flow again.
/// </remarks>
internal sealed class TcpProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly IPEndPoint _target;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Socket> _sockets = [];
    private readonly Task _accepting;
    private readonly Lock _gates = new();
    private Gate _toTarget = Gate.Open();
    private Gate _fromTarget = Gate.Open();
    private volatile bool _refusing;

    public TcpProxy(IPEndPoint target)
    {
        _target = target;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    /// <summary>Where clients connect: forwarded to the target.</summary>
    public IPEndPoint EndPoint => (IPEndPoint)_listener.LocalEndpoint;

    /// <summary>Stops forwarding what the target sends (the target → client direction).</summary>
    public void StopFromTarget()
    {
        lock (_gates)
        {
            Close(ref _fromTarget);
        }
    }

    /// <summary>Stops forwarding both directions, as for a peer whose network vanished.</summary>
    public void StopBoth()
    {
        lock (_gates)
        {
            Close(ref _toTarget);
            Close(ref _fromTarget);
        }
    }

    /// <summary>Cuts every connection (a reset) and refuses new ones until <see cref="Resume"/>: the path to the target is gone.</summary>
    public void Cut()
    {
        _refusing = true;
        lock (_sockets)
        {
            foreach (var socket in _sockets)
            {
                try
                {
                    socket.LingerState = new LingerOption(true, 0);
                }
                catch (ObjectDisposedException)
                {
                    // Closed by its other side already.
                }

                socket.Dispose();
            }
        }
    }

    /// <summary>Forwards both directions again, including what waited meanwhile, and takes new connections.</summary>
    public void Resume()
    {
        _refusing = false;
        lock (_gates)
        {
            _toTarget.Release();
            _fromTarget.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        lock (_sockets)
        {
            foreach (var socket in _sockets)
            {
                socket.Dispose();
            }
        }

        Resume();
        await _accepting.ConfigureAwait(false);
        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptSocketAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            if (_refusing)
            {
                client.LingerState = new LingerOption(true, 0);
                client.Dispose();
                continue;
            }

            _ = ForwardAsync(client);
        }
    }

    private async Task ForwardAsync(Socket client)
    {
        var target = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        lock (_sockets)
        {
            _sockets.Add(client);
            _sockets.Add(target);
        }

        try
        {
            await target.ConnectAsync(_target, _stop.Token).ConfigureAwait(false);
            await Task.WhenAny(
                PumpAsync(client, target, () => Current(ref _toTarget)),
                PumpAsync(target, client, () => Current(ref _fromTarget))).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // The proxy or one side went away.
        }
        finally
        {
            client.Dispose();
            target.Dispose();
            lock (_sockets)
            {
                _sockets.Remove(client);
                _sockets.Remove(target);
            }
        }
    }

    private async Task PumpAsync(Socket from, Socket to, Func<Gate> gate)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                // Waits before reading: while stopped, the bytes stay in the kernel's buffers.
                await gate().WaitAsync(_stop.Token).ConfigureAwait(false);
                var read = await from.ReceiveAsync(buffer, _stop.Token).ConfigureAwait(false);
                if (read == 0)
                {
                    to.Shutdown(SocketShutdown.Send);
                    return;
                }

                await gate().WaitAsync(_stop.Token).ConfigureAwait(false);
                await to.SendAsync(buffer.AsMemory(0, read), _stop.Token).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // Closed from either side.
        }
    }

    private static void Close(ref Gate gate)
    {
        if (gate.IsOpen)
        {
            gate = Gate.Closed();
        }
    }

    private Gate Current(ref Gate gate)
    {
        lock (_gates)
        {
            return gate;
        }
    }

    /// <summary>Open, or closed until released.</summary>
    private sealed class Gate
    {
        private readonly TaskCompletionSource _open = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public static Gate Open()
        {
            var gate = new Gate();
            gate.Release();
            return gate;
        }

        public static Gate Closed() => new();

        public bool IsOpen => _open.Task.IsCompleted;

        public void Release() => _open.TrySetResult();

        public Task WaitAsync(CancellationToken cancellationToken) => _open.Task.WaitAsync(cancellationToken);
    }
}
