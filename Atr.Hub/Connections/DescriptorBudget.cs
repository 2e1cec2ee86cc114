using System.Globalization;

namespace Atr.Hub.Connections;

/// <summary>
/// How many connections the process can hold: its open-files limit, less what it already holds and
/// a reserve for what it will need besides sockets. Every connection is a descriptor, and so is every
/// assembly it loads later, every Redis connection, log file and thread: the runtime opens a pipe for
/// each thread it starts, and a thread it cannot start aborts the process ("Out of memory."). So the
/// node stops accepting well before the limit rather than at it.
/// </summary>
internal static class DescriptorBudget
{
    /// <summary>Descriptors kept back, beyond those open at start, at the least: for threads (two each), assemblies loaded later, Redis, logs.</summary>
    public const int MinimumReserve = 256;

    /// <summary>The connections the process can hold, or null where the limit cannot be read (not Linux).</summary>
    /// <param name="limit">The process's soft limit on open files.</param>
    /// <param name="reserve">The descriptors kept back: those open now and the reserve.</param>
    public static int? Ceiling(out int limit, out int reserve)
    {
        limit = 0;
        reserve = 0;
        if (!OperatingSystem.IsLinux() || ReadOpenFilesLimit() is not { } soft)
        {
            return null;
        }

        limit = soft;
        reserve = OpenDescriptors() + Math.Max(MinimumReserve, soft / 8);
        return Math.Max(1, soft - reserve);
    }

    /// <summary>The soft limit on open files, from <c>/proc/self/limits</c> (<c>Max open files  1024  4096  files</c>); null when unlimited or unreadable.</summary>
    private static int? ReadOpenFilesLimit()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/limits"))
            {
                if (line.StartsWith("Max open files", StringComparison.Ordinal))
                {
                    var soft = line["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries)[0];
                    return int.TryParse(soft, NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : null;
                }
            }
        }
        catch (IOException)
        {
        }

        return null;
    }

    private static int OpenDescriptors()
    {
        try
        {
            return Directory.GetFiles("/proc/self/fd").Length;
        }
        catch (IOException)
        {
            return 0;
        }
    }
}
