using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Atr.Publishing;

/// <summary>Reports events that could not be published: a log line, the <c>atr.publish.failed</c> counter, and the application's hook.</summary>
internal sealed partial class PublishFailureReporter(IOptions<AtrPublishingOptions> options, ILogger<PublishFailureReporter> logger)
{
    private static readonly Meter Meter = new("Atr.Publishing");
    private static readonly Counter<long> Failed = Meter.CreateCounter<long>("atr.publish.failed", description: "Model events that could not be published.");

    public void Report(IReadOnlyList<AtrEvent> events, Exception exception)
    {
        Failed.Add(events.Count);
        LogPublishFailed(logger, events.Count, events.Count > 0 ? events[0].RoutingKey : string.Empty, exception);
        try
        {
            options.Value.OnPublishFailed?.Invoke(new PublishFailure(events, exception));
        }
        catch (Exception hookFailure)
        {
            LogHookFailed(logger, hookFailure);
        }
    }
}
