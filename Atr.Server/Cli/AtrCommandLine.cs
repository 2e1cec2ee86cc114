using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;
using Microsoft.Extensions.Options;

namespace Atr.Server.Cli;

/// <summary><c>atr-server</c>: <c>start</c> runs a hub node, <c>publish</c> publishes one event, <c>token</c> mints a token.</summary>
internal static class AtrCommandLine
{
    // Response files stay off: a value that starts with '@' (a key, a Redis password) is a value, not a file to read.
    private static readonly ParserConfiguration Parsing = new() { ResponseFileTokenReplacer = null };

    public static RootCommand Create()
    {
        var root = new RootCommand("Atr's real-time event hub: run a hub node, publish an event, mint a development token.")
        {
            StartCommand.Create(),
            PublishCommand.Create(),
            TokenCommand.Create(),
        };

        // No command: the usage, and the exit code of a command line that cannot be run.
        root.SetAction(result =>
        {
            new HelpAction().Invoke(result);
            return 2;
        });
        return root;
    }

    /// <summary>Parses <paramref name="args"/> as <c>atr-server</c> takes them, without running anything.</summary>
    public static ParseResult Parse(IReadOnlyList<string> args) => Create().Parse(args, Parsing);

    public static async Task<int> RunAsync(string[] args)
    {
        var result = Parse(args);
        if (Refusal(result) is { } reason)
        {
            return await RefuseAsync(result, reason).ConfigureAwait(false);
        }

        try
        {
            return await result.InvokeAsync(new InvocationConfiguration
            {
                EnableDefaultExceptionHandler = false,

                // SIGTERM and Ctrl-C are the host's: start drains its connections within HostOptions.ShutdownTimeout,
                // which a termination timeout here would cut short.
                ProcessTerminationTimeout = null,
            }).ConfigureAwait(false);
        }
        catch (CommandLineException ex)
        {
            return await RefuseAsync(result, ex.Message).ConfigureAwait(false);
        }
        catch (OptionsValidationException ex)
        {
            await Console.Error.WriteLineAsync($"atr-server: invalid configuration: {string.Join(" ", ex.Failures)}").ConfigureAwait(false);
            return 2;
        }
    }

    /// <summary>Why the parsed command line cannot be run, in one line; null when it can.</summary>
    public static string? Refusal(ParseResult result)
    {
        if (result.Action is not ParseErrorAction)
        {
            return null;
        }

        // A switch given a value that is not true or false does not take it, and the parser reports the value on its
        // own as an unrecognized argument: name the switch instead.
        var tokens = result.Tokens;
        for (var i = 0; i + 1 < tokens.Count; i++)
        {
            if (tokens[i] is { Type: TokenType.Option } name
                && tokens[i + 1] is { Type: TokenType.Argument } value
                && !bool.TryParse(value.Value, out _)
                && result.CommandResult.Command.Options.Any(option => option.ValueType == typeof(bool) && (option.Name == name.Value || option.Aliases.Contains(name.Value))))
            {
                return $"Option '{name.Value}' takes no value, or true or false; got '{value.Value}'.";
            }
        }

        return string.Join(" ", result.Errors.Select(error => error.Message));
    }

    /// <summary>A command line that cannot be run: the reason and where the options are, not the whole usage; exit code 2.</summary>
    private static async Task<int> RefuseAsync(ParseResult result, string reason)
    {
        var command = result.CommandResult.Command;
        await Console.Error.WriteLineAsync($"atr-server: {reason}").ConfigureAwait(false);
        await Console.Error.WriteLineAsync(command is RootCommand
            ? "Run 'atr-server --help' for the commands."
            : $"Run 'atr-server {command.Name} --help' for the options.").ConfigureAwait(false);
        return 2;
    }
}
