using System.Diagnostics;
using System.Globalization;
using Atr.Bench.Clients;
using Atr.Bench.Measurement;

namespace Atr.Bench.Scenarios;

/// <summary>Once a second on stderr: target, scenario, phase, connections open, delivered/s and p99 so far.</summary>
internal sealed class ProgressReporter : IAsyncDisposable
{
    private readonly TextWriter _output;
    private readonly string _prefix;
    private readonly DeliveryStats? _stats;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private ClientPool? _pool;
    private string? _phase = "starting";
    private int? _serverPid;

    public ProgressReporter(TextWriter output, double intervalSeconds, string target, string scenario, int run, DeliveryStats? stats)
    {
        _output = output;
        _prefix = $"[{target} {scenario} run {run}]";
        _stats = stats;
        _loop = intervalSeconds > 0 ? LoopAsync(TimeSpan.FromSeconds(intervalSeconds), _stop.Token) : Task.CompletedTask;
    }

    public void Phase(string phase, ClientPool? pool = null)
    {
        _phase = phase;
        _pool = pool ?? _pool;
    }

    /// <summary>Adds the server's RSS to each line.</summary>
    public void Watch(int serverPid) => _serverPid = serverPid;

    /// <summary>No more periodic lines (the run is over; its clients are being closed).</summary>
    public void Quiet() => _phase = null;

    /// <summary>A line of its own, at once.</summary>
    public void Say(string message)
    {
        lock (_output)
        {
            _output.WriteLine($"{_prefix} {message}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        _stop.Dispose();
    }

    private async Task LoopAsync(TimeSpan interval, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(interval);
        var lastDelivered = _stats?.Delivered ?? 0;
        var lastTime = Stopwatch.GetTimestamp();
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                var now = Stopwatch.GetTimestamp();
                if (_phase is null)
                {
                    continue;
                }

                var line = $"{_phase}: {_pool?.OpenCount ?? 0} open";
                if (_serverPid is { } pid)
                {
                    try
                    {
                        line += string.Create(CultureInfo.InvariantCulture, $", server RSS {ProcessSampler.RssBytes(pid) / 1048576.0:0} MiB");
                    }
                    catch (IOException)
                    {
                        // The server has just exited.
                    }
                }
                if (_stats is not null)
                {
                    var delivered = _stats.Delivered;
                    var perSecond = (delivered - lastDelivered) / Stopwatch.GetElapsedTime(lastTime, now).TotalSeconds;
                    var latency = _stats.Latency.Snapshot();
                    line += string.Create(CultureInfo.InvariantCulture, $", {perSecond:N0} delivered/s, p99 {latency.P99:0.###} ms ({latency.Count:N0} samples)");
                    lastDelivered = delivered;
                }

                lastTime = now;
                Say(line);
            }
        }
        catch (OperationCanceledException)
        {
            // Done.
        }
    }
}
