namespace Atr.Benchmarks;

/// <summary>Counts the frames the benchmark's sockets write and signals when a round is complete.</summary>
internal sealed class FrameSink : IDisposable
{
    private readonly ManualResetEventSlim _done = new(initialState: false, spinCount: 0);
    private int _remaining;

    /// <summary>Expects <paramref name="frames"/> more writes.</summary>
    public void Expect(int frames)
    {
        _done.Reset();
        Volatile.Write(ref _remaining, frames);
    }

    public void Wrote()
    {
        if (Interlocked.Decrement(ref _remaining) == 0)
        {
            _done.Set();
        }
    }

    public void Wait()
    {
        if (!_done.Wait(TimeSpan.FromSeconds(30)))
        {
            throw new TimeoutException($"{Volatile.Read(ref _remaining)} frames were never written.");
        }
    }

    public void Dispose() => _done.Dispose();
}
