using System.Globalization;

namespace Atr.Bench.Measurement;

/// <summary>
/// The machine's CPU time per CPU, from /proc/stat: how busy each CPU was between two readings, whatever ran on it
/// (the tool, the servers it started, anything else). Says which CPU a measurement saturated.
/// </summary>
internal sealed class CpuTimes
{
    private readonly Dictionary<int, (long Busy, long Total)> _ticks;

    private CpuTimes(Dictionary<int, (long Busy, long Total)> ticks) => _ticks = ticks;

    public static CpuTimes Read()
    {
        var ticks = new Dictionary<int, (long Busy, long Total)>();
        foreach (var line in File.ReadLines("/proc/stat"))
        {
            // cpu<N> user nice system idle iowait irq softirq steal guest guest_nice; guest time is already in user.
            if (!line.StartsWith("cpu", StringComparison.Ordinal) || line.Length < 4 || !char.IsAsciiDigit(line[3]))
            {
                continue;
            }

            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var values = fields.Skip(1).Take(8).Select(field => long.Parse(field, CultureInfo.InvariantCulture)).ToArray();
            var total = values.Sum();
            var idle = values[3] + values[4];
            ticks[int.Parse(fields[0].AsSpan(3), CultureInfo.InvariantCulture)] = (total - idle, total);
        }

        return new CpuTimes(ticks);
    }

    /// <summary>The share of each CPU's time that was not idle since <paramref name="earlier"/>: 1.0 is a saturated CPU.</summary>
    public IReadOnlyList<CpuBusy> BusySince(CpuTimes earlier)
        => [.. _ticks
            .Where(cpu => earlier._ticks.ContainsKey(cpu.Key))
            .OrderBy(cpu => cpu.Key)
            .Select(cpu =>
            {
                var before = earlier._ticks[cpu.Key];
                var total = cpu.Value.Total - before.Total;
                return new CpuBusy(cpu.Key, total > 0 ? Math.Round((double)(cpu.Value.Busy - before.Busy) / total, 3) : 0);
            })];
}
