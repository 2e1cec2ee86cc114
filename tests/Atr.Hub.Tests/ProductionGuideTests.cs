using System.Globalization;
using System.Net;
using System.Reflection;
using System.Text;
using System.Text.Json.Nodes;
using Atr.Hub.Tests.Infrastructure;
using Atr.Server;
using Microsoft.Extensions.Configuration;
using Xunit;

namespace Atr.Hub.Tests;

/// <summary>What <c>docs/production.md</c> tells an operator holds: its configuration example, and how the hub counts addresses behind a proxy.</summary>
public sealed class ProductionGuideTests
{
    private const string Guide = "docs/production.md";
    private const string ExampleHeading = "## Configuration";

    [Fact]
    public void ConfigurationExampleHasEveryKeyWithItsDefault()
    {
        var example = ExampleSection();
        var defaults = Settings(new AtrHubOptions()).Concat(Settings(new ServerSettings())).ToDictionary();

        Assert.Equal(defaults.Keys.Order(StringComparer.Ordinal), example.Select(pair => pair.Key).Order(StringComparer.Ordinal));
        Assert.All(defaults, pair => Assert.True(
            JsonNode.DeepEquals(pair.Value, example[pair.Key]),
            $"Atr:{pair.Key} is {Show(example[pair.Key])} in {Guide}, but its default is {Show(pair.Value)}."));
    }

    [Fact]
    public void ConfigurationExampleBindsToTheDefaults()
    {
        var section = new ConfigurationBuilder()
            .AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes(ExampleSection().Root.ToJsonString())))
            .Build()
            .GetSection(HubServer.Section);

        Assert.Equal(Shown(new AtrHubOptions()), Shown(section.Get<AtrHubOptions>()!));
        Assert.Equal(Shown(new ServerSettings()), Shown(section.Get<ServerSettings>()!));
    }

    [Fact]
    public async Task WithForwardedHeadersThePerAddressLimitCountsTheForwardedClient()
    {
        await using var server = AtrServerProcess.Start(
            ["start", "--server-port", "0", "--max-connections-per-ip", "1"],
            new Dictionary<string, string> { ["ASPNETCORE_FORWARDEDHEADERS_ENABLED"] = "true" });
        await server.ListeningAsync();
        await using var client = await WsClient.ConnectAsync(server.WebSocketUri("/organization/1"), o => o.SetRequestHeader("X-Forwarded-For", "203.0.113.1"));

        Assert.Equal(HttpStatusCode.TooManyRequests, await AskAsync(server, "203.0.113.1"));
        Assert.Equal(HttpStatusCode.OK, await AskAsync(server, "203.0.113.2"));
    }

    [Fact]
    public async Task WithoutForwardedHeadersThePerAddressLimitCountsTheProxy()
    {
        await using var server = AtrServerProcess.Start(["start", "--server-port", "0", "--max-connections-per-ip", "1"]);
        await server.ListeningAsync();
        await using var client = await WsClient.ConnectAsync(server.WebSocketUri("/organization/1"), o => o.SetRequestHeader("X-Forwarded-For", "203.0.113.1"));

        Assert.Equal(HttpStatusCode.TooManyRequests, await AskAsync(server, "203.0.113.2"));
    }

    /// <summary>What a handshake to <c>/organization/1</c> forwarded for <paramref name="client"/> would get, asked with a plain GET.</summary>
    private static async Task<HttpStatusCode> AskAsync(AtrServerProcess server, string client)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/organization/1");
        request.Headers.Add("X-Forwarded-For", client);
        using var response = await server.Http.SendAsync(request);
        return response.StatusCode;
    }

    /// <summary>The <c>Atr</c> object of the first <c>json</c> block under <see cref="ExampleHeading"/> in the guide.</summary>
    private static JsonObject ExampleSection()
    {
        var lines = File.ReadAllLines(Path.Combine(RepositoryRoot(), Guide));
        var heading = Array.IndexOf(lines, ExampleHeading);
        Assert.True(heading >= 0, $"{Guide} has no line '{ExampleHeading}'.");
        var open = Array.FindIndex(lines, heading, line => line.TrimEnd() == "```json");
        Assert.True(open >= 0, $"{Guide} has no ```json block under '{ExampleHeading}'.");
        var close = Array.FindIndex(lines, open + 1, line => line.TrimEnd() == "```");
        var json = JsonNode.Parse(string.Join('\n', lines[(open + 1)..close]))!.AsObject();
        return json[HubServer.Section]!.AsObject();
    }

    /// <summary>
    /// The settings of <paramref name="options"/> that configuration binds, as JSON: every public property
    /// with a public setter, and the lists the binder fills in place (<see cref="AtrHubOptions.AllowedOrigins"/>);
    /// not the extension points, which are objects configuration cannot describe.
    /// </summary>
    private static IEnumerable<KeyValuePair<string, JsonNode?>> Settings(object options)
        => options.GetType()
            .GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.SetMethod is { IsPublic: true } || (p.PropertyType != typeof(string) && typeof(IEnumerable<string>).IsAssignableFrom(p.PropertyType)))
            .Where(p => p.Name is not (nameof(AtrHubOptions.RequestAuthenticator) or nameof(AtrHubOptions.RequestScope)))
            .Select(p => KeyValuePair.Create(p.Name, Json(p.GetValue(options))));

    private static JsonNode? Json(object? value) => value switch
    {
        null => null,
        string text => JsonValue.Create(text),
        bool flag => JsonValue.Create(flag),
        int number => JsonValue.Create(number),
        long number => JsonValue.Create(number),
        TimeSpan span => JsonValue.Create(span.ToString("c", CultureInfo.InvariantCulture)),
        IEnumerable<string> items => new JsonArray([.. items.Select(item => JsonValue.Create(item))]),
        Enum flags => JsonValue.Create(flags.ToString()),
        _ => throw new InvalidOperationException($"A setting of type {value.GetType()}: say here how {Guide} writes it."),
    };

    private static string Shown(object options) => string.Join(", ", Settings(options).Select(pair => $"{pair.Key}={Show(pair.Value)}"));

    private static string Show(JsonNode? node) => node?.ToJsonString() ?? "null";

    private static string RepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "Atr.sln")))
            {
                return folder.FullName;
            }
        }

        throw new InvalidOperationException($"No folder above {AppContext.BaseDirectory} holds Atr.sln.");
    }
}
