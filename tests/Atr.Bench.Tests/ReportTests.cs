using Atr.Bench.Cli;
using Atr.Bench.Results;
using Atr.Bench.Scenarios;
using Xunit;

namespace Atr.Bench.Tests;

public sealed class ReportTests
{
    [Fact]
    public void RssPerConnectionIsTheSlopeOfTheLeastSquaresLine()
    {
        IdleStep[] steps = [new(1000, 50_000_000), new(2000, 60_000_000), new(3000, 70_000_000)];

        Assert.Equal(10_000, IdleScenario.Slope(steps), 6);
    }

    [Fact]
    public void RatesTakeThousandsAndMillions()
        => Assert.Equal([10_000, 1_500_000, 500], BenchCommandLine.ParseRates("10k, 1.5m,500"));
}
