using System.Text;

namespace Atr.Hub.Diagnostics;

/// <summary>Client-supplied text made safe for a log line (and the error that carries it): control characters escaped, length bounded.</summary>
internal static class LogText
{
    private const int MaxLength = 200;

    /// <summary>
    /// <paramref name="text"/> with every control character (C0, DEL, C1: a carriage return, an ANSI
    /// escape) written as <c>\uXXXX</c>, cut to 200 characters: a client cannot forge log lines or
    /// drive a terminal through what it sends.
    /// </summary>
    public static string Escape(string text)
    {
        var cut = text.Length > MaxLength;
        var span = cut ? text.AsSpan(0, MaxLength) : text.AsSpan();
        if (!cut && !span.ContainsAny(ControlCharacters))
        {
            return text;
        }

        var escaped = new StringBuilder(span.Length + 16);
        foreach (var c in span)
        {
            if (char.IsControl(c))
            {
                escaped.Append(@"\u").Append(((int)c).ToString("X4", System.Globalization.CultureInfo.InvariantCulture));
            }
            else
            {
                escaped.Append(c);
            }
        }

        return cut ? escaped.Append('…').ToString() : escaped.ToString();
    }

    private static readonly System.Buffers.SearchValues<char> ControlCharacters = System.Buffers.SearchValues.Create(
        [.. Enumerable.Range(0, 0x20).Select(c => (char)c), (char)0x7F, .. Enumerable.Range(0x80, 0x20).Select(c => (char)c)]);
}
