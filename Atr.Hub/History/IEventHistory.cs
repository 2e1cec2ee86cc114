namespace Atr.Hub.History;

/// <summary>
/// Where the events of each scope are kept for recovery: the Redis stream Atr's publishers append
/// to, or the in-memory store of a single node.
/// </summary>
internal interface IEventHistory
{
    /// <summary>The history of <paramref name="scope"/>, oldest first: at most the history size, as long as it has not expired.</summary>
    /// <exception cref="Exception">The history cannot be read now (Redis away).</exception>
    Task<IReadOnlyList<HistoryEntry>> ReadAsync(string scope, CancellationToken cancellationToken);
}
