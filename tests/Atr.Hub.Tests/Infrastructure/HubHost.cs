using System.Net.Http.Headers;
using System.Net.Http.Json;
using Atr.Server;
using Atr.Server.Cli;
using Atr.Hub.Diagnostics;
using Atr.Hub.Tests.Security;
using Atr.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Atr.Hub.Tests.Infrastructure;

/// <summary>A real hub on Kestrel at 127.0.0.1:0, built exactly as <c>atr-server start</c> builds it.</summary>
internal sealed class HubHost : IAsyncDisposable
{
    private HubHost(WebApplication app)
    {
        App = app;
        BaseUri = new Uri(HubServer.Addresses(app)[0]);
        Http = new HttpClient { BaseAddress = BaseUri, Timeout = TestTimeouts.Default };
    }

    public WebApplication App { get; }

    public Uri BaseUri { get; }

    public int Port => BaseUri.Port;

    public HttpClient Http { get; }

    public IServiceProvider Services => App.Services;

    public HubMetrics Metrics => Services.GetRequiredService<HubMetrics>();

    /// <summary>
    /// Starts a hub; with <paramref name="redis"/> on the Redis backplane, otherwise in memory; with
    /// <paramref name="directUpgrade"/> off, every handshake goes through the HTTP pipeline.
    /// </summary>
    public static async Task<HubHost> StartAsync(string? redis = null, Action<AtrHubOptions>? options = null, Action<WebApplicationBuilder>? configure = null, bool directUpgrade = true)
    {
        var settings = new Dictionary<string, string?> { ["Atr:ServerPort"] = "0", ["Atr:DirectUpgrade"] = directUpgrade ? "true" : "false" };
        if (redis is not null)
        {
            settings["Atr:Redis"] = redis;
        }

        var app = HubServer.Build(settings, builder =>
        {
            builder.Logging.ClearProviders();
            if (options is not null)
            {
                builder.Services.Configure(options);
            }

            configure?.Invoke(builder);
        });
        await app.StartAsync().DefaultTimeout();
        return new HubHost(app);
    }

    /// <summary>Starts an in-memory hub that requires tokens signed with <see cref="TestTokens.Key"/>.</summary>
    public static Task<HubHost> StartWithJwtAsync(Action<AtrHubOptions>? options = null)
        => StartAsync(options: o =>
        {
            o.JwtKey = TestTokens.Key;
            options?.Invoke(o);
        });

    /// <summary>The status of <c>GET /health/ready</c>: 200 ready, 503 not.</summary>
    public async Task<int> ReadinessAsync()
    {
        using var response = await Http.GetAsync("/health/ready");
        return (int)response.StatusCode;
    }

    public Uri WebSocketUri(string path) => new($"ws://127.0.0.1:{Port}{path}");

    /// <summary>Connects a client that reads every frame as it arrives.</summary>
    public Task<WsClient> ConnectAsync(string path) => WsClient.ConnectAsync(WebSocketUri(path));

    /// <summary>Publishes through <c>POST /publish</c>, with <paramref name="token"/> as the bearer token when given, and returns the response.</summary>
    public async Task<HttpResponseMessage> PostPublishAsync(object body, string? token = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/publish") { Content = JsonContent.Create(body) };
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return await Http.SendAsync(request);
    }

    /// <summary>Publishes through <c>POST /publish</c> with a bearer token, and checks it was accepted.</summary>
    public async Task PostPublishAsync(string token, object body)
    {
        using var response = await PostPublishAsync(body, token);
        if ((int)response.StatusCode != 202)
        {
            throw new InvalidOperationException($"POST /publish answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await App.StopAsync().DefaultTimeout();
        await App.DisposeAsync();
    }
}
