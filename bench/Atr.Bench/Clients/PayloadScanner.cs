namespace Atr.Bench.Clients;

/// <summary>
/// Finds <c>seq</c> and <c>ts</c> in an event's text without parsing it: the same scan reads the payload whether it
/// arrives as a JSON object (<c>"seq":12</c>) or as an escaped JSON string (<c>\"seq\":12</c>).
/// </summary>
internal static class PayloadScanner
{
    public static bool TryRead(ReadOnlySpan<byte> text, out long seq, out long ts)
    {
        ts = 0;
        return TryReadNumber(text, "\"seq"u8, out seq) && TryReadNumber(text, "\"ts"u8, out ts);
    }

    private static bool TryReadNumber(ReadOnlySpan<byte> text, ReadOnlySpan<byte> key, out long value)
    {
        value = 0;
        var at = text.IndexOf(key);
        if (at < 0)
        {
            return false;
        }

        var i = at + key.Length;

        // Past the key's closing quote (escaped or not) and the colon.
        while (i < text.Length && text[i] is (byte)'\\' or (byte)'"' or (byte)':' or (byte)' ')
        {
            i++;
        }

        var digits = 0;
        for (; i < text.Length && text[i] is >= (byte)'0' and <= (byte)'9'; i++, digits++)
        {
            value = (value * 10) + (text[i] - '0');
        }

        return digits > 0;
    }
}
