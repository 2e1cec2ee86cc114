using System.Net;
using System.Net.Sockets;

namespace Atr.Bench.Cluster;

/// <summary>
/// A plain connection to one Redis node for the tool's own commands (slots, <c>INFO</c>, <c>FLUSHALL</c>,
/// <c>MEMORY USAGE</c>): each goes to this node and no other, one at a time.
/// </summary>
internal sealed class NodeConnection : IAsyncDisposable
{
    private static readonly TimeSpan ReplyTimeout = TimeSpan.FromSeconds(30);

    private readonly Socket _socket;
    private readonly SemaphoreSlim _oneAtATime = new(1, 1);
    private byte[] _buffer = new byte[16 * 1024];
    private int _filled;

    private NodeConnection(Socket socket, int port)
    {
        _socket = socket;
        Port = port;
    }

    public int Port { get; }

    public static async Task<NodeConnection> ConnectAsync(int port, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), cancellationToken).ConfigureAwait(false);
            return new NodeConnection(socket, port);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Sends <paramref name="command"/> and returns its reply (see <see cref="Resp.Read"/>).</summary>
    /// <exception cref="InvalidOperationException">The node answered with an error.</exception>
    public async Task<object?> ExecuteAsync(string[] command, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ReplyTimeout);
        await _oneAtATime.WaitAsync(timeout.Token).ConfigureAwait(false);
        try
        {
            await _socket.SendAsync(Resp.Command(command), SocketFlags.None, timeout.Token).ConfigureAwait(false);
            while (true)
            {
                var length = _filled == 0 ? -1 : Resp.Measure(_buffer.AsSpan(0, _filled));
                if (length >= 0)
                {
                    var reply = Resp.Read(_buffer.AsSpan(0, length), out _);
                    _buffer.AsSpan(length, _filled - length).CopyTo(_buffer);
                    _filled -= length;
                    return reply is RespError error
                        ? throw new InvalidOperationException($"{string.Join(' ', command.Take(2))} on 127.0.0.1:{Port}: {error.Message}")
                        : reply;
                }

                if (_filled == _buffer.Length)
                {
                    Array.Resize(ref _buffer, _buffer.Length * 2);
                }

                var read = await _socket.ReceiveAsync(_buffer.AsMemory(_filled), SocketFlags.None, timeout.Token).ConfigureAwait(false);
                if (read == 0)
                {
                    throw new InvalidOperationException($"127.0.0.1:{Port} closed the connection during {command[0]}.");
                }

                _filled += read;
            }
        }
        finally
        {
            _oneAtATime.Release();
        }
    }

    /// <summary>A command whose reply is text (<c>INFO</c>, <c>CLUSTER INFO</c>, <c>OK</c>).</summary>
    public async Task<string> TextAsync(string[] command, CancellationToken cancellationToken)
        => await ExecuteAsync(command, cancellationToken).ConfigureAwait(false) as string
            ?? throw new InvalidOperationException($"{command[0]} on 127.0.0.1:{Port} did not answer with text.");

    /// <summary>A command whose reply is an integer (<c>CLUSTER KEYSLOT</c>, <c>XLEN</c>, <c>MEMORY USAGE</c>).</summary>
    public async Task<long> IntegerAsync(string[] command, CancellationToken cancellationToken)
        => await ExecuteAsync(command, cancellationToken).ConfigureAwait(false) as long?
            ?? throw new InvalidOperationException($"{command[0]} on 127.0.0.1:{Port} did not answer with an integer.");

    public ValueTask DisposeAsync()
    {
        _socket.Dispose();
        _oneAtATime.Dispose();
        return ValueTask.CompletedTask;
    }
}
