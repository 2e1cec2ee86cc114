using System.Text.RegularExpressions;
using Atr.Hub.Tests.Infrastructure;
using Atr.Testing;
using Xunit;

namespace Atr.Hub.Tests.Docs;

/// <summary>
/// The code a reader copies runs. Every C# and JavaScript block of the docs (<see cref="Documentation.Files"/>) is one of:
/// <list type="number">
/// <item>verbatim a file that a test builds and runs, marked <c>&lt;!-- snippet: samples/…/Program.cs --&gt;</c> on the line before it;</item>
/// <item>a whole program, unmarked: C# is compiled and run here, JavaScript by <c>Atr.Client.Js/test/snippets.test.mjs</c>;</item>
/// <item>a fragment of a larger program, marked <c>&lt;!-- fragment --&gt;</c>, shown for reading.</item>
/// </list>
/// </summary>
public sealed partial class SnippetTests(SnippetEnvironment environment) : IClassFixture<SnippetEnvironment>
{
    public static TheoryData<string> CSharpPrograms { get; } =
        [.. Documentation.CodeBlocks.Where(block => block.IsCSharp && block.Marker is null).Select(block => block.Location)];

    [Fact]
    public void EveryCodeBlockIsVerbatimFromAFileAWholeProgramOrAFragment()
    {
        var problems = new List<string>();
        foreach (var block in Documentation.CodeBlocks)
        {
            if (block.SnippetPath is { } path)
            {
                if (Mismatch(block, path) is { } mismatch)
                {
                    problems.Add($"{block.Location}: {mismatch}");
                }
            }
            else if (block.Marker is { } marker && !block.IsFragment)
            {
                problems.Add($"{block.Location}: {marker} is no marker: write <!-- snippet: <path from the repository root> --> or <!-- fragment -->.");
            }
            else if (block.Marker is null && block.IsCSharp && RunsForever(block.Code))
            {
                problems.Add($"{block.Location}: {RunsForeverAdvice}");
            }
        }

        Assert.True(problems.Count == 0, string.Join('\n', problems));
    }

    [Theory]
    [MemberData(nameof(CSharpPrograms))]
    public async Task CSharpProgramCompilesAndRunsToItsEnd(string location)
    {
        var block = Documentation.CodeBlocks.Single(block => block.Location == location);
        Assert.False(RunsForever(block.Code), $"{location}: {RunsForeverAdvice}");

        var main = CSharpProgram.Compile(environment.Substitute(block.Code), block.File, block.Line + 1);

        await CSharpProgram.RunAsync(main, TestTimeouts.Default);
    }

    [Fact]
    public void CodeBlocksAreFoundWithTheirLanguageLineAndMarkerIndentedOrNot()
    {
        const string markdown = """
            Text.

            <!-- fragment -->
            ```csharp
            app.MapAtrHub();
            ```

            - In a list:

              ```cs
              var x = 1;
                var y = 2;
              ```
            <!-- snippet: samples/Atr.Samples.Embedded/Program.cs -->
            ````js
            ```
            ````
            """;

        var blocks = MarkdownCodeBlock.Parse("doc.md", markdown).ToList();

        Assert.Equal(["doc.md:4", "doc.md:10", "doc.md:15"], blocks.Select(block => block.Location));
        Assert.True(blocks[0].IsFragment && blocks[0].IsCSharp);
        Assert.Equal(("cs", "var x = 1;\n  var y = 2;", (string?)null), (blocks[1].Language, blocks[1].Code, blocks[1].Marker));
        Assert.Equal(("samples/Atr.Samples.Embedded/Program.cs", "```"), (blocks[2].SnippetPath, blocks[2].Code));
    }

    private const string RunsForeverAdvice =
        "a program that runs until stopped (app.Run()) cannot be run by the test: make it a sample a test runs, shown verbatim (<!-- snippet: samples/…/Program.cs -->), or mark it <!-- fragment -->.";

    private static bool RunsForever(string code) => RunCall().IsMatch(code);

    /// <summary>Why a verbatim block is not its file, or null when it is (a trailing newline aside).</summary>
    private static string? Mismatch(MarkdownCodeBlock block, string path)
    {
        var full = Path.GetFullPath(Path.Combine(Repository.Root, path));
        if (!full.StartsWith(Repository.Root + Path.DirectorySeparatorChar, StringComparison.Ordinal) || !File.Exists(full))
        {
            return $"the snippet's file {path} does not exist in the repository.";
        }

        var file = File.ReadAllText(full).ReplaceLineEndings("\n");
        file = file.EndsWith('\n') ? file[..^1] : file;
        if (file == block.Code)
        {
            return null;
        }

        var expected = file.Split('\n');
        var actual = block.Code.Split('\n');
        var line = Enumerable.Range(0, Math.Max(expected.Length, actual.Length))
            .First(i => i >= expected.Length || i >= actual.Length || expected[i] != actual[i]);
        return $"differs from {path} at its line {line + 1}: the file has \"{(line < expected.Length ? expected[line] : "(end)")}\", " +
               $"the block \"{(line < actual.Length ? actual[line] : "(end)")}\". Copy the file into the block.";
    }

    [GeneratedRegex(@"\.Run(Async)?\(\s*\)")]
    private static partial Regex RunCall();
}
