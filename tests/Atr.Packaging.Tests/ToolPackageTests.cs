using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Atr.Packaging.Tests.Infrastructure;
using Atr.Testing;
using Xunit;

namespace Atr.Packaging.Tests;

/// <summary>The Atr.Server package installed as a user installs it, with <c>dotnet tool install</c>.</summary>
[Collection(UsesPackedRepository.Name)]
[Trait("Category", "Slow")]
public sealed partial class ToolPackageTests(PackedRepository repository)
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(1);

    [Fact]
    public async Task InstalledAtrServerStartsAndAcceptsAPublish()
    {
        var tools = Path.Combine(repository.Root, "tools");
        var (exitCode, output) = await ChildProcess.RunAsync(
            "dotnet",
            ["tool", "install", "--tool-path", tools, "--add-source", repository.Feed, "Atr.Server", "--version", repository.Version],
            repository.Root,
            PackedRepository.CommandTimeout,
            repository.IsolatedNuGet);
        Assert.True(exitCode == 0, $"dotnet tool install failed with exit code {exitCode}:\n{output}");

        await using var server = ChildProcess.Start(Path.Combine(tools, "atr-server"), ["start", "--server-port", "0"], repository.Root);
        var listening = await server.WaitForLineAsync(ListeningLine(), StartTimeout);
        using var http = new HttpClient { BaseAddress = new Uri(listening.Groups[1].Value), Timeout = TestTimeouts.Default };

        using var response = await http.PostAsJsonAsync("/publish", new { scope = "organization.1", name = "post.created" });

        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"POST /publish answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}\n{server.Output}");
    }

    [GeneratedRegex(@"^Atr hub listening on (http://\S+)$")]
    private static partial Regex ListeningLine();
}
