using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Atr.Testing;

/// <summary>Keeps every log line at every level — message, structured values and exception — for a test to read.</summary>
internal sealed class CapturingLoggerProvider : ILoggerProvider
{
    private readonly ConcurrentQueue<Entry> _entries = new();

    /// <summary>One log call as it was made.</summary>
    public sealed record Entry(LogLevel Level, string Category, string Message, string Values, Exception? Exception)
    {
        public override string ToString() => $"{Level} {Category}: {Message} | {Values} | {Exception}";
    }

    public IReadOnlyCollection<Entry> Entries => _entries;

    public IEnumerable<string> Lines => _entries.Select(e => e.ToString());

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _entries);

    public void Dispose()
    {
    }

    private sealed class Logger(string category, ConcurrentQueue<Entry> entries) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull
        {
            entries.Enqueue(new Entry(LogLevel.None, category, $"scope: {state}", string.Empty, null));
            return null;
        }

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var values = state is IEnumerable<KeyValuePair<string, object?>> pairs ? string.Join(" ", pairs.Select(p => $"{p.Key}={p.Value}")) : string.Empty;
            entries.Enqueue(new Entry(logLevel, category, formatter(state, exception), values, exception));
        }
    }
}
