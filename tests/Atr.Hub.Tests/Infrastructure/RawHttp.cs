using System.Net.Sockets;
using System.Text;
using Atr.Testing;

namespace Atr.Hub.Tests.Infrastructure;

/// <summary>
/// A WebSocket handshake written byte for byte, so that request targets reach the server exactly as
/// written (no client-side normalization of <c>%2F</c>, dots or <c>*</c>), and requests no client
/// library would send (wrong method, missing or bad headers) reach it at all.
/// </summary>
internal static class RawHttp
{
    public sealed record Response(int Status, string Head, string Body);

    /// <summary>
    /// A valid upgrade request for <paramref name="target"/>, with <paramref name="extraHeaders"/> (each ending in CRLF)
    /// added; <paramref name="key"/> is the <c>Sec-WebSocket-Key</c>, RFC 6455's sample by default, and null leaves the header out.
    /// </summary>
    public static string UpgradeRequest(int port, string target, string? extraHeaders = null, string? key = "dGhlIHNhbXBsZSBub25jZQ==")
        => $"GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n" +
           $"Sec-WebSocket-Version: 13\r\n{(key is null ? string.Empty : $"Sec-WebSocket-Key: {key}\r\n")}{extraHeaders}\r\n";

    public static Task<Response> HandshakeAsync(int port, string target, string? extraHeaders = null)
        => SendAsync(port, Encoding.ASCII.GetBytes(UpgradeRequest(port, target, extraHeaders)));

    /// <summary>Sends <paramref name="request"/> as it is on a new connection and reads the answer.</summary>
    public static async Task<Response> SendAsync(int port, ReadOnlyMemory<byte> request, CancellationToken cancellationToken = default)
    {
        using var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", port, cancellationToken).AsTask().DefaultTimeout();
        var stream = client.GetStream();
        try
        {
            await stream.WriteAsync(request, cancellationToken).AsTask().DefaultTimeout();
        }
        catch (IOException)
        {
            // A server may answer and close before it has read a request it refuses (headers too
            // large): the answer is still there to read.
        }

        return await ReadResponseAsync(stream, cancellationToken);
    }

    /// <summary>Sends <paramref name="request"/> on a connection already open and reads its answer: the next request of a kept-alive connection.</summary>
    public static async Task<Response> ExchangeAsync(NetworkStream stream, ReadOnlyMemory<byte> request)
    {
        await stream.WriteAsync(request).AsTask().DefaultTimeout();
        return await ReadResponseAsync(stream, CancellationToken.None);
    }

    /// <summary>Reads one response, up to the end of its head for a 101 and of its body otherwise.</summary>
    private static async Task<Response> ReadResponseAsync(NetworkStream stream, CancellationToken cancellationToken)
    {
        var received = new StringBuilder();
        var buffer = new byte[4096];
        while (true)
        {
            int read;
            try
            {
                read = await stream.ReadAsync(buffer, cancellationToken).AsTask().DefaultTimeout();
            }
            catch (IOException) when (received.Length > 0)
            {
                // Reset after the answer was written.
                break;
            }

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
        if (!head.StartsWith("HTTP/", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"No HTTP answer, got: '{head}'");
        }

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
