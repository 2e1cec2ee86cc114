using System.Net.Sockets;
using System.Net.WebSockets;
using Atr.Testing;

namespace Atr.Hub.Tests.Infrastructure;

/// <summary>A raw client that does not read: a tiny receive window makes the hub's writes to it block early, as a stalled mobile client's would.</summary>
internal static class StalledClient
{
    public static async Task<ClientWebSocket> ConnectAsync(Uri uri)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (context, cancellationToken) =>
            {
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
                await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            },
        };

        var client = new ClientWebSocket();
        await client.ConnectAsync(uri, new HttpMessageInvoker(handler), CancellationToken.None).DefaultTimeout();
        return client;
    }

    /// <summary>Reads (once the client starts reading again) until the close frame, and returns its status.</summary>
    public static async Task<WebSocketCloseStatus?> DrainUntilCloseAsync(ClientWebSocket socket)
    {
        var buffer = new byte[64 * 1024];
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer, CancellationToken.None);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return result.CloseStatus;
            }
        }
    }
}
