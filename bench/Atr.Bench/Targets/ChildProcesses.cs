using System.Collections.Concurrent;

namespace Atr.Bench.Targets;

/// <summary>Every program the tool started and has not stopped yet, killed on any way out: Ctrl-C, SIGTERM, an exception, a normal end.</summary>
internal static class ChildProcesses
{
    private static readonly ConcurrentDictionary<ChildProcess, byte> Running = new();
    private static int _hooked;

    public static void Add(ChildProcess child)
    {
        HookExitOnce();
        Running.TryAdd(child, 0);
    }

    public static void Remove(ChildProcess child) => Running.TryRemove(child, out _);

    public static void KillAll()
    {
        foreach (var child in Running.Keys)
        {
            child.Kill();
            Running.TryRemove(child, out _);
        }
    }

    private static void HookExitOnce()
    {
        if (Interlocked.Exchange(ref _hooked, 1) == 1)
        {
            return;
        }

        AppDomain.CurrentDomain.ProcessExit += (_, _) => KillAll();
        Console.CancelKeyPress += (_, _) => KillAll();
    }
}
