using System.CommandLine;
using Atr.Server.Cli;
using Xunit;

namespace Atr.Hub.Tests;

/// <summary>How <c>atr-server</c>'s options become configuration keys and values, without starting anything.</summary>
public sealed class AtrCommandLineTests
{
    [Theory]
    [InlineData("--no-metrics", "false")]
    [InlineData("--no-metrics=true", "false")]
    [InlineData("--no-metrics=false", "true")]
    [InlineData("--demo", "true")]
    [InlineData("--demo=false", "false")]
    public void ASwitchGivenAValueMeansWhatItsNameSays(string arg, string expected)
    {
        var key = StartCommand.Options.Single(o => o.Option.Name == arg.Split('=')[0]).Key;

        var settings = StartSettings(arg);

        Assert.Equal(expected, settings[key]);
    }

    [Fact]
    public void ASwitchWithAValueThatIsNotABooleanIsRefused()
    {
        var refusal = AtrCommandLine.Refusal(AtrCommandLine.Parse(["start", "--no-signalr=maybe"]));

        Assert.NotNull(refusal);
        Assert.Contains("--no-signalr", refusal, StringComparison.Ordinal);
    }

    [Fact]
    public void EveryAliasSetsTheSameKeyAsTheName()
    {
        var aliased = StartCommand.Options.Where(o => o.Option.Aliases.Count > 0).ToList();

        Assert.NotEmpty(aliased);
        foreach (var option in aliased)
        {
            var expected = StartSettings([option.Option.Name, .. SampleValue(option.Option)]);
            foreach (var alias in option.Option.Aliases)
            {
                Assert.Equal(expected, StartSettings([alias, .. SampleValue(option.Option)]));
            }

            Assert.Contains(option.Key, expected.Keys);
        }
    }

    [Fact]
    public void PublishAliasesReadAsTheirNames()
    {
        var result = AtrCommandLine.Parse(["publish", "--record_type", "Post", "--channel_prefix", "x:"]);

        Assert.Empty(result.Errors);
        Assert.Equal("Post", result.GetValue(PublishCommand.RecordType));
        Assert.Equal("x:", result.GetValue(PublishCommand.ChannelPrefix));
    }

    [Fact]
    public void AListOptionRepeatedAndCommaSeparatedGivesIndexedKeysInOrder()
    {
        var settings = StartSettings("--allowed-origins", "https://a.example, https://b.example", "--allowed-origins", "https://c.example");

        Assert.Equal(
            new Dictionary<string, string?>
            {
                ["Atr:AllowedOrigins:0"] = "https://a.example",
                ["Atr:AllowedOrigins:1"] = "https://b.example",
                ["Atr:AllowedOrigins:2"] = "https://c.example",
            },
            settings);
    }

    [Fact]
    public void TokenScopesRepeatedAndCommaSeparatedReadInOrder()
    {
        var result = AtrCommandLine.Parse(["token", "--scope", "organization.1,organization.2", "--scope", "organization.3"]);

        Assert.Empty(result.Errors);
        Assert.Equal(["organization.1", "organization.2", "organization.3"], result.GetValue(TokenCommand.Scope) ?? []);
    }

    [Fact]
    public void AnOptionNotGivenSetsNoKey()
    {
        Assert.Empty(StartSettings());
        Assert.Equal(new Dictionary<string, string?> { ["Atr:ServerPort"] = "0" }, StartSettings("--server-port", "0"));
    }

    [Fact]
    public void ValuesReachConfigurationAsConfigurationReadsThem()
    {
        var settings = StartSettings("--server-port=8080", "--probe-interval", "00:00:02", "--jwt-key", "@not-a-response-file");

        Assert.Equal("8080", settings["Atr:ServerPort"]);
        Assert.Equal("00:00:02", settings["Atr:ProbeInterval"]);
        Assert.Equal("@not-a-response-file", settings["Atr:JwtKey"]);
    }

    private static IReadOnlyDictionary<string, string?> StartSettings(params string[] args)
    {
        var result = AtrCommandLine.Parse(["start", .. args]);
        Assert.Empty(result.Errors);
        return StartCommand.Settings(result);
    }

    private static string[] SampleValue(Option option)
        => option.ValueType == typeof(bool) ? []
            : option.ValueType == typeof(int) ? ["1"]
            : option.ValueType == typeof(TimeSpan) ? ["00:00:01"]
            : ["value"];
}
