using Microsoft.Extensions.Logging;

namespace Atr.Hub.Diagnostics;

internal partial class RefusalLog
{
    [LoggerMessage(1, LogLevel.Information, "Refused {Refusals} (requests and calls turned away, counted over at most {IntervalSeconds:F0} s).")]
    private static partial void LogRefused(ILogger logger, string refusals, double intervalSeconds);
}
