using System.Globalization;

namespace Atr.Bench.Reporting;

/// <summary>The median of a figure over runs, with its minimum and maximum.</summary>
internal sealed record Spread(double Median, double Min, double Max, int Runs)
{
    public static Spread? Of(IEnumerable<double> values)
    {
        var sorted = values.Where(double.IsFinite).Order().ToArray();
        if (sorted.Length == 0)
        {
            return null;
        }

        var middle = sorted.Length / 2;
        var median = sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
        return new Spread(median, sorted[0], sorted[^1], sorted.Length);
    }

    /// <summary><c>12.3</c>, or <c>12.3 (11.9–13.0)</c> when runs differ.</summary>
    public string Format(string format)
    {
        var median = Median.ToString(format, CultureInfo.InvariantCulture);
        return Runs > 1 && Min != Max
            ? $"{median} ({Min.ToString(format, CultureInfo.InvariantCulture)}–{Max.ToString(format, CultureInfo.InvariantCulture)})"
            : median;
    }
}
