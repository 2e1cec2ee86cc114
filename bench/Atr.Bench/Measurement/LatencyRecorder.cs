using System.Diagnostics;
using Atr.Bench.Results;
using HdrHistogram;

namespace Atr.Bench.Measurement;

/// <summary>
/// Latencies in microseconds, recorded from every client's receive loop at once and read by one thread:
/// an HdrHistogram <see cref="Recorder"/> (3 significant digits, 1 µs to 60 s) whose intervals are folded into
/// the histogram of the window being measured.
/// </summary>
internal sealed class LatencyRecorder
{
    private const long Highest = 60_000_000;

    private readonly Recorder _recorder = new(1, Highest, 3, (id, lowest, highest, digits) => new LongHistogram(id, lowest, highest, digits));
    private readonly LongHistogram _window = new(1, Highest, 3);
    private readonly Lock _read = new();
    private HistogramBase? _spare;

    /// <summary>Records a latency measured in <see cref="Stopwatch"/> ticks.</summary>
    public void RecordTicks(long ticks)
    {
        var micros = Math.Min(Highest, ticks * 1_000_000 / Stopwatch.Frequency);
        _recorder.RecordValue(Math.Max(1, micros));
    }

    /// <summary>Starts a new window: what was recorded so far is dropped.</summary>
    public void Reset()
    {
        lock (_read)
        {
            _spare = _recorder.GetIntervalHistogram(_spare);
            _window.Reset();
        }
    }

    /// <summary>The window so far: its percentiles in milliseconds.</summary>
    public LatencyFigures Snapshot()
    {
        lock (_read)
        {
            _spare = _recorder.GetIntervalHistogram(_spare);
            _window.Add(_spare);
            return _window.TotalCount == 0
                ? new LatencyFigures(0, 0, 0, 0, 0)
                : new LatencyFigures(
                    _window.TotalCount,
                    Milliseconds(_window.GetValueAtPercentile(50)),
                    Milliseconds(_window.GetValueAtPercentile(99)),
                    Milliseconds(_window.GetValueAtPercentile(99.9)),
                    Milliseconds(_window.GetMaxValue()));
        }
    }

    private static double Milliseconds(long micros) => Math.Round(micros / 1000.0, 3);
}
