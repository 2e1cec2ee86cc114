using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;

namespace Atr.Bench.Clients;

/// <summary>
/// Opens a client WebSocket over a raw <see cref="Socket"/> with a hand-written HTTP/1.1 upgrade, so that the
/// socket can be bound to a chosen loopback source address (each 127.0.0.x has its own ephemeral ports).
/// </summary>
internal static class WebSocketConnector
{
    // Linux IP_BIND_ADDRESS_NO_PORT (IPPROTO_IP level): bind the address now, pick the port at connect, from the
    // whole ephemeral range (a bind to port 0 alone uses only half of it).
    private const int IpProtocolLevel = 0;
    private const int IpBindAddressNoPort = 24;

    private static readonly byte[] HeaderEnd = "\r\n\r\n"u8.ToArray();

    public static async Task<WebSocket> ConnectAsync(Uri uri, IPAddress? source, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            if (source is not null)
            {
                if (OperatingSystem.IsLinux())
                {
                    socket.SetRawSocketOption(IpProtocolLevel, IpBindAddressNoPort, BitConverter.GetBytes(1));
                }

                socket.Bind(new IPEndPoint(source, 0));
            }

            await socket.ConnectAsync(new IPEndPoint(IPAddress.Parse(uri.Host), uri.Port), cancellationToken).ConfigureAwait(false);

            var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
            var request = $"GET {uri.PathAndQuery} HTTP/1.1\r\nHost: {uri.Authority}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
                $"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n";
            await socket.SendAsync(Encoding.ASCII.GetBytes(request), SocketFlags.None, cancellationToken).ConfigureAwait(false);

            var response = await ReadResponseHeadAsync(socket, cancellationToken).ConfigureAwait(false);
            if (!response.StartsWith("HTTP/1.1 101", StringComparison.Ordinal))
            {
                throw new WebSocketException($"{uri} refused the upgrade: {response.Split("\r\n")[0]}");
            }

            // RFC 6455 fixes SHA-1 for Sec-WebSocket-Accept; it proves the server read the key, it protects nothing.
#pragma warning disable CA5350
            var accept = Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")));
#pragma warning restore CA5350
            if (!response.Contains($"\r\nSec-WebSocket-Accept: {accept}", StringComparison.OrdinalIgnoreCase))
            {
                throw new WebSocketException($"{uri} answered the upgrade with a wrong Sec-WebSocket-Accept.");
            }

            return WebSocket.CreateFromStream(new PooledReadStream(socket), new WebSocketCreationOptions
            {
                IsServer = false,

                // The servers ping and the WebSocket answers their pings by itself; the clients send none, to stay cheap.
                KeepAliveInterval = TimeSpan.Zero,
            });
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Reads the response head and not one byte more: the server may send its first frames right behind it.
    /// Peeks, then consumes up to the blank line.
    /// </summary>
    private static async Task<string> ReadResponseHeadAsync(Socket socket, CancellationToken cancellationToken)
    {
        var buffer = new byte[2048];
        var head = new StringBuilder();
        var matched = 0;
        while (true)
        {
            var peeked = await socket.ReceiveAsync(buffer, SocketFlags.Peek, cancellationToken).ConfigureAwait(false);
            if (peeked == 0)
            {
                throw new WebSocketException("The server closed the connection during the upgrade.");
            }

            var take = peeked;
            for (var i = 0; i < peeked; i++)
            {
                matched = buffer[i] == HeaderEnd[matched] ? matched + 1 : buffer[i] == HeaderEnd[0] ? 1 : 0;
                if (matched == HeaderEnd.Length)
                {
                    take = i + 1;
                    break;
                }
            }

            var read = 0;
            while (read < take)
            {
                read += await socket.ReceiveAsync(buffer.AsMemory(read, take - read), SocketFlags.None, cancellationToken).ConfigureAwait(false);
            }

            head.Append(Encoding.ASCII.GetString(buffer, 0, take));
            if (matched == HeaderEnd.Length)
            {
                return head.ToString();
            }

            if (head.Length > 16 * 1024)
            {
                throw new WebSocketException("The upgrade response head is too long.");
            }
        }
    }
}
