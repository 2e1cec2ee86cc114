namespace Atr.Hub.HttpApi;

/// <summary>The 202 answer of <c>POST /publish</c>: the ids of the published events, in request order, and how far they went.</summary>
/// <param name="Ids">The events' ids.</param>
/// <param name="Reach">
/// <see cref="ReachAll"/>: handed to the backplane, for every node. <see cref="ReachNode"/>: the node
/// is cut off from Redis, so the events reached only this node's own clients.
/// </param>
internal sealed record PublishAccepted(IReadOnlyList<string> Ids, string Reach)
{
    public const string ReachAll = "all";

    public const string ReachNode = "node";
}
