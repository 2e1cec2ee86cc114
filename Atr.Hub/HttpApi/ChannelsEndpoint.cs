using Atr.Hub.Backplane;
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
/// <remarks>
/// A Redis that cannot answer is said at once, in one line: 503 as soon as the node knows Redis is
/// away, and within <see cref="ReadTimeout"/> when it is slow, never after the client library's
/// own 5 s timeout with its diagnostic dump.
/// </remarks>
internal sealed class ChannelsEndpoint(EventRegistry registry, RedisConnectionProvider redis, IBackplane backplane, IOptions<AtrHubOptions> options)
{
    /// <summary>How long the registry read may take, the connection included.</summary>
    public static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(1);

    public async Task<Results<JsonHttpResult<string[]>, ProblemHttpResult>> HandleAsync(CancellationToken cancellationToken)
    {
        var names = new SortedSet<string>(registry.Channels, StringComparer.Ordinal);
        if (redis.IsConfigured)
        {
            if (backplane.Problem is { } problem)
            {
                // The node knows Redis is away: said at once rather than after a timeout.
                return Unavailable($"{problem}; the registry can be read once it is back.");
            }

            try
            {
                var connection = await redis.GetConnectionAsync().WaitAsync(ReadTimeout, cancellationToken).ConfigureAwait(false);
                if (!connection.IsConnected)
                {
                    return Unavailable($"Redis at {RedisConnectionProvider.Endpoints(options.Value.Redis)} is unreachable; the registry can be read once it is back.");
                }

                var announced = await connection.GetDatabase()
                    .SetMembersAsync(RedisRegistryAnnouncer.RegistryKey(options.Value.ChannelPrefix))
                    .WaitAsync(ReadTimeout, cancellationToken)
                    .ConfigureAwait(false);
                foreach (var name in announced)
                {
                    names.Add(name.ToString());
                }
            }
            catch (TimeoutException)
            {
                return Unavailable($"Redis at {RedisConnectionProvider.Endpoints(options.Value.Redis)} did not answer within {ReadTimeout.TotalSeconds:0.#} s.");
            }
            catch (RedisException ex)
            {
                return Unavailable($"The registry could not be read from Redis ({ex.GetType().Name}).");
            }
        }

        return TypedResults.Json(names.ToArray(), HubJsonContext.Default.StringArray);
    }

    private static ProblemHttpResult Unavailable(string detail)
        => TypedResults.Problem(detail: detail, statusCode: StatusCodes.Status503ServiceUnavailable, title: "Registry unavailable");
}
