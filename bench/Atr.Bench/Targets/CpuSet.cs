using System.Globalization;

namespace Atr.Bench.Targets;

/// <summary>
/// CPU lists as Linux and taskset write them (<c>0-1,3</c>), the machine's online CPUs and the CPUs a process may run on.
/// </summary>
/// <remarks>
/// <see cref="Environment.ProcessorCount"/> is not the machine's count: it follows the affinity of this process, and
/// <c>bench/run.sh</c> runs the tool under <c>taskset -c 1</c>, where it is 1.
/// </remarks>
internal static class CpuSet
{
    /// <summary>The CPUs of a list: <c>0-2,5</c> → 0, 1, 2, 5.</summary>
    /// <exception cref="FormatException">The text is not a CPU list.</exception>
    public static IReadOnlySet<int> Parse(string list)
    {
        var cpus = new SortedSet<int>();
        foreach (var part in list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var bounds = part.Split('-', 2);
            if (!int.TryParse(bounds[0], NumberStyles.None, CultureInfo.InvariantCulture, out var first)
                || !int.TryParse(bounds[^1], NumberStyles.None, CultureInfo.InvariantCulture, out var last)
                || last < first)
            {
                throw new FormatException($"'{list}' is not a CPU list such as 0 or 0-1,3.");
            }

            for (var cpu = first; cpu <= last; cpu++)
            {
                cpus.Add(cpu);
            }
        }

        return cpus.Count > 0 ? cpus : throw new FormatException($"'{list}' names no CPU.");
    }

    /// <summary>The machine's online CPUs, whatever this process's affinity.</summary>
    public static IReadOnlySet<int> Online()
    {
        try
        {
            return Parse(File.ReadAllText("/sys/devices/system/cpu/online"));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
        {
            return Enumerable.Range(0, Environment.ProcessorCount).ToHashSet();
        }
    }

    /// <summary>The CPUs process <paramref name="pid"/> may run on (<c>Cpus_allowed_list</c>), or null when it cannot be read.</summary>
    public static IReadOnlySet<int>? AllowedFor(int pid)
    {
        try
        {
            var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("Cpus_allowed_list:", StringComparison.Ordinal));
            return line is null ? null : Parse(line["Cpus_allowed_list:".Length..]);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
        {
            return null;
        }
    }

    /// <summary>The list form of a set: 0, 1, 2, 5 → <c>0-2,5</c>.</summary>
    public static string Format(IEnumerable<int> cpus)
    {
        var parts = new List<string>();
        int? first = null, last = null;
        foreach (var cpu in cpus.Order())
        {
            if (last is { } previous && cpu == previous + 1)
            {
                last = cpu;
                continue;
            }

            Flush();
            first = last = cpu;
        }

        Flush();
        return string.Join(',', parts);

        void Flush()
        {
            if (first is { } from && last is { } to)
            {
                parts.Add(from == to ? Invariant(from) : $"{Invariant(from)}-{Invariant(to)}");
            }
        }

        static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);
    }
}
