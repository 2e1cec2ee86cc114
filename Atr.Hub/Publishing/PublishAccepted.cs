namespace Atr.Hub.Publishing;

/// <summary>The 202 answer of <c>POST /publish</c>: the ids of the published events, in request order.</summary>
internal sealed record PublishAccepted(IReadOnlyList<string> Ids);
