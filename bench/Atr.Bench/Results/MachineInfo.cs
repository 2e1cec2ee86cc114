using System.Runtime.InteropServices;
using Atr.Bench.Targets;

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
        Nproc = CpuSet.Online().Count,
        CpuModel = CpuModelName(),
        Kernel = ShortProcess.Output("uname", "-r") ?? RuntimeInformation.OSDescription,
        Dotnet = RuntimeInformation.FrameworkDescription,
        Node = ShortProcess.Output(node, "--version") ?? "absent",
        GitCommit = ShortProcess.Output("git", "-C", repositoryRoot, "rev-parse", "--short", "HEAD") is { } commit
            ? commit + (ShortProcess.Output("git", "-C", repositoryRoot, "status", "--porcelain", "--untracked-files=no") is { Length: > 0 } ? "+dirty" : string.Empty)
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
}
