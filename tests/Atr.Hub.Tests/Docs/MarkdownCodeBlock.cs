using System.Text.RegularExpressions;

namespace Atr.Hub.Tests.Docs;

/// <summary>
/// One fenced code block of a markdown file: its language, its text, where it is, and the marker
/// comment on the line right before it (<c>&lt;!-- snippet: path --&gt;</c>, <c>&lt;!-- fragment --&gt;</c>).
/// </summary>
internal sealed partial record MarkdownCodeBlock(string File, int Line, string Language, string Code, string? Marker)
{
    /// <summary>Where the block opens, <c>README.md:103</c>: the file from the repository root and the line of its opening fence.</summary>
    public string Location => $"{File}:{Line}";

    /// <summary>The path of <c>&lt;!-- snippet: path --&gt;</c>, or null.</summary>
    public string? SnippetPath => Marker is { } marker && SnippetMarker().Match(marker) is { Success: true } match ? match.Groups[1].Value : null;

    public bool IsFragment => Marker is { } marker && FragmentMarker().IsMatch(marker);

    public bool IsCSharp => Language is "csharp" or "cs";

    public bool IsJavaScript => Language is "js" or "javascript" or "ts" or "mjs";

    /// <summary>
    /// The fenced blocks of a markdown text, in order. A fence is three or more backticks or tildes,
    /// indented or not (inside a list item), closed by a fence of the same character at least as
    /// long; the block's lines lose the opening fence's indentation, as CommonMark reads them.
    /// </summary>
    public static IEnumerable<MarkdownCodeBlock> Parse(string file, string markdown)
    {
        var lines = markdown.ReplaceLineEndings("\n").Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var open = Fence().Match(lines[i]);
            if (!open.Success)
            {
                continue;
            }

            var indent = open.Groups["indent"].Length;
            var fence = open.Groups["fence"].Value;
            var marker = i > 0 && lines[i - 1].Trim() is var before && before.StartsWith("<!--", StringComparison.Ordinal) ? before : null;
            var code = new List<string>();
            var j = i + 1;
            for (; j < lines.Length && !IsClosing(lines[j], fence); j++)
            {
                code.Add(Unindent(lines[j], indent));
            }

            yield return new MarkdownCodeBlock(file, i + 1, open.Groups["info"].Value.ToLowerInvariant(), string.Join('\n', code), marker);
            i = j;
        }
    }

    private static bool IsClosing(string line, string fence)
    {
        var trimmed = line.Trim();
        return trimmed.Length >= fence.Length && trimmed.All(c => c == fence[0]);
    }

    private static string Unindent(string line, int indent)
    {
        var spaces = 0;
        while (spaces < indent && spaces < line.Length && line[spaces] == ' ')
        {
            spaces++;
        }

        return line[spaces..];
    }

    [GeneratedRegex(@"^(?<indent> *)(?<fence>`{3,}|~{3,})\s*(?<info>[^\s`]*)")]
    private static partial Regex Fence();

    [GeneratedRegex(@"^<!--\s*snippet:\s*(\S+)\s*-->$")]
    private static partial Regex SnippetMarker();

    [GeneratedRegex(@"^<!--\s*fragment\s*-->$")]
    private static partial Regex FragmentMarker();
}
