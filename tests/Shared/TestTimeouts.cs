namespace Atr.Testing;

/// <summary>Bounded, generous waits: CI shares two noisy cores.</summary>
public static class TestTimeouts
{
    /// <summary>How long anything expected may take to arrive: 30 s.</summary>
    public static readonly TimeSpan Default = TimeSpan.FromSeconds(30);

    /// <summary>How long a test watches for something that must not arrive: 500 ms.</summary>
    public static readonly TimeSpan Nothing = TimeSpan.FromMilliseconds(500);

    public static Task<T> DefaultTimeout<T>(this Task<T> task) => task.WaitAsync(Default);

    public static Task DefaultTimeout(this Task task) => task.WaitAsync(Default);

    /// <summary>Polls <paramref name="condition"/> until it holds, failing after <see cref="Default"/>.</summary>
    public static async Task UntilAsync(Func<bool> condition, string what)
    {
        using var timeout = new CancellationTokenSource(Default);
        while (!condition())
        {
            if (timeout.IsCancellationRequested)
            {
                throw new TimeoutException($"Timed out after {Default.TotalSeconds} s waiting until {what}.");
            }

            await Task.Delay(20, CancellationToken.None);
        }
    }

    /// <summary>Polls an async <paramref name="condition"/> until it holds, failing after <see cref="Default"/>.</summary>
    public static async Task UntilAsync(Func<Task<bool>> condition, string what)
    {
        using var timeout = new CancellationTokenSource(Default);
        while (!await condition())
        {
            if (timeout.IsCancellationRequested)
            {
                throw new TimeoutException($"Timed out after {Default.TotalSeconds} s waiting until {what}.");
            }

            await Task.Delay(20, CancellationToken.None);
        }
    }
}
