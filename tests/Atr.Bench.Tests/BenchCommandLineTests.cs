using Atr.Bench.Cli;
using Xunit;

namespace Atr.Bench.Tests;

public sealed class BenchCommandLineTests
{
    [Fact]
    public void RatesTakeThousandsAndMillions()
        => Assert.Equal([10_000, 1_500_000, 500], BenchCommandLine.ParseRates("10k, 1.5m,500"));
}
