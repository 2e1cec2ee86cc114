namespace Atr.Server.Cli;

/// <summary>
/// The flags of one command, read into configuration keys: <c>--server-port 7777</c> (or
/// <c>--server_port=7777</c>) becomes <c>Atr:ServerPort = 7777</c>, so every flag can also come from
/// <c>appsettings.json</c> or an <c>Atr__ServerPort</c> environment variable.
/// </summary>
internal sealed class CommandLineArguments
{
    private CommandLineArguments(Dictionary<string, string?> values) => Values = values;

    /// <summary>The configuration keys and values given on the command line.</summary>
    public IReadOnlyDictionary<string, string?> Values { get; }

    /// <summary>A flag's definition: its spellings, its configuration key, and whether it takes no value.</summary>
    public sealed record Flag(string[] Names, string Key, string Help, bool IsSwitch = false, string SwitchValue = "true", bool IsList = false);

    /// <summary>Parses <paramref name="args"/> against <paramref name="flags"/>.</summary>
    /// <exception cref="CommandLineException">An unknown flag, or a missing value.</exception>
    public static CommandLineArguments Parse(IReadOnlyList<string> args, IReadOnlyList<Flag> flags)
    {
        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            string name = arg;
            string? value = null;
            var equals = arg.IndexOf('=', StringComparison.Ordinal);
            if (arg.StartsWith("--", StringComparison.Ordinal) && equals > 0)
            {
                name = arg[..equals];
                value = arg[(equals + 1)..];
            }

            var flag = flags.FirstOrDefault(f => f.Names.Contains(name, StringComparer.Ordinal))
                ?? throw new CommandLineException($"Unknown option '{name}'.");

            if (flag.IsSwitch)
            {
                // --no-metrics=true says what --no-metrics says; =false says the opposite.
                values[flag.Key] = value is null || IsTrue(name, value) ? flag.SwitchValue : Opposite(flag.SwitchValue);
                continue;
            }

            if (value is null)
            {
                if (i + 1 >= args.Count || args[i + 1].StartsWith("--", StringComparison.Ordinal))
                {
                    throw new CommandLineException($"Option '{name}' needs a value.");
                }

                value = args[++i];
            }

            if (flag.IsList)
            {
                // Repeatable and comma-separated, into indexed keys as configuration binds lists: Key:0, Key:1…
                foreach (var item in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                {
                    values[$"{flag.Key}:{values.Keys.Count(k => k.StartsWith(flag.Key + ":", StringComparison.OrdinalIgnoreCase))}"] = item;
                }

                continue;
            }

            values[flag.Key] = value;
        }

        return new CommandLineArguments(values);
    }

    private static bool IsTrue(string name, string value)
        => bool.TryParse(value, out var on) ? on : throw new CommandLineException($"Option '{name}' takes no value, or true or false.");

    private static string Opposite(string switchValue)
        => bool.Parse(switchValue) ? bool.FalseString.ToLowerInvariant() : bool.TrueString.ToLowerInvariant();

    /// <summary>The items of a list flag, in order.</summary>
    public IReadOnlyList<string> List(string key)
        => [.. Values.Where(p => p.Key.StartsWith(key + ":", StringComparison.OrdinalIgnoreCase)).OrderBy(p => int.Parse(p.Key[(key.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture)).Select(p => p.Value!)];

    /// <summary>Writes the flags as help lines.</summary>
    public static string Describe(IReadOnlyList<Flag> flags)
        => string.Join(Environment.NewLine, flags.Select(f => $"  {string.Join(", ", f.Names),-36} {f.Help}"));
}
