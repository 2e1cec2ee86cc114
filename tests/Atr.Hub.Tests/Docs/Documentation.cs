using Atr.Hub.Tests.Infrastructure;

namespace Atr.Hub.Tests.Docs;

/// <summary>The markdown files whose code a reader copies, and their C# and JavaScript blocks.</summary>
internal static class Documentation
{
    /// <summary>
    /// README.md, docs/*.md, the npm client's README and each package's README (nuget.org shows it),
    /// from the repository root. Atr.Client.Js/test/snippets.test.mjs runs the JavaScript blocks of the same list.
    /// </summary>
    public static IReadOnlyList<string> Files { get; } =
    [
        "README.md",
        .. Directory.GetFiles(Path.Combine(Repository.Root, "docs"), "*.md").Select(path => "docs/" + Path.GetFileName(path)).Order(StringComparer.Ordinal),
        "Atr.Client.Js/README.md",
        "Atr.Publishing/README.md",
        "Atr.Publishing.EntityFrameworkCore/README.md",
        "Atr.Hub/README.md",
        "Atr.Server/README.md",
    ];

    /// <summary>Every C# and JavaScript block of <see cref="Files"/>.</summary>
    public static IReadOnlyList<MarkdownCodeBlock> CodeBlocks { get; } =
        [.. Files.SelectMany(file => MarkdownCodeBlock.Parse(file, File.ReadAllText(Path.Combine(Repository.Root, file))))
            .Where(block => block.IsCSharp || block.IsJavaScript)];
}
