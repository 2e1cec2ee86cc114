using Atr.Publishing;
using Atr.Publishing.Redis;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Atr.Hub.HttpApi;

/// <summary>
/// <c>GET /channels</c>: every event name publishers have announced (the original's
/// <c>Atr::Registry.channels</c>), as a sorted JSON array: the Redis registry set joined with this
/// node's own registry.
/// </summary>
internal sealed class ChannelsEndpoint(EventRegistry registry, RedisConnectionProvider redis, IOptions<AtrHubOptions> options)
{
    public async Task<Results<JsonHttpResult<string[]>, ProblemHttpResult>> HandleAsync(CancellationToken cancellationToken)
    {
        var names = new SortedSet<string>(registry.Channels, StringComparer.Ordinal);
        if (redis.IsConfigured)
        {
            try
            {
                var connection = await redis.GetConnectionAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
                var announced = await connection.GetDatabase()
                    .SetMembersAsync(RedisRegistryAnnouncer.RegistryKey(options.Value.ChannelPrefix))
                    .WaitAsync(cancellationToken)
                    .ConfigureAwait(false);
                foreach (var name in announced)
                {
                    names.Add(name.ToString());
                }
            }
            catch (RedisException ex)
            {
                return TypedResults.Problem(
                    detail: $"The registry could not be read from Redis: {ex.Message}",
                    statusCode: StatusCodes.Status503ServiceUnavailable,
                    title: "Registry unavailable");
            }
        }

        return TypedResults.Json(names.ToArray(), HubJsonContext.Default.StringArray);
    }
}
