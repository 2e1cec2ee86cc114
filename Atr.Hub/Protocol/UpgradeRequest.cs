using System.Buffers;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Atr.Hub.Protocol;

/// <summary>
/// A WebSocket handshake read off a connection's first bytes, strictly: <c>GET</c> of a plain path
/// over HTTP/1.1, one Host that Kestrel would take, no body, the RFC 6455 upgrade headers, nothing
/// folded or odd, within Kestrel's limits. What does not read this way is not an error here: it is
/// left to Kestrel's HTTP layer, which answers it.
/// </summary>
/// <remarks>
/// What this reads is a subset of what Kestrel's HTTP/1.1 parser and the WebSocket middleware
/// accept, so that a handshake read here gets the answer it would get there; where Kestrel's rule is
/// wider (host characters, line ends, whitespace in a key), the wider part is left to Kestrel rather
/// than followed. <c>HandshakeParityTests</c> holds it to Kestrel over a corpus of mutations.
/// </remarks>
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

    // A host name or IPv4 address, and the inside of an IPv6 literal: Kestrel takes more host
    // characters than these (_ ~ ! $ & ' ( )), which are left to it to judge.
    private static readonly SearchValues<byte> HostNameBytes = SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-"u8);

    private static readonly SearchValues<byte> IPv6Bytes = SearchValues.Create("ABCDEFabcdef0123456789:."u8);

    private static readonly SearchValues<char> Base64Chars = SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=");

    // RFC 9110 token characters, for header names.
    private static readonly SearchValues<byte> TokenBytes = SearchValues.Create("!#$%&'*+-.^_`|~ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"u8);

    /// <summary>Kestrel's limits on a request's head, which a handshake read here stays within.</summary>
    /// <param name="MaxRequestLine">The longest request line, its CRLF counted (<c>MaxRequestLineSize</c>): past it, Kestrel answers 414.</param>
    /// <param name="MaxHeadersTotal">The most bytes of header lines, their CRLFs counted (<c>MaxRequestHeadersTotalSize</c>): past it, and the empty line's CRLF, Kestrel answers 431.</param>
    /// <param name="MaxHeaderCount">The most header lines (<c>MaxRequestHeaderCount</c>): past it, Kestrel answers 431.</param>
    public readonly record struct Limits(int MaxRequestLine, int MaxHeadersTotal, int MaxHeaderCount)
    {
        /// <summary>Kestrel's defaults: 8 KiB, 32 KiB, 100.</summary>
        public static Limits Default => From(new KestrelServerLimits());

        /// <summary>The limits a Kestrel server applies.</summary>
        public static Limits From(KestrelServerLimits limits)
            => new(limits.MaxRequestLineSize, limits.MaxRequestHeadersTotalSize, limits.MaxRequestHeaderCount);
    }

    /// <summary>Reads a handshake that is the whole of <paramref name="buffer"/>.</summary>
    /// <param name="buffer">The connection's first bytes.</param>
    /// <param name="limits">The limits of the Kestrel server that would otherwise read it.</param>
    /// <returns>
    /// The handshake, or null when the buffer is not exactly a whole, plain one within the limits.
    /// Bytes after the head are left to Kestrel too: a client waits for the 101 before it sends a
    /// frame (RFC 6455, section 4.1), so whoever sends them is not a client this path is for.
    /// </returns>
    public static UpgradeRequest? TryRead(ReadOnlySequence<byte> buffer, Limits limits)
    {
        if (buffer.Length is < 4 or > MaxLength)
        {
            return null;
        }

        var bytes = buffer.IsSingleSegment ? buffer.FirstSpan : buffer.ToArray();
        var end = bytes.IndexOf("\r\n\r\n"u8);
        return end < 0 || end + 4 != bytes.Length || bytes[..end].ContainsAnyExcept(HeadBytes) ? null : TryParse(bytes[..end], end + 4, limits);
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

    private static UpgradeRequest? TryParse(ReadOnlySpan<byte> head, int length, Limits limits)
    {
        var lineEnd = head.IndexOf("\r\n"u8);
        var requestLine = lineEnd < 0 ? head : head[..lineEnd];

        // Kestrel counts the request line with its CRLF, and the header lines with theirs; the
        // empty line that ends them is let through past the limit (its remaining budget starts at
        // the limit + 2).
        if (!requestLine.StartsWith("GET /"u8) || !requestLine.EndsWith(" HTTP/1.1"u8)
            || requestLine.Length + 2 > limits.MaxRequestLine || length - requestLine.Length - 2 > limits.MaxHeadersTotal + 2)
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
            if (++count > limits.MaxHeaderCount || colon <= 0 || line[..colon].ContainsAnyExcept(TokenBytes) || line.IndexOfAny((byte)'\r', (byte)'\n') >= 0)
            {
                return null;
            }

            var name = line[..colon];
            var value = line[(colon + 1)..].Trim(" \t"u8);
            if (Ascii.EqualsIgnoreCase(name, "Host"u8))
            {
                hosts++;
                if (!IsPlainHost(value))
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

    /// <summary>
    /// Whether <paramref name="host"/> is a host Kestrel's validation takes: a host name or IPv4
    /// address, or an IPv6 literal of at least three characters between its brackets, then
    /// optionally a colon and at least one digit. Empty (which Kestrel takes) and any other host
    /// character are left to Kestrel.
    /// </summary>
    private static bool IsPlainHost(ReadOnlySpan<byte> host)
    {
        var port = host.LastIndexOf((byte)':');
        if (host.StartsWith("["u8))
        {
            var close = host.IndexOf((byte)']');
            if (close < 4 || host[1..close].ContainsAnyExcept(IPv6Bytes))
            {
                return false;
            }

            port = close + 1 == host.Length ? -1 : close + 1;
            if (port >= 0 && host[port] != (byte)':')
            {
                return false;
            }
        }
        else if ((port < 0 ? host : host[..port]) is var name && (name.IsEmpty || name.ContainsAnyExcept(HostNameBytes)))
        {
            return false;
        }

        return port < 0 || (port + 1 < host.Length && !host[(port + 1)..].ContainsAnyExceptInRange((byte)'0', (byte)'9'));
    }

    /// <summary>
    /// Whether <paramref name="key"/> is 24 characters of base64 for 16 bytes. The WebSocket
    /// middleware also takes a key with whitespace inside (the decoder skips it) and answers it with
    /// the hash of the whole text: such keys are left to it.
    /// </summary>
    private static bool IsValidKey(string key)
    {
        Span<byte> decoded = stackalloc byte[24];
        return key.Length == 24 && !key.AsSpan().ContainsAnyExcept(Base64Chars) && Convert.TryFromBase64String(key, decoded, out var count) && count == 16;
    }
}
