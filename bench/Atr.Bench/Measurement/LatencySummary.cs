using HdrHistogram;

namespace Atr.Bench.Measurement;

/// <summary>Percentiles of a latency window, in milliseconds.</summary>
internal sealed record LatencySummary(long Count, double P50Ms, double P99Ms, double P999Ms, double MaxMs)
{
    public static readonly LatencySummary Empty = new(0, 0, 0, 0, 0);

    public static LatencySummary From(HistogramBase histogram) => histogram.TotalCount == 0
        ? Empty
        : new LatencySummary(
            histogram.TotalCount,
            Milliseconds(histogram.GetValueAtPercentile(50)),
            Milliseconds(histogram.GetValueAtPercentile(99)),
            Milliseconds(histogram.GetValueAtPercentile(99.9)),
            Milliseconds(histogram.GetMaxValue()));

    private static double Milliseconds(long micros) => Math.Round(micros / 1000.0, 3);
}
