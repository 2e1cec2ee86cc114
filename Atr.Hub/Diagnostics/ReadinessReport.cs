using Atr.Hub.Backplane;

namespace Atr.Hub.Diagnostics;

/// <summary>The JSON answer of <c>GET /health/ready</c> to a client that accepts it.</summary>
/// <param name="Status"><c>Healthy</c> or <c>Unhealthy</c>.</param>
/// <param name="Description">Why, in a sentence or two.</param>
/// <param name="Shards">The Redis servers (on a cluster, the shards' masters) the node is subscribed through, with the scopes subscribed through each.</param>
internal sealed record ReadinessReport(string Status, string Description, IReadOnlyList<BackplaneShard> Shards);
