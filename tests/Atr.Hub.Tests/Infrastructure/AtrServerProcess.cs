using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using Atr.Testing;

namespace Atr.Hub.Tests.Infrastructure;

/// <summary>The real <c>atr-server</c> executable in a child process, as a user runs it.</summary>
internal sealed partial class AtrServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly TaskCompletionSource<Uri> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Uri? _baseUri;
    private Uri? _listeningAt;
    private HttpClient? _http;

    private AtrServerProcess(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) => OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    /// <summary>Everything the process wrote so far, stdout and stderr.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>The hub's base address, once <see cref="ListeningAsync"/> returned it.</summary>
    public Uri BaseUri => _listeningAt ?? throw new InvalidOperationException("atr-server is not listening yet: await ListeningAsync() first.");

    /// <summary>A client of the hub's HTTP endpoints, with the default timeout; once <see cref="ListeningAsync"/> returned.</summary>
    public HttpClient Http => _http ??= new HttpClient { BaseAddress = BaseUri, Timeout = TestTimeouts.Default };

    public Uri WebSocketUri(string path) => new($"ws://{BaseUri.Authority}{path}");

    /// <summary>The process's resident memory now (<c>VmRSS</c>), in bytes.</summary>
    public long ResidentBytes() => ReadStatus("VmRSS");

    /// <summary>The process's peak resident memory (<c>VmHWM</c>), in bytes; see <see cref="TryResetPeakMemory"/>.</summary>
    public long PeakResidentBytes() => ReadStatus("VmHWM");

    /// <summary>
    /// Starts <c>VmHWM</c> afresh at the current resident size (<c>echo 5 &gt; /proc/&lt;pid&gt;/clear_refs</c>);
    /// false where the kernel does not allow it, and the peak then counts from the process's start.
    /// </summary>
    public bool TryResetPeakMemory()
    {
        try
        {
            File.WriteAllText($"/proc/{_process.Id}/clear_refs", "5");
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>Starts <c>atr-server</c> with <paramref name="args"/>.</summary>
    /// <param name="args">The command line.</param>
    /// <param name="environment">Environment variables to add.</param>
    /// <param name="openFiles">A limit on open files (soft and hard), set with <c>prlimit</c> as <c>ulimit -n</c> would.</param>
    public static AtrServerProcess Start(IEnumerable<string> args, IDictionary<string, string>? environment = null, int? openFiles = null)
    {
        // prlimit sets the limit and then becomes the program: the process is atr-server itself.
        var start = new ProcessStartInfo(openFiles is null ? "dotnet" : "prlimit")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (openFiles is { } limit)
        {
            start.ArgumentList.Add(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"--nofile={limit}:{limit}"));
            start.ArgumentList.Add("dotnet");
        }

        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "atr-server.dll"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        return new AtrServerProcess(Process.Start(start)!);
    }

    /// <summary>Runs a command to its end and returns its exit code and output.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(params string[] args)
    {
        await using var process = Start(args);
        var exitCode = await process.WaitForExitAsync();
        return (exitCode, process.Output);
    }

    /// <summary>The hub's base address, once the whole start banner is out.</summary>
    public async Task<Uri> ListeningAsync()
    {
        var exited = _process.WaitForExitAsync();
        var first = await Task.WhenAny(_listening.Task, exited).DefaultTimeout();
        if (first != _listening.Task)
        {
            throw new InvalidOperationException($"atr-server exited with {_process.ExitCode} before listening:\n{Output}");
        }

        _listeningAt = await _listening.Task;
        return _listeningAt;
    }

    public async Task<int> WaitForExitAsync()
    {
        await _process.WaitForExitAsync().DefaultTimeout();
        _process.WaitForExit();
        return _process.ExitCode;
    }

    /// <summary>Sends SIGTERM, as a service manager or Ctrl-C would.</summary>
    public async Task TerminateAsync()
    {
        using var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
        await kill.WaitForExitAsync().DefaultTimeout();
    }

    public async ValueTask DisposeAsync()
    {
        _http?.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync().DefaultTimeout();
        }

        _process.Dispose();
    }

    /// <summary>A memory figure of the process in bytes, from <c>/proc/&lt;pid&gt;/status</c>.</summary>
    private long ReadStatus(string field)
    {
        foreach (var line in File.ReadLines($"/proc/{_process.Id}/status"))
        {
            if (line.StartsWith(field + ":", StringComparison.Ordinal))
            {
                // "VmRSS:    123456 kB"
                return long.Parse(line[(field.Length + 1)..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture) * 1024;
            }
        }

        throw new InvalidOperationException($"/proc/{_process.Id}/status has no {field}.");
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }

        var match = ListeningLine().Match(line);
        if (match.Success)
        {
            _baseUri = new Uri(match.Groups[1].Value);
        }

        // The banner's lines arrive one by one; its "origins:" line is always there and comes last but for "demo:".
        if (_baseUri is not null && line.StartsWith("  origins:", StringComparison.Ordinal))
        {
            _listening.TrySetResult(_baseUri);
        }
    }

    [GeneratedRegex(@"^Atr hub listening on (http://\S+)$")]
    private static partial Regex ListeningLine();
}
