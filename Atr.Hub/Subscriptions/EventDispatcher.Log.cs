using Microsoft.Extensions.Logging;

namespace Atr.Hub.Subscriptions;

internal partial class EventDispatcher
{
    [LoggerMessage(1, LogLevel.Warning, "Dropped {Count} payload(s) that were not a JSON object with a string 'name', or were larger than a send queue; the latest on scope '{Scope}', {Length} bytes.")]
    private static partial void LogPayloadDropped(ILogger logger, long count, string scope, int length);

    [LoggerMessage(2, LogLevel.Warning, "The backplane is back after an interruption; told the clients of {ScopeCount} scope(s) to refetch (atr.resync).")]
    private static partial void LogBackplaneRestored(ILogger logger, int scopeCount);
}
