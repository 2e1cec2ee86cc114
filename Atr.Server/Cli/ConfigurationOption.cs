using System.CommandLine;
using System.Globalization;

namespace Atr.Server.Cli;

/// <summary>
/// An option of <c>atr-server start</c> and the configuration key it sets: <c>--server-port 7777</c> is
/// <c>Atr:ServerPort = 7777</c>, so that every option can also come from <c>appsettings.json</c> or an
/// <c>Atr__ServerPort</c> environment variable.
/// </summary>
/// <param name="Option">The option: a value, a switch (<see cref="bool"/>) or a list (<see cref="ListOption"/>).</param>
/// <param name="Key">The configuration key; a list sets the indexed keys <c>Key:0</c>, <c>Key:1</c>… as configuration binds lists.</param>
/// <param name="Negates">The key takes the opposite of the switch: <c>--no-metrics</c> is <c>Atr:Metrics = false</c>.</param>
internal sealed record ConfigurationOption(Option Option, string Key, bool Negates = false)
{
    /// <summary>The configuration keys and values the option sets on <paramref name="result"/>'s command line: none when it is not there.</summary>
    public IEnumerable<KeyValuePair<string, string?>> Read(ParseResult result)
    {
        if (result.GetResult(Option) is not { Implicit: false } given)
        {
            yield break;
        }

        switch (given.GetValueOrDefault<object?>())
        {
            case bool on:
                yield return new(Key, on != Negates ? "true" : "false");
                break;
            case string[] items:
                for (var i = 0; i < items.Length; i++)
                {
                    yield return new($"{Key}:{i.ToString(CultureInfo.InvariantCulture)}", items[i]);
                }

                break;
            case var value:
                yield return new(Key, Convert.ToString(value, CultureInfo.InvariantCulture));
                break;
        }
    }
}
