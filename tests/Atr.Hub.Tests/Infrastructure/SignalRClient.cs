using System.Net.WebSockets;
using System.Text.Json;
using System.Threading.Channels;
using Atr.Testing;
using Microsoft.AspNetCore.Http.Connections;
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

    /// <summary>
    /// Connects with the JSON protocol by WebSocket straight away (<c>SkipNegotiation</c>), which the
    /// hub carries on its own transport; each event is kept as the raw text of its argument.
    /// </summary>
    public static Task<SignalRClient> ConnectAsync(Uri baseUri, params string[] scopes)
        => ConnectAsync(baseUri, scopes, token: null, messagePack: false, negotiate: false);

    /// <summary>Connects like <see cref="ConnectAsync(Uri, string[])"/>, but negotiates first: SignalR's own WebSockets transport carries it.</summary>
    public static Task<SignalRClient> ConnectNegotiatedAsync(Uri baseUri, params string[] scopes)
        => ConnectAsync(baseUri, scopes, token: null, messagePack: false, negotiate: true);

    /// <summary>Connects like <see cref="ConnectAsync(Uri, string[])"/>, presenting <paramref name="token"/> as its access token.</summary>
    public static Task<SignalRClient> ConnectWithTokenAsync(Uri baseUri, string token, params string[] scopes)
        => ConnectAsync(baseUri, scopes, token, messagePack: false, negotiate: false);

    /// <summary>Connects with the MessagePack protocol; each event map is kept re-encoded as JSON, key order preserved.</summary>
    public static Task<SignalRClient> ConnectMessagePackAsync(Uri baseUri, params string[] scopes)
        => ConnectAsync(baseUri, scopes, token: null, messagePack: true, negotiate: false);

    /// <summary>Connects with the MessagePack protocol after negotiating.</summary>
    public static Task<SignalRClient> ConnectMessagePackNegotiatedAsync(Uri baseUri, params string[] scopes)
        => ConnectAsync(baseUri, scopes, token: null, messagePack: true, negotiate: true);

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

    /// <summary>The next event; fails after the default timeout.</summary>
    public Task<string> ReceiveAsync() => _events.Reader.NextAsync("event");

    /// <summary>Asserts that no event arrives within a short bounded wait.</summary>
    public Task AssertNothingAsync() => _events.Reader.AssertNothingAsync("event");

    public async ValueTask DisposeAsync() => await Connection.DisposeAsync();

    private static async Task<SignalRClient> ConnectAsync(Uri baseUri, string[] scopes, string? token, bool messagePack, bool negotiate)
    {
        var builder = new HubConnectionBuilder().WithUrl(HubUri(baseUri, scopes), o =>
        {
            if (!negotiate)
            {
                o.SkipNegotiation = true;
                o.Transports = HttpTransportType.WebSockets;
            }

            if (token is not null)
            {
                o.AccessTokenProvider = () => Task.FromResult<string?>(token);
            }
        });
        if (messagePack)
        {
            builder.AddMessagePackProtocol();
        }

        var client = new SignalRClient(builder.Build());
        if (messagePack)
        {
            client.Connection.On<object>("event", e => client._events.Writer.TryWrite(JsonSerializer.Serialize(e)));
        }
        else
        {
            client.Connection.On<JsonElement>("event", e => client._events.Writer.TryWrite(e.GetRawText()));
        }

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

    private static Uri HubUri(Uri baseUri, string[] scopes)
        => new(baseUri, "/hub" + (scopes.Length == 0 ? string.Empty : "?" + string.Join('&', scopes.Select(s => "scope=" + Uri.EscapeDataString(s)))));
}
