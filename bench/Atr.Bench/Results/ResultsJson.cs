using System.Text.Json.Serialization;

namespace Atr.Bench.Results;

/// <summary>The results file's JSON: snake_case, one object per line.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(MeasurementRecord))]
internal sealed partial class ResultsJson : JsonSerializerContext;
