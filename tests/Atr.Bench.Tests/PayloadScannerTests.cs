using System.Text;
using Atr.Bench.Clients;
using Atr.Bench.Load;
using Xunit;

namespace Atr.Bench.Tests;

public sealed class PayloadScannerTests
{
    [Fact]
    public void PayloadHasTheSetSizeAndReadsBackAsAnObject()
    {
        var payload = TickPayload.Build("organization.7", 42, 123456789, 200);

        Assert.Equal(200, payload.Length);
        Assert.StartsWith("{\"name\":\"bench.tick\",\"scope\":\"organization.7\",\"seq\":42,\"ts\":123456789,\"pad\":\"x", Encoding.ASCII.GetString(payload), StringComparison.Ordinal);
        Assert.True(PayloadScanner.TryRead(payload, out var seq, out var ts));
        Assert.Equal(42, seq);
        Assert.Equal(123456789, ts);
    }

    [Theory]
    [InlineData("{\"type\":1,\"target\":\"event\",\"arguments\":[\"{\\\"name\\\":\\\"bench.tick\\\",\\\"seq\\\":9,\\\"ts\\\":77,\\\"pad\\\":\\\"\\\"}\"]}")]
    [InlineData("42[\"event\",\"{\\\"name\\\":\\\"bench.tick\\\",\\\"seq\\\":9,\\\"ts\\\":77,\\\"pad\\\":\\\"\\\"}\"]")]
    [InlineData("{\"type\":1,\"target\":\"event\",\"arguments\":[{\"name\":\"bench.tick\",\"seq\":9,\"ts\":77}]}")]
    public void ScannerReadsThePayloadWhetherObjectOrEscapedString(string frame)
    {
        Assert.True(PayloadScanner.TryRead(Encoding.UTF8.GetBytes(frame), out var seq, out var ts));
        Assert.Equal(9, seq);
        Assert.Equal(77, ts);
    }
}
