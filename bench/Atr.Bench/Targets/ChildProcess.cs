using System.Diagnostics;
using System.Text;

namespace Atr.Bench.Targets;

/// <summary>
/// A program the tool started (a server, Redis, a publisher), optionally pinned to CPUs with taskset,
/// which execs it: the pid is the program's own, so /proc/&lt;pid&gt; measures the program.
/// Killed with its tree when disposed, and by <see cref="ChildProcesses"/> on any exit of the tool.
/// </summary>
internal sealed class ChildProcess : IAsyncDisposable
{
    private const int KeptLines = 40;

    private readonly Process _process;
    private readonly Queue<string> _lastLines = new();
    private readonly Func<string, bool>? _isReady;
    private readonly TaskCompletionSource<string> _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ChildProcess(string name, Process process, Func<string, bool>? isReady)
    {
        Name = name;
        _process = process;
        _isReady = isReady;
        process.OutputDataReceived += (_, e) => OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public string Name { get; }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>The standard input, for publishers fed with lines.</summary>
    public StreamWriter Input => _process.StandardInput;

    /// <summary>The last lines the program wrote (stdout and stderr), for error messages.</summary>
    public string Tail
    {
        get
        {
            lock (_lastLines)
            {
                return string.Join(Environment.NewLine, _lastLines);
            }
        }
    }

    /// <summary>Starts <paramref name="fileName"/>; with <paramref name="cpus"/>, under <c>taskset -c cpus</c>.</summary>
    /// <param name="isReady">Recognizes the line that says the program is ready (see <see cref="ReadyAsync"/>).</param>
    public static ChildProcess Start(
        string name,
        string fileName,
        IEnumerable<string> arguments,
        string? cpus,
        Func<string, bool>? isReady = null,
        IReadOnlyDictionary<string, string>? environment = null,
        string? workingDirectory = null,
        bool redirectInput = false)
    {
        var start = new ProcessStartInfo(cpus is null ? fileName : "taskset")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = redirectInput,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? string.Empty,
            StandardInputEncoding = redirectInput ? new UTF8Encoding(false) : null,
        };
        if (cpus is not null)
        {
            start.ArgumentList.Add("-c");
            start.ArgumentList.Add(cpus);
            start.ArgumentList.Add(fileName);
        }

        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {fileName}.");
        var child = new ChildProcess(name, process, isReady);
        ChildProcesses.Add(child);
        return child;
    }

    /// <summary>
    /// Starts a program on a free loopback port and waits until it says it is ready. A free port can be taken between
    /// choosing and binding it, so a program that exits or stays silent for <paramref name="readyTimeout"/> is killed and
    /// started again on another port, up to <paramref name="attempts"/> times.
    /// </summary>
    /// <param name="start">Starts the program on the port it is given.</param>
    /// <exception cref="InvalidOperationException">No attempt became ready.</exception>
    public static async Task<(ChildProcess Process, int Port)> StartOnFreePortAsync(
        Func<int, ChildProcess> start, int attempts, TimeSpan readyTimeout, CancellationToken cancellationToken)
    {
        Exception? last = null;
        var name = string.Empty;
        for (var attempt = 0; attempt < attempts; attempt++)
        {
            var port = FreePort.Next();
            var process = start(port);
            name = process.Name;
            try
            {
                await process.ReadyAsync(readyTimeout, cancellationToken).ConfigureAwait(false);
                return (process, port);
            }
            catch (Exception ex) when (ex is InvalidOperationException or TimeoutException)
            {
                last = ex;
                await process.DisposeAsync().ConfigureAwait(false);
            }
            catch
            {
                await process.DisposeAsync().ConfigureAwait(false);
                throw;
            }
        }

        throw new InvalidOperationException($"{name} did not start: {last?.Message}", last);
    }

    /// <summary>The line that said the program is ready; fails if it exits first or <paramref name="timeout"/> passes.</summary>
    public async Task<string> ReadyAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var exited = _process.WaitForExitAsync(cancellationToken);
        var first = await Task.WhenAny(_ready.Task, exited).WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
        if (first != _ready.Task)
        {
            await exited.ConfigureAwait(false);
            throw new InvalidOperationException($"{Name} exited with code {_process.ExitCode} before it was ready:{Environment.NewLine}{Tail}");
        }

        return await _ready.Task.ConfigureAwait(false);
    }

    /// <summary>Completes when the program has exited.</summary>
    public Task WaitForExitAsync(CancellationToken cancellationToken) => _process.WaitForExitAsync(cancellationToken);

    /// <summary>Kills the program and everything it started (SIGKILL); harmless if it already ended.</summary>
    public void Kill()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
            // It ended between the check and the kill.
        }
    }

    public ValueTask DisposeAsync()
    {
        Kill();
        ChildProcesses.Remove(this);
        _process.Dispose();
        return ValueTask.CompletedTask;
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_lastLines)
        {
            _lastLines.Enqueue(line);
            if (_lastLines.Count > KeptLines)
            {
                _lastLines.Dequeue();
            }
        }

        if (_isReady is not null && !_ready.Task.IsCompleted && _isReady(line))
        {
            _ready.TrySetResult(line);
        }
    }
}
