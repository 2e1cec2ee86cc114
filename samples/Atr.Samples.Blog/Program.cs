using Atr.Publishing;
using Microsoft.EntityFrameworkCore;

// A blog API whose posts publish post.created / post.updated / post.destroyed to the hub it hosts.
// `dotnet run --project samples/Atr.Samples.Blog` serves it at http://127.0.0.1:5000 (Properties/launchSettings.json;
// --urls changes it); the README's "From Entity Framework Core" section has a curl for each endpoint.
var builder = WebApplication.CreateBuilder(args);
builder.Services.AddAtrHub(o =>
{
    o.Redis = builder.Configuration["Atr:Redis"];   // in memory unless Atr:Redis is set
    o.AllowAnonymous = true;                        // a local sample: no tokens
});
builder.Services.AddDbContext<BlogDb>((sp, o) => o.UseSqlite("Data Source=blog.db").UseAtrPublishing(sp));

var app = builder.Build();
using (var scope = app.Services.CreateScope())
{
    scope.ServiceProvider.GetRequiredService<BlogDb>().Database.EnsureCreated();
}

app.MapAtrHub("/events");   // ws://127.0.0.1:5000/events/organization/1234
app.MapGet("/posts/{id:int}", async (int id, BlogDb db) =>
    await db.Posts.FindAsync(id) is { } post ? Results.Ok(post) : Results.NotFound());
app.MapPost("/organizations/{organizationId:int}/posts", async (int organizationId, PostInput input, BlogDb db) =>
{
    var post = new Post { OrganizationId = organizationId, Title = input.Title };
    db.Posts.Add(post);
    await db.SaveChangesAsync();
    return Results.Created($"/posts/{post.Id}", post);
});
app.MapPut("/posts/{id:int}", async (int id, PostInput input, BlogDb db) =>
{
    if (await db.Posts.FindAsync(id) is not { } post) return Results.NotFound();
    post.Title = input.Title;
    await db.SaveChangesAsync();
    return Results.NoContent();
});
app.MapDelete("/posts/{id:int}", async (int id, BlogDb db) =>
{
    if (await db.Posts.FindAsync(id) is not { } post) return Results.NotFound();
    db.Posts.Remove(post);
    await db.SaveChangesAsync();
    return Results.NoContent();
});
app.Run();

public sealed class BlogDb(DbContextOptions<BlogDb> options) : DbContext(options)
{
    public DbSet<Post> Posts => Set<Post>();
}

[Publishable, PublicationScope(nameof(OrganizationId))]
public sealed class Post
{
    public int Id { get; set; }
    public int OrganizationId { get; set; }
    public string Title { get; set; } = "";
}

public sealed record PostInput(string Title);
