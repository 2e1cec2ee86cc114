using Atr.Hub.Subscriptions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Atr.Hub.History;

/// <summary>
/// Makes reconnects and Redis outages lossless from the scopes' history. A node reads a scope's
/// history once, when it subscribes to it (<see cref="SeedAsync"/>), and keeps the tail up to date
/// from the events it delivers; a client that comes back with <c>since</c> is served from that tail
/// (<see cref="Recover"/>). When the node loses its Redis subscription, what arrives from Redis is
/// parked (<see cref="BackplaneLost"/>); once it is back, each scope's clients get the events of the
/// gap from history, in order and once, then what was parked (<see cref="BackplaneRestoredAsync"/>),
/// and <c>atr.resync</c> only where history cannot cover the gap. On a Redis Cluster the same happens
/// scope by scope, for the scopes of one shard (<see cref="ScopesLost"/>, <see cref="ScopesRestoredAsync"/>).
/// </summary>
internal sealed partial class HistoryRecovery(
    ScopeRegistry groups,
    IEventHistory history,
    TimeProvider time,
    IOptions<AtrHubOptions> options,
    ILogger<HistoryRecovery> logger)
{
    private readonly int _size = options.Value.HistorySize;
    private int _lost;

    public bool IsEnabled => _size > 0;

    /// <summary>
    /// Called under the scope's gate before the node subscribes it: what arrives from then on is
    /// parked until the tail holds the scope's history.
    /// </summary>
    public void BeginSeed(ScopeGroup group)
    {
        if (!IsEnabled)
        {
            group.Seeded.TrySetResult();
            return;
        }

        lock (group.DeliveryLock)
        {
            group.Parked ??= [];
        }
    }

    /// <summary>Fills the tail of a scope the node has just subscribed from its history, then delivers what was parked meanwhile.</summary>
    public async Task SeedAsync(ScopeGroup group)
    {
        if (!IsEnabled)
        {
            return;
        }

        var entries = await TryReadAsync(group.Scope).ConfigureAwait(false);
        int queued;
        lock (group.DeliveryLock)
        {
            var tail = group.Tail!;
            var seen = new HashSet<string>(StringComparer.Ordinal);
            if (entries is not null)
            {
                foreach (var entry in entries.Skip(Math.Max(0, entries.Count - _size)))
                {
                    tail.Append(new EventFrame(entry.Payload, entry.Id));
                    seen.Add(entry.Id);
                }
            }

            if (entries is null || Volatile.Read(ref _lost) != 0 || group.Lost)
            {
                // Redis (or the scope's shard) is away: the scope stays parked, and with no history
                // read there is no knowing where its gap begins; once it is back its clients get atr.resync.
                group.GapAfter = entries is null ? null : GapAfter(tail);
                group.Seeded.TrySetResult();
                return;
            }

            // What was parked arrived after the subscription: what the read saw is in the tail already.
            queued = DeliverParked(group, seen);
        }

        group.Seeded.TrySetResult();
        LogSeeded(logger, group.Scope, group.Tail!.Count, queued);
    }

    /// <summary>
    /// The frames a member that joined with <paramref name="tail"/> missed after <paramref name="since"/>,
    /// oldest first: the rest of the tail, or <c>atr.resync</c> (<c>history_unavailable</c>) when the
    /// tail does not hold <paramref name="since"/>.
    /// </summary>
    public EventFrame[] Recover(string scope, EventFrame[] tail, string since)
        => ScopeTail.After(tail, since) ?? [ResyncFrame.Create(scope, ResyncFrame.HistoryUnavailable, time)];

    /// <summary>The node's Redis subscription is lost: every scope parks what arrives from Redis, noting where its gap begins.</summary>
    public void BackplaneLost()
    {
        if (!IsEnabled || Interlocked.Exchange(ref _lost, 1) == 1)
        {
            return;
        }

        var parked = 0;
        foreach (var group in groups.All)
        {
            lock (group.DeliveryLock)
            {
                parked += BeginParking(group) ? 1 : 0;
            }
        }

        LogLost(logger, parked);
    }

    /// <summary>The node's Redis subscription is back: every scope's gap is filled from history, or answered with <c>atr.resync</c>.</summary>
    public async Task BackplaneRestoredAsync()
    {
        Interlocked.Exchange(ref _lost, 0);
        var scopes = groups.All.ToArray();
        var filled = await Task.WhenAll(scopes.Select(RefillAsync)).ConfigureAwait(false);
        LogRestored(logger, scopes.Length, filled.Count(f => f), filled.Count(f => !f));
    }

    /// <summary>
    /// The subscriptions of some scopes were lost while the node's others were not (on a Redis Cluster,
    /// their shard's master failed, or their slot moved): they park what arrives, noting where their gap begins.
    /// </summary>
    public void ScopesLost(IEnumerable<string> scopes)
    {
        if (!IsEnabled)
        {
            return;
        }

        foreach (var scope in scopes)
        {
            if (groups.TryGet(scope, out var group))
            {
                lock (group.DeliveryLock)
                {
                    group.Lost = true;
                    BeginParking(group);
                }
            }
        }
    }

    /// <summary>Scopes whose subscriptions were lost are subscribed again: each one's gap is filled from history, or answered with <c>atr.resync</c>.</summary>
    /// <returns>How many got <c>atr.resync</c>.</returns>
    public async Task<int> ScopesRestoredAsync(IEnumerable<string> scopes)
    {
        var restored = new List<ScopeGroup>();
        foreach (var scope in scopes)
        {
            if (groups.TryGet(scope, out var group))
            {
                restored.Add(group);
            }
        }

        var filled = await Task.WhenAll(restored.Select(RefillAsync)).ConfigureAwait(false);
        return filled.Count(f => !f);
    }

    private async Task<bool> RefillAsync(ScopeGroup group)
    {
        // A scope subscribed just now may still be reading its history: its gap begins where that read
        // ends. (Seeding always completes once it began; a scope not subscribed yet is not waited for.)
        if (group.Subscribed)
        {
            await group.Seeded.Task.ConfigureAwait(false);
        }

        string? after;
        lock (group.DeliveryLock)
        {
            group.Lost = false;

            // When no loss was seen for this scope, its gap begins at what it delivered last.
            BeginParking(group);

            after = group.GapAfter;
        }

        var entries = after is null ? null : await TryReadAsync(group.Scope).ConfigureAwait(false);
        lock (group.DeliveryLock)
        {
            var missed = entries is null ? null : After(entries, after!);
            var delivered = new HashSet<string>(StringComparer.Ordinal);
            if (missed is null)
            {
                group.DeliverToMembers(ResyncFrame.Create(group.Scope, ResyncFrame.BackplaneInterrupted, time));
            }
            else
            {
                foreach (var entry in missed)
                {
                    // An event published on this node during the outage was delivered then.
                    if (group.Tail!.Contains(entry.Id))
                    {
                        continue;
                    }

                    var frame = new EventFrame(entry.Payload, entry.Id);
                    group.Tail.Append(frame);
                    group.DeliverToMembers(frame);
                    delivered.Add(entry.Id);
                }
            }

            DeliverParked(group, delivered);
            return missed is not null;
        }
    }

    /// <summary>
    /// Under the group's lock: unless the scope parks already, it starts parking what arrives from
    /// Redis, its gap beginning after the last event it delivered (unknown without a tail).
    /// </summary>
    /// <returns>Whether it started parking now.</returns>
    private static bool BeginParking(ScopeGroup group)
    {
        if (group.Parked is not null)
        {
            return false;
        }

        group.GapAfter = group.Tail is { } tail ? GapAfter(tail) : null;
        group.Parked = [];
        return true;
    }

    /// <summary>
    /// Under the group's lock, after a history read: delivers the parked frames but those already
    /// delivered, and stops parking. When none of them was newer than the read, the subscription may
    /// still bring events the read returned (<see cref="ScopeGroup.ReadOverlap"/>).
    /// </summary>
    private static int DeliverParked(ScopeGroup group, HashSet<string> delivered)
    {
        var parked = group.Parked ?? [];
        group.Parked = null;
        group.GapAfter = null;
        var queued = 0;
        var newer = false;
        foreach (var frame in parked)
        {
            if (frame.Id is { } id && (delivered.Contains(id) || (group.Tail?.Contains(id) ?? false)))
            {
                continue;
            }

            newer = true;
            group.Tail?.Append(frame);
            queued += group.DeliverToMembers(frame);
        }

        group.ReadOverlap = !newer && group.Tail is not null;
        return queued;
    }

    /// <summary>The entries after the one with id <paramref name="after"/> (all of them for <see cref="ScopeGroup.GapFromStart"/>); null when the history does not hold it.</summary>
    private static IReadOnlyList<HistoryEntry>? After(IReadOnlyList<HistoryEntry> entries, string after)
    {
        if (after.Length == 0)
        {
            return entries;
        }

        for (var i = entries.Count - 1; i >= 0; i--)
        {
            if (entries[i].Id == after)
            {
                return [.. entries.Skip(i + 1)];
            }
        }

        return null;
    }

    /// <summary>Where a gap of the scope would begin: after its newest event with an id, from the start when it had none, unknown when it had only events without.</summary>
    private static string? GapAfter(ScopeTail tail) => tail.LastId() ?? (tail.Count == 0 ? ScopeGroup.GapFromStart : null);

    private async Task<IReadOnlyList<HistoryEntry>?> TryReadAsync(string scope)
    {
        try
        {
            return await history.ReadAsync(scope, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is StackExchange.Redis.RedisException or TimeoutException or OperationCanceledException)
        {
            LogReadFailed(logger, scope, ex.GetType().Name);
            return null;
        }
    }
}
