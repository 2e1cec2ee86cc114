using Atr.Bench.Results;
using Atr.Bench.Scenarios;
using Xunit;

namespace Atr.Bench.Tests;

public sealed class IdleScenarioTests
{
    [Fact]
    public void RssPerConnectionIsTheSlopeOfTheLeastSquaresLine()
    {
        IdleStep[] steps = [new(1000, 50_000_000), new(2000, 60_000_000), new(3000, 70_000_000)];

        Assert.Equal(10_000, IdleScenario.Slope(steps), 6);
    }
}
