using System.Text;
using Atr.Bench.Measurement;
using Atr.Bench.Targets;

namespace Atr.Bench.Load;

/// <summary>
/// A peer's own publisher process (it publishes the way its framework does, e.g. through SignalR's backplane),
/// fed with lines <c>&lt;group&gt;\t&lt;payload&gt;\n</c> on its standard input.
/// </summary>
internal sealed class LinePublisher : ILoadPublisher
{
    private static readonly byte[] Tab = "\t"u8.ToArray();
    private static readonly byte[] NewLine = "\n"u8.ToArray();

    private readonly ChildProcess _process;
    private readonly Stream _input;
    private readonly Dictionary<ScopeTracker, byte[]> _groups = [];

    private LinePublisher(ChildProcess process)
    {
        _process = process;
        _input = new BufferedStream(process.Input.BaseStream, 64 * 1024);
    }

    /// <summary>Starts the publisher and waits for its <c>ready</c> line.</summary>
    public static async Task<LinePublisher> StartAsync(
        string name, string fileName, IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment, string? cpus, CancellationToken cancellationToken)
    {
        var process = ChildProcess.Start(name, fileName, arguments, cpus, line => line.Trim() == "ready", environment, redirectInput: true);
        try
        {
            await process.ReadyAsync(TimeSpan.FromSeconds(60), cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await process.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return new LinePublisher(process);
    }

    public void Publish(ScopeTracker scope, byte[] payload)
    {
        if (!_groups.TryGetValue(scope, out var group))
        {
            group = Encoding.UTF8.GetBytes(scope.Name);
            _groups[scope] = group;
        }

        _input.Write(group);
        _input.Write(Tab);
        _input.Write(payload);
        _input.Write(NewLine);
    }

    public Task FlushAsync(CancellationToken cancellationToken)
        => _process.HasExited
            ? throw new InvalidOperationException($"{_process.Name} exited:{Environment.NewLine}{_process.Tail}")
            : _input.FlushAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await _process.DisposeAsync().ConfigureAwait(false);
    }
}
