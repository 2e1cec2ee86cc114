using System.Text.RegularExpressions;
using Atr.Hub.Tests.Infrastructure;
using Atr.Testing;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.Logging;
using Xunit;

namespace Atr.Hub.Tests.Security;

/// <summary>Tokens never reach a log line, at any level.</summary>
public sealed partial class TokenLoggingTests
{
    [Fact]
    public async Task NoTokenAppearsInAnyLogLineOfAFullCycleAtTrace()
    {
        var capture = new CapturingLoggerProvider();
        await using (var hub = await HubHost.StartAsync(
            options: o => o.JwtKey = TestTokens.Key,
            configure: builder =>
            {
                builder.Logging.SetMinimumLevel(LogLevel.Trace);
                builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Trace);
                builder.Logging.AddProvider(capture);
            }))
        {
            var listen = TestTokens.Hs256(["organization.1"]);
            var publish = TestTokens.Hs256(publish: true);
            var wrongKey = TestTokens.Hs256(["organization.1"], key: "another-signing-key-that-is-long-enough-for-hs256");
            var expired = TestTokens.Hs256(["organization.1"], expiresIn: TimeSpan.FromMinutes(-5), notBeforeIn: TimeSpan.FromHours(-1));

            await using (var raw = await hub.ConnectAsync("/organization/1?access_token=" + listen))
            await using (var signalR = await SignalRClient.ConnectWithTokenAsync(hub.BaseUri, listen, "organization.1"))
            {
                await hub.PostPublishAsync(publish, new { scope = "organization.1", name = "post.created" });
                await raw.ReceiveAsync();
                await signalR.ReceiveAsync();
            }

            await RawHttp.HandshakeAsync(hub.Port, "/organization/1?access_token=" + wrongKey);
            await RawHttp.HandshakeAsync(hub.Port, "/organization/2?access_token=" + listen);
            await RawHttp.HandshakeAsync(hub.Port, "/organization/1?access_token=" + Uri.EscapeDataString(expired) + "&x=1");
            await hub.Http.GetAsync("/?access_token=" + listen);
            var refused = new HubConnectionBuilder().WithUrl(new Uri(hub.BaseUri, "/hub?scope=organization.1"), o => o.AccessTokenProvider = () => Task.FromResult<string?>(wrongKey)).Build();
            await SignalRClient.AssertRefusedAsync(refused, "wrong key");

            using var badPublish = await hub.PostPublishAsync(new { name = "x" }, wrongKey);

            var lines = capture.Lines.ToArray();
            Assert.NotEmpty(lines);

            // The hosting logger did log those requests, with their query strings redacted.
            Assert.Contains(lines, l => l.Contains("access_token=[redacted]", StringComparison.Ordinal));
            foreach (var token in new[] { listen, publish, wrongKey, expired })
            {
                Assert.DoesNotContain(lines, l => l.Contains(token, StringComparison.Ordinal));
                Assert.DoesNotContain(lines, l => l.Contains(token.Split('.')[1], StringComparison.Ordinal));
                Assert.DoesNotContain(lines, l => l.Contains(token.Split('.')[2], StringComparison.Ordinal));
            }

            var leak = lines.FirstOrDefault(l => LongBase64UrlRun().IsMatch(l));
            Assert.True(leak is null, $"A long base64url run reached the log: {leak}");
        }
    }

    // Any 40+ character run of base64url characters: a token or a piece of one.
    [GeneratedRegex("[A-Za-z0-9_-]{40,}")]
    private static partial Regex LongBase64UrlRun();
}
