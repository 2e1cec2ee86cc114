using Atr.Hub.Backplane;
using Atr.Hub.HttpApi;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Net.Http.Headers;

namespace Atr.Hub.Diagnostics;

/// <summary>
/// Writes <c>GET /health/ready</c>: <c>Healthy</c> or <c>Unhealthy</c> in plain text, as ASP.NET
/// Core's health checks do, for load balancers; and to a client that accepts
/// <c>application/json</c>, the description and the Redis servers (shards) the node is subscribed
/// through (<see cref="ReadinessReport"/>).
/// </summary>
internal static class ReadinessResponse
{
    public static Task WriteAsync(HttpContext context, HealthReport report)
    {
        if (!AcceptsJson(context.Request))
        {
            context.Response.ContentType = "text/plain";
            return context.Response.WriteAsync(report.Status.ToString());
        }

        var description = string.Join(" ", report.Entries.Values.Select(e => e.Description).OfType<string>());
        var shards = report.Entries.Values
            .SelectMany(e => e.Data.TryGetValue(BackplaneHealthCheck.ShardsKey, out var value) && value is IReadOnlyList<BackplaneShard> list ? list : [])
            .ToArray();
        return context.Response.WriteAsJsonAsync(
            new ReadinessReport(report.Status.ToString(), description, shards),
            HubJsonContext.Default.ReadinessReport,
            contentType: "application/json",
            cancellationToken: context.RequestAborted);
    }

    private static bool AcceptsJson(HttpRequest request)
        => MediaTypeHeaderValue.TryParseList(request.Headers.Accept, out var accepted)
            && accepted.Any(a => a.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase));
}
