using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Atr.Bench.Results;

/// <summary>The machine the figures were measured on.</summary>
internal sealed record MachineInfo
{
    public required int Nproc { get; init; }

    public required string CpuModel { get; init; }

    public required string Kernel { get; init; }

    public required string Dotnet { get; init; }

    public required string Node { get; init; }

    public required string GitCommit { get; init; }

    public static MachineInfo Collect(string repositoryRoot, string node) => new()
    {
        // Every online CPU, not just those this process may run on (it runs under taskset).
        Nproc = int.TryParse(Output("nproc", "--all"), out var cpus) ? cpus : Environment.ProcessorCount,
        CpuModel = CpuModelName(),
        Kernel = Output("uname", "-r") ?? RuntimeInformation.OSDescription,
        Dotnet = RuntimeInformation.FrameworkDescription,
        Node = Output(node, "--version") ?? "absent",
        GitCommit = Output("git", "-C", repositoryRoot, "rev-parse", "--short", "HEAD") is { } commit
            ? commit + (Output("git", "-C", repositoryRoot, "status", "--porcelain", "--untracked-files=no") is { Length: > 0 } ? "+dirty" : string.Empty)
            : "unknown",
    };

    private static string CpuModelName()
    {
        try
        {
            return File.ReadLines("/proc/cpuinfo").FirstOrDefault(line => line.StartsWith("model name", StringComparison.Ordinal))
                ?.Split(':', 2)[1].Trim() ?? RuntimeInformation.ProcessArchitecture.ToString();
        }
        catch (IOException)
        {
            return RuntimeInformation.ProcessArchitecture.ToString();
        }
    }

    private static string? Output(string fileName, params string[] arguments)
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo(fileName, arguments) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false });
            if (process is null)
            {
                return null;
            }

            var output = process.StandardOutput.ReadToEnd().Trim();
            process.WaitForExit();
            return process.ExitCode == 0 ? output : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }
}
