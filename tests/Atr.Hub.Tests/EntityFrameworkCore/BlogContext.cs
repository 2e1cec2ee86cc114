using Atr.Publishing;
using Microsoft.EntityFrameworkCore;

namespace Atr.Hub.Tests.EntityFrameworkCore;

public sealed class BlogContext(DbContextOptions<BlogContext> options) : DbContext(options)
{
    public DbSet<Post> Posts => Set<Post>();

    public DbSet<UserPost> UserPosts => Set<UserPost>();

    public DbSet<Note> Notes => Set<Note>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
        => modelBuilder.Entity<Post>().HasIndex(p => p.Slug).IsUnique();
}

[Publishable]
[PublicationScope(nameof(OrganizationId))]
public sealed class Post
{
    public int Id { get; set; }

    public int OrganizationId { get; set; }

    public string Title { get; set; } = string.Empty;

    public string Slug { get; set; } = string.Empty;

    public string? Body { get; set; }

    public Note? Note { get; set; }
}

/// <summary>Published under another name, in two scopes.</summary>
[Publishable(Name = "post")]
[PublicationScope(nameof(OrganizationId), nameof(UserId))]
public sealed class UserPost
{
    public int Id { get; set; }

    public int OrganizationId { get; set; }

    public int UserId { get; set; }

    public string Title { get; set; } = string.Empty;
}

/// <summary>Not publishable: saving it publishes nothing.</summary>
public sealed class Note
{
    public int Id { get; set; }

    public string Text { get; set; } = string.Empty;
}
