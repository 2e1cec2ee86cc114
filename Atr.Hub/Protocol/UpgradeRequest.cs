using System.Buffers;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace Atr.Hub.Protocol;

/// <summary>
/// A WebSocket handshake read off a connection's first bytes, strictly: <c>GET</c> of a plain path
/// over HTTP/1.1, one Host, no body, the RFC 6455 upgrade headers, nothing folded or odd. What does
/// not read this way is not an error here: it is left to Kestrel's HTTP layer, which answers it.
/// </summary>
/// <param name="Path">The request path, from its leading <c>/</c>.</param>
/// <param name="Query">The query string with its leading <c>?</c>, or empty.</param>
/// <param name="Origin">The Origin header (several joined by commas, as a request's headers join them), or null.</param>
/// <param name="Authorization">The Authorization header (several joined by commas), or null. The other headers are checked here and not kept.</param>
/// <param name="Key">The client's Sec-WebSocket-Key.</param>
/// <param name="Length">The handshake's length in bytes, through the empty line that ends it.</param>
internal sealed record UpgradeRequest(string Path, string Query, string? Origin, string? Authorization, string Key, int Length)
{
    /// <summary>The longest handshake read here; a longer one is left to the HTTP layer.</summary>
    public const int MaxLength = 8 * 1024;

    private const string AcceptGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

    // Printable ASCII, tab and the line ends: anything else in a handshake is left to the HTTP layer.
    private static readonly SearchValues<byte> HeadBytes = SearchValues.Create([(byte)'\t', (byte)'\r', (byte)'\n', .. Enumerable.Range(0x20, 0x7F - 0x20).Select(b => (byte)b)]);

    private static readonly SearchValues<byte> PathBytes = SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-/"u8);

    // A host name or address literal and a port: anything else in Host is the HTTP layer's to judge.
    private static readonly SearchValues<byte> HostBytes = SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-:[]"u8);

    // RFC 9110 token characters, for header names.
    private static readonly SearchValues<byte> TokenBytes = SearchValues.Create("!#$%&'*+-.^_`|~ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"u8);

    /// <summary>Reads a handshake from the start of <paramref name="buffer"/>.</summary>
    /// <param name="buffer">The connection's first bytes.</param>
    /// <param name="maxHeaders">The most header lines the HTTP layer accepts (Kestrel's <c>MaxRequestHeaderCount</c>): past it, it answers 431.</param>
    /// <returns>The handshake, or null when the buffer does not start with a whole, plain one within the limits.</returns>
    public static UpgradeRequest? TryRead(ReadOnlySequence<byte> buffer, int maxHeaders)
    {
        var window = buffer.Length > MaxLength ? buffer.Slice(0, MaxLength) : buffer;
        if (window.Length < 4)
        {
            return null;
        }

        var bytes = window.IsSingleSegment ? window.FirstSpan : window.ToArray();
        var end = bytes.IndexOf("\r\n\r\n"u8);
        return end < 0 || bytes[..end].ContainsAnyExcept(HeadBytes) ? null : TryParse(bytes[..end], end + 4, maxHeaders);
    }

    /// <summary>The length of <see cref="SwitchingProtocols"/>'s answer.</summary>
    public static int SwitchingProtocolsLength => SwitchingProtocolsHead.Length + AcceptLength + 4;

    /// <summary>Writes the 101 answer that completes the handshake of <paramref name="key"/> into <paramref name="destination"/>, allocating nothing.</summary>
    /// <returns>The bytes written: <see cref="SwitchingProtocolsLength"/>.</returns>
    public static int SwitchingProtocols(string key, Span<byte> destination)
    {
        SwitchingProtocolsHead.CopyTo(destination);
        var written = SwitchingProtocolsHead.Length;
        WriteAccept(key, destination.Slice(written, AcceptLength));
        written += AcceptLength;
        "\r\n\r\n"u8.CopyTo(destination[written..]);
        return written + 4;
    }

    private const int AcceptLength = 28;

    private static ReadOnlySpan<byte> SwitchingProtocolsHead => "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: "u8;

    /// <summary>The Sec-WebSocket-Accept answer to <paramref name="key"/> (RFC 6455, section 4.2.2).</summary>
    /// <remarks>The protocol fixes SHA-1 here; it proves the server read the handshake, and protects nothing.</remarks>
#pragma warning disable CA5350
    private static void WriteAccept(string key, Span<byte> destination)
    {
        // A valid key is 24 characters of base64; the answer is the base64 of a 20-byte hash.
        Span<byte> source = stackalloc byte[24 + 36];
        var length = Encoding.ASCII.GetBytes(key, source);
        length += Encoding.ASCII.GetBytes(AcceptGuid, source[length..]);
        Span<byte> hash = stackalloc byte[20];
        SHA1.HashData(source[..length], hash);
        Base64.EncodeToUtf8(hash, destination, out _, out _);
    }
#pragma warning restore CA5350

    private static UpgradeRequest? TryParse(ReadOnlySpan<byte> head, int length, int maxHeaders)
    {
        var lineEnd = head.IndexOf("\r\n"u8);
        var requestLine = lineEnd < 0 ? head : head[..lineEnd];
        if (!requestLine.StartsWith("GET /"u8) || !requestLine.EndsWith(" HTTP/1.1"u8))
        {
            return null;
        }

        var target = requestLine["GET ".Length..^" HTTP/1.1".Length];
        var question = target.IndexOf((byte)'?');
        var path = question < 0 ? target : target[..question];
        var query = question < 0 ? default : target[question..];
        if (path.ContainsAnyExcept(PathBytes) || query.ContainsAnyExceptInRange((byte)'!', (byte)'~') || query.Contains((byte)'#'))
        {
            return null;
        }

        string? key = null, origin = null, authorization = null;
        int count = 0, hosts = 0, upgrades = 0, versions = 0, keys = 0;
        bool websocket = false, connectionUpgrade = false, version13 = false;
        var rest = lineEnd < 0 ? default : head[(lineEnd + 2)..];
        while (!rest.IsEmpty)
        {
            var end = rest.IndexOf("\r\n"u8);
            var line = end < 0 ? rest : rest[..end];
            rest = end < 0 ? default : rest[(end + 2)..];
            var colon = line.IndexOf((byte)':');
            if (++count > maxHeaders || colon <= 0 || line[..colon].ContainsAnyExcept(TokenBytes) || line.IndexOfAny((byte)'\r', (byte)'\n') >= 0)
            {
                return null;
            }

            var name = line[..colon];
            var value = line[(colon + 1)..].Trim(" \t"u8);
            if (Ascii.EqualsIgnoreCase(name, "Host"u8))
            {
                hosts++;
                if (value.IsEmpty || value.ContainsAnyExcept(HostBytes))
                {
                    return null;
                }
            }
            else if (Ascii.EqualsIgnoreCase(name, "Content-Length"u8) || Ascii.EqualsIgnoreCase(name, "Transfer-Encoding"u8))
            {
                return null;
            }
            else if (Ascii.EqualsIgnoreCase(name, "Upgrade"u8))
            {
                upgrades++;
                websocket = Ascii.EqualsIgnoreCase(value, "websocket"u8);
            }
            else if (Ascii.EqualsIgnoreCase(name, "Connection"u8))
            {
                connectionUpgrade |= HasToken(value, "upgrade"u8);
            }
            else if (Ascii.EqualsIgnoreCase(name, "Sec-WebSocket-Version"u8))
            {
                versions++;
                version13 = value.SequenceEqual("13"u8);
            }
            else if (Ascii.EqualsIgnoreCase(name, "Sec-WebSocket-Key"u8))
            {
                keys++;
                key = Encoding.ASCII.GetString(value);
            }
            else if (Ascii.EqualsIgnoreCase(name, "Origin"u8))
            {
                origin = Joined(origin, value);
            }
            else if (Ascii.EqualsIgnoreCase(name, "Authorization"u8))
            {
                authorization = Joined(authorization, value);
            }
        }

        return hosts == 1 && upgrades == 1 && websocket && connectionUpgrade && versions == 1 && version13 && keys == 1 && IsValidKey(key!)
            ? new UpgradeRequest(Encoding.ASCII.GetString(path), Encoding.ASCII.GetString(query), origin, authorization, key!, length)
            : null;
    }

    // A header given twice reads as its values joined by a comma, as StringValues.ToString() joins them on the HTTP path.
    private static string Joined(string? earlier, ReadOnlySpan<byte> value)
        => earlier is null ? Encoding.ASCII.GetString(value) : earlier + "," + Encoding.ASCII.GetString(value);

    private static bool HasToken(ReadOnlySpan<byte> value, ReadOnlySpan<byte> token)
    {
        foreach (var range in value.Split((byte)','))
        {
            if (Ascii.EqualsIgnoreCase(value[range].Trim(" \t"u8), token))
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsValidKey(string key)
    {
        Span<byte> decoded = stackalloc byte[24];
        return Convert.TryFromBase64String(key, decoded, out var count) && count == 16;
    }
}
