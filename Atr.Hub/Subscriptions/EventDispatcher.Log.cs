using Microsoft.Extensions.Logging;

namespace Atr.Hub.Subscriptions;

internal partial class EventDispatcher
{
    [LoggerMessage(1, LogLevel.Warning, "Dropped {Count} payload(s) that were not a JSON object with a string 'name', or were larger than a send queue; the latest on scope '{Scope}', {Length} bytes.")]
    private static partial void LogPayloadDropped(ILogger logger, long count, string scope, int length);
}
