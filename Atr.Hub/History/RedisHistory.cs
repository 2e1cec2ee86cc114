using Atr.Publishing.Redis;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Atr.Hub.History;

/// <summary>
/// A scope's history in Redis: the stream named like its channel (<c>atr:organization.1234</c>),
/// whose entries Atr's publishers append with the event's <c>id</c> and its JSON (<c>event</c>).
/// </summary>
internal sealed class RedisHistory(RedisConnectionProvider redis, IOptions<AtrHubOptions> options) : IEventHistory
{
    private static readonly RedisValue IdField = "id";
    private static readonly RedisValue EventField = "event";

    public async Task<IReadOnlyList<HistoryEntry>> ReadAsync(string scope, CancellationToken cancellationToken)
    {
        var connection = await redis.GetConnectionAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
        var entries = await connection.GetDatabase()
            .StreamRangeAsync(options.Value.ChannelPrefix + scope)
            .WaitAsync(cancellationToken)
            .ConfigureAwait(false);
        var history = new List<HistoryEntry>(entries.Length);
        foreach (var entry in entries)
        {
            string? id = null;
            byte[]? payload = null;
            foreach (var field in entry.Values)
            {
                if (field.Name == IdField)
                {
                    id = field.Value;
                }
                else if (field.Name == EventField)
                {
                    payload = field.Value;
                }
            }

            // An entry another program wrote without both fields is not an Atr event: skipped.
            if (id is not null && payload is not null)
            {
                history.Add(new HistoryEntry(id, payload));
            }
        }

        return history;
    }
}
