using Atr.Bench.Cli;
using Atr.Bench.Targets;
using Atr.Testing;
using Xunit;

namespace Atr.Bench.Tests;

public sealed class BenchCommandLineTests
{
    [Fact]
    public void RatesTakeThousandsAndMillions()
    {
        Assert.Equal([10_000, 1_500_000, 500], BenchCommandLine.ParseRates("10k, 1.5m,500"));
        Assert.Equal("--rates: '10q' is not a rate such as 500, 40k or 1.5m.", Assert.Throws<FormatException>(() => BenchCommandLine.ParseRates("10k,10q")).Message);
        Assert.Throws<FormatException>(() => BenchCommandLine.ParseRates("0"));
    }

    [Fact]
    public void CpuListsReadAndWriteAsTasksetDoes()
    {
        Assert.Equal([0, 1, 2, 5], CpuSet.Parse("0-2,5"));
        Assert.Equal("0-2,5", CpuSet.Format([5, 1, 0, 2]));
        Assert.Throws<FormatException>(() => CpuSet.Parse("2-1"));
        Assert.Throws<FormatException>(() => CpuSet.Parse("one"));
    }

    [Fact]
    public void PinningIsDecidedByTheMachinesCpusNotByTheToolsOwnAffinity()
    {
        // bench/run.sh runs the tool under taskset -c 1, where Environment.ProcessorCount is 1.
        Assert.True(CpuSet.Online().Count >= Environment.ProcessorCount);
        Assert.Equal("--server-cpus 0 and --load-cpus 0 share a CPU", BenchCommandLine.WhyNotPinned("0", "0"));
        if (CpuSet.Online().Count >= 2)
        {
            Assert.Null(BenchCommandLine.WhyNotPinned("0", "1"));
        }
    }

    [Fact]
    public async Task APinnedChildRunsOnlyOnItsCpus()
    {
        var child = ChildProcess.Start("sleep", "sleep", ["30"], cpus: "0");
        await using (child)
        {
            // taskset sets the affinity, then becomes the program: once the pid is sleep's, the affinity is final.
            await TestTimeouts.UntilAsync(() => File.ReadAllText($"/proc/{child.Id}/comm").Trim() == "sleep", "taskset ran sleep");
            Assert.Equal([0], CpuSet.AllowedFor(child.Id));
        }
    }
}
