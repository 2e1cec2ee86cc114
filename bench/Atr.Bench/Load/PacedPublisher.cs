using System.Diagnostics;
using Atr.Bench.Measurement;

namespace Atr.Bench.Load;

/// <summary>
/// Publishes at a steady rate: every 1 ms tick it sends the batch that is due by then (elapsed × rate minus what was
/// sent), round-robin over the scopes, each event stamped at send. No sleep per event, so the rate holds at 100,000 events/s.
/// </summary>
internal sealed class PacedPublisher(ILoadPublisher publisher, IReadOnlyList<ScopeTracker> scopes, int payloadBytes)
{
    private int _nextScope;

    /// <summary>Publishes <paramref name="eventsPerSecond"/> until <paramref name="events"/> are sent or <paramref name="duration"/> has passed.</summary>
    public async Task RunAsync(double eventsPerSecond, long? events, TimeSpan duration, CancellationToken cancellationToken)
    {
        var start = Stopwatch.GetTimestamp();
        long sent = 0;
        using var tick = new PeriodicTimer(TimeSpan.FromMilliseconds(1));
        while (true)
        {
            var elapsed = Stopwatch.GetElapsedTime(start);
            var due = (long)(elapsed.TotalSeconds * eventsPerSecond);
            if (events is { } limit)
            {
                due = Math.Min(due, limit);
            }

            for (; sent < due; sent++)
            {
                var scope = scopes[_nextScope];
                _nextScope = (_nextScope + 1) % scopes.Count;
                publisher.Publish(scope, TickPayload.Build(scope.Name, scope.NextSeq(), Stopwatch.GetTimestamp(), payloadBytes));
            }

            await publisher.FlushAsync(cancellationToken).ConfigureAwait(false);
            if ((events is { } total && sent >= total) || (events is null && elapsed >= duration))
            {
                return;
            }

            await tick.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Sends one readiness probe (sequence 0, not counted) to each of <paramref name="targets"/>.</summary>
    public async Task ProbeAsync(IEnumerable<ScopeTracker> targets, CancellationToken cancellationToken)
    {
        foreach (var scope in targets)
        {
            publisher.Publish(scope, TickPayload.Build(scope.Name, 0, Stopwatch.GetTimestamp(), payloadBytes));
        }

        await publisher.FlushAsync(cancellationToken).ConfigureAwait(false);
    }
}
