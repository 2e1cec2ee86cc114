using System.CommandLine;

namespace Atr.Server.Cli;

/// <summary>An option that takes a list, repeated or comma-separated: <c>--scope a,b --scope c</c> is a, b, c.</summary>
internal sealed class ListOption : Option<string[]>
{
    public ListOption(string name, params string[] aliases)
        : base(name, aliases)
    {
        CustomParser = result => [.. result.Tokens.SelectMany(token => token.Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))];
    }
}
