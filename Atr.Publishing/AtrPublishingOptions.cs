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

    /// <summary>How records are written by the default serializer. Default <see cref="JsonEventSerializer.DefaultRecordOptions"/> (snake-case names).</summary>
    public JsonSerializerOptions RecordSerializerOptions { get; set; } = JsonEventSerializer.DefaultRecordOptions;
}
