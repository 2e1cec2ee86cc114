using Atr.Hub.Connections;
using Atr.Hub.Subscriptions;
using Atr.Testing;
using Xunit;

namespace Atr.Hub.Tests;

/// <summary>
/// The hand-over between the dispatcher, which writes an event itself when the send loop is idle,
/// and the send loop, which takes what queues behind such a write: one writer at a time, in order,
/// and the close only after the write that was under way.
/// </summary>
public sealed class SendQueueTests
{
    private static readonly EventFrame First = new("{\"name\":\"a.first\"}"u8.ToArray());
    private static readonly EventFrame Second = new("{\"name\":\"a.second\"}"u8.ToArray());
    private static readonly EventFrame Third = new("{\"name\":\"a.third\"}"u8.ToArray());

    [Fact]
    public void NothingQueuedButTheLoopNotWaitingYetQueues()
    {
        var queue = NewQueue();

        Assert.Equal(SendQueue.Result.Queued, queue.TryEnqueue(First));
    }

    [Fact]
    public async Task AnIdleLoopHandsTheFrameToTheCallerAndTakesWhatQueuesBehindItsWrite()
    {
        var queue = NewQueue();
        var waiting = queue.WaitAsync();
        Assert.False(waiting.IsCompleted);

        Assert.Equal(SendQueue.Result.Write, queue.TryEnqueue(First));
        Assert.Equal(First.Payload.Length, queue.PendingBytes);

        // During the write: frames queue, and the loop is not woken to write beside it.
        Assert.Equal(SendQueue.Result.Queued, queue.TryEnqueue(Second));
        Assert.Equal(SendQueue.Result.Queued, queue.TryEnqueue(Third));
        Assert.False(waiting.IsCompleted);

        queue.EndWrite(First.Payload.Length);

        Assert.True(await waiting.AsTask().DefaultTimeout());
        Assert.True(queue.TryTake(out var next));
        Assert.Same(Second, next);
        Assert.True(queue.TryTake(out next));
        Assert.Same(Third, next);
        Assert.Equal(Second.Payload.Length + Third.Payload.Length, queue.PendingBytes);
    }

    [Fact]
    public async Task AWriteWithNothingBehindItLeavesTheLoopWaitingForTheNextFrame()
    {
        var queue = NewQueue();
        var waiting = queue.WaitAsync();

        Assert.Equal(SendQueue.Result.Write, queue.TryEnqueue(First));
        queue.EndWrite(First.Payload.Length);

        Assert.False(waiting.IsCompleted);
        Assert.Equal(0, queue.PendingBytes);
        Assert.Equal(SendQueue.Result.Write, queue.TryEnqueue(Second));
        queue.EndWrite(Second.Payload.Length);
        Assert.True(queue.Complete());
        Assert.False(await waiting.AsTask().DefaultTimeout());
    }

    [Fact]
    public async Task AQueueCompletedDuringAWriteWakesTheLoopToCloseOnlyOnceTheWriteIsOut()
    {
        var queue = NewQueue();
        var waiting = queue.WaitAsync();
        Assert.Equal(SendQueue.Result.Write, queue.TryEnqueue(First));

        Assert.True(queue.Complete());

        // The loop would send the close frame now, ahead of the event still being written.
        Assert.False(waiting.IsCompleted);
        Assert.Equal(SendQueue.Result.Completed, queue.TryEnqueue(Second));

        queue.EndWrite(First.Payload.Length);

        Assert.False(await waiting.AsTask().DefaultTimeout());
        Assert.Equal(0, queue.PendingBytes);
    }

    [Fact]
    public async Task ARecoveringConnectionGetsNoWriteUntilItsHistoryIsQueued()
    {
        var queue = NewQueue();
        var waiting = queue.WaitAsync();
        queue.Hold();

        Assert.Equal(SendQueue.Result.Queued, queue.TryEnqueue(Second));
        Assert.False(waiting.IsCompleted);

        queue.Resume([First]);

        Assert.True(await waiting.AsTask().DefaultTimeout());
        Assert.True(queue.TryTake(out var next));
        Assert.Same(First, next);
        Assert.True(queue.TryTake(out next));
        Assert.Same(Second, next);
    }

    private static SendQueue NewQueue() => new(1024 * 1024, TimeSpan.FromSeconds(2), TimeProvider.System);
}
