using System.Text;

namespace Atr.Hub.Tests.Protocol;

/// <summary>
/// A raw request as its parts — request line, header lines, line end, what follows the head — so
/// that a mutation can change one part and leave the others exactly as they were. Characters are
/// written as bytes one for one (Latin-1), so <c>\0</c>, <c>\r</c> or <c>é</c> in a part is that byte
/// on the wire.
/// </summary>
internal sealed record HandshakeTemplate(string RequestLine, IReadOnlyList<string> Lines, string LineEnd = "\r\n", string Tail = "")
{
    /// <summary>The request exactly as written: request line, each header line, the empty line, the tail.</summary>
    public byte[] ToBytes()
    {
        var text = new StringBuilder(RequestLine).Append(LineEnd);
        foreach (var line in Lines)
        {
            text.Append(line).Append(LineEnd);
        }

        return Encoding.Latin1.GetBytes(text.Append(LineEnd).Append(Tail).ToString());
    }

    /// <summary>The index of the header line named <paramref name="name"/> (case-insensitive), or -1.</summary>
    public int IndexOf(string name)
    {
        for (var i = 0; i < Lines.Count; i++)
        {
            if (Lines[i].StartsWith(name + ":", StringComparison.OrdinalIgnoreCase))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>This request with header line <paramref name="index"/> replaced by <paramref name="lines"/> (none drops it).</summary>
    public HandshakeTemplate Replace(int index, params string[] lines)
        => this with { Lines = [.. Lines.Take(index), .. lines, .. Lines.Skip(index + 1)] };

    /// <summary>This request with <paramref name="lines"/> added after its headers.</summary>
    public HandshakeTemplate Add(params string[] lines) => this with { Lines = [.. Lines, .. lines] };
}
