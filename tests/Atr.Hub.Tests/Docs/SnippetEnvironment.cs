using System.Text.RegularExpressions;
using Atr.Hub.Tests.Infrastructure;
using Atr.Testing;
using Microsoft.Data.Sqlite;
using Xunit;

namespace Atr.Hub.Tests.Docs;

/// <summary>
/// What the docs' programs talk to: a real redis-server where they say <c>127.0.0.1:6379</c>, a real
/// hub (on that Redis) where they say <c>127.0.0.1:7777</c>, and a temporary folder for the files they write.
/// </summary>
public sealed partial class SnippetEnvironment : IAsyncLifetime
{
    private readonly RedisServer _redis = new();
    private HubHost? _hub;

    /// <summary>Where a program's relative files go (<c>Data Source=blog.db</c>).</summary>
    public string WorkingDirectory { get; } = Directory.CreateTempSubdirectory("atr-snippets-").FullName;

    public async Task InitializeAsync()
    {
        await _redis.InitializeAsync();
        _hub = await HubHost.StartAsync(_redis.Configuration);
    }

    /// <summary>
    /// The documented addresses replaced by the test's own. SQLite files move to <see cref="WorkingDirectory"/>
    /// by their connection string rather than by the process's current directory, which every
    /// test running beside this one shares.
    /// </summary>
    public string Substitute(string code)
    {
        var hub = _hub ?? throw new InvalidOperationException("The environment is not started.");
        code = code
            .Replace("http://127.0.0.1:7777", $"http://127.0.0.1:{hub.Port}", StringComparison.Ordinal)
            .Replace("ws://127.0.0.1:7777", $"ws://127.0.0.1:{hub.Port}", StringComparison.Ordinal)
            .Replace("127.0.0.1:6379", _redis.Configuration, StringComparison.Ordinal);
        return SqliteFile().Replace(code, match => "Data Source=" + Path.Combine(WorkingDirectory, match.Groups[1].Value));
    }

    public async Task DisposeAsync()
    {
        if (_hub is not null)
        {
            await _hub.DisposeAsync();
        }

        await _redis.DisposeAsync();

        // The programs' SQLite connections stay pooled, holding their files, until cleared.
        SqliteConnection.ClearAllPools();
        Directory.Delete(WorkingDirectory, recursive: true);
    }

    [GeneratedRegex(@"Data Source=([\w.-]+)")]
    private static partial Regex SqliteFile();
}
