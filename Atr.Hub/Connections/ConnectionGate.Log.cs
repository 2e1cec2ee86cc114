using Microsoft.Extensions.Logging;

namespace Atr.Hub.Connections;

internal partial class ConnectionGate
{
    [LoggerMessage(1, LogLevel.Warning, "Refused {Refused} connection(s) at accept: the node holds {Ceiling}, the most its open-files limit allows with a reserve for threads, Redis and logs. Its clients keep their connections; raise the limit (LimitNOFILE, ulimit -n) or add nodes.")]
    private static partial void LogRefusing(ILogger logger, long refused, int ceiling);

    [LoggerMessage(2, LogLevel.Information, "Connections: at most {Ceiling} at once, from the open-files limit of {Limit} less {Reserve} kept for threads, assemblies, Redis and logs.")]
    private static partial void LogCeiling(ILogger logger, int ceiling, int limit, int reserve);
}
