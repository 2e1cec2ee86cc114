using Microsoft.Extensions.Logging;

namespace Atr.Hub.History;

internal partial class HistoryRecovery
{
    [LoggerMessage(1, LogLevel.Debug, "Read the history of scope '{Scope}' ({Count} events) and delivered the {Parked} event(s) that arrived meanwhile.")]
    private static partial void LogSeeded(ILogger logger, string scope, int count, int parked);

    [LoggerMessage(2, LogLevel.Warning, "The backplane is back after an interruption: {Filled} of {ScopeCount} scope(s) got the events they missed from history, {Resynced} got atr.resync.")]
    private static partial void LogRestored(ILogger logger, int scopeCount, int filled, int resynced);

    [LoggerMessage(4, LogLevel.Information, "Lost the Redis subscription: {ScopeCount} scope(s) hold what arrives from Redis until the events they missed are read from history.")]
    private static partial void LogLost(ILogger logger, int scopeCount);

    [LoggerMessage(3, LogLevel.Warning, "Could not read the history of scope '{Scope}' ({Error}).")]
    private static partial void LogReadFailed(ILogger logger, string scope, string error);
}
