using System.Diagnostics;
using Atr.Publishing.Redis;
using Atr.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;
using Xunit;

namespace Atr.Publishing.Tests;

[Collection(UsesRedis.Name)]
public sealed class RedisRegistryAnnouncerTests(RedisServer redis)
{
    [Fact]
    public async Task AnnouncesTheRegistryToRedisAtStart()
    {
        var prefix = UniquePrefix();
        using var host = BuildHost(redis.Configuration, prefix);

        await host.StartAsync().DefaultTimeout();
        try
        {
            await UntilAnnouncedAsync(prefix, "post.published", "announcement.created", "announcement.updated", "announcement.destroyed");
        }
        finally
        {
            await host.StopAsync().DefaultTimeout();
        }
    }

    [Fact]
    public async Task AnnouncesANameAddedWhileRunning()
    {
        var prefix = UniquePrefix();
        using var host = BuildHost(redis.Configuration, prefix);
        await host.StartAsync().DefaultTimeout();
        try
        {
            await UntilAnnouncedAsync(prefix, "post.published");

            Assert.True(host.Services.GetRequiredService<EventRegistry>().Add("late.name"));

            await UntilAnnouncedAsync(prefix, "late.name", "post.published", "announcement.created");
        }
        finally
        {
            await host.StopAsync().DefaultTimeout();
        }
    }

    [Fact]
    public void TheRegistryKeyIsThePrefixThenChannels()
    {
        Assert.Equal("atr:channels", RedisRegistryAnnouncer.RegistryKey("atr:").ToString());
        Assert.Equal("tenant-a/channels", RedisRegistryAnnouncer.RegistryKey("tenant-a/").ToString());
    }

    [Fact]
    public async Task AnnouncesTheWholeRegistryAsOneSet()
    {
        var prefix = UniquePrefix();
        using var host = BuildHost(redis.Configuration, prefix);
        await host.StartAsync().DefaultTimeout();
        try
        {
            var registry = host.Services.GetRequiredService<EventRegistry>();
            await UntilAnnouncedAsync(prefix, [.. registry.Channels]);

            var members = await redis.Client.GetDatabase().SetMembersAsync(RedisRegistryAnnouncer.RegistryKey(prefix)).DefaultTimeout();
            Assert.Equal(registry.Channels, members.Select(m => m.ToString()).Order(StringComparer.Ordinal));
            Assert.Equal(RedisType.Set, await redis.Client.GetDatabase().KeyTypeAsync(RedisRegistryAnnouncer.RegistryKey(prefix)).DefaultTimeout());
        }
        finally
        {
            await host.StopAsync().DefaultTimeout();
        }
    }

    [Fact]
    public async Task StartsAndStopsPromptlyWhileRedisIsUnreachable()
    {
        var prefix = UniquePrefix();
        using var host = BuildHost($"127.0.0.1:{LoopbackPort.Free()},connectTimeout=1000", prefix);
        var elapsed = Stopwatch.StartNew();

        await host.StartAsync().DefaultTimeout();
        Assert.True(host.Services.GetRequiredService<EventRegistry>().Add("late.name"));
        await host.StopAsync().DefaultTimeout();

        Assert.True(elapsed.Elapsed < TimeSpan.FromSeconds(10), $"Starting and stopping took {elapsed.Elapsed}.");
        Assert.False(await redis.Client.GetDatabase().KeyExistsAsync(RedisRegistryAnnouncer.RegistryKey(prefix)).DefaultTimeout());
    }

    [Fact]
    public async Task StopsPromptlyWhileRetryingAnUnreachableRedis()
    {
        var prefix = UniquePrefix();
        var logs = new CapturingLoggerProvider();
        using var host = BuildHost($"127.0.0.1:{LoopbackPort.Free()},connectTimeout=200,asyncTimeout=200,syncTimeout=200", prefix, logs);
        await host.StartAsync().DefaultTimeout();

        await TestTimeouts.UntilAsync(() => AnnouncerWarnings(logs).Any(), "the announcer reports a failed announcement");
        var elapsed = Stopwatch.StartNew();
        await host.StopAsync().DefaultTimeout();

        Assert.True(elapsed.Elapsed < TimeSpan.FromSeconds(5), $"Stopping took {elapsed.Elapsed}.");
        Assert.Contains($"'{prefix}channels'", AnnouncerWarnings(logs).First(), StringComparison.Ordinal);
    }

    private static IHost BuildHost(string configuration, string prefix, ILoggerProvider? logs = null)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        if (logs is not null)
        {
            builder.Logging.AddProvider(logs);
        }

        builder.Services.AddAtrPublishing(o =>
        {
            o.Redis = configuration;
            o.ChannelPrefix = prefix;
            o.ModelAssemblies.Add(typeof(Announcement).Assembly);
            o.Channels.Add("post.published");
        });
        return builder.Build();
    }

    private async Task UntilAnnouncedAsync(string prefix, params string[] names)
    {
        var key = RedisRegistryAnnouncer.RegistryKey(prefix);
        await TestTimeouts.UntilAsync(
            async () =>
            {
                var members = (await redis.Client.GetDatabase().SetMembersAsync(key).DefaultTimeout()).Select(m => m.ToString()).ToHashSet(StringComparer.Ordinal);
                return names.All(members.Contains);
            },
            $"'{key}' holds {string.Join(", ", names)}");
    }

    /// <summary>The announcer's warnings and errors (a scope is captured at <see cref="LogLevel.None"/>, above Critical).</summary>
    private static IEnumerable<string> AnnouncerWarnings(CapturingLoggerProvider logs)
        => logs.Entries
            .Where(e => e.Category == typeof(RedisRegistryAnnouncer).FullName && e.Level is >= LogLevel.Warning and <= LogLevel.Critical)
            .Select(e => e.Message);

    private static string UniquePrefix() => $"atr-test-{Guid.NewGuid():N}:";

    [Publishable]
    private sealed class Announcement
    {
        public int Id { get; init; }
    }
}
