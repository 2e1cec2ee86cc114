using System.CommandLine;
using System.Text;
using System.Text.Json;
using Atr.Publishing;
using Microsoft.Extensions.DependencyInjection;

namespace Atr.Server.Cli;

/// <summary><c>atr-server publish</c>: one event, through Redis (<c>--redis</c>) or a hub (<c>--url</c>); prints its id.</summary>
internal static class PublishCommand
{
    public static readonly Option<string> Scope = new("--scope") { Description = "Scope key, e.g. organization.1234 (default: unscoped)." };
    public static readonly Option<string> Name = new("--name") { Description = "Event name, e.g. post.created (required)." };
    public static readonly Option<string> Record = new("--record") { Description = "The record as JSON, e.g. '{\"id\":7}' (default null)." };
    public static readonly Option<string> RecordType = new("--record-type", "--record_type") { Description = "The record's type name, e.g. Post." };
    public static readonly Option<string> Redis = new("--redis") { Description = "Publish through this Redis (StackExchange.Redis configuration)." };
    public static readonly Option<string> Url = new("--url") { Description = "Publish through a hub's POST /publish, e.g. http://127.0.0.1:7777." };
    public static readonly Option<string> Token = new("--token") { Description = "Publish token for --url (or ATR_TOKEN)." };
    public static readonly Option<string> ChannelPrefix = new("--channel-prefix", "--channel_prefix") { Description = "Prefix of the Redis event channels (default atr:)." };
    public static readonly Option<int?> HistorySize = new("--history-size") { Description = "With --redis: events kept in the scope's history (default 100; 0: a plain PUBLISH)." };
    public static readonly Option<TimeSpan?> HistoryTtl = new("--history-ttl") { Description = "With --redis: how long the scope's history is kept after its last event (default 00:10:00)." };

    public static Command Create()
    {
        var command = new Command("publish", "Publish one event through Redis or a hub's POST /publish; prints its id.")
        {
            Scope, Name, Record, RecordType, Redis, Url, Token, ChannelPrefix, HistorySize, HistoryTtl,
        };
        command.SetAction(RunAsync);
        return command;
    }

    private static async Task<int> RunAsync(ParseResult result)
    {
        var scope = result.GetValue(Scope) ?? string.Empty;
        var name = result.GetValue(Name) ?? throw new CommandLineException("publish needs --name, e.g. --name post.created.");
        var recordType = result.GetValue(RecordType);
        var redis = result.GetValue(Redis);
        var url = result.GetValue(Url);
        if ((redis is null) == (url is null))
        {
            throw new CommandLineException("publish needs exactly one of --redis or --url.");
        }

        JsonElement? record = null;
        if (result.GetValue(Record) is { } recordJson)
        {
            try
            {
                record = JsonDocument.Parse(recordJson).RootElement;
            }
            catch (JsonException ex)
            {
                throw new CommandLineException($"--record is not valid JSON: {ex.Message}");
            }
        }

        if (!RoutingKeys.IsValidScope(scope) || !RoutingKeys.IsValidName(name))
        {
            throw new CommandLineException($"'{scope}' / '{name}' is not a valid scope / event name: segments of 1 to 64 characters of [A-Za-z0-9_-] joined by dots.");
        }

        return redis is not null
            ? await ThroughRedisAsync(redis, result.GetValue(ChannelPrefix) ?? "atr:", result.GetValue(HistorySize), result.GetValue(HistoryTtl), scope, name, record, recordType).ConfigureAwait(false)
            : await ThroughHubAsync(url!, result.GetValue(Token) ?? Environment.GetEnvironmentVariable("ATR_TOKEN"), scope, name, record, recordType).ConfigureAwait(false);
    }

    private static async Task<int> ThroughRedisAsync(string redis, string prefix, int? historySize, TimeSpan? historyTtl, string scope, string name, JsonElement? record, string? recordType)
    {
        await using var services = new ServiceCollection()
            .AddAtrPublishing(o =>
            {
                o.Redis = redis;
                o.ChannelPrefix = prefix;
                o.HistorySize = historySize ?? o.HistorySize;
                o.HistoryTtl = historyTtl ?? o.HistoryTtl;
            })
            .BuildServiceProvider();

        var publisher = services.GetRequiredService<IEventPublisher>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            var published = await publisher.PublishAsync(scope, name, record, recordType, timeout.Token).ConfigureAwait(false);
            Console.WriteLine(published.Id);
            return 0;
        }
        catch (Exception ex) when (ex is OperationCanceledException or StackExchange.Redis.RedisException)
        {
            await Console.Error.WriteLineAsync($"atr-server: could not publish through Redis at {redis}: {ex.Message}").ConfigureAwait(false);
            return 1;
        }
    }

    private static async Task<int> ThroughHubAsync(string url, string? token, string scope, string name, JsonElement? record, string? recordType)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        if (!string.IsNullOrEmpty(token))
        {
            http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        }

        var body = new Dictionary<string, object?> { ["scope"] = scope, ["name"] = name, ["record"] = record, ["record_type"] = recordType };
        try
        {
            using var response = await http.PostAsync(
                new Uri(new Uri(url), "publish"),
                new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json")).ConfigureAwait(false);
            var text = await response.Content.ReadAsStringAsync().ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                await Console.Error.WriteLineAsync($"atr-server: the hub answered {(int)response.StatusCode}: {text}").ConfigureAwait(false);
                return 1;
            }

            var ids = JsonDocument.Parse(text).RootElement.GetProperty("ids");
            Console.WriteLine(ids[0].GetString());
            return 0;
        }
        catch (HttpRequestException ex)
        {
            await Console.Error.WriteLineAsync($"atr-server: could not reach the hub at {url}: {ex.Message}").ConfigureAwait(false);
            return 1;
        }
    }
}
