namespace Atr.Hub.Tests.Infrastructure;

/// <summary>
/// The receiving clients of a reliability test, raw and SignalR, each with an <see cref="EventRecorder"/>
/// on its events; disposing closes them all.
/// </summary>
internal sealed class RecordedClients : IAsyncDisposable
{
    private readonly List<WsClient> _raw = [];
    private readonly List<SignalRClient> _signalR = [];
    private readonly List<EventRecorder> _recorders = [];

    public IReadOnlyList<WsClient> Raw => _raw;

    public IReadOnlyList<SignalRClient> SignalR => _signalR;

    /// <summary>One per client, in the order they connected.</summary>
    public IReadOnlyList<EventRecorder> Recorders => _recorders;

    /// <summary>Connects a raw client to <paramref name="scope"/> (<c>organization.1</c> at <c>/organization/1</c>) of the hub at <paramref name="baseUri"/>.</summary>
    public async Task<WsClient> ConnectRawAsync(Uri baseUri, string scope, string name)
    {
        var client = await WsClient.ConnectAsync(new Uri($"ws://{baseUri.Authority}/{scope.Replace('.', '/')}"));
        _raw.Add(client);
        _recorders.Add(new EventRecorder(name, scope, client.Frames));
        return client;
    }

    /// <summary>Connects a SignalR client (JSON protocol) subscribed to <paramref name="scope"/>.</summary>
    public async Task<SignalRClient> ConnectSignalRAsync(Uri baseUri, string scope, string name)
    {
        var client = await SignalRClient.ConnectAsync(baseUri, scope);
        _signalR.Add(client);
        _recorders.Add(new EventRecorder(name, scope, client.Events));
        return client;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var client in _raw)
        {
            await client.DisposeAsync();
        }

        foreach (var client in _signalR)
        {
            await client.DisposeAsync();
        }
    }
}
