using BenchmarkDotNet.Running;

namespace Atr.Benchmarks;

/// <summary>
/// <c>dotnet run -c Release --project bench/Atr.Benchmarks -- --filter '*'</c> runs the
/// BenchmarkDotNet micro-benchmarks (any BenchmarkDotNet argument works); <c>-- idle [count]</c>
/// prints the managed heap an idle raw connection keeps.
/// </summary>
internal static class Program
{
    public static void Main(string[] args)
    {
        if (args is ["idle", ..])
        {
            IdleConnections.Run(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 10_000);
            return;
        }

        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
    }
}
