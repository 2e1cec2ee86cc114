using System.Net;
using System.Net.Sockets;
using Atr.Publishing.Redis;
using Atr.Testing;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;
using Xunit;

namespace Atr.Publishing.Tests;

[Collection(UsesRedis.Name)]
public sealed class RedisConnectionProviderTests(RedisServer redis)
{
    [Fact]
    public async Task ConnectsOnceAndSharesTheConnection()
    {
        await using var services = BuildServices(redis.Configuration);
        var provider = services.GetRequiredService<RedisConnectionProvider>();

        var first = await provider.GetConnectionAsync().DefaultTimeout();
        var second = await provider.GetConnectionAsync().DefaultTimeout();

        Assert.Same(first, second);
        await first.GetDatabase().PingAsync().DefaultTimeout();
    }

    [Fact]
    public async Task DisposesTheConnectionItMadeWithTheContainer()
    {
        IConnectionMultiplexer connection;
        await using (var services = BuildServices(redis.Configuration))
        {
            connection = await services.GetRequiredService<RedisConnectionProvider>().GetConnectionAsync().DefaultTimeout();
            Assert.True(connection.IsConnected);
        }

        Assert.True(IsDisposed(connection));
    }

    [Fact]
    public async Task DisposesAConnectionStillInFlightWhenTheContainerIsDisposed()
    {
        // A listener that never answers: the TCP handshake succeeds, the Redis handshake hangs
        // until connectTimeout (5 s, far longer than the steps below on a loaded machine), so the
        // connect is still in flight when the container goes.
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var port = ((IPEndPoint)silent.LocalEndpoint).Port;
        var services = BuildServices($"127.0.0.1:{port},connectTimeout=5000");
        var provider = services.GetRequiredService<RedisConnectionProvider>();
        using var cancellation = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => services.GetRequiredService<IEventPublisher>().PublishAsync("organization.1", "post.created", null, cancellationToken: cancellation.Token)).DefaultTimeout();
        var connecting = provider.GetConnectionAsync();
        Assert.False(connecting.IsCompleted);

        await services.DisposeAsync().AsTask().DefaultTimeout();

        // Left alive, the multiplexer would reconnect to the port forever.
        var connection = await connecting.DefaultTimeout();
        await TestTimeouts.UntilAsync(() => IsDisposed(connection), "the multiplexer is disposed");
    }

    [Fact]
    public async Task NeverDisposesARegisteredMultiplexer()
    {
        var collection = new ServiceCollection();
        collection.AddSingleton<IConnectionMultiplexer>(redis.Client);
        collection.AddAtrPublishing();
        await using (var services = collection.BuildServiceProvider(validateScopes: true))
        {
            Assert.Same(redis.Client, await services.GetRequiredService<RedisConnectionProvider>().GetConnectionAsync().DefaultTimeout());
        }

        Assert.False(IsDisposed(redis.Client));
        await redis.Client.GetDatabase().PingAsync().DefaultTimeout();
    }

    private static ServiceProvider BuildServices(string configuration)
    {
        var collection = new ServiceCollection();
        collection.AddAtrPublishing(o => o.Redis = configuration);
        return collection.BuildServiceProvider(validateScopes: true);
    }

    // A fire-and-forget command returns at once on a live multiplexer, connected or not; a
    // disposed one refuses it.
    private static bool IsDisposed(IConnectionMultiplexer connection)
    {
        try
        {
            connection.GetSubscriber().Publish(RedisChannel.Literal("atr-test:disposed-probe"), RedisValue.EmptyString, CommandFlags.FireAndForget);
            return false;
        }
        catch (ObjectDisposedException)
        {
            return true;
        }
    }
}
