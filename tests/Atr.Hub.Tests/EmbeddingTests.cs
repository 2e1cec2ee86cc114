using System.Text.Json;
using Atr.Hub.Tests.Infrastructure;
using Atr.Publishing;
using Atr.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Xunit;

namespace Atr.Hub.Tests;

/// <summary>An ASP.NET Core application hosts the hub with <c>AddAtrHub</c> / <c>MapAtrHub</c> and its own extension points.</summary>
public sealed class EmbeddingTests
{
    [Fact]
    public async Task HubMapsUnderABasePathOfAnExistingApp()
    {
        await using var app = await StartAppAsync(services => services.AddAtrHub(o => o.AllowAnonymous = true), app =>
        {
            app.MapGet("/", () => "the application's own page");
            app.MapAtrHub("/events");
        });
        var port = new Uri(app.Urls.First()).Port;

        await using var client = await WsClient.ConnectAsync(new Uri($"ws://127.0.0.1:{port}/events/organization/1234"));

        // The application publishes in-process through the hub's own publisher.
        var publisher = app.Services.GetRequiredService<IEventPublisher>();
        await publisher.PublishAsync("organization.1234", "post.created", new { id = 1 }, "Post").DefaultTimeout();

        Assert.Equal("post.created", EventFrame.Name(await client.ReceiveAsync()));
        using var http = new HttpClient();
        Assert.Equal("the application's own page", await http.GetStringAsync(new Uri($"http://127.0.0.1:{port}/")));

        // Outside its base path the hub answers nothing: the application's routing does.
        Assert.Equal(404, (await RawHttp.HandshakeAsync(port, "/organization/1234")).Status);
    }

    [Fact]
    public void MapAtrHubWithoutAddAtrHubSaysWhatToDo()
    {
        var builder = WebApplication.CreateSlimBuilder();
        using var app = builder.Build();

        var error = Assert.Throws<InvalidOperationException>(() => app.MapAtrHub());

        Assert.Contains("AddAtrHub", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RequestAuthenticatorRefusalIs403AndNothingIsUpgraded()
    {
        var authenticator = new OnlyOrganizations("1234");
        await using var hub = await HubHost.StartAsync(options: o => o.RequestAuthenticator = authenticator);

        var refused = await RawHttp.HandshakeAsync(hub.Port, "/organization/999");
        await using var allowed = await hub.ConnectAsync("/organization/1234");

        Assert.Equal(403, refused.Status);
        Assert.Contains("authenticator", refused.Body, StringComparison.Ordinal);
        Assert.Equal(["organization.999", "organization.1234"], authenticator.Seen);
        await TestTimeouts.UntilAsync(() => hub.Metrics.ConnectionsOpened == 1, "the allowed client is counted");
        Assert.Equal(1, hub.Metrics.ConnectionsOpened);
    }

    [Fact]
    public async Task RequestScopeDecidesWhatAConnectionListensTo()
    {
        // The original README's WebsocketScope: only organizations, exactly one pair.
        await using var hub = await HubHost.StartAsync(options: o => o.RequestScope = new OrganizationOnlyScope());

        var refused = await RawHttp.HandshakeAsync(hub.Port, "/user/1");
        Assert.Equal(400, refused.Status);
        Assert.Contains("request scope does not accept", refused.Body, StringComparison.Ordinal);
        Assert.DoesNotContain("[A-Za-z0-9_-]", refused.Body, StringComparison.Ordinal);
        Assert.Equal(400, (await RawHttp.HandshakeAsync(hub.Port, "/organization/1/user/2")).Status);
        await using var client = await hub.ConnectAsync("/organization/7?token=ignored");

        await hub.PostPublishAsync(new { scope = "organization.7", name = "post.created" });
        Assert.Equal("organization.7.post.created", JsonDocument.Parse(await client.ReceiveAsync()).RootElement.GetProperty("routing_key").GetString());
    }

    [Fact]
    public async Task WithoutAKeyOrTheAnonymousChoiceAnEmbeddedHubDoesNotStartInProduction()
    {
        var app = BuildApp(services => services.AddAtrHub(), app => app.MapAtrHub("/events"), Environments.Production);
        await using (app)
        {
            var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => app.StartAsync().DefaultTimeout());

            Assert.DoesNotContain('\n', refused.Message);
            Assert.Contains("no JWT key", refused.Message, StringComparison.Ordinal);
            Assert.Contains("AllowAnonymous", refused.Message, StringComparison.Ordinal);
            Assert.Contains("Production", refused.Message, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("Production", true)]
    [InlineData("Development", false)]
    public async Task ChosenAnonymousOrDevelopmentOnLoopbackStartsAndLogsTheMode(string environment, bool allowAnonymous)
    {
        using var logs = new CapturingLoggerProvider();
        await using var app = await StartAppAsync(
            services => services.AddAtrHub(o => o.AllowAnonymous = allowAnonymous),
            app => app.MapAtrHub("/events"),
            environment,
            logs);

        var started = Assert.Single(logs.Entries, entry => entry.Message.StartsWith("Atr hub at ", StringComparison.Ordinal));
        Assert.Contains("Atr hub at /events on http://127.0.0.1:", started.Message, StringComparison.Ordinal);
        Assert.Contains("backplane in-memory", started.Message, StringComparison.Ordinal);
        Assert.Contains("ANONYMOUS", started.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnEmbeddedHubWithAKeySaysItRunsJwtMode()
    {
        using var logs = new CapturingLoggerProvider();
        await using var app = await StartAppAsync(
            services => services.AddAtrHub(o => o.JwtKey = Security.TestTokens.Key),
            app => app.MapAtrHub(),
            Environments.Production,
            logs);

        Assert.Contains(logs.Entries, entry => entry.Message.StartsWith("Atr hub at / on ", StringComparison.Ordinal) && entry.Message.Contains("security JWT", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("http://127.0.0.1:5000", true)]
    [InlineData("http://localhost:5000", true)]
    [InlineData("http://[::1]:5000", true)]
    [InlineData("https://127.0.0.2:443", true)]
    [InlineData("http://0.0.0.0:5000", false)]
    [InlineData("http://[::]:5000", false)]
    [InlineData("http://*:5000", false)]
    [InlineData("http://+:80", false)]
    [InlineData("http://192.0.2.7:80", false)]
    [InlineData("http://hub.example:80", false)]
    public void InDevelopmentOnlyLoopbackAddressesServeAnonymousModeUnchosen(string address, bool loopback)
        => Assert.Equal(loopback, Atr.Hub.Security.AnonymousModeGuard.IsLoopback(address));

    private static async Task<WebApplication> StartAppAsync(Action<IServiceCollection> services, Action<WebApplication> map, string environment = "Production", CapturingLoggerProvider? logs = null)
    {
        var app = BuildApp(services, map, environment, logs);
        await app.StartAsync().DefaultTimeout();
        return app;
    }

    private static WebApplication BuildApp(Action<IServiceCollection> services, Action<WebApplication> map, string environment, CapturingLoggerProvider? logs = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { EnvironmentName = environment });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        if (logs is not null)
        {
            builder.Logging.AddProvider(logs);
        }

        services(builder.Services);
        var app = builder.Build();
        map(app);
        return app;
    }

    private sealed class OnlyOrganizations(string allowed) : IRequestAuthenticator
    {
        public List<string> Seen { get; } = [];

        public ValueTask<bool> MatchesAsync(HttpContext context, string scope)
        {
            lock (Seen)
            {
                Seen.Add(scope);
            }

            return ValueTask.FromResult(scope == "organization." + allowed);
        }
    }

    private sealed class OrganizationOnlyScope : IRequestScope
    {
        public ValueTask<string?> GetScopeAsync(HttpContext context, string path)
        {
            var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
            return ValueTask.FromResult(segments is ["organization", var id] ? $"organization.{id}" : null);
        }
    }
}
