using System.Net;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text;
using System.Threading.RateLimiting;
using Atr.Hub.Protocol;
using Atr.Hub.Tests.Infrastructure;
using Atr.Server;
using Atr.Testing;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Xunit;
using Xunit.Abstractions;

namespace Atr.Hub.Tests.Protocol;

/// <summary>
/// The connection-level path answers raw handshakes before ASP.NET Core's pipeline runs, so
/// whatever that pipeline would do to them it skips. These tests hold the standalone server's
/// pipeline to what the path knows it skips.
/// </summary>
public sealed class DirectUpgradePipelineTests(ITestOutputHelper output)
{
    private const string Teach =
        "The connection-level path (Atr.Hub/Protocol/DirectUpgrade.cs) answers raw handshakes before the pipeline runs, so it would skip this. " +
        "Teach DirectUpgrade.Serves about it (leave such hubs to the HTTP layer, or apply the same rule at the connection), then allow it here, saying why.";

    // The middleware of atr-server's pipeline, and why the connection-level path may skip each.
    private static readonly Dictionary<string, string> KnownMiddleware = new(StringComparer.Ordinal)
    {
        ["Microsoft.AspNetCore.HostFiltering.HostFilteringMiddleware"] = "DirectUpgrade.Serves leaves hubs whose AllowedHosts is not * to the HTTP layer",
        ["Microsoft.AspNetCore.HttpOverrides.ForwardedHeadersMiddleware"] = "DirectUpgrade.Serves leaves hubs with FORWARDEDHEADERS_ENABLED to the HTTP layer",
        ["Atr.Hub.Protocol.WebSocketsStartupFilter"] = "batches the frames of HTTP upgrades; the path writes to its own transport",
        ["Microsoft.AspNetCore.WebSockets.WebSocketMiddleware"] = "the path upgrades itself; what else the middleware reads is left to it (HandshakeParityTests)",
        ["Microsoft.AspNetCore.Routing.EndpointRoutingMiddleware"] = "the path takes only first segments no other endpoint claims, for a raw endpoint at the root",
        ["Microsoft.AspNetCore.Authorization.AuthorizationMiddlewareInternal"] =
            "there because SignalR registers authorization; the raw endpoint carries no authorization metadata (DirectUpgrade.MaySkip) and Serves requires no fallback policy",
        ["Microsoft.AspNetCore.Builder.WebApplicationBuilder+WireSourcePipeline"] = "runs the application's own pipeline, checked on its own",
        ["Microsoft.AspNetCore.Routing.EndpointMiddleware"] = "runs the endpoint, whose steps the path shares (WebSocketEndpoint.OpenAsync)",
    };

    [Fact]
    public async Task TheStandaloneServersPipelineHoldsNothingTheConnectionLevelPathSkipsUnknowingly()
    {
        var pipeline = await InspectAsync();

        output.WriteLine(pipeline.ToString());
        Assert.True(pipeline.Violations.Count == 0, string.Join(Environment.NewLine, pipeline.Violations));
        Assert.True(pipeline.Served, "DirectUpgrade.Serves no longer takes the standalone server: every handshake goes through the HTTP layer.");
    }

    [Fact]
    public async Task AMiddlewareAddedToTheServersPipelineFailsTheGuardAndSaysWhatToDo()
    {
        var pipeline = await InspectAsync(
            builder => builder.Services.AddCors(),
            app => app.UseCors(cors => cors.AllowAnyOrigin()));

        var violation = Assert.Single(pipeline.Violations);
        Assert.Contains("Microsoft.AspNetCore.Cors.Infrastructure.CorsMiddleware", violation, StringComparison.Ordinal);
        Assert.Contains("Teach DirectUpgrade.Serves about it", violation, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnAuthorizationFallbackPolicyOrAGlobalRateLimiterKeepsHandshakesOnTheHttpPath()
    {
        var fallback = await InspectAsync(builder => builder.Services.AddAuthorization(o => o.FallbackPolicy = new AuthorizationPolicyBuilder().RequireAssertion(_ => true).Build()));
        var limited = await InspectAsync(builder => builder.Services.AddRateLimiter(o => o.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(_ => RateLimitPartition.GetNoLimiter("all"))));

        Assert.False(fallback.Served);
        Assert.False(limited.Served);
    }

    [Fact]
    public async Task AConventionOnAnEmbeddedHubsEndpointKeepsItsHandshakesOnTheHttpPath()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen => listen.UseAtrDirectUpgrade()));
        builder.Logging.ClearProviders();
        builder.Services.AddAtrHub(o => o.AllowAnonymous = true);
        await using var app = builder.Build();

        // RequireHost is routing's: a handshake for another host finds no endpoint. At the connection it would be upgraded.
        app.MapAtrHub().RequireHost("hub.example");
        await app.StartAsync().DefaultTimeout();
        var port = new Uri(app.Urls.First()).Port;

        var otherHost = await RawHttp.HandshakeAsync(port, "/organization/1");
        var request = RawHttp.UpgradeRequest(port, "/organization/1").Replace($"Host: 127.0.0.1:{port}", "Host: hub.example", StringComparison.Ordinal);
        var hubHost = await RawHttp.SendAsync(port, Encoding.ASCII.GetBytes(request));

        Assert.Equal(404, otherHost.Status);
        Assert.Equal(101, hubHost.Status);
        Assert.Contains("\r\nDate: ", hubHost.Head, StringComparison.Ordinal);
        await app.StopAsync().DefaultTimeout();
    }

    /// <summary>What the standalone server's pipeline holds, and what of it the connection-level path does not know it skips.</summary>
    private sealed record Pipeline(IReadOnlyList<string> Middleware, IReadOnlyList<string> AppMiddleware, IReadOnlyList<string> RawMetadata, bool Served, IReadOnlyList<string> Violations)
    {
        public override string ToString()
            => $"middleware: {string.Join(", ", Middleware)}{Environment.NewLine}the app's own: {string.Join(", ", AppMiddleware)}{Environment.NewLine}" +
               $"raw endpoint metadata: {string.Join(", ", RawMetadata)}{Environment.NewLine}served at the connection: {Served}";
    }

    /// <summary>Builds and starts atr-server as <c>atr-server start</c> does, with <paramref name="configure"/> and <paramref name="use"/> on top, and reads its pipeline.</summary>
    private static async Task<Pipeline> InspectAsync(Action<WebApplicationBuilder>? configure = null, Action<WebApplication>? use = null)
    {
        var recorder = new MiddlewareRecorder();
        await using var app = HubServer.Build(
            new Dictionary<string, string?> { ["Atr:ServerPort"] = "0" },
            builder =>
            {
                builder.Logging.ClearProviders();

                // First of the startup filters, so it sees every middleware the others and the app add.
                builder.Services.Insert(0, ServiceDescriptor.Singleton<IStartupFilter>(recorder));
                configure?.Invoke(builder);
            });
        use?.Invoke(app);

        // The host's pipeline, and routing's data sources, are built at start.
        await app.StartAsync().DefaultTimeout();
        try
        {
            var own = AppMiddleware(app);
            var raw = app.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
                .Single(e => e.Metadata.Contains(BatchingUpgradeFeature.EndpointMetadata));
            var violations = new List<string>();
            violations.AddRange(recorder.Middleware.Concat(own).Where(m => !KnownMiddleware.ContainsKey(m)).Distinct().Select(m => $"The pipeline runs {m}. {Teach}"));
            violations.AddRange(raw.Metadata.Where(m => !DirectUpgrade.MaySkip(m)).Select(m => $"The raw endpoint carries {m.GetType().FullName}, which DirectUpgrade.MaySkip does not know. {Teach}"));
            return new Pipeline(recorder.Middleware, own, [.. raw.Metadata.Select(m => m.GetType().FullName!)], DirectUpgrade.Serves(app.Services), violations);
        }
        finally
        {
            await app.StopAsync().DefaultTimeout();
        }
    }

    /// <summary>The middleware the application added itself (<c>app.Use…</c> on the <see cref="WebApplication"/>), which runs inside the host's pipeline.</summary>
    private static List<string> AppMiddleware(WebApplication app)
    {
        // WebApplication keeps its own ApplicationBuilder; ApplicationBuilder keeps its components in
        // a private list. Neither is public, and a test that cannot read them must say so.
        var builder = typeof(WebApplication).GetProperty("ApplicationBuilder", BindingFlags.Instance | BindingFlags.NonPublic)?.GetValue(app)
            ?? throw new InvalidOperationException("WebApplication.ApplicationBuilder is gone: find another way to list the app's middleware.");
        var components = typeof(ApplicationBuilder).GetField("_components", BindingFlags.Instance | BindingFlags.NonPublic)?.GetValue(builder) as IEnumerable<Func<RequestDelegate, RequestDelegate>>
            ?? throw new InvalidOperationException("ApplicationBuilder._components is gone: find another way to list the app's middleware.");
        return [.. components.Select(MiddlewareRecorder.Describe)];
    }

    /// <summary>
    /// An outermost startup filter that hands the rest of the startup a builder which notes every
    /// middleware added to it: the host's, the other startup filters', and the app's pipeline as a whole.
    /// </summary>
    private sealed class MiddlewareRecorder : IStartupFilter
    {
        public List<string> Middleware { get; } = [];

        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app => next(new Recording(app, Middleware));

        /// <summary>What a middleware is: the type UseMiddleware made it from, or the type whose method or lambda it is.</summary>
        public static string Describe(Delegate middleware)
        {
            if (middleware.Method.Name == "CreateMiddleware" && middleware.Target is { } binder)
            {
                // UseMiddleware<T>'s binder names its middleware type.
                return binder.ToString()!;
            }

            // app.Use((context, next) => …) and app.Run(…) wrap the delegate they are given in a closure: name what it wraps.
            if (middleware.Target?.GetType() is { } closure && closure.Namespace == "Microsoft.AspNetCore.Builder"
                && closure.GetFields().Select(f => f.GetValue(middleware.Target)).OfType<Delegate>().FirstOrDefault() is { } wrapped)
            {
                return Describe(wrapped);
            }

            var type = middleware.Target?.GetType() ?? middleware.Method.DeclaringType;
            while (type is not null && type.IsDefined(typeof(CompilerGeneratedAttribute), false) && type.DeclaringType is not null)
            {
                type = type.DeclaringType;
            }

            return type?.FullName ?? middleware.Method.Name;
        }

        private sealed class Recording(IApplicationBuilder inner, List<string> middleware) : IApplicationBuilder
        {
            public IServiceProvider ApplicationServices
            {
                get => inner.ApplicationServices;
                set => inner.ApplicationServices = value;
            }

            public IFeatureCollection ServerFeatures => inner.ServerFeatures;

            public IDictionary<string, object?> Properties => inner.Properties;

            public RequestDelegate Build() => inner.Build();

            public IApplicationBuilder New() => inner.New();

            public IApplicationBuilder Use(Func<RequestDelegate, RequestDelegate> component)
            {
                middleware.Add(Describe(component));
                inner.Use(component);
                return this;
            }
        }
    }
}
