using Microsoft.Extensions.Logging;

namespace Atr.Hub.Diagnostics;

internal partial class RefusalLog
{
    [LoggerMessage(1, LogLevel.Information, "Refused {Refusals} (requests and calls turned away, counted over at most {IntervalSeconds:F0} s).")]
    private static partial void LogRefused(ILogger logger, string refusals, double intervalSeconds);

    [LoggerMessage(2, LogLevel.Debug, "Refused a {What} with {Status}: {Reason}")]
    private static partial void LogRefusedOne(ILogger logger, string what, int status, string reason);
}
