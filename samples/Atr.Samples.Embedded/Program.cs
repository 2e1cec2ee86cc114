using Atr.Hub;
using Atr.Publishing;

// An application that hosts the Atr hub at /events. A client may listen to an organization only if
// the application knows it; the application's own endpoint publishes to that organization's clients.
var builder = WebApplication.CreateBuilder(args);

// The hub's options come from the Atr section. Atr:JwtKey (or JwtKeyFile, JwtPublicKeyFile,
// JwtAuthority) turns JWT on: every client needs a token that grants its scope. Atr:Redis shares
// events with other nodes; without it they stay in memory. To try it without tokens, leave the key
// out and run it in Development on localhost (ASPNETCORE_ENVIRONMENT=Development), or set
// Atr:AllowAnonymous=true: anonymous mode, where anyone who reaches it may listen and publish.
builder.Services.AddAtrHub(o =>
{
    builder.Configuration.GetSection("Atr").Bind(o);
    o.RequestAuthenticator = new KnownOrganizations();
});
builder.Services.AddScoped<OrganizationDirectory>();

var app = builder.Build();
app.MapAtrHub("/events");   // ws://host/events/organization/1234?access_token=<JWT>, SignalR at /events/hub

// The application publishes in-process, through the hub's own backplane.
app.MapPost("/organizations/{id:int}/posts", async (int id, PostInput post, OrganizationDirectory directory, IEventPublisher publisher) =>
{
    if (!await directory.ExistsAsync(id)) return Results.NotFound();
    var published = await publisher.PublishAsync($"organization.{id}", "post.created", new { post.Title }, "Post");
    return Results.Accepted(value: new { published.Id });
});
app.Run();

// The original's authenticate_with: organization.<id> only if the organization exists. The hub keeps
// this one instance; scoped services (a DbContext) come from the handshake's context.RequestServices.
sealed class KnownOrganizations : IRequestAuthenticator
{
    public async ValueTask<bool> MatchesAsync(HttpContext context, string scope)
    {
        var directory = context.RequestServices.GetRequiredService<OrganizationDirectory>();
        return scope.Split('.') is ["organization", var id] && int.TryParse(id, out var organization) && await directory.ExistsAsync(organization);
    }
}

// Stands in for the application's own data (a DbContext, a repository): scoped, as those are.
sealed class OrganizationDirectory
{
    private readonly HashSet<int> _known = [1234, 5678];

    public Task<bool> ExistsAsync(int id) => Task.FromResult(_known.Contains(id));
}

sealed record PostInput(string Title);
