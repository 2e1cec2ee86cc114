namespace Atr.Publishing;

/// <summary>
/// Marks a model whose changes are published (the original's <c>include ::Atr::Publishable</c>):
/// with the Entity Framework Core integration, saving a <c>Post</c> publishes <c>post.created</c>,
/// <c>post.updated</c> or <c>post.destroyed</c> once the data is committed.
/// </summary>
/// <remarks>
/// The event name prefix is the type name in snake case (<c>BlogPost</c> gives <c>blog_post</c>)
/// unless <see cref="Name"/> overrides it. Declare scopes with <see cref="PublicationScopeAttribute"/>.
/// </remarks>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = true)]
public sealed class PublishableAttribute : Attribute
{
    /// <summary>
    /// The event name prefix instead of the type name: <c>[Publishable(Name = "article")]</c> publishes
    /// <c>article.created</c>. One or more dot-separated segments of <c>[A-Za-z0-9_-]</c>. Default: the type name in snake case.
    /// </summary>
    public string? Name { get; set; }
}
