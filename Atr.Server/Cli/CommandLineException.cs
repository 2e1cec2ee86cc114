namespace Atr.Server.Cli;

/// <summary>A command line that cannot be run as written; exit code 2.</summary>
internal sealed class CommandLineException(string message) : Exception(message);
