using System.Threading.Channels;
using Atr.Testing;
using Xunit;

namespace Atr.Hub.Tests.Infrastructure;

/// <summary>Reads what a test client received (<see cref="WsClient"/> frames, <see cref="SignalRClient"/> events) with the suite's bounded waits.</summary>
internal static class Received
{
    /// <summary>The next message; fails after <see cref="TestTimeouts.Default"/>, naming it <paramref name="what"/>.</summary>
    public static async Task<string> NextAsync(this ChannelReader<string> received, string what)
    {
        try
        {
            return await received.ReadAsync().AsTask().DefaultTimeout();
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"No {what} arrived within {TestTimeouts.Default.TotalSeconds} s.");
        }
    }

    /// <summary>Asserts that no message arrives within <see cref="TestTimeouts.Nothing"/>.</summary>
    public static async Task AssertNothingAsync(this ChannelReader<string> received, string what)
    {
        using var wait = new CancellationTokenSource(TestTimeouts.Nothing);
        try
        {
            var unexpected = await received.ReadAsync(wait.Token);
            Assert.Fail($"Expected no {what}, got {unexpected}");
        }
        catch (OperationCanceledException)
        {
        }
        catch (ChannelClosedException)
        {
            // The connection ended with nothing more received.
        }
    }
}
