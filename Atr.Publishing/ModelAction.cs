namespace Atr.Publishing;

/// <summary>What happened to a model: the last segment of its event name.</summary>
public enum ModelAction
{
    /// <summary>The record was created: <c>post.created</c>.</summary>
    Created,

    /// <summary>The record was updated: <c>post.updated</c>.</summary>
    Updated,

    /// <summary>The record was destroyed: <c>post.destroyed</c>.</summary>
    Destroyed,
}
