using Atr.Packaging.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace Atr.Packaging.Tests;

/// <summary>What <c>dotnet pack Atr.sln</c> makes, read from the packages themselves.</summary>
[Collection(UsesPackedRepository.Name)]
[Trait("Category", "Slow")]
public sealed class PackageContentsTests(PackedRepository repository, ITestOutputHelper output)
{
    private static readonly string[] Libraries = ["Atr.Publishing", "Atr.Publishing.EntityFrameworkCore", "Atr.Hub"];

    [Fact]
    public void PackingTheSolutionMakesExactlyTheFourShippedPackagesEachWithItsSymbols()
    {
        output.WriteLine($"dotnet pack Atr.sln took {repository.PackDuration.TotalSeconds:F0} s.");
        var expected = PackedRepository.ShippedPackageIds.Order(StringComparer.Ordinal).ToList();

        Assert.Equal(
            expected.Select(id => $"{id}.{repository.Version}.nupkg"),
            Directory.EnumerateFiles(repository.Feed, "*.nupkg").Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal(
            expected.Select(id => $"{id}.{repository.Version}.snupkg"),
            Directory.EnumerateFiles(repository.Feed, "*.snupkg").Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Theory]
    [MemberData(nameof(ShippedPackages))]
    public void EveryPackageHasTheSharedVersionItsReadmeAndTheMitLicense(string id)
    {
        var package = NuGetPackage.Read(repository.PackagePath(id, "nupkg"));

        Assert.Equal(id, package.Get("id"));
        Assert.Equal(repository.Version, package.Get("version"));
        Assert.Equal("Atr", package.Get("authors"));
        Assert.False(string.IsNullOrWhiteSpace(package.Get("description")), $"{id} has no description.");
        Assert.Contains("atr", package.Get("tags")?.Split(' ') ?? [], StringComparer.Ordinal);
        Assert.Equal("README.md", package.Get("readme"));
        Assert.Contains("README.md", package.Files);
        var license = package.Element("license");
        Assert.NotNull(license);
        Assert.Equal("expression", (string?)license.Attribute("type"));
        Assert.Equal("MIT", license.Value);
    }

    [Theory]
    [MemberData(nameof(LibraryPackages))]
    public void EveryLibraryPackageCarriesItsXmlDocs(string id)
    {
        var package = NuGetPackage.Read(repository.PackagePath(id, "nupkg"));

        Assert.Contains($"lib/net10.0/{id}.dll", package.Files);
        Assert.Contains($"lib/net10.0/{id}.xml", package.Files);
    }

    [Fact]
    public void AtrPublishingDependsOnNoEntityFrameworkCorePackage()
    {
        static IReadOnlyList<string> EntityFrameworkCoreDependencies(NuGetPackage package)
            => [.. package.DependencyIds.Where(id => id.StartsWith("Microsoft.EntityFrameworkCore", StringComparison.OrdinalIgnoreCase))];

        var publishing = NuGetPackage.Read(repository.PackagePath("Atr.Publishing", "nupkg"));
        var entityFrameworkCore = NuGetPackage.Read(repository.PackagePath("Atr.Publishing.EntityFrameworkCore", "nupkg"));

        Assert.Empty(EntityFrameworkCoreDependencies(publishing));
        // The check above reads dependencies at all: the EF Core package's are found.
        Assert.NotEmpty(EntityFrameworkCoreDependencies(entityFrameworkCore));
        Assert.Contains("Atr.Publishing", entityFrameworkCore.DependencyIds);
    }

    public static TheoryData<string> ShippedPackages() => [.. PackedRepository.ShippedPackageIds];

    public static TheoryData<string> LibraryPackages() => [.. Libraries];
}
