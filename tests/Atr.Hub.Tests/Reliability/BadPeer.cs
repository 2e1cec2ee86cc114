using System.Net.Sockets;
using System.Text;
using Atr.Hub.Tests.Infrastructure;
using Atr.Testing;

namespace Atr.Hub.Tests.Reliability;

/// <summary>
/// One hostile client of the fuzz run: a malformed handshake, or a good handshake followed by frames
/// that break the protocol; drawn from a seeded <see cref="Random"/> so a run can be repeated.
/// </summary>
/// <param name="Category">What is wrong, e.g. <c>frame.reserved-bits</c>.</param>
/// <param name="Variant">The particular case, for the report of an unexpected answer.</param>
/// <param name="Request">A handshake peer's whole request; null for a frame peer.</param>
/// <param name="Frames">A frame peer's bytes after the upgrade to <see cref="Path"/>.</param>
/// <param name="Documented">The answers docs/protocol.md gives for it: <c>HTTP 400</c>, <c>close 1002</c>, <c>reset</c>.</param>
internal sealed record BadPeer(string Category, string Variant, byte[]? Request, byte[] Frames, string[] Documented)
{
    /// <summary>Where frame peers connect: the scope the steady stream is published to, so they receive it too.</summary>
    public const string Path = "/organization/1";

    /// <summary>The inbound message limit the hub runs with (the default).</summary>
    private static readonly int InboundLimit = new AtrHubOptions().MaxInboundMessageBytes;

    // A runtime-detected violation is answered with a close frame and then a reset, which can overtake
    // the close frame: see "Protocol violations" in docs/protocol.md.
    private static readonly string[] ProtocolError = ["close 1002", "reset"];
    private static readonly string[] InvalidUtf8 = ["close 1007", "reset"];

    // Control characters, but not CR or LF: a server skips empty lines before a request line (RFC 9112,
    // section 2.2), so "\n\r\n\r\n" is no request yet and gets no answer until the peer gives up.
    private static readonly byte[] RefusedFirstBytes = [.. Enumerable.Range(1, 31).Where(b => b is not '\n' and not '\r').Select(b => (byte)b)];

    private static readonly string[] Methods = ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"];
    private static readonly string[] BadCharacters = ["*", "%2A", "%3F", "%2F", "%20", "!", "$", "~", "'", "(", ")", "+", ",", ";", "=", "@", ":", "%25", "%C3%A9", ".x", "x.y"];
    private static readonly byte[][] InvalidSequences =
    [
        [0xFF], [0xFE], [0x80], [0xBF], [0xC0, 0x80], [0xC1, 0xBF], [0xE0, 0x80, 0x80], [0xED, 0xA0, 0x80],
        [0xED, 0xBF, 0xBF], [0xF4, 0x90, 0x80, 0x80], [0xF5, 0x80, 0x80, 0x80], [0xF8, 0x88, 0x80, 0x80, 0x80],
    ];

    /// <summary>The answer this peer got: <c>HTTP &lt;status&gt;</c>, <c>close &lt;code&gt;</c>, or <c>reset</c> (the connection ended without a close frame).</summary>
    public async Task<string> RunAsync(int port, CancellationToken cancellationToken)
    {
        if (Request is not null)
        {
            var response = await RawHttp.SendAsync(port, Request, cancellationToken);
            return $"HTTP {response.Status}";
        }

        await using var socket = await RawWebSocket.ConnectAsync(port, Path, cancellationToken: cancellationToken);
        try
        {
            await socket.SendAsync(Frames, cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or SocketException)
        {
            // The hub stopped reading and reset the connection before the last bytes: its answer may still be there to read.
        }

        var code = await socket.ReceiveUntilCloseAsync(cancellationToken).WaitAsync(TestTimeouts.Default, cancellationToken);
        return code is { } c ? $"close {c}" : "reset";
    }

    /// <summary>Draws one peer: about a third malformed handshakes, the rest protocol violations after a good one.</summary>
    public static BadPeer Draw(Random random, int port)
    {
        var pick = random.Next(100);
        return pick switch
        {
            < 6 => WrongMethod(random, port),
            < 12 => BadKey(random, port),
            < 16 => WrongVersion(random, port),
            < 20 => BadUpgradeHeaders(random, port),
            < 28 => BadScopePath(random, port),
            < 31 => OversizedHeaders(random, port),
            < 33 => GarbageRequest(random),
            < 43 => InvalidUtf8Text(random),
            < 51 => BinaryMessage(random),
            < 59 => OversizedMessage(random),
            < 66 => ControlFrameAbuse(random),
            < 71 => UnmaskedFrame(random),
            < 78 => ReservedBits(random),
            < 84 => UnknownOpcode(random),
            < 89 => BrokenFragmentation(random),
            < 95 => BadClosePayload(random),
            _ => BadLength(random),
        };
    }

    private static BadPeer Handshake(string category, string variant, string request, int status)
        => new(category, variant, Encoding.Latin1.GetBytes(request), [], [$"HTTP {status}"]);

    private static BadPeer WrongMethod(Random random, int port)
    {
        var method = Methods[random.Next(Methods.Length)];
        return Handshake("handshake.method", method, string.Concat(method, RawHttp.UpgradeRequest(port, Path).AsSpan(3)), 405);
    }

    private static BadPeer BadKey(Random random, int port)
    {
        string?[] keys =
        [
            null, string.Empty, "abcd", Convert.ToBase64String(Bytes(random, 15)), Convert.ToBase64String(Bytes(random, 17)),
            Convert.ToBase64String(Bytes(random, 32)), "!!!!!!!!!!!!!!!!!!!!!!==", "dGhlIHNhbXBsZSBub25jZQ", " ",
        ];
        var key = keys[random.Next(keys.Length)];
        return Handshake("handshake.key", key is null ? "missing" : $"'{key}'", RawHttp.UpgradeRequest(port, Path, key: key), 400);
    }

    private static BadPeer WrongVersion(Random random, int port)
    {
        string?[] versions = [null, "0", "8", "12", "14", "99", "abc", "013", string.Empty];
        var version = versions[random.Next(versions.Length)];
        var request = RawHttp.UpgradeRequest(port, Path);
        request = version is null
            ? request.Replace("Sec-WebSocket-Version: 13\r\n", string.Empty, StringComparison.Ordinal)
            : request.Replace("Sec-WebSocket-Version: 13", "Sec-WebSocket-Version: " + version, StringComparison.Ordinal);
        return Handshake("handshake.version", version is null ? "missing" : $"'{version}'", request, 400);
    }

    private static BadPeer BadUpgradeHeaders(Random random, int port)
    {
        (string Variant, string From, string To)[] cases =
        [
            ("no Connection", "Connection: Upgrade\r\n", string.Empty),
            ("Connection: keep-alive", "Connection: Upgrade", "Connection: keep-alive"),
            ("Upgrade: h2c", "Upgrade: websocket", "Upgrade: h2c"),
            ("Upgrade: webso", "Upgrade: websocket", "Upgrade: webso"),
            ("Upgrade: empty", "Upgrade: websocket", "Upgrade: "),
        ];
        var (variant, from, to) = cases[random.Next(cases.Length)];
        return Handshake("handshake.upgrade", variant, RawHttp.UpgradeRequest(port, Path).Replace(from, to, StringComparison.Ordinal), 400);
    }

    private static BadPeer BadScopePath(Random random, int port)
    {
        var segments = new List<string>();
        var pairs = random.Next(1, 4);
        for (var i = 0; i < pairs; i++)
        {
            segments.Add("organization");
            segments.Add(random.Next(1, 100_000).ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        string variant;
        switch (random.Next(6))
        {
            case 0:
                variant = "odd segment count";
                segments.Add("user");
                break;
            case 1:
                var bad = BadCharacters[random.Next(BadCharacters.Length)];
                var at = random.Next(segments.Count);
                segments[at] = random.Next(2) == 0 ? segments[at] + bad : bad + segments[at];
                variant = $"character '{bad}'";
                break;
            case 2:
                variant = "segment over 64 characters";
                segments[^1] = new string('1', random.Next(65, 200));
                break;
            case 3:
                variant = "more than 8 pairs";
                segments = [.. Enumerable.Range(0, random.Next(9, 12)).SelectMany(i => new[] { "organization", i.ToString(System.Globalization.CultureInfo.InvariantCulture) })];
                break;
            case 4:
                variant = "trailing slash";
                segments.Add(string.Empty);
                break;
            default:
                variant = "empty segment";
                segments.Insert(random.Next(1, segments.Count), string.Empty);
                break;
        }

        var target = "/" + string.Join('/', segments);
        return Handshake("handshake.scope-path", $"{variant}: {target}", RawHttp.UpgradeRequest(port, target), 400);
    }

    private static BadPeer OversizedHeaders(Random random, int port)
    {
        // Kestrel's limits: 32 KiB of headers, 100 headers, an 8 KiB request line.
        return random.Next(3) switch
        {
            0 => Handshake("handshake.oversized", "one header over 32 KiB", RawHttp.UpgradeRequest(port, Path, $"X-Big: {new string('a', random.Next(33 * 1024, 64 * 1024))}\r\n"), 431),
            1 => Handshake("handshake.oversized", "over 100 headers", RawHttp.UpgradeRequest(port, Path, string.Concat(Enumerable.Range(0, random.Next(101, 200)).Select(i => $"X-H{i}: v\r\n"))), 431),
            _ => Handshake("handshake.oversized", "request line over 8 KiB", RawHttp.UpgradeRequest(port, "/organization/" + new string('1', random.Next(8 * 1024, 16 * 1024))), 414),
        };
    }

    private static BadPeer GarbageRequest(Random random)
    {
        // Starts with a byte no HTTP method has, so that the request line is refused as soon as it is complete.
        var garbage = Bytes(random, random.Next(1, 300));
        garbage[0] = RefusedFirstBytes[random.Next(RefusedFirstBytes.Length)];
        return new BadPeer("handshake.garbage", $"{garbage.Length} random bytes", [.. garbage, .. "\r\n\r\n"u8], [], ["HTTP 400"]);
    }

    private static BadPeer InvalidUtf8Text(Random random)
    {
        var invalid = InvalidSequences[random.Next(InvalidSequences.Length)];
        var before = Ascii(random, random.Next(0, 200));
        var after = Ascii(random, random.Next(0, 200));
        byte[] message = [.. before, .. invalid, .. after];
        var fragments = random.Next(1, 4);
        return new BadPeer("frame.invalid-utf8", $"{Convert.ToHexString(invalid)} in {message.Length} bytes, {fragments} fragment(s)", null, Fragmented(random, WebSocketFrame.Text, message, fragments), InvalidUtf8);
    }

    private static BadPeer BinaryMessage(Random random)
    {
        var payload = Bytes(random, random.Next(0, 2000));
        var fragments = random.Next(1, 4);
        return new BadPeer("frame.binary", $"{payload.Length} bytes, {fragments} fragment(s)", null, Fragmented(random, WebSocketFrame.Binary, payload, fragments), ["close 1003"]);
    }

    private static BadPeer OversizedMessage(Random random)
    {
        var length = random.Next(InboundLimit + 1, 70_000);
        var fragments = random.Next(1, 12);
        return new BadPeer("frame.oversized", $"{length} bytes, {fragments} fragment(s)", null, Fragmented(random, WebSocketFrame.Text, Ascii(random, length), fragments), ["close 1009"]);
    }

    private static BadPeer ControlFrameAbuse(Random random)
    {
        int[] opcodes = [WebSocketFrame.Ping, WebSocketFrame.Pong, WebSocketFrame.Close];
        var opcode = opcodes[random.Next(opcodes.Length)];
        return random.Next(3) switch
        {
            0 => Frame("frame.control", $"opcode {opcode} with {126}+ bytes", random, new WebSocketFrame(opcode, Bytes(random, random.Next(126, 1000)))),
            1 => Frame("frame.control", $"fragmented opcode {opcode}", random, new WebSocketFrame(opcode, Bytes(random, random.Next(0, 50))) { Fin = false }),
            _ => Frame("frame.control", $"fragmented opcode {opcode} inside a text message", random,
                new WebSocketFrame(WebSocketFrame.Text, Ascii(random, 10)) { Fin = false },
                new WebSocketFrame(opcode, Bytes(random, random.Next(0, 50))) { Fin = false },
                new WebSocketFrame(WebSocketFrame.Continuation, Ascii(random, 10))),
        };
    }

    private static BadPeer UnmaskedFrame(Random random)
    {
        // At least 4 payload bytes: the runtime reads a mask's worth past the length before it looks at the mask bit.
        int[] opcodes = [WebSocketFrame.Text, WebSocketFrame.Binary, WebSocketFrame.Ping];
        var opcode = opcodes[random.Next(opcodes.Length)];
        return Frame("frame.unmasked", $"opcode {opcode}", random, new WebSocketFrame(opcode, Ascii(random, random.Next(4, 120))) { Masked = false });
    }

    private static BadPeer ReservedBits(Random random)
    {
        var reserved = random.Next(1, 8);
        int[] opcodes = [WebSocketFrame.Text, WebSocketFrame.Binary, WebSocketFrame.Ping, WebSocketFrame.Close];
        var opcode = opcodes[random.Next(opcodes.Length)];
        return Frame("frame.reserved-bits", $"RSV {reserved} on opcode {opcode}", random, new WebSocketFrame(opcode, Ascii(random, random.Next(0, 100))) { Reserved = reserved });
    }

    private static BadPeer UnknownOpcode(Random random)
    {
        int[] unknown = [3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF];
        var opcode = unknown[random.Next(unknown.Length)];
        return Frame("frame.opcode", $"opcode {opcode}", random, new WebSocketFrame(opcode, Bytes(random, random.Next(0, 100))));
    }

    private static BadPeer BrokenFragmentation(Random random)
        => random.Next(2) == 0
            ? Frame("frame.fragmentation", "continuation with no message to continue", random, new WebSocketFrame(WebSocketFrame.Continuation, Ascii(random, random.Next(0, 100))))
            : Frame("frame.fragmentation", "new message inside a fragmented one", random,
                new WebSocketFrame(WebSocketFrame.Text, Ascii(random, random.Next(1, 100))) { Fin = false },
                new WebSocketFrame(random.Next(2) == 0 ? WebSocketFrame.Text : WebSocketFrame.Binary, Ascii(random, random.Next(1, 100))));

    private static BadPeer BadClosePayload(Random random)
    {
        int[] invalidCodes = [0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65535];
        return random.Next(3) switch
        {
            0 => Frame("frame.close-payload", "one byte", random, new WebSocketFrame(WebSocketFrame.Close, [(byte)random.Next(256)])),
            1 => Frame("frame.close-payload", "invalid code", random, WebSocketFrame.CloseWith(invalidCodes[random.Next(invalidCodes.Length)])),
            _ => Frame("frame.close-payload", "reason not UTF-8", random, WebSocketFrame.CloseWith(1000, [.. Ascii(random, 5), .. InvalidSequences[random.Next(InvalidSequences.Length)]])),
        };
    }

    private static BadPeer BadLength(Random random)
        => Frame("frame.length", "64-bit length with the top bit set", random, new WebSocketFrame(WebSocketFrame.Text, []) { DeclaredLength = 0x8000_0000_0000_0000UL | (ulong)random.NextInt64() });

    private static BadPeer Frame(string category, string variant, Random random, params WebSocketFrame[] frames)
        => new(category, variant, null, [.. frames.SelectMany(f => f.ToBytes(random))], ProtocolError);

    private static byte[] Fragmented(Random random, int opcode, byte[] message, int fragments)
    {
        var cuts = Enumerable.Range(0, fragments - 1).Select(_ => random.Next(message.Length + 1)).Order().ToList();
        cuts.Add(message.Length);
        var bytes = new List<byte>();
        var start = 0;
        for (var i = 0; i < cuts.Count; i++)
        {
            var frame = new WebSocketFrame(i == 0 ? opcode : WebSocketFrame.Continuation, message[start..cuts[i]]) { Fin = i == cuts.Count - 1 };
            bytes.AddRange(frame.ToBytes(random));
            start = cuts[i];
        }

        return [.. bytes];
    }

    private static byte[] Bytes(Random random, int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }

    private static byte[] Ascii(Random random, int length)
    {
        var bytes = new byte[length];
        for (var i = 0; i < length; i++)
        {
            bytes[i] = (byte)random.Next(0x20, 0x7F);
        }

        return bytes;
    }
}
