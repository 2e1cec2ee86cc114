namespace Atr.Bench.Cli;

/// <summary>What <see cref="CommonOptions"/> read from a command line.</summary>
internal sealed record CommonValues
{
    public required string RepositoryRoot { get; init; }

    /// <summary>Whether to pin: asked for, and possible on this machine.</summary>
    public required bool Pin { get; init; }

    public required string ServerCpus { get; init; }

    public required string LoadCpus { get; init; }

    /// <summary>Null when no results file is written.</summary>
    public string? ResultsDirectory { get; init; }
}
