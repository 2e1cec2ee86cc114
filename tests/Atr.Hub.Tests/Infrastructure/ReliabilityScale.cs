using System.Globalization;

namespace Atr.Hub.Tests.Infrastructure;

/// <summary>
/// How big the reliability tests run: 1 in the suite (small enough for CI), larger from
/// <c>bench/reliability.sh</c>, which sets <c>ATR_RELIABILITY_SCALE</c> to run the same tests with
/// more clients, events and fault cycles.
/// </summary>
internal static class ReliabilityScale
{
    /// <summary>The factor from <c>ATR_RELIABILITY_SCALE</c>; 1 when unset.</summary>
    public static int Factor { get; } = int.TryParse(Environment.GetEnvironmentVariable("ATR_RELIABILITY_SCALE"), NumberStyles.None, CultureInfo.InvariantCulture, out var factor) && factor > 0 ? factor : 1;

    /// <summary><paramref name="count"/> times the factor.</summary>
    public static int Of(int count) => checked(count * Factor);
}
