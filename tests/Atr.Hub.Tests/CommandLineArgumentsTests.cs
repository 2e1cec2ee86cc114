using Atr.Server;
using Atr.Server.Cli;
using Xunit;

namespace Atr.Hub.Tests;

/// <summary>How flags become configuration keys, without starting anything.</summary>
public sealed class CommandLineArgumentsTests
{
    [Theory]
    [InlineData("--no-metrics", "false")]
    [InlineData("--no-metrics=true", "false")]
    [InlineData("--no-metrics=false", "true")]
    [InlineData("--demo", "true")]
    [InlineData("--demo=false", "false")]
    public void ASwitchGivenAValueMeansWhatItsNameSays(string arg, string expected)
    {
        var flag = arg.Split('=')[0];
        var key = AtrCommandLine.StartFlags.Single(f => f.Names.Contains(flag)).Key;

        var parsed = CommandLineArguments.Parse([arg], AtrCommandLine.StartFlags);

        Assert.Equal(expected, parsed.Values[key]);
    }

    [Fact]
    public void ASwitchWithAValueThatIsNotABooleanIsRefused()
    {
        var refused = Assert.Throws<CommandLineException>(() => CommandLineArguments.Parse(["--no-signalr=maybe"], AtrCommandLine.StartFlags));

        Assert.Contains("--no-signalr", refused.Message, StringComparison.Ordinal);
    }
}
