using System.Reflection;
using System.Text.Json;

namespace Atr.Publishing;

/// <summary>Options of <c>AddAtrPublishing</c>.</summary>
public sealed class AtrPublishingOptions
{
    /// <summary>
    /// The StackExchange.Redis configuration string (<c>127.0.0.1:6379</c>). Required unless an
    /// <c>IConnectionMultiplexer</c> is registered in the service collection, which is then shared.
    /// <c>abortConnect=false</c> is always applied: the publisher starts while Redis is down and
    /// reconnects by itself.
    /// </summary>
    public string? Redis { get; set; }

    /// <summary>The prefix of every event channel; the channel of <c>organization.1234</c> is <c>atr:organization.1234</c>. Default <c>atr:</c>.</summary>
    public string ChannelPrefix { get; set; } = "atr:";

    /// <summary>
    /// The largest event, in bytes of its JSON: a larger one is refused with an
    /// <see cref="ArgumentException"/> before it is published, as hubs drop what is larger than their
    /// own limit (<c>AtrHubOptions.MaxEventBytes</c>). Default 64 KiB.
    /// </summary>
    public int MaxEventBytes { get; set; } = DefaultMaxEventBytes;

    /// <summary>The default <see cref="MaxEventBytes"/>: 64 KiB.</summary>
    public const int DefaultMaxEventBytes = 64 * 1024;

    /// <summary>
    /// How many events of each scope are kept in its history, the Redis stream named like the scope's
    /// channel (<c>atr:organization.1234</c>), for clients that reconnect to replay what they missed.
    /// Each event is appended and published in one step (<c>XADD … MAXLEN ~ size</c>, <c>PEXPIRE</c>,
    /// <c>PUBLISH</c>). 0 turns history off: a plain <c>PUBLISH</c>. Default 100; keep it equal to the hubs'.
    /// </summary>
    public int HistorySize { get; set; } = DefaultHistorySize;

    /// <summary>The default <see cref="HistorySize"/>: 100 events per scope.</summary>
    public const int DefaultHistorySize = 100;

    /// <summary>How long a scope's history is kept after its last event. Default 10 minutes.</summary>
    public TimeSpan HistoryTtl { get; set; } = DefaultHistoryTtl;

    /// <summary>The default <see cref="HistoryTtl"/>: 10 minutes.</summary>
    public static readonly TimeSpan DefaultHistoryTtl = TimeSpan.FromMinutes(10);

    /// <summary>
    /// How records are written by the default serializer, and how the Entity Framework Core
    /// integration names columns in a record (its <see cref="JsonSerializerOptions.PropertyNamingPolicy"/>).
    /// Default <see cref="JsonEventSerializer.DefaultRecordOptions"/>: snake-case names, like the envelope.
    /// </summary>
    public JsonSerializerOptions RecordSerializerOptions { get; set; } = JsonEventSerializer.DefaultRecordOptions;

    /// <summary>
    /// How long <c>SaveChangesAsync</c> (or a transaction's <c>CommitAsync</c>) waits for the backplane to take
    /// its model events before it gives up on them, reports them through <see cref="OnPublishFailed"/> and
    /// returns. The saved data stands either way. Default 2 s.
    /// </summary>
    public TimeSpan PublishTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Called when model events could not be published (Redis unreachable, a timeout). It runs on the
    /// saving thread or a pool thread and must not throw; a throw is logged and ignored. Default none: the
    /// failure is logged and counted on the <c>Atr.Publishing</c> meter (<c>atr.publish.failed</c>).
    /// </summary>
    public Action<PublishFailure>? OnPublishFailed { get; set; }

    /// <summary>
    /// Assemblies whose <see cref="PublishableAttribute"/> types join the <see cref="EventRegistry"/> at start.
    /// Default empty: the entry assembly is scanned.
    /// </summary>
    public IList<Assembly> ModelAssemblies { get; } = [];

    /// <summary>Event names added to the <see cref="EventRegistry"/> by hand, e.g. <c>post.published</c>.</summary>
    public IList<string> Channels { get; } = [];
}
