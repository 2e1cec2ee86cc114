using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace Atr.Hub.History;

/// <summary>
/// The history of a single node without Redis: the last <see cref="AtrHubOptions.HistorySize"/>
/// events of each scope, kept <see cref="AtrHubOptions.HistoryTtl"/> after the scope's last event,
/// as the Redis stream would keep them.
/// </summary>
internal sealed class InMemoryHistory(IOptions<AtrHubOptions> options, TimeProvider time) : IEventHistory
{
    private readonly ConcurrentDictionary<string, Scope> _scopes = new(StringComparer.Ordinal);
    private readonly int _size = options.Value.HistorySize;
    private readonly TimeSpan _ttl = options.Value.HistoryTtl;
    private long _nextSweep;

    public bool IsEnabled => _size > 0;

    /// <summary>Appends an event published on this node to its scope's history.</summary>
    public void Append(string scope, string eventId, ReadOnlyMemory<byte> payload)
    {
        if (_size <= 0)
        {
            return;
        }

        var now = time.GetTimestamp();
        var entries = _scopes.GetOrAdd(scope, static _ => new Scope());
        lock (entries)
        {
            if (entries.Queue.Count == _size)
            {
                entries.Queue.Dequeue();
            }

            entries.Queue.Enqueue(new HistoryEntry(eventId, payload));
            entries.LastAppend = now;
        }

        Sweep(now);
    }

    public Task<IReadOnlyList<HistoryEntry>> ReadAsync(string scope, CancellationToken cancellationToken)
    {
        if (!_scopes.TryGetValue(scope, out var entries))
        {
            return Task.FromResult<IReadOnlyList<HistoryEntry>>([]);
        }

        lock (entries)
        {
            return Task.FromResult<IReadOnlyList<HistoryEntry>>(time.GetElapsedTime(entries.LastAppend) > _ttl ? [] : [.. entries.Queue]);
        }
    }

    // Scopes whose history expired are dropped at most once per TTL, on the publishing path.
    private void Sweep(long now)
    {
        var next = Volatile.Read(ref _nextSweep);
        if (now < next || Interlocked.CompareExchange(ref _nextSweep, now + (long)(_ttl.TotalSeconds * time.TimestampFrequency), next) != next)
        {
            return;
        }

        foreach (var (scope, entries) in _scopes)
        {
            lock (entries)
            {
                if (time.GetElapsedTime(entries.LastAppend, now) > _ttl)
                {
                    _scopes.TryRemove(new KeyValuePair<string, Scope>(scope, entries));
                }
            }
        }
    }

    private sealed class Scope
    {
        public Queue<HistoryEntry> Queue { get; } = new();

        public long LastAppend { get; set; }
    }
}
