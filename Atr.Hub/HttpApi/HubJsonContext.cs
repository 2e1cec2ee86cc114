using System.Text.Json.Serialization;
using Atr.Hub.Diagnostics;

namespace Atr.Hub.HttpApi;

/// <summary>The hub's own JSON (API answers), source-generated; events are written by <c>Atr.Publishing</c>.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(PublishAccepted))]
[JsonSerializable(typeof(HubStats))]
[JsonSerializable(typeof(ReadinessReport))]
[JsonSerializable(typeof(string[]))]
internal sealed partial class HubJsonContext : JsonSerializerContext;
