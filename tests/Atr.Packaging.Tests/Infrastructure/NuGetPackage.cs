using System.IO.Compression;
using System.Xml.Linq;

namespace Atr.Packaging.Tests.Infrastructure;

/// <summary>A .nupkg read as what it is, a zip: its file list and its nuspec.</summary>
internal sealed class NuGetPackage
{
    private NuGetPackage(IReadOnlyList<string> files, XElement metadata)
    {
        Files = files;
        Metadata = metadata;
    }

    /// <summary>The package's files, with '/' separators, NuGet's own parts (_rels, [Content_Types].xml, package/) left out.</summary>
    public IReadOnlyList<string> Files { get; }

    /// <summary>The nuspec's <c>&lt;metadata&gt;</c> element.</summary>
    public XElement Metadata { get; }

    public static NuGetPackage Read(string path)
    {
        using var zip = ZipFile.OpenRead(path);
        var nuspec = zip.Entries.Single(e => !e.FullName.Contains('/', StringComparison.Ordinal) && e.FullName.EndsWith(".nuspec", StringComparison.Ordinal));
        XDocument document;
        using (var stream = nuspec.Open())
        {
            document = XDocument.Load(stream);
        }

        var files = zip.Entries
            .Select(e => e.FullName)
            .Where(name => !name.StartsWith("_rels/", StringComparison.Ordinal)
                && !name.StartsWith("package/", StringComparison.Ordinal)
                && name != "[Content_Types].xml")
            .ToList();
        return new NuGetPackage(files, document.Root!.Elements().Single(e => e.Name.LocalName == "metadata"));
    }

    /// <summary>The value of one metadata element (<c>version</c>, <c>readme</c>…), or null.</summary>
    public string? Get(string name) => Element(name)?.Value;

    /// <summary>One metadata element, whatever the nuspec's namespace.</summary>
    public XElement? Element(string name) => Metadata.Elements().SingleOrDefault(e => e.Name.LocalName == name);

    /// <summary>The ids of the package's dependencies, in every target framework group.</summary>
    public IReadOnlyList<string> DependencyIds =>
    [
        .. Metadata.Descendants()
            .Where(e => e.Name.LocalName == "dependency")
            .Select(e => (string)e.Attribute("id")!),
    ];
}
