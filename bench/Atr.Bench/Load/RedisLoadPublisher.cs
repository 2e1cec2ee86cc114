using Atr.Bench.Measurement;
using StackExchange.Redis;

namespace Atr.Bench.Load;

/// <summary><c>PUBLISH atr:&lt;scope&gt; &lt;payload&gt;</c>, pipelined: what an application's Atr publisher does.</summary>
internal sealed class RedisLoadPublisher(ConnectionMultiplexer redis) : ILoadPublisher
{
    private readonly ISubscriber _subscriber = redis.GetSubscriber();
    private readonly Dictionary<ScopeTracker, RedisChannel> _channels = [];

    public void Publish(ScopeTracker scope, byte[] payload)
    {
        if (!_channels.TryGetValue(scope, out var channel))
        {
            channel = RedisChannel.Literal("atr:" + scope.Name);
            _channels[scope] = channel;
        }

        _subscriber.Publish(channel, payload, CommandFlags.FireAndForget);
    }

    public Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
