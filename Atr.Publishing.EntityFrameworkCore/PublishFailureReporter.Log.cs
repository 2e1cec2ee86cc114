using Microsoft.Extensions.Logging;

namespace Atr.Publishing;

internal partial class PublishFailureReporter
{
    [LoggerMessage(1, LogLevel.Error, "Could not publish {Count} model event(s), the first '{RoutingKey}'; the saved data stands and the events are lost.")]
    private static partial void LogPublishFailed(ILogger logger, int count, string routingKey, Exception exception);

    [LoggerMessage(2, LogLevel.Error, "AtrPublishingOptions.OnPublishFailed threw; ignored.")]
    private static partial void LogHookFailed(ILogger logger, Exception exception);
}
