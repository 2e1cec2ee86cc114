using System.Globalization;
using System.Text;

namespace Atr.Bench.Load;

/// <summary>
/// The event every target gets, byte for byte:
/// <c>{"name":"bench.tick","scope":"organization.&lt;s&gt;","seq":N,"ts":T,"pad":"xxx…"}</c>, padded to a set size.
/// <c>ts</c> is <see cref="System.Diagnostics.Stopwatch.GetTimestamp"/> at send; the tool receives too, so one clock measures.
/// </summary>
internal static class TickPayload
{
    public static byte[] Build(string scope, long seq, long timestamp, int size)
    {
        var head = string.Create(CultureInfo.InvariantCulture, $"{{\"name\":\"bench.tick\",\"scope\":\"{scope}\",\"seq\":{seq},\"ts\":{timestamp},\"pad\":\"");
        var pad = Math.Max(0, size - head.Length - 2);
        var bytes = new byte[head.Length + pad + 2];
        Encoding.ASCII.GetBytes(head, bytes);
        bytes.AsSpan(head.Length, pad).Fill((byte)'x');
        bytes[^2] = (byte)'"';
        bytes[^1] = (byte)'}';
        return bytes;
    }
}
