using System.Globalization;
using System.Text.Json;

namespace Atr.Bench.Results;

/// <summary>Appends measurements to <c>&lt;directory&gt;/&lt;UTC timestamp&gt;.jsonl</c>, one JSON object per line, as they are made.</summary>
internal sealed class ResultsFile(string? directory, DateTimeOffset started)
{
    /// <summary>The file's path, or null when results are not written.</summary>
    public string? Path { get; } = directory is null
        ? null
        : System.IO.Path.Combine(directory, started.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture) + ".jsonl");

    public async Task AppendAsync(MeasurementRecord record, CancellationToken cancellationToken)
    {
        if (Path is null)
        {
            return;
        }

        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
        await File.AppendAllTextAsync(Path, JsonSerializer.Serialize(record, ResultsJson.Default.MeasurementRecord) + "\n", cancellationToken).ConfigureAwait(false);
    }

    public static IEnumerable<MeasurementRecord> Read(string path)
        => File.ReadLines(path)
            .Where(line => !string.IsNullOrWhiteSpace(line))
            .Select(line => JsonSerializer.Deserialize(line, ResultsJson.Default.MeasurementRecord)
                ?? throw new InvalidDataException($"An empty record in {path}."));
}
