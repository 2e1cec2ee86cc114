using System.Text;
using Atr.Hub.History;
using Atr.Hub.Subscriptions;
using Xunit;

namespace Atr.Hub.Tests.History;

/// <summary>A scope's tail keeps its last events' bytes in a ring, whatever their sizes, and gives them back exactly, oldest first.</summary>
public sealed class ScopeTailTests
{
    [Theory]
    [InlineData(7, 300)]
    [InlineData(20, 600)]
    [InlineData(100, 200)]
    public void KeepsTheLastEventsInOrderThroughWrapsAndGrowth(int capacity, int maxBody)
    {
        var tail = new ScopeTail(capacity);
        var appended = new List<string>();

        // Sizes from a few bytes to several KiB: the ring wraps, finds room at its start, and grows.
        var random = new Random(20261208);
        for (var i = 0; i < 500; i++)
        {
            var json = Event(i, new string('x', random.Next(0, i % 50 == 0 ? 9000 : maxBody)));
            appended.Add(json);
            tail.Append(new EventFrame(Encoding.UTF8.GetBytes(json)));

            var expected = appended.TakeLast(capacity).ToArray();
            Assert.Equal(expected.Length, tail.Count);
            Assert.Equal(expected, tail.Snapshot().Select(f => Encoding.UTF8.GetString(f.Payload.Span)));
        }
    }

    [Fact]
    public void AnEventThatDoesNotFitBetweenTheNewestAndTheOldestGrowsTheRingRatherThanOverwriting()
    {
        var tail = new ScopeTail(4);

        // Four of 1,000 bytes fill the ring's first 4,000; the fifth wraps to its start (the first one
        // is gone); the sixth, of 1,500, does not fit between the fifth and the third.
        foreach (var (fill, size) in new[] { (1, 1000), (2, 1000), (3, 1000), (4, 1000), (5, 1000), (6, 1500) })
        {
            tail.Append(new EventFrame(Enumerable.Repeat((byte)fill, size).ToArray()));
        }

        Assert.Equal(
            [(3, 1000), (4, 1000), (5, 1000), (6, 1500)],
            tail.Snapshot().Select(f => ((int)f.Payload.Span[0], f.Payload.Span.Count(f.Payload.Span[0]))));
    }

    [Fact]
    public void FindsIdsInTheBytesOrAsTheirFramesKnewThem()
    {
        var tail = new ScopeTail(3);
        tail.Append(new EventFrame(Encoding.UTF8.GetBytes(Event(1, "a"))));
        tail.Append(new EventFrame(Encoding.UTF8.GetBytes("""{"name":"no.id"}""")));
        Assert.Equal(Id(1), tail.LastId());

        // A history entry's id is the stream's, given with its frame.
        tail.Append(new EventFrame(Encoding.UTF8.GetBytes("""{"name":"from.history"}"""), Id(2)));
        Assert.True(tail.Contains(Id(1)));
        Assert.True(tail.Contains(Id(2)));
        Assert.False(tail.Contains(Id(3)));
        Assert.Equal(Id(2), tail.LastId());
        Assert.Equal([Id(1), null, Id(2)], tail.Snapshot().Select(f => f.Id));

        tail.Append(new EventFrame(Encoding.UTF8.GetBytes(Event(4, "b"))));
        Assert.False(tail.Contains(Id(1)));
        Assert.Equal(Id(4), tail.LastId());
    }

    [Fact]
    public void SnapshotIsMadeOncePerChangeAndOwnsItsBytes()
    {
        var tail = new ScopeTail(2);
        tail.Append(new EventFrame(Encoding.UTF8.GetBytes(Event(1, "a"))));
        var first = tail.Snapshot();
        Assert.Same(first, tail.Snapshot());

        // The ring reuses its bytes; a snapshot taken before keeps what it had.
        tail.Append(new EventFrame(Encoding.UTF8.GetBytes(Event(2, "b"))));
        tail.Append(new EventFrame(Encoding.UTF8.GetBytes(Event(3, "c"))));
        tail.Append(new EventFrame(Encoding.UTF8.GetBytes(Event(4, "d"))));
        Assert.NotSame(first, tail.Snapshot());
        Assert.Equal(Event(1, "a"), Encoding.UTF8.GetString(Assert.Single(first).Payload.Span));
        Assert.Equal([Id(3), Id(4)], tail.Snapshot().Select(f => f.Id));
        Assert.Equal([Id(4)], ScopeTail.After(tail.Snapshot(), Id(3))!.Select(f => f.Id));
    }

    private static string Id(int n) => n.ToString("x32", System.Globalization.CultureInfo.InvariantCulture);

    private static string Event(int n, string body) => "{\"id\":\"" + Id(n) + "\",\"name\":\"post.created\",\"record\":{\"body\":\"" + body + "\"}}";
}
