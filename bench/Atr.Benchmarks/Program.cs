using BenchmarkDotNet.Running;

namespace Atr.Benchmarks;

/// <summary>
/// <c>dotnet run -c Release --project bench/Atr.Benchmarks -- --filter '*'</c> runs the
/// BenchmarkDotNet micro-benchmarks (any BenchmarkDotNet argument works).
/// </summary>
internal static class Program
{
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}
