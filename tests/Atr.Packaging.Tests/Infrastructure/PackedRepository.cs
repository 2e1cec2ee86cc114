using System.Diagnostics;
using System.Xml.Linq;
using Xunit;

namespace Atr.Packaging.Tests.Infrastructure;

/// <summary>
/// The repository's sources copied into a fresh directory under the system's temp folder and packed there
/// with <c>dotnet pack Atr.sln -c Release</c>, once for the whole collection: nothing is built or written in
/// the checkout the tests run from, so the suites that <c>dotnet test Atr.sln</c> runs beside this one are
/// left alone. The directory is deleted afterwards.
/// </summary>
public sealed class PackedRepository : IAsyncLifetime
{
    /// <summary>How long one pack, build or install may take on a busy two-core machine.</summary>
    public static readonly TimeSpan CommandTimeout = TimeSpan.FromMinutes(5);

    /// <summary>The ids of the packages the repository ships.</summary>
    public static readonly string[] ShippedPackageIds = ["Atr.Publishing", "Atr.Publishing.EntityFrameworkCore", "Atr.Hub", "Atr.Server"];

    private static readonly string[] SkippedDirectories = [".git", "bin", "obj", "node_modules", "dist", "TestResults", "artifacts"];

    /// <summary>The temporary directory that holds everything: <c>src/</c>, <c>feed/</c>, <c>packages/</c>.</summary>
    public string Root { get; } = Directory.CreateTempSubdirectory("atr-packaging-").FullName;

    /// <summary>The copy of the repository's sources.</summary>
    public string Source => Path.Combine(Root, "src");

    /// <summary>The local feed <c>dotnet pack</c> wrote the packages to.</summary>
    public string Feed => Path.Combine(Root, "feed");

    /// <summary>The version the repository sets once, in Directory.Build.props.</summary>
    public string Version { get; private set; } = "";

    /// <summary>
    /// For what restores the packed packages (a tool install, an application): a NuGet packages folder of
    /// their own, so that an <c>Atr.*</c> package of the same version left in the user's cache by an earlier
    /// pack is never taken for this one, and the user's cache keeps none of these.
    /// </summary>
    public IReadOnlyDictionary<string, string> IsolatedNuGet => new Dictionary<string, string>
    {
        ["NUGET_PACKAGES"] = Path.Combine(Root, "packages"),
    };

    /// <summary>How long the pack took, for the tests' output.</summary>
    public TimeSpan PackDuration { get; private set; }

    public async Task InitializeAsync()
    {
        var repository = FindRepositoryRoot(AppContext.BaseDirectory);
        foreach (var file in await ListSourceFilesAsync(repository))
        {
            var target = Path.Combine(Source, file);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(Path.Combine(repository, file), target);
        }

        Version = XDocument.Load(Path.Combine(Source, "Directory.Build.props"))
            .Descendants("VersionPrefix").Single().Value;

        var stopwatch = Stopwatch.StartNew();
        var (exitCode, output) = await ChildProcess.RunAsync(
            "dotnet", ["pack", "Atr.sln", "-c", "Release", "-o", Feed, "--nologo"], Source, CommandTimeout);
        PackDuration = stopwatch.Elapsed;
        if (exitCode != 0)
        {
            throw new InvalidOperationException($"dotnet pack failed with exit code {exitCode}:\n{output}");
        }
    }

    public Task DisposeAsync()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A process that has not let go of a file yet: the system's temp cleaning takes the rest.
        }

        return Task.CompletedTask;
    }

    /// <summary>The path of one packed file in the feed, e.g. <c>PackagePath("Atr.Hub", "nupkg")</c>.</summary>
    public string PackagePath(string id, string extension) => Path.Combine(Feed, $"{id}.{Version}.{extension}");

    /// <summary>Copies files of the source copy's <paramref name="directory"/> (not its build output) to <paramref name="target"/>.</summary>
    public void CopySourceDirectory(string directory, string target)
    {
        var from = Path.Combine(Source, directory);
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(from, file);
            if (relative.Split(Path.DirectorySeparatorChar).Any(SkippedDirectories.Contains))
            {
                continue;
            }

            var destination = Path.Combine(target, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
            File.Copy(file, destination);
        }
    }

    private static string FindRepositoryRoot(string start)
    {
        for (var directory = new DirectoryInfo(start); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Atr.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No Atr.sln above {start}.");
    }

    /// <summary>
    /// The files git would commit: tracked ones still present, and new ones not ignored, so that a change
    /// not committed yet is packed as it stands. Without git, every file outside build output and
    /// dependencies.
    /// </summary>
    private static async Task<IReadOnlyList<string>> ListSourceFilesAsync(string repository)
    {
        var git = new ProcessStartInfo("git")
        {
            WorkingDirectory = repository,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "ls-files", "-z", "--cached", "--others", "--exclude-standard" })
        {
            git.ArgumentList.Add(argument);
        }

        try
        {
            using var process = Process.Start(git)!;
            using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(1));
            var errors = process.StandardError.ReadToEndAsync(limit.Token);
            var files = await process.StandardOutput.ReadToEndAsync(limit.Token);
            await errors;
            await process.WaitForExitAsync(limit.Token);
            if (process.ExitCode == 0)
            {
                return [.. files.Split('\0', StringSplitOptions.RemoveEmptyEntries).Where(file => File.Exists(Path.Combine(repository, file)))];
            }
        }
        catch (System.ComponentModel.Win32Exception)
        {
            // No git on this machine.
        }

        return
        [
            .. Directory.EnumerateFiles(repository, "*", SearchOption.AllDirectories)
                .Select(file => Path.GetRelativePath(repository, file))
                .Where(file => !file.Split(Path.DirectorySeparatorChar).Any(SkippedDirectories.Contains)),
        ];
    }
}
