using System.Diagnostics.Metrics;
using System.Text;
using Atr.Hub.Diagnostics;
using Atr.Hub.History;
using Atr.Hub.Subscriptions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Xunit;
using Frame = Atr.Hub.Subscriptions.EventFrame;

namespace Atr.Hub.Tests.History;

/// <summary>
/// A node that subscribes a scope reads its history and delivers what arrives from the subscription
/// meanwhile. The subscription's messages and the read's reply come on different Redis connections,
/// so an event published between the two may arrive after the read already returned it: it must
/// reach a recovering client once, not twice.
/// </summary>
public sealed class HistoryReadOverlapTests : IDisposable
{
    private const string Scope = "organization.1";

    private readonly IOptions<AtrHubOptions> _options = Options.Create(new AtrHubOptions { HistorySize = 100 });
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly ScopeRegistry _groups;
    private readonly HubMetrics _metrics;
    private readonly EventDispatcher _dispatcher;

    public HistoryReadOverlapTests()
    {
        _groups = new ScopeRegistry(_options);
        _metrics = new HubMetrics(_services.GetRequiredService<IMeterFactory>(), _groups);
        _dispatcher = new EventDispatcher(_groups, _metrics, TimeProvider.System, _options, NullLogger<EventDispatcher>.Instance);
    }

    [Fact]
    public async Task AnEventTheReadReturnedThatTheSubscriptionBringsAfterwardsIsDeliveredOnce()
    {
        var (group, recovery) = Subscribing(1, 2, 3);
        await recovery.SeedAsync(group);
        var client = new Recipient();
        var tail = group.AddRecovering(client);
        Assert.Equal([Id(1), Id(2), Id(3)], tail.Select(frame => frame.Id));

        // 3 was published after the subscription and before the read; its message comes late.
        Dispatch(3);
        Dispatch(4);
        Dispatch(5);
        Assert.Equal([Id(4), Id(5)], client.Received);

        // Only that seam: once a newer event arrived, what comes is delivered as it comes.
        Dispatch(3);
        Assert.Equal([Id(4), Id(5), Id(3)], client.Received);
    }

    [Fact]
    public async Task WhenAParkedEventIsNewerThanTheReadNothingLaterIsDropped()
    {
        var (group, recovery) = Subscribing(1, 2);

        // 2 and 3 arrive while the read is under way: 2 is in what it returns, 3 is newer.
        Dispatch(2);
        Dispatch(3);
        await recovery.SeedAsync(group);
        Assert.False(group.ReadOverlap);
        var client = new Recipient();
        Assert.Equal([Id(1), Id(2), Id(3)], group.AddRecovering(client).Select(frame => frame.Id));

        Dispatch(4);
        Assert.Equal([Id(4)], client.Received);
    }

    public void Dispose()
    {
        _metrics.Dispose();
        _services.Dispose();
    }

    /// <summary>The scope's group as the node subscribes it, with a history that holds <paramref name="history"/>.</summary>
    private (ScopeGroup Group, HistoryRecovery Recovery) Subscribing(params int[] history)
    {
        var recovery = new HistoryRecovery(_groups, new FixedHistory([.. history.Select(n => new HistoryEntry(Id(n), Payload(n)))]), TimeProvider.System, _options, NullLogger<HistoryRecovery>.Instance);
        var group = _groups.GetOrAdd(Scope);
        recovery.BeginSeed(group);
        group.Subscribed = true;
        return (group, recovery);
    }

    private void Dispatch(int n) => _dispatcher.Dispatch(Scope, Payload(n));

    private static string Id(int n) => n.ToString("x32", System.Globalization.CultureInfo.InvariantCulture);

    private static byte[] Payload(int n)
        => Encoding.UTF8.GetBytes($$"""{"id":"{{Id(n)}}","name":"stream.numbered","occured_at":"2026-11-27T16:52:25.123+00:00","record":{"n":{{n}}},"record_type":null,"routing_key":"{{Scope}}.stream.numbered"}""");

    private sealed class FixedHistory(IReadOnlyList<HistoryEntry> entries) : IEventHistory
    {
        public Task<IReadOnlyList<HistoryEntry>> ReadAsync(string scope, CancellationToken cancellationToken) => Task.FromResult(entries);
    }

    private sealed class Recipient : IEventRecipient
    {
        public List<string?> Received { get; } = [];

        public long PendingBytes => 0;

        public bool Deliver(Frame frame)
        {
            Received.Add(frame.Id);
            return true;
        }

        public void Hold()
        {
        }

        public void Resume(IReadOnlyList<Frame> first)
        {
        }
    }
}
