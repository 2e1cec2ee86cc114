using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using Atr.Testing;

namespace Atr.Hub.Tests.Infrastructure;

/// <summary>
/// The blog sample (<c>samples/Atr.Samples.Blog</c>) in a child process, run from its built dll as
/// <c>dotnet run</c> runs it: the Development environment of its launch settings, but on a port
/// Kestrel picks, and in a folder of its own for the <c>blog.db</c> it creates.
/// </summary>
internal sealed partial class BlogSampleProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _folder;
    private readonly StringBuilder _output = new();
    private readonly TaskCompletionSource<Uri> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Uri? _baseUri;
    private HttpClient? _http;

    private BlogSampleProcess(Process process, string folder)
    {
        _process = process;
        _folder = folder;
        process.OutputDataReceived += (_, e) => OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    /// <summary>The sample's base address.</summary>
    public Uri BaseUri => _baseUri ?? throw new InvalidOperationException("The blog sample is not listening yet.");

    /// <summary>A client of the sample's HTTP endpoints, with the default timeout.</summary>
    public HttpClient Http => _http ??= new HttpClient { BaseAddress = BaseUri, Timeout = TestTimeouts.Default };

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

    public Uri WebSocketUri(string path) => new($"ws://{BaseUri.Authority}{path}");

    /// <summary>Starts the sample and returns once Kestrel says where it listens.</summary>
    public static async Task<BlogSampleProcess> StartAsync()
    {
        var folder = Directory.CreateTempSubdirectory("atr-blog-sample-").FullName;
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = folder,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Atr.Samples.Blog.dll"));
        start.ArgumentList.Add("--urls");
        start.ArgumentList.Add("http://127.0.0.1:0");
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";

        var sample = new BlogSampleProcess(Process.Start(start)!, folder);
        try
        {
            var exited = sample._process.WaitForExitAsync();
            if (await Task.WhenAny(sample._listening.Task, exited).DefaultTimeout() != sample._listening.Task)
            {
                throw new InvalidOperationException($"The blog sample exited with {sample._process.ExitCode} before listening:\n{sample.Output}");
            }

            sample._baseUri = await sample._listening.Task;
            return sample;
        }
        catch
        {
            await sample.DisposeAsync();
            throw;
        }
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
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
            // A file still held by a process being torn down: the folder is in the temp directory anyway.
        }
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
