using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using Atr.Testing;

namespace Atr.Hub.Tests.Infrastructure;

/// <summary>A built sample of <c>samples/</c> in a child process (<c>dotnet &lt;sample&gt;.dll</c>), as a user runs it: its output kept, and the address Kestrel says it listens on.</summary>
internal sealed partial class SampleProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly TaskCompletionSource<Uri> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private SampleProcess(Process process)
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

    /// <summary>
    /// Starts the sample on a free loopback port (<c>ASPNETCORE_URLS=http://127.0.0.1:0</c>) in the
    /// Production environment, with <paramref name="environment"/>'s variables (<c>Atr__JwtKey</c>…).
    /// </summary>
    public static SampleProcess Start(string name, IDictionary<string, string> environment)
    {
        var dll = Repository.SampleDll(name);
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { dll },
            WorkingDirectory = Path.GetDirectoryName(dll)!,
        };
        start.Environment["ASPNETCORE_URLS"] = "http://127.0.0.1:0";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        return Start(start);
    }

    /// <summary>Starts <paramref name="start"/> with its output read into <see cref="Output"/>.</summary>
    public static SampleProcess Start(ProcessStartInfo start)
    {
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        return new SampleProcess(Process.Start(start)!);
    }

    /// <summary>The address Kestrel bound, from its "Now listening on:" line; fails if the process exits first.</summary>
    public async Task<Uri> ListeningAsync()
    {
        var exited = _process.WaitForExitAsync();
        if (await Task.WhenAny(_listening.Task, exited).DefaultTimeout() != _listening.Task)
        {
            throw new InvalidOperationException($"The sample exited with {_process.ExitCode} before listening:\n{Output}");
        }

        return await _listening.Task;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync().DefaultTimeout();
        }

        _process.Dispose();
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

        if (ListeningLine().Match(line) is { Success: true } match)
        {
            _listening.TrySetResult(new Uri(match.Groups[1].Value));
        }
    }

    [GeneratedRegex(@"Now listening on: (http://\S+)")]
    private static partial Regex ListeningLine();
}
