using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Atr.Hub.Diagnostics;

/// <summary>
/// Refusals — raw handshakes, SignalR connections and <c>Subscribe</c> calls turned away with 401,
/// 403, 429… — logged with their counts at most once per <see cref="Interval"/>, at Information and
/// without stack traces: a flood of bad requests, which costs its sender nothing, must not become a
/// flood of log. The first refusal after a quiet interval is written at once.
/// </summary>
internal sealed partial class RefusalLog : IDisposable
{
    public const string Raw = "raw handshake";
    public const string SignalR = "SignalR connection";
    public const string Subscribe = "SignalR Subscribe";

    /// <summary>How often a line is written while refusals keep coming.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);

    private readonly ConcurrentDictionary<(string What, int Status), int> _counts = new();
    private readonly ILogger _logger;
    private readonly ITimer _timer;
    private int _quiet = 1;

    public RefusalLog(TimeProvider time, ILogger<RefusalLog> logger)
    {
        _logger = logger;
        _timer = time.CreateTimer(static state => ((RefusalLog)state!).Tick(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Counts one refusal of <paramref name="what"/> with <paramref name="status"/>; its reason goes to the Debug log.</summary>
    /// <param name="what">What was refused: <see cref="Raw"/>, <see cref="SignalR"/>, <see cref="Subscribe"/>.</param>
    /// <param name="status">The status it was refused with.</param>
    /// <param name="reason">The one-line reason, with anything the client sent escaped (<see cref="LogText"/>).</param>
    public void Refused(string what, int status, string reason)
    {
        LogRefusedOne(_logger, what, status, reason);
        _counts.AddOrUpdate((what, status), 1, static (_, count) => count + 1);
        if (Interlocked.Exchange(ref _quiet, 0) == 1)
        {
            // The first of a while: said now; the ones that follow are counted until the interval ends.
            Flush();
            _timer.Change(Interval, Timeout.InfiniteTimeSpan);
        }
    }

    public void Dispose() => _timer.Dispose();

    private void Tick()
    {
        if (Flush())
        {
            _timer.Change(Interval, Timeout.InfiniteTimeSpan);
            return;
        }

        Volatile.Write(ref _quiet, 1);

        // A refusal that came between the flush and the line above found the log busy: it waits for the next one.
        if (!_counts.IsEmpty && Interlocked.Exchange(ref _quiet, 0) == 1)
        {
            _timer.Change(Interval, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>Writes and resets the counts; false when there were none.</summary>
    private bool Flush()
    {
        var counted = new List<string>();
        foreach (var key in _counts.Keys.Order())
        {
            if (_counts.TryRemove(key, out var count))
            {
                counted.Add($"{count} {key.What} {key.Status}");
            }
        }

        if (counted.Count == 0)
        {
            return false;
        }

        LogRefused(_logger, string.Join(", ", counted), Interval.TotalSeconds);
        return true;
    }
}
