using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Atr.Publishing.Redis;

/// <summary>
/// Announces the <see cref="EventRegistry"/> to Redis — <c>SADD &lt;prefix&gt;channels name…</c> — at
/// start, whenever it grows and once a minute, retrying with backoff while Redis is unreachable. Hub nodes
/// read the set for <c>GET /channels</c>.
/// </summary>
internal sealed partial class RedisRegistryAnnouncer(
    EventRegistry registry,
    RedisConnectionProvider connections,
    IOptions<AtrPublishingOptions> options,
    TimeProvider timeProvider,
    ILogger<RedisRegistryAnnouncer> logger) : BackgroundService
{
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(30);

    // Redis may lose the set (a restart without persistence, a flush): announce again now and then.
    private static readonly TimeSpan RefreshInterval = TimeSpan.FromMinutes(1);

    /// <summary>The Redis set of announced names: <c>atr:channels</c> by default. No scope is one segment, so no channel collides with it.</summary>
    public static RedisKey RegistryKey(string channelPrefix) => channelPrefix + "channels";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!connections.IsConfigured)
        {
            return;
        }

        var key = RegistryKey(options.Value.ChannelPrefix);
        var announced = -1L;
        var retryDelay = TimeSpan.FromSeconds(1);
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                var version = registry.Version;
                var names = registry.Channels;
                if (version != announced && names.Count > 0)
                {
                    try
                    {
                        var connection = await connections.GetConnectionAsync().WaitAsync(stoppingToken).ConfigureAwait(false);
                        await connection.GetDatabase()
                            .SetAddAsync(key, [.. names.Select(n => (RedisValue)n)])
                            .WaitAsync(stoppingToken)
                            .ConfigureAwait(false);
                        announced = version;
                        retryDelay = TimeSpan.FromSeconds(1);
                        LogAnnounced(logger, names.Count, key.ToString());
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException)
                    {
                        LogAnnounceFailed(logger, key.ToString(), retryDelay.TotalSeconds, ex);
                        await Task.Delay(retryDelay, timeProvider, stoppingToken).ConfigureAwait(false);
                        retryDelay = TimeSpan.FromTicks(Math.Min(retryDelay.Ticks * 2, MaxRetryDelay.Ticks));
                        continue;
                    }
                }

                try
                {
                    // The stopping token goes to the outer wait only, which lets go of it when the
                    // refresh interval ends; given to the inner one too, every interval would leave a
                    // registration on it behind until the registry changed.
                    await registry.WaitForChangeAsync(version, CancellationToken.None).WaitAsync(RefreshInterval, timeProvider, stoppingToken).ConfigureAwait(false);
                }
                catch (TimeoutException)
                {
                    announced = -1;
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
