using BenchmarkDotNet.Running;

namespace Atr.Benchmarks;

/// <summary>
/// <c>dotnet run -c Release --project bench/Atr.Benchmarks -- --filter '*'</c> runs the
/// BenchmarkDotNet micro-benchmarks (any BenchmarkDotNet argument works); <c>-- idle [count]</c>
/// prints the managed heap an idle raw connection keeps; <c>-- loopback [options]</c> runs a quick
/// fan-out against a real atr-server process (see <see cref="LoopbackFanOut"/>).
/// </summary>
internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        if (args is ["loopback", ..])
        {
            return await LoopbackFanOut.RunAsync(args[1..]).ConfigureAwait(false);
        }

        if (args is ["idle", ..])
        {
            IdleConnections.Run(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 10_000);
            return 0;
        }

        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }
}
