using System.Collections.Concurrent;
using Atr.Hub.Subscriptions;
using Atr.Publishing.Redis;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Atr.Hub.Backplane;

/// <summary>
/// Redis pub/sub: one plain <c>SUBSCRIBE &lt;prefix&gt;&lt;scope&gt;</c> per scope the node serves,
/// never a pattern, so a <c>PUBLISH</c> costs Redis the same however many scopes exist.
/// </summary>
/// <remarks>
/// Each scope gets its own <see cref="ChannelMessageQueue"/>, which StackExchange.Redis drains in
/// order: events of one scope keep their publish order, scopes do not wait for each other.
/// </remarks>
internal sealed class RedisBackplane(
    RedisConnectionProvider connections,
    EventDispatcher dispatcher,
    IOptions<AtrHubOptions> options) : IBackplane
{
    private readonly ConcurrentDictionary<string, ChannelMessageQueue> _queues = new(StringComparer.Ordinal);
    private readonly string _prefix = options.Value.ChannelPrefix;

    public string Name => "redis";

    public bool IsConnected
    {
        get
        {
            var connecting = connections.GetConnectionAsync();
            return connecting.IsCompletedSuccessfully && connecting.Result.IsConnected;
        }
    }

    public async Task SubscribeAsync(string scope, CancellationToken cancellationToken)
    {
        var connection = await connections.GetConnectionAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
        var subscriber = connection.GetSubscriber();
        ChannelMessageQueue queue;
        try
        {
            queue = await subscriber.SubscribeAsync(Channel(scope)).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            // The client library registers the queue before Redis answers; without this, a failed
            // subscribe would leave a reader-less queue behind and keep the channel subscribed.
            try
            {
                await subscriber.UnsubscribeAsync(Channel(scope)).ConfigureAwait(false);
            }
            catch (RedisException)
            {
                // Redis is away; the local registration is gone either way, and the first error says why.
            }

            throw;
        }

        // The handler runs on the queue's own loop, one message at a time; it only queues frames.
        queue.OnMessage(message => dispatcher.Dispatch(scope, ((byte[]?)message.Message) ?? []));
        if (!_queues.TryAdd(scope, queue))
        {
            // SubscriptionManager subscribes a scope once; a second queue would deliver twice.
            await queue.UnsubscribeAsync().ConfigureAwait(false);
            throw new InvalidOperationException($"Scope '{scope}' is already subscribed.");
        }
    }

    public async Task UnsubscribeAsync(string scope)
    {
        if (_queues.TryRemove(scope, out var queue))
        {
            await queue.UnsubscribeAsync().ConfigureAwait(false);
        }
    }

    public Task PublishAsync(string scope, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
        => connections.PublishAsync(Channel(scope), payload, cancellationToken);

    private RedisChannel Channel(string scope) => RedisChannel.Literal(_prefix + scope);
}
