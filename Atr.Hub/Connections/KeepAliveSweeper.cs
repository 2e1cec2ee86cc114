using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Atr.Hub.Connections;

/// <summary>
/// The keep-alive of every raw connection of the node, on one clock: each tick looks at every
/// watched connection, pings those whose interval is up and aborts those that let a ping go
/// unanswered for the rest of <see cref="AtrHubOptions.PeerTimeout"/>.
/// </summary>
/// <remarks>
/// A WebSocket's own keep-alive runs a timer per connection that fires four times per interval,
/// each firing a wake-up of the thread pool on its own: with 5,000 idle connections that cost the
/// hub's core more than the pings themselves (docs/benchmarks.md). Here one tick of at most
/// <see cref="MaxTick"/> visits them all in one pass, and the pings due in it go out together.
/// Each connection still pings at its own interval, drawn between three quarters of
/// <see cref="AtrHubOptions.KeepAliveInterval"/> and all of it, so that clients that connected
/// together are not pinged together.
/// </remarks>
internal sealed partial class KeepAliveSweeper : IDisposable
{
    /// <summary>The share of <see cref="AtrHubOptions.KeepAliveInterval"/> by which a connection's own ping interval may be shorter.</summary>
    public const double Spread = 0.25;

    /// <summary>The longest time between two ticks; shorter intervals and timeouts tick at a quarter of the shorter one.</summary>
    public static readonly TimeSpan MaxTick = TimeSpan.FromMilliseconds(250);

    private static readonly TimeSpan MinTick = TimeSpan.FromMilliseconds(10);

    private readonly NodeClock<KeepAliveStream> _clock;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly TimeSpan _interval;
    private readonly long _timeout;

    public KeepAliveSweeper(IOptions<AtrHubOptions> options, TimeProvider time, ILogger<KeepAliveSweeper> logger)
    {
        _time = time;
        _logger = logger;
        _interval = options.Value.KeepAliveInterval;
        Timeout = options.Value.PeerTimeout - _interval;
        _timeout = ToTimestamp(Timeout);
        var tick = (_interval < Timeout ? _interval : Timeout) / 4;
        Tick = tick > MaxTick ? MaxTick : tick < MinTick ? MinTick : tick;
        _clock = new NodeClock<KeepAliveStream>(time, Tick, Sweep);
    }

    /// <summary>How long a client has to answer a ping: what <see cref="AtrHubOptions.PeerTimeout"/> leaves after the ping interval.</summary>
    public TimeSpan Timeout { get; }

    /// <summary>The time between two looks at every connection.</summary>
    public TimeSpan Tick { get; }

    /// <summary>The clock's current timestamp.</summary>
    public long Now => _time.GetTimestamp();

    /// <summary>How many connections are watched.</summary>
    public int Count => _clock.Count;

    /// <summary>One connection's ping interval, as a span.</summary>
    public TimeSpan NextSpan() => _interval * (1 - (Spread * Random.Shared.NextDouble()));

    /// <summary>One connection's ping interval, in the clock's timestamps.</summary>
    public long NextInterval() => ToTimestamp(NextSpan());

    public void Watch(KeepAliveStream stream) => _clock.Add(stream);

    public void Forget(KeepAliveStream stream) => _clock.Remove(stream);

    public void Dispose() => _clock.Dispose();

    private void Sweep(KeepAliveStream[] streams)
    {
        var now = _time.GetTimestamp();
        foreach (var stream in streams)
        {
            bool alive;
            try
            {
                alive = stream.Visit(now, _timeout);
            }
            catch (Exception ex)
            {
                // Not a client that went away (the stream takes those in its stride): a fault of
                // the hub's own. That connection ends; the others keep their keep-alive.
                LogKeepAliveFailed(_logger, ex);
                stream.Abort();
                alive = false;
            }

            if (!alive)
            {
                Forget(stream);
            }
        }
    }

    private long ToTimestamp(TimeSpan span) => (long)(span.TotalSeconds * _time.TimestampFrequency);
}
