using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Atr.Hub.Tests.Infrastructure;
using Xunit;

namespace Atr.Hub.Tests;

/// <summary>
/// <c>samples/Atr.Samples.Blog</c> does what the README's "From Entity Framework Core" section says,
/// run as a process of its own: each documented call, and the events a listener of the documented
/// scope receives.
/// </summary>
public sealed class BlogSampleTests
{
    [Fact]
    public async Task CreatedPostIsServedAtItsLocationAndPublishedToItsOrganization()
    {
        await using var sample = await BlogSampleProcess.StartAsync();
        await using var listener = await WsClient.ConnectAsync(sample.WebSocketUri("/events/organization/1234"));

        using var created = await sample.Http.PostAsJsonAsync("/organizations/1234/posts", new { title = "Hello" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        using var fetched = await sample.Http.GetAsync(created.Headers.Location);

        Assert.Equal(HttpStatusCode.OK, fetched.StatusCode);
        var post = JsonDocument.Parse(await fetched.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(1234, post.GetProperty("organizationId").GetInt32());
        Assert.Equal("Hello", post.GetProperty("title").GetString());

        var frame = JsonDocument.Parse(await listener.ReceiveAsync()).RootElement;
        Assert.Equal("post.created", frame.GetProperty("name").GetString());
        Assert.Equal("organization.1234.post.created", frame.GetProperty("routing_key").GetString());
        Assert.Equal(post.GetProperty("id").GetInt32(), frame.GetProperty("record").GetProperty("id").GetInt32());
        Assert.Equal("Hello", frame.GetProperty("record").GetProperty("title").GetString());
    }

    [Fact]
    public async Task UpdatedAndDeletedPostsArePublishedAndADeletedPostIsGone()
    {
        await using var sample = await BlogSampleProcess.StartAsync();
        await using var listener = await WsClient.ConnectAsync(sample.WebSocketUri("/events/organization/1234"));
        using var created = await sample.Http.PostAsJsonAsync("/organizations/1234/posts", new { title = "Hello" });
        var location = created.Headers.Location!;

        using var updated = await sample.Http.PutAsJsonAsync(location, new { title = "Hello again" });
        using var deleted = await sample.Http.DeleteAsync(location);
        using var gone = await sample.Http.GetAsync(location);

        Assert.Equal(HttpStatusCode.NoContent, updated.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        var frames = (await listener.ReceiveAsync(3)).Select(f => JsonDocument.Parse(f).RootElement).ToList();
        Assert.Equal(["post.created", "post.updated", "post.destroyed"], frames.Select(f => f.GetProperty("name").GetString()));
        Assert.Equal("Hello again", frames[1].GetProperty("record").GetProperty("title").GetString());
    }
}
