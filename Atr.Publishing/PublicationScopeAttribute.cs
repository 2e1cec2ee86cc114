namespace Atr.Publishing;

/// <summary>
/// Declares the properties whose values scope a model's events, as the original's
/// <c>publication_scope :organization_id</c>.
/// </summary>
/// <remarks>
/// Each property gives one <c>type.id</c> pair: the property name without its trailing <c>Id</c>,
/// in snake case, and the property's value. <c>[PublicationScope(nameof(OrganizationId))]</c> on a
/// <c>Post</c> with <c>OrganizationId = 1234</c> publishes <c>post.created</c> to the scope
/// <c>organization.1234</c>; several properties concatenate in the order given
/// (<c>organization.1.user.2</c>). A model without the attribute publishes unscoped.
/// </remarks>
/// <param name="properties">The scoping properties, outermost first.</param>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = true)]
public sealed class PublicationScopeAttribute(params string[] properties) : Attribute
{
    /// <summary>The scoping properties, outermost first.</summary>
    public IReadOnlyList<string> Properties { get; } = properties ?? [];
}
