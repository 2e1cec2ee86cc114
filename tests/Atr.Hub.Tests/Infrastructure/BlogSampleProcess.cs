using System.Diagnostics;
using Atr.Testing;

namespace Atr.Hub.Tests.Infrastructure;

/// <summary>
/// The blog sample (<c>samples/Atr.Samples.Blog</c>) in a child process, run from its built dll as
/// <c>dotnet run</c> runs it: the Development environment of its launch settings, but on a port
/// Kestrel picks, and in a folder of its own for the <c>blog.db</c> it creates.
/// </summary>
internal sealed class BlogSampleProcess : IAsyncDisposable
{
    private readonly SampleProcess _process;
    private readonly string _folder;
    private HttpClient? _http;

    private BlogSampleProcess(SampleProcess process, string folder, Uri baseUri)
    {
        _process = process;
        _folder = folder;
        BaseUri = baseUri;
    }

    /// <summary>The sample's base address.</summary>
    public Uri BaseUri { get; }

    /// <summary>A client of the sample's HTTP endpoints, with the default timeout.</summary>
    public HttpClient Http => _http ??= new HttpClient { BaseAddress = BaseUri, Timeout = TestTimeouts.Default };

    /// <summary>Everything the process wrote so far, stdout and stderr.</summary>
    public string Output => _process.Output;

    public Uri WebSocketUri(string path) => new($"ws://{BaseUri.Authority}{path}");

    /// <summary>Starts the sample and returns once Kestrel says where it listens.</summary>
    public static async Task<BlogSampleProcess> StartAsync()
    {
        var folder = Directory.CreateTempSubdirectory("atr-blog-sample-").FullName;
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = folder };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Atr.Samples.Blog.dll"));
        start.ArgumentList.Add("--urls");
        start.ArgumentList.Add("http://127.0.0.1:0");
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";

        var process = SampleProcess.Start(start);
        try
        {
            return new BlogSampleProcess(process, folder, await process.ListeningAsync());
        }
        catch
        {
            await process.DisposeAsync();
            DeleteFolder(folder);
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        _http?.Dispose();
        await _process.DisposeAsync();
        DeleteFolder(_folder);
    }

    private static void DeleteFolder(string folder)
    {
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (IOException)
        {
            // A file still held by a process being torn down: the folder is in the temp directory anyway.
        }
    }
}
