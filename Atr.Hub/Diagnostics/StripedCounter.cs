using System.Runtime.InteropServices;

namespace Atr.Hub.Diagnostics;

/// <summary>
/// A count that many threads add to at once, once per delivery: each adds to the cell of the
/// processor it runs on, so threads on different cores do not contend for one cache line; reading
/// sums the cells.
/// </summary>
internal sealed class StripedCounter
{
    private readonly Cell[] _cells = new Cell[Math.Clamp(Environment.ProcessorCount, 1, 64)];

    public long Value
    {
        get
        {
            long sum = 0;
            for (var i = 0; i < _cells.Length; i++)
            {
                sum += Volatile.Read(ref _cells[i].Value);
            }

            return sum;
        }
    }

    public void Add(long count)
        => Interlocked.Add(ref _cells[(uint)Thread.GetCurrentProcessorId() % (uint)_cells.Length].Value, count);

    // One cache line of padding on each side of the value, whatever the line size (64 or 128 bytes).
    [StructLayout(LayoutKind.Explicit, Size = 192)]
    private struct Cell
    {
        [FieldOffset(64)]
        public long Value;
    }
}
