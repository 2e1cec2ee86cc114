using Atr.Hub.Backplane;
using Atr.Hub.History;
using Microsoft.Extensions.Logging;

namespace Atr.Hub.Subscriptions;

/// <summary>
/// The node's connections by scope. The first connection of a scope subscribes the node to it on
/// the backplane, the last one to leave unsubscribes it; events are looked up here by scope, so an
/// event costs the number of its local recipients, not the number of connections or scopes.
/// </summary>
internal sealed partial class SubscriptionManager(ScopeRegistry groups, IBackplane backplane, HistoryRecovery history, ILogger<SubscriptionManager> logger)
{
    /// <summary>
    /// Adds a recipient to its scope; completes once the node is subscribed to the scope, so that
    /// nothing published after it returns is missed.
    /// </summary>
    /// <param name="scope">The scope.</param>
    /// <param name="recipient">The connection.</param>
    /// <param name="cancellationToken">Stops waiting for the scope's gate or history.</param>
    /// <param name="recovering">
    /// Whether the recipient recovers what it missed: it holds what it is delivered
    /// (<see cref="IEventRecipient.Hold"/>) and joins once the scope's history is in the tail.
    /// </param>
    /// <returns>The scope's tail when the recipient joined, when it recovers; otherwise empty.</returns>
    /// <exception cref="Exception">The backplane could not subscribe; the recipient was not added.</exception>
    public async Task<EventFrame[]> AddAsync(string scope, IEventRecipient recipient, CancellationToken cancellationToken, bool recovering = false)
    {
        while (true)
        {
            var group = groups.GetOrAdd(scope);
            await group.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                if (group.Retired)
                {
                    // Lost a race with the last connection leaving; the next pass finds or makes the new group.
                    continue;
                }

                if (!group.Subscribed)
                {
                    history.BeginSeed(group);
                    try
                    {
                        // Not cancelled by the client going away: a subscription half made is worse than one finished and then removed.
                        await backplane.SubscribeAsync(scope, CancellationToken.None).ConfigureAwait(false);
                    }
                    catch
                    {
                        if (group.Count == 0)
                        {
                            group.Retired = true;
                            groups.Remove(group);
                        }

                        throw;
                    }

                    group.Subscribed = true;
                    LogSubscribed(logger, scope);

                    // Read once, now that whatever is published next reaches the node; parked meanwhile.
                    _ = history.SeedAsync(group);
                }

                if (!recovering)
                {
                    group.Add(recipient);
                    return [];
                }

                if (group.Seeded.Task.IsCompleted)
                {
                    return group.AddRecovering(recipient);
                }
            }
            finally
            {
                group.Gate.Release();
            }

            // A recovering recipient joins once the tail holds the history; the group may be gone by then.
            await group.Seeded.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Removes a recipient; the last one of a scope unsubscribes the node from it.</summary>
    public async Task RemoveAsync(string scope, IEventRecipient recipient)
    {
        if (!groups.TryGet(scope, out var group))
        {
            return;
        }

        await group.Gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (group.Retired || group.Remove(recipient) > 0)
            {
                return;
            }

            // Unsubscribe while still holding the gate and before the group leaves the map: a
            // connection arriving meanwhile waits, sees the group retired, and subscribes anew only
            // after this UNSUBSCRIBE, so the two never cross on the wire.
            if (group.Subscribed)
            {
                try
                {
                    await backplane.UnsubscribeAsync(scope).ConfigureAwait(false);
                    LogUnsubscribed(logger, scope);
                }
                catch (Exception ex)
                {
                    LogUnsubscribeFailed(logger, scope, ex);
                }
            }

            group.Retired = true;
            groups.Remove(group);
        }
        finally
        {
            group.Gate.Release();
        }
    }
}
