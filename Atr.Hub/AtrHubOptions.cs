using System.ComponentModel.DataAnnotations;
using Atr.Publishing;
using Microsoft.AspNetCore.Http.Connections;

namespace Atr.Hub;

/// <summary>
/// Options of the hub, bound from the <c>Atr</c> configuration section by <c>atr-server</c>
/// (environment variables <c>Atr__MaxInboundMessageBytes</c> and so on).
/// </summary>
public sealed class AtrHubOptions
{
    /// <summary>
    /// The StackExchange.Redis configuration string of the backplane (<c>127.0.0.1:6379</c>).
    /// Default <see langword="null"/>: an in-memory backplane, for one node.
    /// </summary>
    public string? Redis { get; set; }

    /// <summary>The prefix of every event channel in Redis. Default <c>atr:</c>.</summary>
    [Required(AllowEmptyStrings = true)]
    public string ChannelPrefix { get; set; } = "atr:";

    /// <summary>
    /// The HS256 secret that signs connection and publish tokens (at least 32 bytes of UTF-8). Setting
    /// this, <see cref="JwtKeyFile"/>, <see cref="JwtPublicKeyFile"/> or <see cref="JwtAuthority"/> turns
    /// JWT authentication on; with none of them the hub runs in anonymous mode. Default none.
    /// </summary>
    public string? JwtKey { get; set; }

    /// <summary>A file holding the HS256 secret (surrounding whitespace ignored), so the secret stays off the command line. Default none.</summary>
    public string? JwtKeyFile { get; set; }

    /// <summary>A PEM file with the RSA (RS256) or EC P-256 (ES256) public key that verifies tokens. Default none.</summary>
    public string? JwtPublicKeyFile { get; set; }

    /// <summary>An OpenID Connect authority whose published keys (JWKS) verify RS256/ES256 tokens, e.g. <c>https://login.example.com/realm</c>. Default none.</summary>
    public string? JwtAuthority { get; set; }

    /// <summary>The required <c>iss</c> of every token. Default <c>atr</c>.</summary>
    [Required]
    public string JwtIssuer { get; set; } = "atr";

    /// <summary>The required <c>aud</c> of every token. Default <c>atr</c>.</summary>
    [Required]
    public string JwtAudience { get; set; } = "atr";

    /// <summary>How far token times may be off the hub's clock. Default and maximum 30 s.</summary>
    public TimeSpan JwtClockSkew { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The Origins a browser handshake may come from (<c>https://app.example.com</c>); any other gets 403.
    /// Requests without an Origin header (servers, native apps) are not affected. Default empty: any Origin.
    /// </summary>
    public IList<string> AllowedOrigins { get; } = [];

    /// <summary>
    /// The most sockets the node holds at once, where its endpoint counts them
    /// (<c>UseAtrConnectionLimits</c>; <c>atr-server</c> does): past it a new socket is closed at accept
    /// and the node keeps serving the others. Default 0: the process's open-files limit less a reserve
    /// for threads, assemblies, Redis and logs (what it already holds, plus at least 256).
    /// </summary>
    [Range(0, int.MaxValue)]
    public int MaxConnections { get; set; }

    /// <summary>The most open connections (raw and SignalR) from one remote address; past it, 429. Default 0: no limit.</summary>
    [Range(0, int.MaxValue)]
    public int MaxConnectionsPerIp { get; set; }

    /// <summary>The most scopes one SignalR connection may listen to at once; past it <c>Subscribe</c> fails with <c>429: …</c>. Default 64.</summary>
    [Range(1, 100_000)]
    public int MaxScopesPerConnection { get; set; } = 64;

    /// <summary>
    /// Serves anonymous mode — no key configured, so anyone who reaches the hub may listen to every
    /// scope and publish — on purpose. Without it, a hub with no key starts only in the Development
    /// environment with every address on loopback (<c>atr-server</c>: on a loopback address, or with
    /// <c>--allow-anonymous</c>). Default <see langword="false"/>.
    /// </summary>
    public bool AllowAnonymous { get; set; }

    /// <summary>The shortest <see cref="JwtKey"/>, in bytes of UTF-8: 256 bits.</summary>
    public const int MinimumJwtKeyBytes = 32;

    /// <summary>
    /// Whether JWT authentication is on: one of <see cref="JwtKey"/>, <see cref="JwtKeyFile"/>,
    /// <see cref="JwtPublicKeyFile"/> or <see cref="JwtAuthority"/> is set. Off is anonymous mode.
    /// </summary>
    public bool AuthenticationEnabled
        => !string.IsNullOrEmpty(JwtKey) || !string.IsNullOrEmpty(JwtKeyFile) || !string.IsNullOrEmpty(JwtPublicKeyFile) || !string.IsNullOrEmpty(JwtAuthority);

    /// <summary>Whether the SignalR hub is mapped at <c>/hub</c> beside the raw endpoint. Default <see langword="true"/>.</summary>
    public bool EnableSignalR { get; set; } = true;

    /// <summary>
    /// The SignalR transports the hub offers. Default WebSockets only: long polling and server-sent
    /// events hold a server-side connection per client between requests, which a hub that faces the
    /// internet offers only on purpose (<c>WebSockets, LongPolling</c>).
    /// </summary>
    public HttpTransportType SignalRTransports { get; set; } = HttpTransportType.WebSockets;

    /// <summary>
    /// Whether SignalR clients that open <c>/hub</c> by WebSocket without negotiating first
    /// (<c>skipNegotiation</c>) are carried by the hub's own WebSocket transport, which hands each
    /// message to the socket in the writer's turn, instead of SignalR's, which passes it through a pipe
    /// to a send loop of its own. The SignalR protocol, hub and behaviour are the same on both.
    /// Default <see langword="true"/>; negotiated connections always use SignalR's transports.
    /// </summary>
    public bool SignalRDirectWebSockets { get; set; } = true;

    /// <summary>The largest message a client may send, in bytes; a larger one closes the connection with 1009. Default 4 KiB.</summary>
    [Range(16, 1024 * 1024)]
    public int MaxInboundMessageBytes { get; set; } = 4 * 1024;

    /// <summary>
    /// The most bytes of frames that may wait to be sent to one connection. A client whose queue
    /// stays over it for <see cref="SlowConsumerGrace"/>, or grows past four times it, is a slow
    /// consumer and is closed with <see cref="AtrCloseCodes.SlowConsumer"/>: a burst of events never
    /// closes a client that is reading, one that stopped reading is closed within seconds. Default 1 MiB.
    /// </summary>
    [Range(1024, int.MaxValue)]
    public long MaxSendQueueBytes { get; set; } = 1024 * 1024;

    /// <summary>
    /// How many events of each scope are kept for clients that reconnect (<c>?since=</c>,
    /// <c>SubscribeSince</c>, <c>GET /history</c>) and for this node to fill the gap of a Redis
    /// outage: the Redis stream of the scope, or, in memory, the node's own. 0 turns history off.
    /// Default 100.
    /// </summary>
    [Range(0, 100_000)]
    public int HistorySize { get; set; } = AtrPublishingOptions.DefaultHistorySize;

    /// <summary>How long a scope's history is kept after its last event. Default 10 minutes.</summary>
    public TimeSpan HistoryTtl { get; set; } = AtrPublishingOptions.DefaultHistoryTtl;

    /// <summary>How long a connection's send queue may stay over <see cref="MaxSendQueueBytes"/> before its client is closed as a slow consumer. Default 2 s.</summary>
    public TimeSpan SlowConsumerGrace { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// The largest event, in bytes of its JSON. <c>POST /publish</c> refuses a larger one with 413,
    /// the hub's <c>IEventPublisher</c> with an <see cref="ArgumentException"/>, and one that
    /// arrives from Redis is dropped and counted. Default 64 KiB.
    /// </summary>
    [Range(64, int.MaxValue)]
    public int MaxEventBytes { get; set; } = AtrPublishingOptions.DefaultMaxEventBytes;

    /// <summary>
    /// How often the server pings each raw WebSocket client, at most. Default 15 s. Each connection
    /// pings at its own interval, drawn between three quarters of this and this, so that clients that
    /// connected together are not pinged together.
    /// </summary>
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// How long a client may stay silent (no pong, no message) before it is dropped. Default 30 s:
    /// a ping, then up to 15 s more for its pong.
    /// </summary>
    public TimeSpan PeerTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long the hub waits for a client to answer its close frame before it aborts the connection. Default 5 s.</summary>
    public TimeSpan CloseTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How often a node proves its Redis subscription. When nothing arrived for half an interval, it
    /// publishes a probe on its own channel; when nothing arrived for two intervals, the node is not
    /// ready and replaces its subscriber connection. Default 5 s.
    /// </summary>
    public TimeSpan ProbeInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// At shutdown, how many raw connections per second are closed with 1001 (SignalR's are told at
    /// once), so that tens of thousands of clients do not all reconnect to the other nodes in the same
    /// millisecond. Default 10,000: keep connections ÷ rate well under the host's shutdown timeout.
    /// </summary>
    [Range(1, int.MaxValue)]
    public int ShutdownCloseRate { get; set; } = 10_000;

    /// <summary>The largest <c>POST /publish</c> body, in bytes; a larger one gets 413. Default 1 MiB.</summary>
    [Range(1024, int.MaxValue)]
    public long MaxPublishBodyBytes { get; set; } = 1024 * 1024;

    /// <summary>The most events in one <c>POST /publish</c> array. Default 1,000.</summary>
    [Range(1, 100_000)]
    public int MaxPublishBatch { get; set; } = 1000;

    /// <summary>
    /// Checks each WebSocket request before the upgrade (the original's <c>authenticate_with</c>);
    /// <see langword="false"/> refuses it with 403. Default <see langword="null"/>: every request passes.
    /// </summary>
    public IRequestAuthenticator? RequestAuthenticator { get; set; }

    /// <summary>
    /// Gives the scope of each WebSocket request (the original's <c>scope_with</c>); <see langword="null"/>
    /// from it refuses the request with 400. Default <see langword="null"/>: the path's <c>/type/id</c> pairs.
    /// </summary>
    public IRequestScope? RequestScope { get; set; }
}
