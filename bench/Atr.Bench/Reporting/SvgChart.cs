using System.Globalization;
using System.Net;
using System.Text;

namespace Atr.Bench.Reporting;

/// <summary>Small hand-written SVG charts: grouped bars with min–max whiskers, and lines on a log scale.</summary>
internal static class SvgChart
{
    private const int Width = 760;
    private const int Height = 420;
    private const int Left = 80;
    private const int Right = 170;
    private const int Top = 50;
    private const int Bottom = 60;

    private static readonly int[] NiceSteps = [1, 2, 5, 10];

    private static readonly string[] Palette = ["#1f5fbf", "#6fa8ff", "#d9822b", "#3a9e5c", "#8a5cc2", "#c23b3b", "#777777"];

    /// <summary>Bars grouped by <paramref name="groups"/>, one bar per series; null values are left out.</summary>
    public static string Bars(string title, string yLabel, IReadOnlyList<string> groups, IReadOnlyList<string> series, Func<int, int, Spread?> value)
    {
        var top = Enumerable.Range(0, groups.Count)
            .SelectMany(g => Enumerable.Range(0, series.Count).Select(s => value(g, s)?.Max ?? 0))
            .DefaultIfEmpty(0).Max();
        var scaleMax = NiceCeiling(top);
        var plotWidth = Width - Left - Right;
        var plotHeight = Height - Top - Bottom;
        var svg = Begin(title);
        AxisLinear(svg, scaleMax, yLabel);

        var groupWidth = (double)plotWidth / Math.Max(1, groups.Count);
        var barWidth = groupWidth * 0.8 / Math.Max(1, series.Count);
        for (var g = 0; g < groups.Count; g++)
        {
            var groupLeft = Left + (g * groupWidth) + (groupWidth * 0.1);
            for (var s = 0; s < series.Count; s++)
            {
                if (value(g, s) is not { } spread)
                {
                    continue;
                }

                double Y(double v) => Top + plotHeight - (v / scaleMax * plotHeight);
                var x = groupLeft + (s * barWidth);
                svg.Append(Invariant($"<rect x=\"{x:0.#}\" y=\"{Y(spread.Median):0.#}\" width=\"{barWidth * 0.9:0.#}\" height=\"{Top + plotHeight - Y(spread.Median):0.#}\" fill=\"{Palette[s % Palette.Length]}\"><title>{Escape(series[s])}: {spread.Format("0.###")}</title></rect>\n"));
                if (spread.Runs > 1 && spread.Max > spread.Min)
                {
                    var cx = x + (barWidth * 0.45);
                    svg.Append(Invariant($"<line x1=\"{cx:0.#}\" x2=\"{cx:0.#}\" y1=\"{Y(spread.Min):0.#}\" y2=\"{Y(spread.Max):0.#}\" stroke=\"#222\" stroke-width=\"1.5\"/>\n"));
                }

                svg.Append(Invariant($"<text x=\"{x + (barWidth * 0.45):0.#}\" y=\"{Y(spread.Max) - 4:0.#}\" font-size=\"10\" text-anchor=\"middle\">{Short(spread.Median)}</text>\n"));
            }

            svg.Append(Invariant($"<text x=\"{Left + (g * groupWidth) + (groupWidth / 2):0.#}\" y=\"{Height - Bottom + 18}\" font-size=\"12\" text-anchor=\"middle\">{Escape(groups[g])}</text>\n"));
        }

        Legend(svg, series);
        return End(svg);
    }

    /// <summary>One line per series over <paramref name="xs"/>, the y axis logarithmic (latencies span decades).</summary>
    public static string Lines(string title, string xLabel, string yLabel, IReadOnlyList<double> xs, IReadOnlyList<string> series, Func<int, int, Spread?> value)
    {
        var values = Enumerable.Range(0, series.Count)
            .SelectMany(s => Enumerable.Range(0, xs.Count).Select(x => value(s, x)))
            .OfType<Spread>()
            .ToArray();
        var low = Math.Pow(10, Math.Floor(Math.Log10(Math.Max(0.01, values.Select(v => v.Min).DefaultIfEmpty(1).Min()))));
        var high = Math.Pow(10, Math.Ceiling(Math.Log10(Math.Max(low * 10, values.Select(v => v.Max).DefaultIfEmpty(10).Max()))));
        var plotWidth = Width - Left - Right;
        var plotHeight = Height - Top - Bottom;
        double Y(double v) => Top + plotHeight - ((Math.Log10(Math.Max(v, low)) - Math.Log10(low)) / (Math.Log10(high) - Math.Log10(low)) * plotHeight);
        double X(int i) => Left + (xs.Count == 1 ? plotWidth / 2.0 : i * (double)plotWidth / (xs.Count - 1));

        var svg = Begin(title);
        for (var decade = low; decade <= high * 1.0001; decade *= 10)
        {
            svg.Append(Invariant($"<line x1=\"{Left}\" x2=\"{Width - Right}\" y1=\"{Y(decade):0.#}\" y2=\"{Y(decade):0.#}\" stroke=\"#ddd\"/>\n"));
            svg.Append(Invariant($"<text x=\"{Left - 6}\" y=\"{Y(decade) + 4:0.#}\" font-size=\"11\" text-anchor=\"end\">{Short(decade)}</text>\n"));
        }

        svg.Append(Invariant($"<text transform=\"translate(18 {Top + (plotHeight / 2)}) rotate(-90)\" font-size=\"12\" text-anchor=\"middle\">{Escape(yLabel)}</text>\n"));
        for (var i = 0; i < xs.Count; i++)
        {
            svg.Append(Invariant($"<text x=\"{X(i):0.#}\" y=\"{Height - Bottom + 18}\" font-size=\"11\" text-anchor=\"middle\">{Short(xs[i])}</text>\n"));
        }

        svg.Append(Invariant($"<text x=\"{Left + (plotWidth / 2)}\" y=\"{Height - 18}\" font-size=\"12\" text-anchor=\"middle\">{Escape(xLabel)}</text>\n"));
        svg.Append(Invariant($"<line x1=\"{Left}\" x2=\"{Left}\" y1=\"{Top}\" y2=\"{Top + plotHeight}\" stroke=\"#444\"/><line x1=\"{Left}\" x2=\"{Width - Right}\" y1=\"{Top + plotHeight}\" y2=\"{Top + plotHeight}\" stroke=\"#444\"/>\n"));

        for (var s = 0; s < series.Count; s++)
        {
            var points = Enumerable.Range(0, xs.Count).Select(i => (i, v: value(s, i))).Where(p => p.v is not null).ToArray();
            if (points.Length == 0)
            {
                continue;
            }

            var color = Palette[s % Palette.Length];
            svg.Append(Invariant($"<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" points=\"{string.Join(' ', points.Select(p => Invariant($"{X(p.i):0.#},{Y(p.v!.Median):0.#}")))}\"/>\n"));
            foreach (var (i, v) in points)
            {
                svg.Append(Invariant($"<circle cx=\"{X(i):0.#}\" cy=\"{Y(v!.Median):0.#}\" r=\"3.5\" fill=\"{color}\"><title>{Escape(series[s])} at {xs[i]:N0}: {v.Format("0.###")}</title></circle>\n"));
            }
        }

        Legend(svg, series);
        return End(svg);
    }

    private static StringBuilder Begin(string title)
    {
        var svg = new StringBuilder();
        svg.Append(Invariant($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{Height}\" viewBox=\"0 0 {Width} {Height}\" font-family=\"Helvetica, Arial, sans-serif\">\n"));
        svg.Append(Invariant($"<rect width=\"{Width}\" height=\"{Height}\" fill=\"#fff\"/>\n"));
        svg.Append(Invariant($"<text x=\"{Width / 2}\" y=\"28\" font-size=\"15\" font-weight=\"bold\" text-anchor=\"middle\">{Escape(title)}</text>\n"));
        return svg;
    }

    private static string End(StringBuilder svg) => svg.Append("</svg>\n").ToString();

    private static void AxisLinear(StringBuilder svg, double scaleMax, string yLabel)
    {
        var plotHeight = Height - Top - Bottom;
        for (var i = 0; i <= 5; i++)
        {
            var v = scaleMax * i / 5;
            var y = Top + plotHeight - (plotHeight * i / 5.0);
            svg.Append(Invariant($"<line x1=\"{Left}\" x2=\"{Width - Right}\" y1=\"{y:0.#}\" y2=\"{y:0.#}\" stroke=\"#ddd\"/>\n"));
            svg.Append(Invariant($"<text x=\"{Left - 6}\" y=\"{y + 4:0.#}\" font-size=\"11\" text-anchor=\"end\">{Short(v)}</text>\n"));
        }

        svg.Append(Invariant($"<text transform=\"translate(18 {Top + (plotHeight / 2)}) rotate(-90)\" font-size=\"12\" text-anchor=\"middle\">{Escape(yLabel)}</text>\n"));
        svg.Append(Invariant($"<line x1=\"{Left}\" x2=\"{Left}\" y1=\"{Top}\" y2=\"{Top + plotHeight}\" stroke=\"#444\"/><line x1=\"{Left}\" x2=\"{Width - Right}\" y1=\"{Top + plotHeight}\" y2=\"{Top + plotHeight}\" stroke=\"#444\"/>\n"));
    }

    private static void Legend(StringBuilder svg, IReadOnlyList<string> series)
    {
        for (var s = 0; s < series.Count; s++)
        {
            var y = Top + 10 + (s * 20);
            svg.Append(Invariant($"<rect x=\"{Width - Right + 16}\" y=\"{y - 10}\" width=\"12\" height=\"12\" fill=\"{Palette[s % Palette.Length]}\"/>"));
            svg.Append(Invariant($"<text x=\"{Width - Right + 34}\" y=\"{y}\" font-size=\"12\">{Escape(series[s])}</text>\n"));
        }
    }

    /// <summary>The smallest 1, 2 or 5 × 10^n at or above <paramref name="value"/>.</summary>
    private static double NiceCeiling(double value)
    {
        if (value <= 0)
        {
            return 1;
        }

        var magnitude = Math.Pow(10, Math.Floor(Math.Log10(value)));
        return NiceSteps.Select(step => step * magnitude).First(candidate => candidate >= value);
    }

    private static string Short(double value) => value switch
    {
        >= 1_000_000 => Invariant($"{value / 1_000_000:0.##}M"),
        >= 10_000 => Invariant($"{value / 1_000:0.#}k"),
        >= 100 => Invariant($"{value:0}"),
        >= 1 => Invariant($"{value:0.##}"),
        _ => Invariant($"{value:0.###}"),
    };

    private static string Escape(string text) => WebUtility.HtmlEncode(text);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
