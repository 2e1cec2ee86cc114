using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Logging.Console;
using SignalRPeer;

// ASP.NET Core SignalR scaled out over Redis as its documentation sets it up
// (learn.microsoft.com/aspnet/core/signalr/redis-backplane): AddSignalR().AddStackExchangeRedis(...)
// and MapHub, every option at its default.
//
//   dotnet SignalRPeer.Server.dll --urls http://127.0.0.1:5000 --redis 127.0.0.1:6379
//
// The content root is the program's folder, so its appsettings.json (the template's log levels)
// applies whichever directory it is started from.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });

// Loopback only unless told otherwise: ASP.NET Core's own default (localhost) also binds [::1].
if (string.IsNullOrEmpty(builder.Configuration["urls"]))
{
    builder.WebHost.UseUrls("http://127.0.0.1:5000");
}

var redis = builder.Configuration["redis"];
if (string.IsNullOrEmpty(redis))
{
    await Console.Error.WriteLineAsync("Usage: SignalRPeer.Server --urls http://127.0.0.1:PORT --redis HOST:PORT");
    return 2;
}

builder.Services.AddSignalR().AddStackExchangeRedis(redis);

// Logs go to stderr, so stdout carries only the "listening on" line that the load tool waits for.
builder.Services.Configure<ConsoleLoggerOptions>(options => options.LogToStandardErrorThreshold = LogLevel.Trace);

var app = builder.Build();
app.MapHub<EventsHub>("/hub");

app.Lifetime.ApplicationStarted.Register(() =>
{
    var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses;
    Console.WriteLine($"listening on {addresses?.FirstOrDefault()}");
});

// The host stops on SIGTERM and SIGINT and returns here once connections are closed.
await app.RunAsync();
return 0;
