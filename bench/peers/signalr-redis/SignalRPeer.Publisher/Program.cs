using System.Text;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using SignalRPeer;

// Sends to the SignalR peer's clients from another process, as an ASP.NET Core application's worker
// would: IHubContext<EventsHub> on a generic host with the same Redis backplane as the server.
//
//   dotnet SignalRPeer.Publisher.dll --redis 127.0.0.1:6379
//
// Reads lines "<group>\t<payload>" from stdin and sends each, in order, as
// Clients.Group(group).SendAsync("event", payload) with the payload as a string. Prints "ready" once
// the backplane is connected; exits once stdin is closed and every line read has been sent.
const int MaxSendsInFlight = 1024;

var builder = Host.CreateApplicationBuilder(args);
var redis = builder.Configuration["redis"];
if (string.IsNullOrEmpty(redis))
{
    await Console.Error.WriteLineAsync("Usage: SignalRPeer.Publisher --redis HOST:PORT");
    return 2;
}

builder.Services.AddSignalR().AddStackExchangeRedis(redis);

// Logs go to stderr: stdout carries only "ready".
builder.Services.Configure<ConsoleLoggerOptions>(options => options.LogToStandardErrorThreshold = LogLevel.Trace);

using var host = builder.Build();
await host.StartAsync();
var stopping = host.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
var hub = host.Services.GetRequiredService<IHubContext<EventsHub>>();

try
{
    // The backplane connects to Redis in the background. A send to a group that no one joins waits
    // for that connection, so "ready" means connected, and from then on each send reaches Redis in
    // the order it was called.
    await hub.Clients.Group("publisher.ready").SendAsync("event", string.Empty, stopping);
    Console.WriteLine("ready");

    // Sends overlap, as concurrent requests of an application would, but never reorder: each one
    // is written to the backplane's single Redis connection before the next is started.
    var inFlight = new Queue<Task>();
    using var stdin = new StreamReader(Console.OpenStandardInput(), new UTF8Encoding(false));

    // WaitAsync: a read of stdin does not observe cancellation itself, and SIGTERM must not wait for a line.
    while (await stdin.ReadLineAsync(stopping).AsTask().WaitAsync(stopping) is { } line)
    {
        var tab = line.IndexOf('\t', StringComparison.Ordinal);
        if (tab <= 0)
        {
            await Console.Error.WriteLineAsync($"Skipped a line without '<group>\\t': {line}");
            continue;
        }

        inFlight.Enqueue(hub.Clients.Group(line[..tab]).SendAsync("event", line[(tab + 1)..], stopping));
        if (inFlight.Count >= MaxSendsInFlight)
        {
            await inFlight.Dequeue();
        }
    }

    while (inFlight.TryDequeue(out var send))
    {
        await send;
    }
}
catch (OperationCanceledException) when (stopping.IsCancellationRequested)
{
    // SIGTERM or SIGINT: stop without sending the rest.
}

await host.StopAsync(CancellationToken.None);
return 0;
