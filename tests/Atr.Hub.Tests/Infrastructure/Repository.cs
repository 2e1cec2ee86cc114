namespace Atr.Hub.Tests.Infrastructure;

/// <summary>Paths in this checkout, found from the tests' own output directory.</summary>
internal static class Repository
{
    /// <summary>The directory that holds <c>Atr.sln</c>.</summary>
    public static string Root { get; } = FindRoot();

    /// <summary>
    /// The built <c>samples/<paramref name="name"/></c> program, in the configuration the tests were
    /// built in (the test project references the samples, so they are built first).
    /// </summary>
    public static string SampleDll(string name)
    {
        // AppContext.BaseDirectory is tests/Atr.Hub.Tests/bin/<configuration>/<framework>/.
        var framework = new DirectoryInfo(AppContext.BaseDirectory);
        var configuration = framework.Parent!.Name;
        var dll = Path.Combine(Root, "samples", name, "bin", configuration, framework.Name, name + ".dll");
        return File.Exists(dll) ? dll : throw new FileNotFoundException($"The sample {name} is not built: {dll} is missing.", dll);
    }

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Atr.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No Atr.sln above {AppContext.BaseDirectory}.");
    }
}
