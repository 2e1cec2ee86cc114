namespace Atr.Hub.Security;

/// <summary>
/// Calls back when a token expires, however far away that is: a timer cannot wait more than about
/// 49 days, so a longer wait is taken in steps.
/// </summary>
internal sealed class ExpiryTimer : IDisposable
{
    private static readonly TimeSpan LongestStep = TimeSpan.FromDays(20);

    private readonly TimeProvider _timeProvider;
    private readonly DateTimeOffset _expiresAt;
    private readonly Action _expired;
    private readonly ITimer _timer;

    private ExpiryTimer(TimeProvider timeProvider, DateTimeOffset expiresAt, Action expired)
    {
        _timeProvider = timeProvider;
        _expiresAt = expiresAt;
        _expired = expired;
        _timer = timeProvider.CreateTimer(_ => Tick(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        Arm();
    }

    /// <summary>Starts a timer for <paramref name="expiresAt"/>, or none when the token never expires.</summary>
    public static ExpiryTimer? Start(TimeProvider timeProvider, DateTimeOffset? expiresAt, Action expired)
        => expiresAt is { } at ? new ExpiryTimer(timeProvider, at, expired) : null;

    public void Dispose() => _timer.Dispose();

    private void Tick()
    {
        if (_timeProvider.GetUtcNow() >= _expiresAt)
        {
            _expired();
        }
        else
        {
            Arm();
        }
    }

    private void Arm()
    {
        var dueIn = _expiresAt - _timeProvider.GetUtcNow();
        _timer.Change(dueIn <= TimeSpan.Zero ? TimeSpan.Zero : dueIn < LongestStep ? dueIn : LongestStep, Timeout.InfiniteTimeSpan);
    }
}
