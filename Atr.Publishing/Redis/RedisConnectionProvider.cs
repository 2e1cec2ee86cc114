using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Atr.Publishing.Redis;

/// <summary>
/// The one <see cref="IConnectionMultiplexer"/> of the process: the application's own when it
/// registered one, otherwise one made from <see cref="AtrPublishingOptions.Redis"/> and disposed with
/// the container.
/// </summary>
internal sealed class RedisConnectionProvider : IAsyncDisposable
{
    private readonly IServiceProvider _services;
    private readonly IOptions<AtrPublishingOptions> _options;
    private readonly Lazy<Task<IConnectionMultiplexer>> _connection;
    private readonly SemaphoreSlim _connectingOrder = new(1, 1);
    private int _waitingForConnection;
    private bool _owned;

    public RedisConnectionProvider(IServiceProvider services, IOptions<AtrPublishingOptions> options)
    {
        _services = services;
        _options = options;
        _connection = new Lazy<Task<IConnectionMultiplexer>>(ConnectAsync);
    }

    /// <summary>Whether there is a Redis to connect to: a configuration string, or the application's multiplexer.</summary>
    public bool IsConfigured => !string.IsNullOrWhiteSpace(_options.Value.Redis) || _services.GetService<IConnectionMultiplexer>() is not null;

    public Task<IConnectionMultiplexer> GetConnectionAsync() => _connection.Value;

    /// <summary>
    /// Appends an event to its scope's history and publishes it, in one atomic step: the stream named
    /// like the channel gets the entry (<c>XADD … MAXLEN ~ size * id … event …</c>), keeps it
    /// <see cref="AtrPublishingOptions.HistoryTtl"/> after the scope's last event (<c>PEXPIRE</c>),
    /// and the channel gets the payload (<c>PUBLISH</c>).
    /// </summary>
    internal const string AppendAndPublishScript = AppendScript + "return redis.call('PUBLISH', KEYS[1], ARGV[2])";

    /// <summary>
    /// <see cref="AppendAndPublishScript"/> for a Redis Cluster: the payload goes out with
    /// <c>SPUBLISH</c>, to the subscribers of the shard that owns the channel's slot only. The stream
    /// and the channel share one name, so they share that slot, and the script's one key routes it.
    /// </summary>
    internal const string AppendAndShardPublishScript = AppendScript + "return redis.call('SPUBLISH', KEYS[1], ARGV[2])";

    private const string AppendScript = """
        redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[3], '*', 'id', ARGV[1], 'event', ARGV[2])
        redis.call('PEXPIRE', KEYS[1], ARGV[4])

        """;

    // Whether the connection reaches a cluster (1) or not (0), once a server was connected; -1 before.
    private int _cluster = -1;

    /// <summary>
    /// Publishes an event on <paramref name="channel"/> — appended to the scope's history first when
    /// history is on and the event has an id (<see cref="AppendAndPublishScript"/>), a plain
    /// <c>PUBLISH</c> otherwise; <c>SPUBLISH</c> instead of <c>PUBLISH</c> on a Redis Cluster — in call
    /// order, also while the connection is still being made: calls made one after another reach Redis,
    /// and every subscriber, in that order.
    /// </summary>
    /// <param name="channel">The scope's channel name, <c>&lt;prefix&gt;&lt;scope&gt;</c>; its history's key too.</param>
    /// <param name="eventId">The event's id, which its history entry is found by; null publishes without history.</param>
    /// <param name="payload">The event JSON.</param>
    /// <param name="cancellationToken">Stops waiting (the command may still go out).</param>
    public async Task PublishAsync(string channel, string? eventId, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        var connecting = _connection.Value;
        if (connecting.IsCompletedSuccessfully && Volatile.Read(ref _waitingForConnection) == 0)
        {
            // The usual case: the multiplexer writes commands in call order.
            await Send(connecting.Result, channel, eventId, payload).WaitAsync(cancellationToken).ConfigureAwait(false);
            return;
        }

        // Continuations of one pending connect may run in any order; queue the early publishes
        // (first come, first issued) and keep later ones behind them until the queue drains.
        Interlocked.Increment(ref _waitingForConnection);
        Task publishing;
        try
        {
            await _connectingOrder.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                var connection = await connecting.WaitAsync(cancellationToken).ConfigureAwait(false);
                publishing = Send(connection, channel, eventId, payload);
            }
            finally
            {
                _connectingOrder.Release();
            }
        }
        finally
        {
            Interlocked.Decrement(ref _waitingForConnection);
        }

        await publishing.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private Task Send(IConnectionMultiplexer connection, string channel, string? eventId, ReadOnlyMemory<byte> payload)
    {
        var options = _options.Value;
        var cluster = IsCluster(connection);
        if (options.HistorySize <= 0 || eventId is null)
        {
            return connection.GetSubscriber().PublishAsync(cluster ? RedisChannel.Sharded(channel) : RedisChannel.Literal(channel), payload);
        }

        return connection.GetDatabase().ScriptEvaluateAsync(
            cluster ? AppendAndShardPublishScript : AppendAndPublishScript,
            [channel],
            [eventId, payload, options.HistorySize, (long)options.HistoryTtl.TotalMilliseconds]);
    }

    /// <summary>
    /// Whether <paramref name="connection"/> reaches a Redis Cluster, remembered once a server was
    /// connected. Before that the kind of Redis is unknown, and a publish made then goes out as on one
    /// Redis: it fails or waits for the connection, and should the first server to answer be a
    /// cluster's, it reaches no sharded subscriber (its history entry is kept all the same).
    /// </summary>
    private bool IsCluster(IConnectionMultiplexer connection)
    {
        var known = Volatile.Read(ref _cluster);
        if (known >= 0)
        {
            return known == 1;
        }

        if (RedisTopology.IsCluster(connection) is not { } cluster)
        {
            return false;
        }

        Volatile.Write(ref _cluster, cluster ? 1 : 0);
        return cluster;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_connection.IsValueCreated || !_owned)
        {
            return;
        }

        var connecting = _connection.Value;
        if (connecting.IsCompletedSuccessfully)
        {
            await connecting.Result.DisposeAsync().ConfigureAwait(false);
        }
        else if (!connecting.IsCompleted)
        {
            // Disposed while still connecting (Redis down at shutdown): dispose the multiplexer when
            // it arrives, or it lives on and reconnects forever. Not awaited, so shutdown is not held
            // for the connect timeout.
            _ = connecting.ContinueWith(
                static task =>
                {
                    if (task.IsCompletedSuccessfully)
                    {
                        task.Result.Dispose();
                    }
                },
                CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
        }
    }

    private async Task<IConnectionMultiplexer> ConnectAsync()
    {
        var shared = _services.GetService<IConnectionMultiplexer>();
        if (shared is not null)
        {
            return shared;
        }

        var configuration = _options.Value.Redis;
        if (string.IsNullOrWhiteSpace(configuration))
        {
            throw new InvalidOperationException(
                "Atr needs a Redis configuration (AtrPublishingOptions.Redis, e.g. \"127.0.0.1:6379\") or a registered IConnectionMultiplexer.");
        }

        _owned = true;
        return await ConnectionMultiplexer.ConnectAsync(Configure(configuration)).ConfigureAwait(false);
    }

    /// <summary>
    /// The endpoints of a configuration string (<c>127.0.0.1:6379,password=…</c> gives
    /// <c>127.0.0.1:6379</c>), for logs and answers: never its password or other settings.
    /// </summary>
    internal static string Endpoints(string? configuration)
    {
        if (string.IsNullOrWhiteSpace(configuration))
        {
            return "(the application's connection)";
        }

        try
        {
            return string.Join(",", ConfigurationOptions.Parse(configuration).EndPoints.Select(EndPointCollection.ToString));
        }
        catch (ArgumentException)
        {
            return "(an invalid configuration)";
        }
    }

    /// <summary>
    /// The settings of every Redis connection Atr makes from a configuration string: it starts while
    /// Redis is away, and reconnects within about a second of Redis coming back (the default backs
    /// off for seconds).
    /// </summary>
    internal static ConfigurationOptions Configure(string configuration)
    {
        var options = ConfigurationOptions.Parse(configuration);
        options.AbortOnConnectFail = false;
        options.ReconnectRetryPolicy = new ExponentialRetry(deltaBackOffMilliseconds: 100, maxDeltaBackOffMilliseconds: 1000);
        return options;
    }
}
