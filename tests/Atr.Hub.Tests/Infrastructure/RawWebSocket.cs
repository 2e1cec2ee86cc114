using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Atr.Testing;

namespace Atr.Hub.Tests.Infrastructure;

/// <summary>
/// A WebSocket client on a bare socket: the upgrade written by hand, frames sent exactly as given
/// (<see cref="WebSocketFrame"/>), and the server's frames read only when the test asks for them,
/// so a client can also stop reading altogether, as a stalled peer does.
/// </summary>
internal sealed class RawWebSocket : IAsyncDisposable
{
    private static readonly byte[] HeadEnd = "\r\n\r\n"u8.ToArray();

    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly PipeReader _reader;

    private RawWebSocket(Socket socket)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: true);
        _reader = PipeReader.Create(_stream, new StreamPipeReaderOptions(bufferSize: 4096, leaveOpen: true));
    }

    /// <summary>One frame from the server; the payload is kept for control frames only.</summary>
    private sealed record Frame(int Opcode, byte[] Payload);

    /// <summary>Upgrades a new connection to <paramref name="target"/> and returns once the 101 is read.</summary>
    /// <param name="port">The hub's port on 127.0.0.1.</param>
    /// <param name="target">The request target, e.g. <c>/organization/1</c>.</param>
    /// <param name="receiveBufferSize">A small kernel receive buffer (set before connecting, so the TCP window stays small) makes the server's writes block early.</param>
    /// <param name="cancellationToken">Cancels the connect and the handshake.</param>
    /// <exception cref="InvalidOperationException">The server answered something other than 101.</exception>
    public static async Task<RawWebSocket> ConnectAsync(int port, string target, int? receiveBufferSize = null, CancellationToken cancellationToken = default)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        if (receiveBufferSize is { } size)
        {
            socket.ReceiveBufferSize = size;
        }

        try
        {
            await socket.ConnectAsync(IPAddress.Loopback, port, cancellationToken).AsTask().DefaultTimeout();
            var client = new RawWebSocket(socket);
            var key = Convert.ToBase64String(Guid.NewGuid().ToByteArray());
            await client.SendAsync(Encoding.ASCII.GetBytes(RawHttp.UpgradeRequest(port, target, key: key)), cancellationToken);
            var head = await client.ReadHeadAsync(cancellationToken);
            if (!head.StartsWith("HTTP/1.1 101 ", StringComparison.Ordinal))
            {
                await client.DisposeAsync();
                throw new InvalidOperationException($"The upgrade to {target} was refused: {head}");
            }

            return client;
        }
        catch (Exception ex) when (ex is not InvalidOperationException)
        {
            socket.Dispose();
            throw;
        }
    }

    public Task SendAsync(WebSocketFrame frame, Random? random = null, CancellationToken cancellationToken = default)
        => SendAsync(frame.ToBytes(random), cancellationToken);

    /// <summary>Writes bytes as they are.</summary>
    public async Task SendAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken = default)
        => await _stream.WriteAsync(bytes, cancellationToken).AsTask().DefaultTimeout();

    /// <summary>Reads the next frame; null once the server ended the connection (FIN or reset) between frames or within one.</summary>
    private async Task<Frame?> ReceiveAsync(CancellationToken cancellationToken)
    {
        long length = -1;
        var headerLength = 0;
        var opcode = 0;
        while (true)
        {
            ReadResult read;
            try
            {
                read = await _reader.ReadAsync(cancellationToken).AsTask().DefaultTimeout();
            }
            catch (IOException)
            {
                return null;
            }

            // The header stays at the start of the buffer until the whole frame is there: it is read once.
            var buffer = read.Buffer;
            var header = length >= 0 || TryReadHeader(buffer, out opcode, out length, out headerLength);
            if (header && buffer.Length >= headerLength + length)
            {
                var payload = opcode >= WebSocketFrame.Close ? buffer.Slice(headerLength, length).ToArray() : [];
                _reader.AdvanceTo(buffer.GetPosition(headerLength + length));
                return new Frame(opcode, payload);
            }

            if (read.IsCompleted)
            {
                _reader.AdvanceTo(buffer.End);
                return null;
            }

            _reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    /// <summary>
    /// Reads frames (events, pings) until the server's close frame, answers it with a close of the
    /// same code as a client should, and returns the code: 1005 when the close frame had none, null
    /// when the connection ended without a close frame.
    /// </summary>
    public async Task<int?> ReceiveUntilCloseAsync(CancellationToken cancellationToken = default)
    {
        while (await ReceiveAsync(cancellationToken) is { } frame)
        {
            if (frame.Opcode != WebSocketFrame.Close)
            {
                continue;
            }

            var code = frame.Payload.Length >= 2 ? BinaryPrimitives.ReadUInt16BigEndian(frame.Payload) : 1005;
            try
            {
                await SendAsync(code == 1005 ? new WebSocketFrame(WebSocketFrame.Close, []) : WebSocketFrame.CloseWith(code), cancellationToken: cancellationToken);
                _socket.Shutdown(SocketShutdown.Send);
            }
            catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
            {
                // The server did not wait for the answer.
            }

            return code;
        }

        return null;
    }

    /// <summary>
    /// Reads frames until <paramref name="count"/> pings have come, answers each with its pong as a
    /// client should, and returns when each arrived (<see cref="TimeProvider.GetTimestamp"/>).
    /// </summary>
    /// <exception cref="IOException">The server ended the connection first.</exception>
    public async Task<long[]> ReceivePingsAsync(int count, CancellationToken cancellationToken = default)
    {
        var arrivals = new List<long>(count);
        while (arrivals.Count < count)
        {
            var frame = await ReceiveAsync(cancellationToken) ?? throw new IOException("The server ended the connection before its pings.");
            if (frame.Opcode == WebSocketFrame.Ping)
            {
                arrivals.Add(TimeProvider.System.GetTimestamp());
                await SendAsync(new WebSocketFrame(WebSocketFrame.Pong, frame.Payload), cancellationToken: cancellationToken);
            }
        }

        return [.. arrivals];
    }

    public async ValueTask DisposeAsync()
    {
        await _reader.CompleteAsync();
        await _stream.DisposeAsync();
    }

    private static bool TryReadHeader(ReadOnlySequence<byte> buffer, out int opcode, out long length, out int headerLength)
    {
        opcode = 0;
        length = -1;
        headerLength = 0;
        if (buffer.Length < 2)
        {
            return false;
        }

        Span<byte> header = stackalloc byte[14];
        var available = (int)Math.Min(buffer.Length, header.Length);
        buffer.Slice(0, available).CopyTo(header);
        var masked = (header[1] & 0x80) != 0;
        var length7 = header[1] & 0x7F;
        var extended = length7 switch { 126 => 2, 127 => 8, _ => 0 };
        headerLength = 2 + extended + (masked ? 4 : 0);
        if (available < headerLength)
        {
            return false;
        }

        opcode = header[0] & 0x0F;
        length = extended switch
        {
            2 => BinaryPrimitives.ReadUInt16BigEndian(header[2..]),
            8 => (long)BinaryPrimitives.ReadUInt64BigEndian(header[2..]),
            _ => length7,
        };
        return true;
    }

    private async Task<string> ReadHeadAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var read = await _reader.ReadAsync(cancellationToken).AsTask().DefaultTimeout();
            var buffer = read.Buffer;
            var end = new SequenceReader<byte>(buffer);
            if (end.TryReadTo(out ReadOnlySequence<byte> head, HeadEnd))
            {
                var text = Encoding.ASCII.GetString(head);
                _reader.AdvanceTo(end.Position);
                return text;
            }

            if (read.IsCompleted)
            {
                var partial = Encoding.ASCII.GetString(buffer);
                _reader.AdvanceTo(buffer.End);
                return partial;
            }

            _reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }
}
