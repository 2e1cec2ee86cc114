using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text.Json;
using Atr.Hub.Tests.Infrastructure;
using Atr.Testing;
using Xunit;

namespace Atr.Hub.Tests;

/// <summary><c>atr-server</c> as a user runs it: a real process, real flags, real signals.</summary>
[Collection(UsesRedis.Name)]
public sealed class CommandLineTests(RedisServer redis)
{
    [Fact]
    public async Task StartWithoutRedisRunsInMemoryAndPublishReachesAClient()
    {
        await using var server = AtrServerProcess.Start(["start", "--server-port", "0"]);
        await server.ListeningAsync();
        Assert.Contains("in-memory", server.Output, StringComparison.Ordinal);
        Assert.Contains("ANONYMOUS", server.Output, StringComparison.Ordinal);

        await using var client = await WsClient.ConnectAsync(server.WebSocketUri("/organization/1234"));
        var response = await server.Http.PostAsJsonAsync("/publish", new { scope = "organization.1234", name = "post.created", record = new { id = 7 }, record_type = "Post" });

        Assert.Equal(202, (int)response.StatusCode);
        var frame = JsonDocument.Parse(await client.ReceiveAsync()).RootElement;
        Assert.Equal("organization.1234.post.created", frame.GetProperty("routing_key").GetString());
        Assert.Equal(7, frame.GetProperty("record").GetProperty("id").GetInt32());
    }

    [Fact]
    public async Task SigtermClosesClientsWith1001AndExitsWithinTenSeconds()
    {
        await using var server = AtrServerProcess.Start(["start", "--server_host", "127.0.0.1", "--server_port", "0"]);
        await server.ListeningAsync();
        await using var client = await WsClient.ConnectAsync(server.WebSocketUri("/organization/1"));

        var stopwatch = System.Diagnostics.Stopwatch.StartNew();
        await server.TerminateAsync();

        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, await client.Closed.DefaultTimeout());
        Assert.Equal(0, await server.WaitForExitAsync());
        Assert.InRange(stopwatch.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task EnvironmentVariablesConfigureTheHub()
    {
        await using var server = AtrServerProcess.Start(["start"], new Dictionary<string, string>
        {
            ["Atr__ServerPort"] = "0",
            ["Atr__MaxInboundMessageBytes"] = "100",
        });
        await server.ListeningAsync();
        await using var client = await WsClient.ConnectAsync(server.WebSocketUri("/"));

        await client.SendTextAsync(new string('x', 101));

        Assert.Equal(WebSocketCloseStatus.MessageTooBig, await client.Closed.DefaultTimeout());
    }

    [Fact]
    public async Task PublishCommandReachesClientsThroughRedisAndThroughAHub()
    {
        await using var server = AtrServerProcess.Start(["start", "--server-port", "0", "--redis", redis.Configuration]);
        var baseUri = await server.ListeningAsync();
        Assert.Contains("backplane: redis", server.Output, StringComparison.Ordinal);
        await using var client = await WsClient.ConnectAsync(server.WebSocketUri("/organization/1234"));

        var viaRedis = await AtrServerProcess.RunAsync("publish", "--redis", redis.Configuration, "--scope", "organization.1234", "--name", "post.created", "--record", """{"id":1}""", "--record-type", "Post");
        var viaHub = await AtrServerProcess.RunAsync("publish", "--url", baseUri.ToString(), "--scope", "organization.1234", "--name", "post.updated", "--record", """{"id":1}""");

        Assert.True(viaRedis.ExitCode == 0, viaRedis.Output);
        Assert.True(viaHub.ExitCode == 0, viaHub.Output);
        var first = JsonDocument.Parse(await client.ReceiveAsync()).RootElement;
        var second = JsonDocument.Parse(await client.ReceiveAsync()).RootElement;
        Assert.Equal(viaRedis.Output.Trim(), first.GetProperty("id").GetString());
        Assert.Equal("Post", first.GetProperty("record_type").GetString());
        Assert.Equal(viaHub.Output.Trim(), second.GetProperty("id").GetString());
        Assert.Equal("post.updated", second.GetProperty("name").GetString());
    }

    [Theory]
    [InlineData(new[] { "start", "--bogus" }, "Unrecognized command or argument '--bogus'")]
    [InlineData(new[] { "start", "--server-port" }, "Required argument missing for option: '--server-port'")]
    [InlineData(new[] { "start", "--server-port", "seven" }, "Cannot parse argument 'seven' for option '--server-port'")]
    [InlineData(new[] { "start", "--no-metrics=maybe" }, "Option '--no-metrics' takes no value, or true or false")]
    [InlineData(new[] { "start", "--server-host", "0.0.0.0", "--server-port", "0" }, "--allow-anonymous")]
    [InlineData(new[] { "start", "--server-host", "example.org" }, "IP address or 'localhost'")]
    [InlineData(new[] { "frobnicate" }, "Unrecognized command or argument 'frobnicate'")]
    [InlineData(new[] { "publish", "--scope", "organization.1" }, "--name")]
    [InlineData(new[] { "publish", "--name", "a.b" }, "exactly one of --redis or --url")]
    [InlineData(new[] { "publish", "--name", "a.b", "--url", "http://127.0.0.1:1", "--record", "{oops" }, "--record is not valid JSON")]
    [InlineData(new[] { "token", "--scope", "organization.1" }, "--jwt-key")]
    [InlineData(new[] { "token", "--scope", "organization.1", "--jwt-key", "short" }, "at least 32 bytes")]
    [InlineData(new[] { "token", "--scope", "organization.1", "--jwt-key", "cli-signing-key-that-is-long-enough-for-hs256", "--ttl", "forever" }, "--ttl 'forever'")]
    [InlineData(new[] { "start", "--server-port", "0", "--jwt-key", "short" }, "at least 32 bytes")]
    [InlineData(new[] { "start", "--server-port", "0", "--redis", "password=secret" }, "AtrHubOptions.Redis (--redis) must be a StackExchange.Redis configuration")]
    public async Task BadCommandLinesExitWithTwoAndSayWhy(string[] args, string expected)
    {
        var (exitCode, output) = await AtrServerProcess.RunAsync(args);

        Assert.Equal(2, exitCode);
        Assert.Contains(expected, output, StringComparison.Ordinal);
        Assert.InRange(output.TrimEnd().Split('\n').Length, 1, 2);
        Assert.DoesNotContain("Usage", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new[] { "start", "--help" }, "--server-port", "--ttl")]
    [InlineData(new[] { "start", "-h" }, "--no-metrics", "--record")]
    [InlineData(new[] { "publish", "--help" }, "--record", "--server-port")]
    [InlineData(new[] { "token", "--help" }, "--ttl", "--record")]
    [InlineData(new[] { "--help" }, "publish", "--server-port")]
    [InlineData(new[] { "-h" }, "token", "--ttl")]
    public async Task HelpOnEveryCommandListsItsOwnOptionsAndExitsWithZero(string[] args, string expected, string another)
    {
        var (exitCode, output) = await AtrServerProcess.RunAsync(args);

        Assert.Equal(0, exitCode);
        Assert.Contains(expected, output, StringComparison.Ordinal);
        Assert.DoesNotContain(another, output, StringComparison.Ordinal);
        Assert.Contains("Usage:", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NoCommandPrintsTheUsageAndExitsWithTwo()
    {
        var (exitCode, output) = await AtrServerProcess.RunAsync();

        Assert.Equal(2, exitCode);
        Assert.Contains("Usage:", output, StringComparison.Ordinal);
        Assert.Contains("start", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnErrorPointsAtTheHelpOfItsCommand()
    {
        var (exitCode, output) = await AtrServerProcess.RunAsync("publish", "--bogus");

        Assert.Equal(2, exitCode);
        Assert.Equal(
            $"atr-server: Unrecognized command or argument '--bogus'.{Environment.NewLine}Run 'atr-server publish --help' for the options.{Environment.NewLine}",
            output);
    }

    [Fact]
    public async Task TokenCommandMintsATokenTheHubAccepts()
    {
        const string key = "cli-signing-key-that-is-long-enough-for-hs256";
        await using var hub = await HubHost.StartAsync(options: o => o.JwtKey = key);

        var listen = await AtrServerProcess.RunAsync("token", "--scope", "organization.1234", "--jwt-key", key, "--ttl", "15m");
        var publish = await AtrServerProcess.RunAsync("token", "--publish", "--scope", "organization.1,organization.1234", "--jwt-key", key);

        Assert.True(listen.ExitCode == 0, listen.Output);
        Assert.True(publish.ExitCode == 0, publish.Output);
        await using var client = await hub.ConnectAsync("/organization/1234?access_token=" + listen.Output.Trim());
        await hub.PostPublishAsync(publish.Output.Trim(), new { scope = "organization.1234", name = "post.created" });
        Assert.Contains("post.created", await client.ReceiveAsync(), StringComparison.Ordinal);
        Assert.Equal(403, (await RawHttp.HandshakeAsync(hub.Port, "/organization/1?access_token=" + listen.Output.Trim())).Status);
    }

    [Fact]
    public async Task StartWithAKeySaysItRunsJwtMode()
    {
        await using var server = AtrServerProcess.Start(["start", "--server-port", "0", "--jwt-key", "cli-signing-key-that-is-long-enough-for-hs256"]);
        await server.ListeningAsync();

        Assert.Contains("security:  JWT (HS256 key", server.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("ANONYMOUS", server.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void PublicBindIsAllowedOnceTheHubHasAKey()
    {
        // Built, never started: the tests listen on loopback only.
        using var withKey = (IDisposable)Atr.Server.HubServer.Build(new Dictionary<string, string?> { ["Atr:ServerHost"] = "0.0.0.0", ["Atr:JwtKey"] = "cli-signing-key-that-is-long-enough-for-hs256" });
        var withoutKey = Assert.Throws<Atr.Server.Cli.CommandLineException>(() => Atr.Server.HubServer.Build(new Dictionary<string, string?> { ["Atr:ServerHost"] = "0.0.0.0" }));

        Assert.Contains("--jwt-key", withoutKey.Message, StringComparison.Ordinal);
        Assert.Contains("--allow-anonymous", withoutKey.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DemoWithoutTheBrowserBundleRefusesToStartAndSaysHowToBuildIt()
    {
        // An empty folder of our own: whether the repository's bundle is built does not matter (CI builds it after these tests).
        var assets = Directory.CreateTempSubdirectory("atr-demo-assets-");
        try
        {
            await using var server = AtrServerProcess.Start(["start", "--server-port", "0", "--demo"], new Dictionary<string, string>
            {
                ["Atr__DemoAssets"] = assets.FullName,
            });

            Assert.Equal(2, await server.WaitForExitAsync());
            Assert.Contains("npm ci && npm run build -w Atr.Client.Js", server.Output, StringComparison.Ordinal);
            Assert.Contains("Atr:DemoAssets", server.Output, StringComparison.Ordinal);
            Assert.DoesNotContain("listening", server.Output, StringComparison.Ordinal);
            Assert.InRange(server.Output.TrimEnd().Split('\n').Length, 1, 2);
        }
        finally
        {
            assets.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task OutOfRangeConfigurationStopsTheStartWithTheReason()
    {
        await using var server = AtrServerProcess.Start(["start", "--server-port", "0"], new Dictionary<string, string>
        {
            ["Atr__MaxInboundMessageBytes"] = "1",
        });

        Assert.Equal(2, await server.WaitForExitAsync());
        Assert.Contains("invalid configuration", server.Output, StringComparison.Ordinal);
        Assert.Contains("MaxInboundMessageBytes", server.Output, StringComparison.Ordinal);
    }
}
