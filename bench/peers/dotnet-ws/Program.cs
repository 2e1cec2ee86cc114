using System.Buffers;
using System.Net.WebSockets;
using System.Text.RegularExpressions;
using DotnetWsPeer;
using HostServer = Microsoft.AspNetCore.Hosting.Server.IServer;
using Microsoft.AspNetCore.Hosting.Server.Features;
using StackExchange.Redis;

// The .NET floor: bench/peers/ws written on ASP.NET Core. A client of /organization/12 listens to the
// scope organization.12; the first client of a scope subscribes the Redis channel atr:<scope> before
// its upgrade completes, each message goes to every open client of the scope as one text frame,
// written in the turn that read it (WebSocket.SendAsync, not awaited: a client that is behind queues
// behind its own WebSocket's send lock), and the last client to leave unsubscribes. No
// authentication, keep-alive pings, send-queue limit or slow-consumer rule, as in the ws peer.
//
//   dotnet DotnetWsPeer.dll --urls http://127.0.0.1:8080 --redis 127.0.0.1:6379
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
if (string.IsNullOrEmpty(builder.Configuration["urls"]))
{
    builder.WebHost.UseUrls("http://127.0.0.1:8080");
}

var redis = builder.Configuration["redis"];
if (string.IsNullOrEmpty(redis))
{
    await Console.Error.WriteLineAsync("Usage: DotnetWsPeer --urls http://127.0.0.1:PORT --redis HOST:PORT");
    return 2;
}

// Only warnings, on stderr: stdout carries the "listening on" line the load tool waits for.
builder.Logging.ClearProviders();
builder.Logging.AddConsole(options => options.LogToStandardErrorThreshold = LogLevel.Trace);
builder.Logging.SetMinimumLevel(LogLevel.Warning);

var app = builder.Build();
var scopes = new Scopes(await ConnectionMultiplexer.ConnectAsync(redis));
app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.Zero });
app.Run(context => scopes.ServeAsync(context));

app.Lifetime.ApplicationStarted.Register(() =>
{
    var addresses = app.Services.GetRequiredService<HostServer>().Features.Get<IServerAddressesFeature>()?.Addresses;
    Console.WriteLine($"listening on {addresses?.FirstOrDefault()}");
});

await app.RunAsync();
return 0;

namespace DotnetWsPeer
{
    /// <summary>The scopes with clients, each with its Redis subscription.</summary>
    internal sealed partial class Scopes(ConnectionMultiplexer redis)
    {
        private readonly Lock _gate = new();
        private readonly Dictionary<string, Scope> _scopes = new(StringComparer.Ordinal);

        public async Task ServeAsync(HttpContext context)
        {
            if (!context.WebSockets.IsWebSocketRequest)
            {
                context.Response.StatusCode = StatusCodes.Status426UpgradeRequired;
                await context.Response.WriteAsync("Connect with a WebSocket to /<type>/<id>.\n");
                return;
            }

            if (ScopeOf(context.Request.Path.Value ?? "/") is not { } name)
            {
                context.Response.StatusCode = StatusCodes.Status400BadRequest;
                return;
            }

            var scope = Join(name);
            try
            {
                await scope.Subscribed;
            }
            catch (Exception exception)
            {
                await Console.Error.WriteLineAsync($"subscribe {name}: {exception.Message}");
                Leave(name, scope);
                context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
                return;
            }

            try
            {
                using var socket = await context.WebSockets.AcceptWebSocketAsync();
                scope.Add(socket);
                try
                {
                    await ReceiveUntilClosedAsync(socket);
                }
                finally
                {
                    scope.Remove(socket);
                }
            }
            catch (Exception exception) when (exception is WebSocketException or OperationCanceledException or IOException)
            {
                // The client went away.
            }
            finally
            {
                Leave(name, scope);
            }
        }

        // Waits for a frame without holding a buffer, as ws does, and reads what comes in a small rented one.
        private static async Task ReceiveUntilClosedAsync(WebSocket socket)
        {
            while (true)
            {
                await socket.ReceiveAsync(Memory<byte>.Empty, CancellationToken.None);
                var buffer = ArrayPool<byte>.Shared.Rent(256);
                try
                {
                    var result = await socket.ReceiveAsync(buffer.AsMemory(), CancellationToken.None);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
                        return;
                    }
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }
            }
        }

        private Scope Join(string name)
        {
            lock (_gate)
            {
                if (!_scopes.TryGetValue(name, out var scope))
                {
                    scope = new Scope(redis.GetSubscriber().SubscribeAsync(RedisChannel.Literal("atr:" + name)));
                    _scopes.Add(name, scope);
                }

                scope.Members++;
                return scope;
            }
        }

        private void Leave(string name, Scope scope)
        {
            lock (_gate)
            {
                if (--scope.Members > 0)
                {
                    return;
                }

                _scopes.Remove(name);
            }

            scope.Unsubscribe();
        }

        /// <summary><c>/organization/12</c> → <c>organization.12</c>, <c>/</c> → the unscoped stream; null when malformed.</summary>
        private static string? ScopeOf(string path)
        {
            if (path == "/")
            {
                return "";
            }

            var parts = path[1..].Split('/');
            return parts.Length % 2 == 0 && parts.Length <= 16 && parts.All(part => Segment().IsMatch(part)) ? string.Join('.', parts) : null;
        }

        [GeneratedRegex("^[A-Za-z0-9_-]{1,64}$")]
        private static partial Regex Segment();
    }

    /// <summary>One scope: its open clients (an array replaced on each change, read without a lock) and its subscription.</summary>
    internal sealed class Scope
    {
        private readonly Lock _gate = new();
        private WebSocket[] _clients = [];

        public Scope(Task<ChannelMessageQueue> subscribing)
        {
            Subscribed = StartAsync(subscribing);
        }

        public int Members { get; set; }

        public Task<ChannelMessageQueue> Subscribed { get; }

        public void Add(WebSocket client)
        {
            lock (_gate)
            {
                _clients = [.. _clients, client];
            }
        }

        public void Remove(WebSocket client)
        {
            lock (_gate)
            {
                _clients = Array.FindAll(_clients, c => c != client);
            }
        }

        public void Unsubscribe()
            => _ = Subscribed.ContinueWith(static s => s.Result.Unsubscribe(), CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);

        private async Task<ChannelMessageQueue> StartAsync(Task<ChannelMessageQueue> subscribing)
        {
            var queue = await subscribing;
            // StackExchange.Redis hands a queue's messages over one at a time, in order.
            queue.OnMessage(message => Send((byte[])message.Message!));
            return queue;
        }

        private void Send(byte[] payload)
        {
            foreach (var client in Volatile.Read(ref _clients))
            {
                if (client.State != WebSocketState.Open)
                {
                    continue;
                }

                var sent = client.SendAsync(payload.AsMemory(), WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
                if (!sent.IsCompletedSuccessfully)
                {
                    _ = ObserveAsync(sent);
                }
            }
        }

        private static async Task ObserveAsync(ValueTask sent)
        {
            try
            {
                await sent;
            }
            catch (Exception exception) when (exception is WebSocketException or ObjectDisposedException or OperationCanceledException or IOException)
            {
                // The client is gone; its receive loop ends it.
            }
        }
    }
}
