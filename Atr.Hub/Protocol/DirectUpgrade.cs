using System.IO.Pipelines;
using System.Net;
using System.Net.WebSockets;
using System.Reflection;
using System.Runtime.CompilerServices;
using Atr.Hub.Connections;
using Atr.Hub.Security;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.HostFiltering;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.ObjectPool;
using Microsoft.Extensions.Options;

namespace Atr.Hub.Protocol;

/// <summary>
/// Kestrel connection middleware of the standalone hub that upgrades the raw endpoint's WebSockets
/// itself, ahead of the HTTP layer. A WebSocket upgraded through HTTP keeps its whole request alive
/// under it for as long as it is open (the HTTP/1.1 connection, the context and its headers, the
/// middleware's pending frames: about 8 KB of the 14.6 KB of heap an idle connection had); one
/// upgraded here keeps the transport, the WebSocket and the hub's own connection.
/// </summary>
/// <remarks>
/// Only the plain case is taken: a whole handshake, and nothing after it, in the connection's first
/// read, which Kestrel and the WebSocket middleware would upgrade too under the server's own limits
/// (<see cref="UpgradeRequest"/>; <c>HandshakeParityTests</c> holds it to them), for a path that no
/// other endpoint of the application claims, on a hub whose pipeline adds nothing to the raw
/// endpoint (<see cref="Serves"/>, <see cref="MaySkip"/>). It
/// goes through the same steps as a handshake on the HTTP path
/// (<see cref="WebSocketEndpoint.OpenAsync"/>); a refusal decided there — by admission, or a
/// subscription the backplane cannot make — is left on the connection (<see cref="DecidedRefusal"/>)
/// for the HTTP layer to answer, so Kestrel writes every refusal. Anything else (other requests,
/// custom scope rules or a request authenticator, which are written against a real request) goes
/// on, unread, to the HTTP layer, which answers it as it always has. The first bytes are awaited
/// for at most <see cref="FirstBytesWait"/> (less if Kestrel's header or keep-alive timeout is
/// shorter) before the HTTP layer takes over with its own timeouts.
/// </remarks>
internal sealed class DirectUpgrade
{
    /// <summary>How long the first bytes of a connection are awaited before the HTTP layer gets it.</summary>
    public static readonly TimeSpan FirstBytesWait = TimeSpan.FromSeconds(5);

    // Handshakes under way at once that keep a first-read timeout for the next ones.
    private const int PooledWaits = 1024;

    private readonly ObjectPool<CancellationTokenSource> _waits;
    private readonly ConnectionDelegate _next;
    private readonly WebSocketEndpoint _endpoint;
    private readonly KeepAliveSweeper _keepAlive;
    private readonly AtrHubOptions _options;
    private readonly TimeSpan _firstBytesWait;
    private readonly UpgradeRequest.Limits _limits;
    private readonly Lazy<HashSet<string>?> _claimed;

    private DirectUpgrade(ConnectionDelegate next, IServiceProvider services)
    {
        _next = next;
        _endpoint = services.GetRequiredService<WebSocketEndpoint>();
        _keepAlive = services.GetRequiredService<KeepAliveSweeper>();
        _options = services.GetRequiredService<IOptions<AtrHubOptions>>().Value;
        var limits = services.GetRequiredService<IOptions<KestrelServerOptions>>().Value.Limits;
        // Never longer than Kestrel would wait: for the rest of a request's head, or for a first request at all.
        _firstBytesWait = new[] { FirstBytesWait, limits.RequestHeadersTimeout, limits.KeepAliveTimeout }.Min();
        _limits = UpgradeRequest.Limits.From(limits);
        _waits = new DefaultObjectPool<CancellationTokenSource>(new WaitPolicy(services.GetRequiredService<TimeProvider>()), PooledWaits);

        // Read once, at the first handshake: by then the application has mapped its endpoints, and they do not change.
        _claimed = new(() => ClaimedSegments(services.GetRequiredService<EndpointDataSource>()));
    }

    /// <summary>
    /// Whether <see cref="DirectUpgrade"/> can serve this hub with the same answers as the HTTP
    /// pipeline: the scope rules and request authenticator are the built-in ones, and nothing the
    /// pipeline would apply first is configured: host filtering (<c>AllowedHosts</c> other than
    /// <c>*</c>), forwarded headers (which change the address connections are counted by), a limit on
    /// upgraded connections, an authorization fallback policy (which would apply to the raw
    /// endpoint), a global rate limiter.
    /// </summary>
    /// <remarks>
    /// The raw endpoint's own conventions (<c>RequireAuthorization</c>, <c>RequireCors</c>,
    /// <c>RequireRateLimiting</c>…) are checked when the first handshake arrives, once routing is
    /// built (<see cref="MaySkip"/>). Middleware an application adds to its pipeline is not seen
    /// here: the standalone server's pipeline is held to what this path skips by
    /// <c>DirectUpgradePipelineTests</c>.
    /// </remarks>
    public static bool Serves(IServiceProvider services)
    {
        var options = services.GetRequiredService<IOptions<AtrHubOptions>>().Value;
        var configuration = services.GetRequiredService<IConfiguration>();
        var limits = services.GetRequiredService<IOptions<KestrelServerOptions>>().Value.Limits;
        return options.RequestScope is null
            && options.RequestAuthenticator is null
            && services.GetService<IOptions<HostFilteringOptions>>()?.Value.AllowedHosts is null or { Count: 0 } or ["*"]
            && !ForwardedHeaders.Enabled(configuration)
            && limits.MaxConcurrentUpgradedConnections is null
            && services.GetService<IOptions<AuthorizationOptions>>()?.Value.FallbackPolicy is null
            && services.GetService<IOptions<RateLimiterOptions>>()?.Value.GlobalLimiter is null;
    }

    /// <summary>
    /// Whether a piece of the raw endpoint's metadata is one this path may skip: what the framework
    /// puts on every minimal-API endpoint, names and descriptions, the hub's own marker. Anything else
    /// — authorization, CORS, rate limiting, a host requirement, a request timeout or size limit… —
    /// is a convention the HTTP pipeline applies, and keeps the hub's handshakes there.
    /// </summary>
    public static bool MaySkip(object metadata)
        => ReferenceEquals(metadata, BatchingUpgradeFeature.EndpointMetadata)
            || metadata is MethodInfo
                or IHttpMethodMetadata
                or IParameterBindingMetadata
                or IRouteDiagnosticsMetadata
                or IEndpointNameMetadata
                or IRouteNameMetadata
                or ITagsMetadata
                or IEndpointSummaryMetadata
                or IEndpointDescriptionMetadata
                or IExcludeFromDescriptionMetadata;

    /// <summary>The connection middleware: <see cref="DirectUpgrade"/> in front of <paramref name="next"/> when it <see cref="Serves"/> this hub, otherwise <paramref name="next"/> alone.</summary>
    public static ConnectionDelegate Before(ConnectionDelegate next, IServiceProvider services)
        => Serves(services) ? new DirectUpgrade(next, services).OnConnectedAsync : next;

    public async Task OnConnectedAsync(ConnectionContext connection)
    {
        // Two frames for an open connection: this one and its run. The handshake's steps have theirs,
        // which end once it is accepted.
        if (await OpenAsync(connection).ConfigureAwait(false) is not { } opened)
        {
            return;
        }

        await _endpoint.RunAsync(opened).ConfigureAwait(false);
        if (opened.Socket.State != WebSocketState.Closed)
        {
            // Aborted (a peer timeout, a client that stopped reading): nothing more is to be sent.
            connection.Abort();
        }
    }

    /// <summary>
    /// Reads the connection's handshake and takes it through the endpoint's steps; null when the
    /// connection was not upgraded here: not a handshake this path takes, refused (the HTTP layer
    /// answered it), or gone.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<WebSocketEndpoint.Opened?> OpenAsync(ConnectionContext connection)
    {
        var request = await ReadHandshakeAsync(connection).ConfigureAwait(false);
        if (request is null || !IsRawEndpoint(request.Path))
        {
            await _next(connection).ConfigureAwait(false);
            return null;
        }

        var handshake = new ConnectionHandshake(this, connection, request.Key, request.Length);
        try
        {
            var client = new ClientRequest(
                request.Path[1..],
                request.Query,
                request.Origin,
                request.Authorization,
                (connection.RemoteEndPoint as IPEndPoint)?.Address,
                connection.Features.Get<AddressOverLimit>() is not null,
                Context: null,
                connection.ConnectionClosed);
            return await _endpoint.OpenAsync(client, handshake).ConfigureAwait(false);
        }
        catch (Exception) when (!handshake.Answered)
        {
            // A check that failed before anything was answered: the HTTP path meets it again and answers as it does.
            await _next(connection).ConfigureAwait(false);
            return null;
        }
    }

    /// <summary>The first read's handshake, left unread in the pipe; null when there is none to take.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<UpgradeRequest?> ReadHandshakeAsync(ConnectionContext connection)
    {
        var input = connection.Transport.Input;
        ReadResult result;

        // The timeout's source is reused from one connection to the next: a new one would cost a
        // source, a timer and a registration per handshake.
        var wait = _waits.Get();
        wait.CancelAfter(_firstBytesWait);
        try
        {
            result = await input.ReadAsync(wait.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ClientGone.Is(ex))
        {
            // Silent for too long, or gone: the HTTP layer gets the connection as it is.
            return null;
        }
        finally
        {
            _waits.Return(wait);
        }

        try
        {
            return result.IsCanceled ? null : UpgradeRequest.TryRead(result.Buffer, _limits);
        }
        finally
        {
            // Nothing consumed, nothing examined: the next read (the HTTP layer's, or the accept) sees it all again at once.
            input.AdvanceTo(result.Buffer.Start);
        }
    }

    /// <summary>Whether routing would send <paramref name="path"/> to the raw endpoint: its first segment is not another endpoint's.</summary>
    private bool IsRawEndpoint(string path)
    {
        if (_claimed.Value is not { } claimed)
        {
            return false;
        }

        var rest = path.AsSpan(1);
        var second = rest.IndexOf('/');
        return !claimed.GetAlternateLookup<ReadOnlySpan<char>>().Contains(second < 0 ? rest : rest[..second]);
    }

    /// <summary>
    /// The first path segments of the application's other endpoints (<c>publish</c>, <c>health</c>,
    /// <c>hub</c>…), and the empty one if any endpoint is at <c>/</c>; null when routing cannot be
    /// read this way (an endpoint other than the raw one starts with a parameter, or the raw one is
    /// not at the root), or the raw endpoint carries a convention this path would skip.
    /// </summary>
    private static HashSet<string>? ClaimedSegments(EndpointDataSource endpoints)
    {
        var claimed = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var rawAtRoot = false;
        foreach (var endpoint in endpoints.Endpoints.OfType<RouteEndpoint>())
        {
            var segments = endpoint.RoutePattern.PathSegments;
            if (endpoint.Metadata.Contains(BatchingUpgradeFeature.EndpointMetadata))
            {
                rawAtRoot = segments.Count == 1 && segments[0].Parts is [RoutePatternParameterPart { IsCatchAll: true }]
                    && endpoint.Metadata.All(MaySkip);
                continue;
            }

            if (segments.Count == 0)
            {
                claimed.Add(string.Empty);
            }
            else if (segments[0].Parts is [RoutePatternLiteralPart literal])
            {
                claimed.Add(literal.Content);
            }
            else
            {
                return null;
            }
        }

        return rawAtRoot ? claimed : null;
    }

    /// <summary>
    /// A handshake read off the connection: a refusal is left to the HTTP layer to answer
    /// (<see cref="DecidedRefusal"/>); the upgrade is a 101 written straight into the output pipe and
    /// a WebSocket on the transport's own pipes.
    /// </summary>
    private sealed class ConnectionHandshake(DirectUpgrade owner, ConnectionContext connection, string key, int length) : IRawHandshake
    {
        /// <summary>Whether the connection was handed to the HTTP layer or its upgrade begun: it has no second chance.</summary>
        public bool Answered { get; private set; }

        public bool AtConnection => true;

        public Task RefuseAsync(WebSocketEndpoint.Refusal refusal)
        {
            Answered = true;
            DecidedRefusal.Leave(connection, refusal, key);
            return owner._next(connection);
        }

        public async ValueTask<(WebSocket Socket, IFrameHolder? Holder)> AcceptAsync()
        {
            Answered = true;
            try
            {
                await SwitchProtocolsAsync().ConfigureAwait(false);
            }
            catch
            {
                connection.Abort();
                throw;
            }

            // The hub's keep-alive clock pings it, not a timer of the WebSocket's own.
            var stream = new TransportStream(connection.Transport);
            var keepAlive = new KeepAliveStream(stream, owner._keepAlive);
            var socket = WebSocket.CreateFromStream(keepAlive, new WebSocketCreationOptions { IsServer = true, KeepAliveInterval = TimeSpan.Zero });
            keepAlive.Watch(socket);
            return (socket, stream);
        }

        [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
        private async ValueTask SwitchProtocolsAsync()
        {
            var input = connection.Transport.Input;
            var result = await input.ReadAsync().ConfigureAwait(false);
            input.AdvanceTo(result.Buffer.GetPosition(length));
            var output = connection.Transport.Output;
            output.Advance(UpgradeRequest.SwitchingProtocols(key, output.GetSpan(UpgradeRequest.SwitchingProtocolsLength)));
            var flush = await output.FlushAsync().ConfigureAwait(false);
            if (flush.IsCompleted || flush.IsCanceled)
            {
                throw new IOException("The client closed the connection during the handshake.");
            }
        }
    }

    /// <summary>First-read timeouts, on the hub's clock; one that fired is not reused.</summary>
    private sealed class WaitPolicy(TimeProvider timeProvider) : PooledObjectPolicy<CancellationTokenSource>
    {
        public override CancellationTokenSource Create() => new(Timeout.InfiniteTimeSpan, timeProvider);

        public override bool Return(CancellationTokenSource wait)
        {
            if (wait.TryReset())
            {
                return true;
            }

            wait.Dispose();
            return false;
        }
    }
}
