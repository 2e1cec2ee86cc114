using System.Net.Sockets;
using System.Text;
using Atr.Testing;

namespace Atr.Hub.Tests.Infrastructure;

/// <summary>
/// A WebSocket handshake written byte for byte, so that request targets reach the server exactly as
/// written (no client-side normalization of <c>%2F</c>, dots or <c>*</c>).
/// </summary>
internal static class RawHttp
{
    public sealed record Response(int Status, string Head, string Body);

    public static async Task<Response> HandshakeAsync(int port, string target, string? extraHeaders = null)
    {
        using var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", port).DefaultTimeout();
        var stream = client.GetStream();
        var request =
            $"GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n" +
            $"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n{extraHeaders}\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request)).AsTask().DefaultTimeout();

        var received = new StringBuilder();
        var buffer = new byte[4096];
        while (true)
        {
            var read = await stream.ReadAsync(buffer).AsTask().DefaultTimeout();
            if (read == 0)
            {
                break;
            }

            received.Append(Encoding.UTF8.GetString(buffer, 0, read));
            var text = received.ToString();
            var headEnd = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);

            // A 101 has no body; a refusal ends with its one-line reason (chunked: the 0 chunk).
            if (headEnd >= 0 && (text.StartsWith("HTTP/1.1 101", StringComparison.Ordinal) || text.EndsWith("0\r\n\r\n", StringComparison.Ordinal) || HasFullBody(text, headEnd)))
            {
                break;
            }
        }

        var all = received.ToString();
        var end = all.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        var head = end >= 0 ? all[..end] : all;
        var status = int.Parse(head.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        return new Response(status, head, end >= 0 ? all[(end + 4)..] : string.Empty);
    }

    private static bool HasFullBody(string text, int headEnd)
    {
        var head = text[..headEnd];
        foreach (var line in head.Split("\r\n"))
        {
            if (line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase))
            {
                return text.Length - headEnd - 4 >= int.Parse(line["Content-Length:".Length..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        return false;
    }
}
