using System.Net;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Atr.Hub.Security;

/// <summary>
/// Holds an embedded hub to <c>atr-server</c>'s rule. With no JWT key the hub runs in anonymous
/// mode — anyone who reaches the application may listen to every scope and publish — so it serves
/// it only when the application chose it (<see cref="AtrHubOptions.AllowAnonymous"/>), or in the
/// Development environment with every address on loopback; otherwise the application does not start.
/// </summary>
/// <remarks>
/// Outside Development the start fails before the server binds. In Development the addresses are
/// known only once the server has bound them, so the check runs right after.
/// </remarks>
internal sealed class AnonymousModeGuard(IOptions<AtrHubOptions> options, IHostEnvironment environment, IServiceProvider services) : IHostedLifecycleService
{
    private bool Guarded => !options.Value.AuthenticationEnabled && !options.Value.AllowAnonymous;

    public Task StartingAsync(CancellationToken cancellationToken)
        => Guarded && !environment.IsDevelopment()
            ? throw new InvalidOperationException(Refusal($"in the {environment.EnvironmentName} environment"))
            : Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken)
    {
        if (Guarded && Addresses().FirstOrDefault(address => !IsLoopback(address)) is { } exposed)
        {
            throw new InvalidOperationException(Refusal($"on {exposed}, which is not a loopback address"));
        }

        return Task.CompletedTask;
    }

    /// <summary>Whether a server address (<c>http://127.0.0.1:5000</c>, <c>http://localhost:5000</c>, <c>http://[::]:80</c>) binds loopback only.</summary>
    internal static bool IsLoopback(string address)
    {
        var host = BindingAddress.Parse(address).Host.Trim('[', ']');
        return string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase)
            || (IPAddress.TryParse(host, out var ip) && IPAddress.IsLoopback(ip));
    }

    private IEnumerable<string> Addresses()
        => services.GetService<IServer>()?.Features.Get<IServerAddressesFeature>()?.Addresses ?? [];

    private static string Refusal(string where)
        => $"The Atr hub has no JWT key and anonymous mode was not chosen, {where}: anyone who reaches this application could listen to every scope and publish. " +
           "Configure AtrHubOptions.JwtKey (or JwtKeyFile, JwtPublicKeyFile, JwtAuthority), or set AtrHubOptions.AllowAnonymous = true (Atr:AllowAnonymous) to serve anonymous mode on purpose; " +
           "in the Development environment it is allowed on loopback addresses.";

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
