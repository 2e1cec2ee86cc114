using System.Globalization;
using Atr.Bench.Targets;

namespace Atr.Bench.Measurement;

/// <summary>CPU time and resident memory of a process, from /proc/&lt;pid&gt;/stat and /proc/&lt;pid&gt;/status.</summary>
internal static class ProcessSampler
{
    private static readonly Lazy<long> ClockTicks = new(ReadClockTicks);

    /// <summary>User plus system CPU time the process used so far (utime + stime), in seconds.</summary>
    public static double CpuSeconds(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");

        // The command name (field 2) is in parentheses and may hold spaces: count fields after the last ')'.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var utime = long.Parse(fields[11], CultureInfo.InvariantCulture);
        var stime = long.Parse(fields[12], CultureInfo.InvariantCulture);
        return (double)(utime + stime) / ClockTicks.Value;
    }

    /// <summary>The resident set size (VmRSS), in bytes.</summary>
    public static long RssBytes(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                var kib = line["VmRSS:".Length..].Trim().Split(' ')[0];
                return long.Parse(kib, CultureInfo.InvariantCulture) * 1024;
            }
        }

        return 0;
    }

    /// <summary>Clock ticks per second (<c>getconf CLK_TCK</c>), the unit of utime and stime.</summary>
    private static long ReadClockTicks()
        => long.TryParse(ShortProcess.Output("getconf", "CLK_TCK"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var ticks) && ticks > 0 ? ticks : 100;
}
