using System.Buffers.Text;
using System.Text;

namespace Atr.Bench.Cluster;

/// <summary>
/// RESP2 as a plain connection speaks it (no <c>HELLO</c>): commands written as arrays of bulk strings, replies and
/// pub/sub messages measured and read. Enough for the tool's own connections to single cluster nodes, which must reach
/// exactly the node they name: a cluster client would follow the slots.
/// </summary>
internal static class Resp
{
    /// <summary>A command as RESP: <c>*2\r\n$10\r\nSSUBSCRIBE\r\n$20\r\natr:organization.1\r\n</c>.</summary>
    public static byte[] Command(params string[] parts)
    {
        var text = new StringBuilder();
        text.Append('*').Append(parts.Length).Append("\r\n");
        foreach (var part in parts)
        {
            text.Append('$').Append(Encoding.UTF8.GetByteCount(part)).Append("\r\n").Append(part).Append("\r\n");
        }

        return Encoding.UTF8.GetBytes(text.ToString());
    }

    /// <summary>The length of the complete value at the start of <paramref name="data"/>, or -1 while it is incomplete.</summary>
    /// <exception cref="FormatException">The data is not RESP.</exception>
    public static int Measure(ReadOnlySpan<byte> data)
    {
        var lineEnd = data.IndexOf("\r\n"u8);
        if (lineEnd < 0)
        {
            return -1;
        }

        var header = lineEnd + 2;
        switch (data[0])
        {
            case (byte)'+' or (byte)'-' or (byte)':':
                return header;
            case (byte)'$':
                var length = checked((int)Integer(data[1..lineEnd]));
                var end = length < 0 ? header : header + length + 2;
                return data.Length >= end ? end : -1;
            case (byte)'*':
                var count = checked((int)Integer(data[1..lineEnd]));
                var position = header;
                for (var i = 0; i < count; i++)
                {
                    var element = Measure(data[position..]);
                    if (element < 0)
                    {
                        return -1;
                    }

                    position += element;
                }

                return position;
            default:
                throw new FormatException($"Not a RESP value: it starts with '{(char)data[0]}'.");
        }
    }

    /// <summary>
    /// The complete value at the start of <paramref name="data"/> (see <see cref="Measure"/>): a string for a simple or bulk
    /// string, a long for an integer, a <see cref="RespError"/>, an array of values, or null.
    /// </summary>
    public static object? Read(ReadOnlySpan<byte> data, out int consumed)
    {
        var lineEnd = data.IndexOf("\r\n"u8);
        var line = data[1..lineEnd];
        consumed = lineEnd + 2;
        switch (data[0])
        {
            case (byte)'+':
                return Encoding.UTF8.GetString(line);
            case (byte)'-':
                return new RespError(Encoding.UTF8.GetString(line));
            case (byte)':':
                return Integer(line);
            case (byte)'$':
                var length = checked((int)Integer(line));
                if (length < 0)
                {
                    return null;
                }

                var text = Encoding.UTF8.GetString(data.Slice(consumed, length));
                consumed += length + 2;
                return text;
            default:
                var count = checked((int)Integer(line));
                if (count < 0)
                {
                    return null;
                }

                var items = new object?[count];
                for (var i = 0; i < count; i++)
                {
                    items[i] = Read(data[consumed..], out var used);
                    consumed += used;
                }

                return items;
        }
    }

    private static long Integer(ReadOnlySpan<byte> digits)
        => Utf8Parser.TryParse(digits, out long value, out var used) && used == digits.Length
            ? value
            : throw new FormatException($"Not a RESP length: '{Encoding.UTF8.GetString(digits)}'.");
}
