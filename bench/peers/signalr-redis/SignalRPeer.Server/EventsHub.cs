using Microsoft.AspNetCore.SignalR;

namespace SignalRPeer;

/// <summary>
/// The hub at <c>/hub</c>. A connection joins the group named by its <c>?group=</c> query, or any
/// group later through <see cref="Join"/>. The publisher compiles this same file, because the Redis
/// backplane names its channels after the hub type's full name.
/// </summary>
public sealed class EventsHub : Hub
{
    /// <summary>Joins the group named by the <c>group</c> query parameter, if there is one.</summary>
    public override async Task OnConnectedAsync()
    {
        var group = Context.GetHttpContext()?.Request.Query["group"].ToString();
        if (!string.IsNullOrEmpty(group))
        {
            await Groups.AddToGroupAsync(Context.ConnectionId, group);
        }

        await base.OnConnectedAsync();
    }

    /// <summary>Joins <paramref name="group"/>; joining a group twice is harmless.</summary>
    public Task Join(string group) => Groups.AddToGroupAsync(Context.ConnectionId, group);
}
