using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Atr.Packaging.Tests.Infrastructure;
using Atr.Testing;
using Xunit;

namespace Atr.Packaging.Tests;

/// <summary>The Atr.Hub package in a new web application, restored from the packed feed and nuget.org as a user's would be.</summary>
[Collection(UsesPackedRepository.Name)]
[Trait("Category", "Slow")]
public sealed partial class HubPackageTests(PackedRepository repository)
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(1);

    [Fact]
    public async Task AWebAppReferencingTheAtrHubPackageDeliversAPublishedEvent()
    {
        // Beside the source copy, not in it: no Directory.Build.props or central versions above the app.
        var app = Path.Combine(repository.Root, "app");
        Directory.CreateDirectory(app);
        await File.WriteAllTextAsync(Path.Combine(app, "app.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk.Web">
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="Atr.Hub" Version="{repository.Version}" />
              </ItemGroup>
            </Project>
            """);
        await File.WriteAllTextAsync(Path.Combine(app, "Program.cs"), """
            var builder = WebApplication.CreateBuilder(args);
            builder.Services.AddAtrHub();

            var app = builder.Build();
            app.MapAtrHub("/events");
            app.Run("http://127.0.0.1:0");
            """);
        // The local feed for Atr's packages, nuget.org for the rest: what a user of the packed feed writes.
        await File.WriteAllTextAsync(Path.Combine(app, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="atr" value="{repository.Feed}" />
                <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
              </packageSources>
              <packageSourceMapping>
                <packageSource key="atr">
                  <package pattern="Atr.*" />
                </packageSource>
                <packageSource key="nuget.org">
                  <package pattern="*" />
                </packageSource>
              </packageSourceMapping>
            </configuration>
            """);

        var (exitCode, output) = await ChildProcess.RunAsync("dotnet", ["build", "--nologo"], app, PackedRepository.CommandTimeout, repository.IsolatedNuGet);
        Assert.True(exitCode == 0, $"The app did not build, exit code {exitCode}:\n{output}");

        // The hub's anonymous mode is meant for development on loopback, which is what this is.
        var environment = new Dictionary<string, string>(repository.IsolatedNuGet) { ["ASPNETCORE_ENVIRONMENT"] = "Development" };
        await using var server = ChildProcess.Start("dotnet", [Path.Combine("bin", "Debug", "net10.0", "app.dll")], app, environment);
        var baseUri = new Uri((await server.WaitForLineAsync(ListeningLine(), StartTimeout)).Groups[1].Value);

        using var client = new ClientWebSocket();
        using var limit = new CancellationTokenSource(TestTimeouts.Default);
        await client.ConnectAsync(new Uri($"ws://{baseUri.Authority}/events/organization/1"), limit.Token);
        using var http = new HttpClient { BaseAddress = baseUri, Timeout = TestTimeouts.Default };
        using var response = await http.PostAsJsonAsync("/events/publish", new { scope = "organization.1", name = "post.created" });
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"POST /events/publish answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}\n{server.Output}");

        var (type, text) = await ReceiveMessageAsync(client, limit.Token);

        Assert.Equal(WebSocketMessageType.Text, type);
        using var frame = JsonDocument.Parse(text);
        Assert.Equal("post.created", frame.RootElement.GetProperty("name").GetString());
        Assert.Equal("organization.1.post.created", frame.RootElement.GetProperty("routing_key").GetString());
    }

    private static async Task<(WebSocketMessageType Type, string Text)> ReceiveMessageAsync(ClientWebSocket client, CancellationToken cancellationToken)
    {
        var buffer = new byte[16 * 1024];
        using var message = new MemoryStream();
        WebSocketReceiveResult result;
        do
        {
            result = await client.ReceiveAsync(buffer, cancellationToken);
            message.Write(buffer, 0, result.Count);
        }
        while (!result.EndOfMessage);

        return (result.MessageType, Encoding.UTF8.GetString(message.ToArray()));
    }

    // Kestrel's own line, logged once the port 0 it was given is bound.
    [GeneratedRegex(@"Now listening on: (http://\S+)")]
    private static partial Regex ListeningLine();
}
