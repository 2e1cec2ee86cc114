namespace Atr.Hub.Diagnostics;

/// <summary>
/// Counts occurrences of something logged in summary (dropped payloads, sockets refused at accept)
/// and says when a line is due: at most one per interval however fast they come, so that a flood
/// never becomes a log flood. Thread-safe, without a lock.
/// </summary>
internal sealed class LogThrottle(TimeProvider time, TimeSpan interval)
{
    private long _count;
    private long _nextLine;

    /// <summary>Counts one occurrence.</summary>
    /// <param name="count">When a line is due: the occurrences since the last line, this one included.</param>
    /// <returns>Whether the caller writes a line now.</returns>
    public bool Count(out long count)
    {
        var counted = Interlocked.Increment(ref _count);
        var now = time.GetTimestamp();
        var next = Volatile.Read(ref _nextLine);
        if (now >= next && Interlocked.CompareExchange(ref _nextLine, now + (long)(interval.TotalSeconds * time.TimestampFrequency), next) == next)
        {
            Interlocked.Add(ref _count, -counted);
            count = counted;
            return true;
        }

        count = 0;
        return false;
    }
}
