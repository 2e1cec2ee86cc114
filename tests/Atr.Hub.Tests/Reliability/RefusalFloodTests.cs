using System.Net;
using System.Net.WebSockets;
using Atr.Hub.Tests.Infrastructure;
using Atr.Hub.Tests.Security;
using Atr.Testing;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.Logging;
using Xunit;
using Xunit.Abstractions;

namespace Atr.Hub.Tests.Reliability;

/// <summary>What refusing costs the hub: no allocation before a valid token, and one log line per interval, not one per refusal.</summary>
public sealed class RefusalFloodTests(ITestOutputHelper output)
{
    [Fact]
    public async Task ThousandsOfRefusedSignalRHandshakesAndSubscribeCallsWriteAFewLinesWithoutStackTraces()
    {
        using var logs = new CapturingLoggerProvider();
        await using var hub = await HubHost.StartAsync(
            options: o => o.JwtKey = TestTokens.Key,
            configure: builder =>
            {
                builder.Logging.AddProvider(logs);
                builder.Logging.AddFilter("Atr", LogLevel.Debug);
            });

        // 2,000 SignalR clients without a token, twenty at a time.
        for (var batch = 0; batch < ReliabilityScale.Of(100); batch++)
        {
            await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => SignalRClient.AssertRefusedAsync(
                new HubConnectionBuilder().WithUrl(new Uri(hub.BaseUri, "/hub?scope=organization.1")).Build(),
                "no token")));
        }

        // 2,000 Subscribe calls the token does not grant, the last with a carriage return and an ANSI escape.
        await using var client = await SignalRClient.ConnectWithTokenAsync(hub.BaseUri, TestTokens.Hs256(["organization.1"]), "organization.1");
        for (var i = 0; i < ReliabilityScale.Of(2000) - 1; i++)
        {
            await Assert.ThrowsAsync<HubException>(() => client.Connection.InvokeAsync("Subscribe", "organization.2"));
        }

        var forged = await Assert.ThrowsAsync<HubException>(() => client.Connection.InvokeAsync("Subscribe", "organization.1\r\nfake: line \u001b[31m"));

        var lines = logs.Entries.Where(entry => entry.Level is >= LogLevel.Information and < LogLevel.None).ToArray();
        foreach (var group in lines.GroupBy(line => $"{line.Level} {line.Category} {line.Message[..Math.Min(80, line.Message.Length)]}"))
        {
            output.WriteLine($"{group.Count()} × {group.Key}");
        }

        output.WriteLine($"{lines.Length} log lines at Information or above for {ReliabilityScale.Of(2000) * 2:N0} refusals");
        Assert.InRange(lines.Length, 1, 49);
        Assert.All(lines, line => Assert.Null(line.Exception));
        Assert.Contains(lines, line => line.Message.Contains("SignalR connection 401", StringComparison.Ordinal));
        Assert.DoesNotContain('\r', forged.Message);
        Assert.Contains(@"organization.1\u000D\u000Afake: line \u001B[31m", forged.Message, StringComparison.Ordinal);
        Assert.Contains(logs.Entries, entry => entry.Level == LogLevel.Debug && entry.Message.Contains(@"\u000D\u000Afake: line \u001B", StringComparison.Ordinal));
        Assert.DoesNotContain(logs.Entries, entry => entry.Message.Contains('\u001b', StringComparison.Ordinal) || entry.Message.Contains("\r\nfake", StringComparison.Ordinal));
    }

    [Fact]
    public async Task InJwtModeSignalRRefusesNegotiateAndWebSocketsWithoutATokenBeforeAllocatingAnything()
    {
        // A small gen0 budget keeps the garbage collector from letting a few tens of MiB of garbage
        // pile up between collections: what stays is then what the attempts left, not when the GC ran.
        await using var server = AtrServerProcess.Start(
            ["start", "--server-port", "0", "--jwt-key", TestTokens.Key],
            new Dictionary<string, string> { ["DOTNET_GCgen0size"] = "0x400000" });
        await server.ListeningAsync();

        using var negotiate = await server.Http.PostAsync(new Uri("/hub/negotiate?negotiateVersion=1", UriKind.Relative), null);
        Assert.Equal(HttpStatusCode.Unauthorized, negotiate.StatusCode);
        Assert.Equal("Bearer", negotiate.Headers.WwwAuthenticate.ToString());
        Assert.Equal(401, (await RawHttp.HandshakeAsync(server.BaseUri.Port, "/hub?id=anything")).Status);

        // Warm, then 5,000 attempts, half negotiates and half WebSocket upgrades: the memory they leave is small.
        await AttemptAsync(server, 500);
        var before = server.ResidentBytes();
        var attempts = ReliabilityScale.Of(5000);
        await AttemptAsync(server, attempts);
        var after = server.ResidentBytes();
        output.WriteLine($"RSS {before / 1048576.0:F1} MiB -> {after / 1048576.0:F1} MiB after {attempts:N0} refused SignalR attempts");

        Assert.InRange(after - before, long.MinValue, 20L * 1024 * 1024);
    }

    private static async Task AttemptAsync(AtrServerProcess server, int count)
    {
        for (var done = 0; done < count; done += 50)
        {
            await Task.WhenAll(Enumerable.Range(0, 50).Select(async i =>
            {
                if (i % 2 == 0)
                {
                    using var response = await server.Http.PostAsync(new Uri("/hub/negotiate?negotiateVersion=1", UriKind.Relative), null);
                    Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
                }
                else
                {
                    using var socket = new ClientWebSocket();
                    var refused = await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(server.WebSocketUri("/hub?id=x"), CancellationToken.None).DefaultTimeout());
                    Assert.Contains("401", refused.Message, StringComparison.Ordinal);
                }
            }));
        }
    }
}
