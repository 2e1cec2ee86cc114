using System.Net;
using System.Net.Sockets;

namespace Atr.Bench.Cluster;

/// <summary>
/// What a hub node holds on one master: one connection subscribed to the channels of the scopes whose slots the master
/// owns, with <c>SSUBSCRIBE</c> (sharded, what a node does on a cluster) or <c>SUBSCRIBE</c> (classic), counting the
/// messages it receives. A plain socket, not a cluster client, so that each subscription sits on the master it names.
/// </summary>
internal sealed class ShardSubscriber : IAsyncDisposable
{
    private static readonly TimeSpan SubscribeTimeout = TimeSpan.FromSeconds(30);

    private readonly Socket _socket;
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource _subscribed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly int _channels;
    private readonly Task _reading;
    private long _received;
    private int _confirmed;
    private string? _failure;

    private ShardSubscriber(Socket socket, int port, int channels)
    {
        _socket = socket;
        Port = port;
        _channels = channels;
        _reading = ReadAsync(_stop.Token);
    }

    public int Port { get; }

    /// <summary>Messages received so far (<c>smessage</c> or <c>message</c>).</summary>
    public long Received => Interlocked.Read(ref _received);

    /// <summary>Why the subscription ended (an error reply, the connection closed), or null while it holds.</summary>
    public string? Failure => Volatile.Read(ref _failure);

    /// <summary>Connects to the node on <paramref name="port"/> and subscribes <paramref name="channels"/>; returns once the node confirmed each.</summary>
    /// <exception cref="InvalidOperationException">The node refused a subscription (a channel whose slot it does not own: <c>MOVED</c>).</exception>
    public static async Task<ShardSubscriber> StartAsync(int port, IReadOnlyList<string> channels, bool sharded, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        ShardSubscriber? subscriber = null;
        try
        {
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), cancellationToken).ConfigureAwait(false);
            subscriber = new ShardSubscriber(socket, port, channels.Count);

            // One channel per command: SSUBSCRIBE refuses channels of different slots in one call (CROSSSLOT).
            var command = sharded ? "SSUBSCRIBE" : "SUBSCRIBE";
            using var commands = new MemoryStream();
            foreach (var channel in channels)
            {
                commands.Write(Resp.Command(command, channel));
            }

            await socket.SendAsync(commands.ToArray(), SocketFlags.None, cancellationToken).ConfigureAwait(false);
            if (channels.Count > 0)
            {
                await subscriber._subscribed.Task.WaitAsync(SubscribeTimeout, cancellationToken).ConfigureAwait(false);
            }

            return subscriber;
        }
        catch
        {
            if (subscriber is not null)
            {
                await subscriber.DisposeAsync().ConfigureAwait(false);
            }
            else
            {
                socket.Dispose();
            }

            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _socket.Dispose();
        try
        {
            await _reading.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // The read loop ends with the socket.
        }

        _stop.Dispose();
    }

    private async Task ReadAsync(CancellationToken cancellationToken)
    {
        // Yield first: the constructor starts this loop and must return before the first read.
        await Task.Yield();
        var buffer = new byte[64 * 1024];
        var filled = 0;
        try
        {
            while (true)
            {
                if (filled == buffer.Length)
                {
                    Array.Resize(ref buffer, buffer.Length * 2);
                }

                var read = await _socket.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None, cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    Fail($"127.0.0.1:{Port} closed the subscriber's connection (its pubsub output buffer limit?).");
                    return;
                }

                filled += read;
                var offset = 0;
                while (Resp.Measure(buffer.AsSpan(offset, filled - offset)) is var length and >= 0)
                {
                    Take(buffer.AsSpan(offset, length));
                    offset += length;
                }

                buffer.AsSpan(offset, filled - offset).CopyTo(buffer);
                filled -= offset;
            }
        }
        catch (Exception ex) when (ex is SocketException or FormatException)
        {
            Fail($"127.0.0.1:{Port}: the subscriber's connection failed: {ex.Message}");
        }
    }

    private void Take(ReadOnlySpan<byte> value)
    {
        if (value.StartsWith("*3\r\n$8\r\nsmessage\r\n"u8) || value.StartsWith("*3\r\n$7\r\nmessage\r\n"u8))
        {
            Interlocked.Increment(ref _received);
        }
        else if (value.StartsWith("*3\r\n$10\r\nssubscribe\r\n"u8) || value.StartsWith("*3\r\n$9\r\nsubscribe\r\n"u8))
        {
            if (++_confirmed == _channels)
            {
                _subscribed.TrySetResult();
            }
        }
        else if (value[0] == (byte)'-')
        {
            Fail($"127.0.0.1:{Port} refused a subscription: {((RespError)Resp.Read(value, out _)!).Message}");
        }
    }

    private void Fail(string reason)
    {
        Interlocked.CompareExchange(ref _failure, reason, null);
        _subscribed.TrySetException(new InvalidOperationException(reason));
    }
}
