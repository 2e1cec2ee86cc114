using System.Buffers;
using System.Reflection;
using Atr.Publishing;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace Atr.Bench.Cluster;

/// <summary>
/// Publishes events to a Redis Cluster the way a measurement asks. Sharded: through Atr's own publisher
/// (<c>Atr.Publishing</c>, from the service collection as an application has it), which on a cluster runs its
/// append-and-<c>SPUBLISH</c> script, or a plain <c>SPUBLISH</c> with history off. Classic: what a publisher unaware of
/// sharded pub/sub would send, and Atr never does on a cluster: Atr's one-Redis script (append and <c>PUBLISH</c>), or
/// a plain <c>PUBLISH</c>, each routed to the master of the scope's slot like the sharded run, so that the two differ
/// only in how the publish reaches subscribers.
/// </summary>
internal sealed class ClusterPublisher : IAsyncDisposable
{
    // Read from Atr.Publishing rather than copied: the classic run sends the very script Atr ships for one Redis.
    private static readonly Lazy<string> ClassicScript = new(() => AtrScript("AppendAndPublishScript"));

    private readonly ServiceProvider _services;
    private readonly IEventPublisher? _atr;
    private readonly ConnectionMultiplexer? _classic;
    private readonly IEventSerializer _serializer;
    private readonly int _historySize;

    private ClusterPublisher(ServiceProvider services, ConnectionMultiplexer? classic, int historySize)
    {
        _services = services;
        _classic = classic;
        _historySize = historySize;
        _serializer = services.GetRequiredService<IEventSerializer>();
        Events = services.GetRequiredService<EventFactory>();
        _atr = classic is null ? services.GetRequiredService<IEventPublisher>() : null;
    }

    /// <summary>Makes the events (id and time), as an application's publisher would.</summary>
    public EventFactory Events { get; }

    /// <summary>A publisher to <paramref name="configuration"/>; it connects on its first event (sharded) or now (classic).</summary>
    public static async Task<ClusterPublisher> StartAsync(bool sharded, string configuration, int historySize)
    {
        var services = new ServiceCollection()
            .AddAtrPublishing(options =>
            {
                options.Redis = configuration;
                options.HistorySize = historySize;
            })
            .BuildServiceProvider();
        try
        {
            var classic = sharded ? null : await ConnectionMultiplexer.ConnectAsync(configuration).ConfigureAwait(false);
            return new ClusterPublisher(services, classic, historySize);
        }
        catch
        {
            await services.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public Task PublishAsync(AtrEvent atrEvent, CancellationToken cancellationToken)
    {
        if (_atr is not null)
        {
            return _atr.PublishAsync(atrEvent, cancellationToken);
        }

        var payload = Serialize(atrEvent);
        var channel = ScopeLayout.ChannelPrefix + atrEvent.Scope;
        if (_historySize <= 0)
        {
            return _classic!.GetSubscriber().PublishAsync(RedisChannel.Literal(channel).WithKeyRouting(), payload);
        }

        return _classic!.GetDatabase().ScriptEvaluateAsync(
            ClassicScript.Value,
            [channel],
            [atrEvent.Id, payload, _historySize, (long)AtrPublishingOptions.DefaultHistoryTtl.TotalMilliseconds]);
    }

    /// <summary>The event's JSON, as subscribers receive it.</summary>
    public ReadOnlyMemory<byte> Serialize(AtrEvent atrEvent)
    {
        var payload = new ArrayBufferWriter<byte>(256);
        _serializer.Serialize(atrEvent, payload);
        return payload.WrittenMemory;
    }

    public async ValueTask DisposeAsync()
    {
        if (_classic is not null)
        {
            await _classic.DisposeAsync().ConfigureAwait(false);
        }

        await _services.DisposeAsync().ConfigureAwait(false);
    }

    private static string AtrScript(string name)
        => typeof(AtrPublishingOptions).Assembly
            .GetType("Atr.Publishing.Redis.RedisConnectionProvider")?
            .GetField(name, BindingFlags.NonPublic | BindingFlags.Static)?
            .GetRawConstantValue() as string
            ?? throw new InvalidOperationException($"Atr.Publishing has no script {name} any more: the classic run sends Atr's one-Redis script and must be updated with it.");
}
