using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace Atr.Hub.Subscriptions;

/// <summary>The node's scope groups by scope key: written by <see cref="SubscriptionManager"/>, read by <see cref="EventDispatcher"/>.</summary>
internal sealed class ScopeRegistry(IOptions<AtrHubOptions> options)
{
    private readonly ConcurrentDictionary<string, ScopeGroup> _groups = new(StringComparer.Ordinal);
    private readonly int _historySize = options.Value.HistorySize;

    /// <summary>The scopes with a group (at least one local connection, or one arriving).</summary>
    public int Count => _groups.Count;

    public ScopeGroup GetOrAdd(string scope) => _groups.GetOrAdd(scope, static (s, size) => new ScopeGroup(s, size), _historySize);

    public bool TryGet(string scope, out ScopeGroup group) => _groups.TryGetValue(scope, out group!);

    public void Remove(ScopeGroup group) => _groups.TryRemove(new KeyValuePair<string, ScopeGroup>(group.Scope, group));

    /// <summary>Every group, as it stands now.</summary>
    public IEnumerable<ScopeGroup> All => _groups.Values;

    /// <summary>The local recipients of <paramref name="scope"/>, or an empty array.</summary>
    public IEventRecipient[] RecipientsOf(string scope)
        => _groups.TryGetValue(scope, out var group) ? group.Members() : [];
}
