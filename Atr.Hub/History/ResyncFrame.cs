using System.Globalization;
using System.Text;
using Atr.Hub.Subscriptions;
using Atr.Publishing;

namespace Atr.Hub.History;

/// <summary>
/// The control event that tells a scope's clients to refetch what they show, because the events
/// they missed cannot be replayed: <c>{"name":"atr.resync","occured_at":…,"reason":…,"scope":…}</c>.
/// </summary>
internal static class ResyncFrame
{
    /// <summary>Its name, under the <c>atr.</c> names no publisher may use.</summary>
    public const string Name = "atr.resync";

    /// <summary>The node lost the backplane and its history cannot cover the gap.</summary>
    public const string BackplaneInterrupted = "backplane_interrupted";

    /// <summary>A client's <c>since</c> is not in the history (trimmed, expired, never recorded).</summary>
    public const string HistoryUnavailable = "history_unavailable";

    public static EventFrame Create(string scope, string reason, TimeProvider time)
    {
        var now = time.GetUtcNow().ToString(JsonEventSerializer.TimestampFormat, CultureInfo.InvariantCulture);
        return new EventFrame(Encoding.UTF8.GetBytes($$"""{"name":"{{Name}}","occured_at":"{{now}}","reason":"{{reason}}","scope":"{{scope}}"}"""), id: null);
    }
}
