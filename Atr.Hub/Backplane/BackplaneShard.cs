namespace Atr.Hub.Backplane;

/// <summary>A Redis server the node's subscriptions go through (on a cluster, a shard's master), and how many of its scopes go through it.</summary>
/// <param name="Server">The server, <c>host:port</c>.</param>
/// <param name="Scopes">The scopes subscribed through it.</param>
internal sealed record BackplaneShard(string Server, int Scopes);
