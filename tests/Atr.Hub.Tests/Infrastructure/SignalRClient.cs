using System.Net.WebSockets;
using System.Text.Json;
using System.Threading.Channels;
using Atr.Testing;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Atr.Hub.Tests.Infrastructure;

/// <summary>A real .NET <see cref="HubConnection"/> to <c>/hub</c> whose <c>event</c> invocations are kept for the test.</summary>
internal sealed class SignalRClient : IAsyncDisposable
{
    private readonly Channel<string> _events = Channel.CreateUnbounded<string>();

    private SignalRClient(HubConnection connection)
    {
        Connection = connection;
    }

    public HubConnection Connection { get; }

    /// <summary>Every event as it arrives, for a reader of the test's own instead of <see cref="ReceiveAsync"/>.</summary>
    public ChannelReader<string> Events => _events.Reader;

    /// <summary>Connects with the JSON protocol; each event is kept as the raw text of its argument.</summary>
    public static async Task<SignalRClient> ConnectAsync(Uri baseUri, params string[] scopes)
    {
        var connection = new HubConnectionBuilder().WithUrl(HubUri(baseUri, scopes)).Build();
        var client = new SignalRClient(connection);
        connection.On<JsonElement>("event", e => client._events.Writer.TryWrite(e.GetRawText()));
        await client.StartAsync(scopes);
        return client;
    }

    /// <summary>Connects with the JSON protocol and a token, to no scope.</summary>
    public static async Task<SignalRClient> ConnectWithTokenAsync(Uri baseUri, string token, params string[] scopes)
    {
        var connection = new HubConnectionBuilder().WithUrl(HubUri(baseUri, scopes), o => o.AccessTokenProvider = () => Task.FromResult<string?>(token)).Build();
        var client = new SignalRClient(connection);
        connection.On<JsonElement>("event", e => client._events.Writer.TryWrite(e.GetRawText()));
        await client.StartAsync(scopes);
        return client;
    }

    /// <summary>Connects with the MessagePack protocol; each event map is kept re-encoded as JSON, key order preserved.</summary>
    public static async Task<SignalRClient> ConnectMessagePackAsync(Uri baseUri, params string[] scopes)
    {
        var connection = new HubConnectionBuilder().WithUrl(HubUri(baseUri, scopes)).AddMessagePackProtocol().Build();
        var client = new SignalRClient(connection);
        connection.On<object>("event", e => client._events.Writer.TryWrite(JsonSerializer.Serialize(e)));
        await client.StartAsync(scopes);
        return client;
    }

    /// <summary>
    /// Starts, then makes sure the <c>?scope=</c> subscriptions are in place: StartAsync returns at the
    /// SignalR handshake, before the hub's OnConnectedAsync; an invocation is answered only after it.
    /// </summary>
    private async Task StartAsync(string[] scopes)
    {
        await Connection.StartAsync().DefaultTimeout();
        if (scopes.Length > 0)
        {
            await Connection.InvokeAsync("Subscribe", scopes[0]).DefaultTimeout();
        }
    }

    /// <summary>
    /// Starts <paramref name="connection"/>, asserts the hub refused it (at the handshake, or by
    /// closing it just after), and disposes it.
    /// </summary>
    public static async Task AssertRefusedAsync(HubConnection connection, string because)
    {
        var closed = new TaskCompletionSource<Exception?>(TaskCreationOptions.RunContinuationsAsynchronously);
        connection.Closed += e =>
        {
            closed.TrySetResult(e);
            return Task.CompletedTask;
        };

        try
        {
            await connection.StartAsync().DefaultTimeout();

            // The server ends a refused connection from OnConnectedAsync, just after the handshake.
            await closed.Task.DefaultTimeout();
        }
        catch (Exception ex) when (ex is HubException or HttpRequestException or InvalidOperationException or IOException or WebSocketException)
        {
        }

        Assert.True(connection.State == HubConnectionState.Disconnected, because);
        await connection.DisposeAsync();
    }

    public async Task<string> ReceiveAsync()
    {
        try
        {
            return await _events.Reader.ReadAsync().AsTask().DefaultTimeout();
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"No event arrived within {TestTimeouts.Default.TotalSeconds} s.");
        }
    }

    public async Task AssertNothingAsync()
    {
        using var wait = new CancellationTokenSource(TestTimeouts.Nothing);
        try
        {
            var unexpected = await _events.Reader.ReadAsync(wait.Token);
            throw new Xunit.Sdk.XunitException($"Expected no event, got {unexpected}");
        }
        catch (OperationCanceledException)
        {
        }
    }

    public async ValueTask DisposeAsync() => await Connection.DisposeAsync();

    private static Uri HubUri(Uri baseUri, string[] scopes)
        => new(baseUri, "/hub" + (scopes.Length == 0 ? string.Empty : "?" + string.Join('&', scopes.Select(s => "scope=" + Uri.EscapeDataString(s)))));
}
