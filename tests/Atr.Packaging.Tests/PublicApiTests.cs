using Atr.Packaging.Tests.Infrastructure;
using Xunit;

namespace Atr.Packaging.Tests;

/// <summary>The public API baselines are enforced by the ordinary build, not by a separate step.</summary>
[Collection(UsesPackedRepository.Name)]
[Trait("Category", "Slow")]
public sealed class PublicApiTests(PackedRepository repository)
{
    [Fact]
    public async Task ANewPublicTypeMissingFromThePublicApiFilesFailsTheBuild()
    {
        // A copy of Atr.Publishing inside the source copy, so that it builds under the repository's
        // Directory.Build.props and central package versions, and the copy that was packed stays as it was.
        var project = Path.Combine(repository.Source, "api-check", "Atr.Publishing");
        repository.CopySourceDirectory("Atr.Publishing", project);
        await File.WriteAllTextAsync(Path.Combine(project, "UnlistedPublicType.cs"), """
            namespace Atr.Publishing;

            /// <summary>A public type that no PublicAPI file lists.</summary>
            public sealed class UnlistedPublicType
            {
            }
            """);

        var (exitCode, output) = await ChildProcess.RunAsync(
            "dotnet", ["build", Path.Combine(project, "Atr.Publishing.csproj"), "--nologo"], project, PackedRepository.CommandTimeout);

        Assert.True(exitCode != 0, $"The build succeeded with a public type missing from PublicAPI.Unshipped.txt:\n{output}");
        Assert.True(
            output.Contains("RS0016", StringComparison.Ordinal) && output.Contains("UnlistedPublicType", StringComparison.Ordinal),
            $"The build failed, but not with RS0016 for UnlistedPublicType:\n{output}");
    }
}
