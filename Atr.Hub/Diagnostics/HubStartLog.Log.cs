using Microsoft.Extensions.Logging;

namespace Atr.Hub.Diagnostics;

internal partial class HubStartLog
{
    [LoggerMessage(1, LogLevel.Information, "Atr hub at {BasePath} on {Addresses}; backplane {Backplane}; security {Mode}.")]
    private static partial void LogStarted(ILogger logger, string basePath, string addresses, string backplane, string mode);
}
