using System.Text;
using System.Text.Json;
using Atr.Publishing;
using Microsoft.Extensions.DependencyInjection;

namespace Atr.Server.Cli;

/// <summary><c>atr-server publish</c>: one event, through Redis (<c>--redis</c>) or a hub (<c>--url</c>); prints its id.</summary>
internal static class PublishCommand
{
    public static async Task<int> RunAsync(CommandLineArguments arguments)
    {
        var values = arguments.Values;
        var scope = values.GetValueOrDefault("scope") ?? string.Empty;
        var name = values.GetValueOrDefault("name") ?? throw new CommandLineException("publish needs --name, e.g. --name post.created.");
        var recordType = values.GetValueOrDefault("record_type");
        var redis = values.GetValueOrDefault("redis");
        var url = values.GetValueOrDefault("url");
        if ((redis is null) == (url is null))
        {
            throw new CommandLineException("publish needs exactly one of --redis or --url.");
        }

        JsonElement? record = null;
        if (values.GetValueOrDefault("record") is { } recordJson)
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
            ? await ThroughRedisAsync(redis, values.GetValueOrDefault("channel_prefix") ?? "atr:", scope, name, record, recordType).ConfigureAwait(false)
            : await ThroughHubAsync(url!, values.GetValueOrDefault("token") ?? Environment.GetEnvironmentVariable("ATR_TOKEN"), scope, name, record, recordType).ConfigureAwait(false);
    }

    private static async Task<int> ThroughRedisAsync(string redis, string prefix, string scope, string name, JsonElement? record, string? recordType)
    {
        await using var services = new ServiceCollection()
            .AddAtrPublishing(o =>
            {
                o.Redis = redis;
                o.ChannelPrefix = prefix;
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
