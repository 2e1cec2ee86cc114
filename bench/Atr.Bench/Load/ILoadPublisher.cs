using Atr.Bench.Measurement;

namespace Atr.Bench.Load;

/// <summary>Hands events to a target's publishing path (Redis, or a peer's publisher process).</summary>
internal interface ILoadPublisher : IAsyncDisposable
{
    /// <summary>Queues one event for <paramref name="scope"/>; it leaves by <see cref="FlushAsync"/> at the latest.</summary>
    void Publish(ScopeTracker scope, byte[] payload);

    Task FlushAsync(CancellationToken cancellationToken);
}
