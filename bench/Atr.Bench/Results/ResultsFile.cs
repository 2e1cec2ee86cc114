using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Atr.Bench.Results;

/// <summary>Appends measurements to <c>&lt;directory&gt;/&lt;UTC timestamp&gt;.jsonl</c>, one JSON object per line, as they are made.</summary>
internal sealed class ResultsFile(string? directory, DateTimeOffset started)
{
    /// <summary>The file's path, or null when results are not written.</summary>
    public string? Path { get; } = directory is null
        ? null
        : System.IO.Path.Combine(directory, started.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture) + ".jsonl");

    public Task AppendAsync(MeasurementRecord record, CancellationToken cancellationToken)
        => AppendAsync(record, ResultsJson.Default.MeasurementRecord, cancellationToken);

    /// <summary>Appends a record of another shape (the history and cluster scenarios' own) as one line, in its context's JSON.</summary>
    public async Task AppendAsync<T>(T record, JsonTypeInfo<T> json, CancellationToken cancellationToken)
    {
        if (Path is null)
        {
            return;
        }

        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
        await File.AppendAllTextAsync(Path, JsonSerializer.Serialize(record, json) + "\n", cancellationToken).ConfigureAwait(false);
    }

    public static IEnumerable<MeasurementRecord> Read(string path)
        => File.ReadLines(path)
            .Where(line => !string.IsNullOrWhiteSpace(line))
            .Select(line => JsonSerializer.Deserialize(line, ResultsJson.Default.MeasurementRecord)
                ?? throw new InvalidDataException($"An empty record in {path}."));
}
