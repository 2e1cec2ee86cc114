using System.Globalization;
using System.Text;

namespace Atr.Hub.Tests.Protocol;

/// <summary>
/// Random mutations of the corpus for the seeded run: one to three edits — a byte inserted, deleted
/// or replaced, a line dropped or doubled, a span re-cased, a header added — to the valid handshake
/// or to a case of the corpus. Each case's name lists its edits, so a failure can be replayed by
/// hand. The head's final empty line is left alone, so that few cases wait for the header timeout.
/// </summary>
internal static class HandshakeMutator
{
    // Bytes a parser decides on: line ends, NUL, separators, delimiters of targets and hosts, controls, non-ASCII.
    private static readonly byte[] Interesting =
        [.. "\r\n\0 \t:/%.?#,;=\"[]@\\AZaz09-_"u8, 0x01, 0x0B, 0x0C, 0x1F, 0x7F, 0x80, 0xC3, 0xE9, 0xFF];

    private static readonly string[] ExtraHeaders =
    [
        "Content-Length: 0", "Transfer-Encoding: chunked", "Expect: 100-continue", $"Host: {HandshakeCorpus.Host}", "Host: other.example",
        "Connection: close", "Connection: Upgrade", "Upgrade: h2c", "Upgrade: websocket", "Sec-WebSocket-Version: 8",
        "Sec-WebSocket-Key: AQIDBAUGBwgJCgsMDQ4PEA==", "Origin: http://other.example", "Authorization: Bearer x", "X: y", "x:", ":", " ",
    ];

    /// <summary>A random case drawn from <paramref name="corpus"/>.</summary>
    public static HandshakeCase Draw(Random random, int index, IReadOnlyList<HandshakeCase> corpus, IReadOnlyList<HandshakeCase> valid)
    {
        // Mostly the valid handshakes, whose mutations reach deepest; sometimes a corpus case, mutated again.
        var start = random.Next(4) == 0 ? corpus[random.Next(corpus.Count)] : valid[random.Next(valid.Count)];
        var bytes = start.Bytes.ToList();
        var edits = new List<string>();
        var count = 1 + random.Next(3);
        for (var i = 0; i < count; i++)
        {
            edits.Add(Edit(random, bytes));
        }

        return new HandshakeCase($"random {index} from '{start.Name}': {string.Join("; ", edits)}", [.. bytes], start.Jwt);
    }

    private static string Edit(Random random, List<byte> bytes)
    {
        // Everything before the head's final empty line may change.
        var head = HeadLength(bytes);
        var at = random.Next(Math.Max(1, head));
        switch (random.Next(8))
        {
            case 0:
            {
                var b = Interesting[random.Next(Interesting.Length)];
                bytes.Insert(at, b);
                return $"insert {Hex(b)} at {at}";
            }

            case 1:
            {
                var b = (byte)random.Next(256);
                bytes.Insert(at, b);
                return $"insert {Hex(b)} at {at}";
            }

            case 2:
                if (head == 0)
                {
                    return "nothing";
                }

                var removed = bytes[at];
                bytes.RemoveAt(at);
                return $"delete {Hex(removed)} at {at}";

            case 3:
            {
                if (head == 0)
                {
                    return "nothing";
                }

                var b = Interesting[random.Next(Interesting.Length)];
                var was = bytes[at];
                bytes[at] = b;
                return $"replace {Hex(was)} at {at} by {Hex(b)}";
            }

            case 4:
            case 5:
            {
                var lines = LineStarts(bytes, head);
                if (lines.Count < 2)
                {
                    return "nothing";
                }

                // A header line (never the request line), with its line end.
                var line = 1 + random.Next(lines.Count - 1);
                var start = lines[line];
                var end = line + 1 < lines.Count ? lines[line + 1] : Math.Min(head + 2, bytes.Count);
                var text = bytes.GetRange(start, end - start);
                if (random.Next(2) == 0)
                {
                    bytes.RemoveRange(start, end - start);
                    return $"drop line {line}";
                }

                bytes.InsertRange(start, text);
                return $"double line {line}";
            }

            case 6:
            {
                var length = Math.Min(1 + random.Next(12), head - at);
                var upper = random.Next(2) == 0;
                for (var i = at; i < at + length; i++)
                {
                    bytes[i] = (byte)(upper ? char.ToUpperInvariant((char)bytes[i]) : char.ToLowerInvariant((char)bytes[i]));
                }

                return $"{(upper ? "upper" : "lower")}-case {length} bytes at {at}";
            }

            default:
            {
                var header = ExtraHeaders[random.Next(ExtraHeaders.Length)];
                var lines = LineStarts(bytes, head);
                var before = lines.Count < 2 ? Math.Min(head + 2, bytes.Count) : lines[1 + random.Next(lines.Count - 1)];
                bytes.InsertRange(before, Encoding.Latin1.GetBytes(header + "\r\n"));
                return $"add '{header}' at {before}";
            }
        }
    }

    /// <summary>Where the head's final CRLF CRLF starts (the bytes before it may change), or the whole length when there is none.</summary>
    private static int HeadLength(List<byte> bytes)
    {
        var span = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(bytes);
        var end = span.IndexOf("\r\n\r\n"u8);
        return end < 0 ? bytes.Count : end;
    }

    /// <summary>Where each line of the head starts: the request line at 0, then after each CRLF.</summary>
    private static List<int> LineStarts(List<byte> bytes, int head)
    {
        var starts = new List<int> { 0 };
        for (var i = 0; i + 1 < head; i++)
        {
            if (bytes[i] == '\r' && bytes[i + 1] == '\n')
            {
                starts.Add(i + 2);
            }
        }

        return starts;
    }

    private static string Hex(byte b) => "0x" + b.ToString("X2", CultureInfo.InvariantCulture);
}
