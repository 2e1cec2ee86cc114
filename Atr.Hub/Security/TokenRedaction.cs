using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;

namespace Atr.Hub.Security;

/// <summary>
/// Keeps tokens out of every log line: a logger factory around the application's own that rewrites
/// <c>access_token=…</c> query values and anything shaped like a JWT, in messages, structured state
/// and exceptions alike. ASP.NET Core's hosting logs each request URL with its query string, which
/// is where browsers put their token.
/// </summary>
/// <remarks>
/// It also leaves out SignalR's error log of the hub's own refusals (<see cref="SignalR.HubRefusal"/>):
/// one line with a stack trace per refused call, which a client could repeat at will. The hub
/// counts them in its own refusal log instead.
/// </remarks>
internal sealed partial class TokenRedaction(ILoggerFactory inner) : ILoggerFactory
{
    public const string Redacted = "[redacted]";

    public ILogger CreateLogger(string categoryName) => new RedactingLogger(inner.CreateLogger(categoryName));

    public void AddProvider(ILoggerProvider provider) => inner.AddProvider(provider);

    public void Dispose() => inner.Dispose();

    /// <summary>Rewrites tokens in <paramref name="text"/>.</summary>
    public static string Redact(string text)
        => text.Contains("access_token", StringComparison.OrdinalIgnoreCase) || text.Contains("eyJ", StringComparison.Ordinal)
            ? Jwt().Replace(QueryToken().Replace(text, "${name}=" + Redacted), Redacted)
            : text;

    // access_token=… in a query string, raw or percent-encoded.
    [GeneratedRegex(@"(?<name>access_token)(=|%3D)[^&\s""'#]*", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex QueryToken();

    // A JWT: base64url header starting {" (eyJ), payload, optional signature.
    [GeneratedRegex(@"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}(\.[A-Za-z0-9_-]*)?", RegexOptions.CultureInvariant)]
    private static partial Regex Jwt();

    private sealed class RedactingLogger(ILogger inner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull
        {
            var text = state.ToString();
            return text is not null && !ReferenceEquals(Redact(text), text) ? inner.BeginScope(Redact(text)) : inner.BeginScope(state);
        }

        public bool IsEnabled(LogLevel logLevel) => inner.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!inner.IsEnabled(logLevel) || exception is SignalR.HubRefusal)
            {
                return;
            }

            var message = formatter(state, exception);
            var redacted = Redact(message);
            var values = state as IReadOnlyList<KeyValuePair<string, object?>>;
            var needsState = values is not null && values.Any(v => NeedsRedaction(v.Value));
            var safeException = exception is not null && !ReferenceEquals(Redact(exception.ToString()), exception.ToString())
                ? new RedactedException(Redact(exception.ToString()))
                : exception;

            if (ReferenceEquals(redacted, message) && !needsState && ReferenceEquals(safeException, exception))
            {
                inner.Log(logLevel, eventId, state, exception, formatter);
                return;
            }

            // Structured providers read the state's values, not only the message: rewrite both.
            var safeState = new List<KeyValuePair<string, object?>>(values?.Count ?? 1);
            if (values is not null)
            {
                foreach (var (key, value) in values)
                {
                    safeState.Add(new(key, NeedsRedaction(value) ? Redact(value!.ToString()!) : value));
                }
            }

            inner.Log(logLevel, eventId, safeState, safeException, (_, _) => redacted);
        }
    }

    // Query strings, URIs and header values are not strings, but their text is what sinks write.
    private static bool NeedsRedaction(object? value)
        => value?.ToString() is { } text && !ReferenceEquals(Redact(text), text);

    /// <summary>Stands in for an exception whose text held a token.</summary>
    private sealed class RedactedException(string text) : Exception(text)
    {
        public override string ToString() => Message;
    }
}
