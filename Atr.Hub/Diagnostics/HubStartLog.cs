using Atr.Hub.Backplane;
using Atr.Publishing.Redis;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Atr.Hub.Diagnostics;

/// <summary>
/// Says once the application has started where the hub listens — every address and the base path
/// it is mapped at — on which backplane, and in which security mode, as <c>atr-server</c>'s banner does.
/// </summary>
internal sealed partial class HubStartLog(
    IOptions<AtrHubOptions> options,
    IBackplane backplane,
    AtrHubServiceCollectionExtensions.HubMarker marker,
    IServiceProvider services,
    ILogger<HubStartLog> logger) : IHostedLifecycleService
{
    public Task StartedAsync(CancellationToken cancellationToken)
    {
        var addresses = services.GetService<IServer>()?.Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        var hub = options.Value;
        var backplaneName = hub.Redis is { Length: > 0 } ? $"{backplane.Name} ({RedisConnectionProvider.Endpoints(hub.Redis)}, channels {hub.ChannelPrefix}<scope>)" : backplane.Name;
        var mode = hub.AuthenticationEnabled
            ? $"JWT (issuer '{hub.JwtIssuer}', audience '{hub.JwtAudience}')"
            : "ANONYMOUS: anyone who reaches it may listen to any scope and publish";
        foreach (var basePath in marker.BasePaths)
        {
            LogStarted(logger, basePath, string.Join(", ", addresses), backplaneName, mode);
        }

        return Task.CompletedTask;
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
