using System.Diagnostics;
using System.Globalization;
using Atr.Bench.Measurement;
using Atr.Bench.Results;
using Atr.Bench.Scenarios;
using Atr.Bench.Targets;
using Atr.Publishing;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace Atr.Bench.History;

/// <summary>
/// <c>history-storm</c>: the clients of one scope are dropped at once (a deploy, a network change), events are
/// published while they are away, and they all come back at once with <c>since</c>. Measures the time until the last
/// one holds every missed event, and how many history reads Redis served for them: the node drops a scope's tail
/// with its last client, so the storm finds none and must read Redis.
/// </summary>
internal static class RecoveryStorm
{
    private const string Scope = "organization.1";
    private const string Channel = "atr:" + Scope;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);

    public static async Task<IReadOnlyList<HistoryResult>> RunAsync(HistoryBenchSettings settings, MachineInfo machine, TextWriter progress, CancellationToken cancellationToken)
    {
        var results = new List<HistoryResult>();
        for (var run = 1; run <= settings.Runs; run++)
        {
            var figures = await MeasureAsync(settings, progress, cancellationToken).ConfigureAwait(false);
            var result = HistoryResult.Measured(settings, machine, run, settings.HistorySize, storm: figures);
            progress.WriteLine(Summary(result));
            results.Add(result);
        }

        return results;
    }

    public static string Summary(HistoryResult result)
    {
        var storm = result.Storm!;
        return string.Create(CultureInfo.InvariantCulture,
            $"storm run {result.Run}: {storm.Clients:N0} clients × {storm.Events} missed events: last client complete after {storm.LastClientMs:0} ms " +
            $"(median {storm.MedianClientMs:0} ms; all upgraded after {storm.AllConnectedMs:0} ms), {storm.HistoryReads} history read(s) in Redis, " +
            $"hub CPU {storm.ServerCpuSeconds:0.00} s; missing {storm.Missing}, duplicated {storm.Duplicated}, disordered {storm.Disordered}, atr.resync {storm.Resyncs}");
    }

    private static async Task<StormFigures> MeasureAsync(HistoryBenchSettings settings, TextWriter progress, CancellationToken cancellationToken)
    {
        var benchSettings = new BenchSettings
        {
            Scenario = settings.Scenario,
            Paths = settings.Paths,
            Pin = settings.Pin,
            ServerCpus = settings.ServerCpus,
            LoadCpus = settings.LoadCpus,
        };
        await using var redis = await RedisInstance.StartAsync(settings.Paths.RedisServer, settings.Pin ? settings.LoadCpus : null, cancellationToken).ConfigureAwait(false);
        await using var server = await TargetServer.StartAsync(TargetKind.Atr, benchSettings, redis, cancellationToken).ConfigureAwait(false);
        await using var provider = new ServiceCollection()
            .AddAtrPublishing(options =>
            {
                options.Redis = redis.Endpoint;
                options.HistorySize = settings.HistorySize;
            })
            .BuildServiceProvider();
        var publisher = provider.GetRequiredService<IEventPublisher>();
        var uri = new Uri($"ws://127.0.0.1:{server.Port}/organization/1");

        // The clients connect, and are probed until each receives (the node's Redis subscription follows the first
        // upgrade); then one last event, which every client holds: the id they will come back with.
        progress.WriteLine($"connecting {settings.Clients:N0} clients to {Scope}...");
        var first = await ConnectAllAsync(settings, _ => uri, expected: 1, cancellationToken).ConfigureAwait(false);
        await WaitForAsync(Task.WhenAll(first.Select(client => client.Done)), "every client's first event", cancellationToken, async () =>
            await publisher.PublishAsync(Scope, "bench.probe", null, cancellationToken: cancellationToken).ConfigureAwait(false)).ConfigureAwait(false);
        var since = (await publisher.PublishAsync(Scope, "bench.last", null, cancellationToken: cancellationToken).ConfigureAwait(false)).Id;
        await WaitForAsync(WaitUntilAsync(() => first.All(client => client.Holds(since)), cancellationToken), "every client's last event", cancellationToken).ConfigureAwait(false);

        // Dropped at once; once the last is gone the node leaves the scope and with it the scope's tail.
        foreach (var client in first)
        {
            client.Abort();
        }

        await WaitForAsync(WaitUnsubscribedAsync(redis, cancellationToken), "the node to leave the scope", cancellationToken).ConfigureAwait(false);

        var missed = new List<string>();
        for (var i = 0; i < settings.Events; i++)
        {
            missed.Add((await publisher.PublishAsync(Scope, "bench.missed", null, cancellationToken: cancellationToken).ConfigureAwait(false)).Id);
        }

        await redis.Client.GetServer(redis.Endpoint).ExecuteAsync("CONFIG", "RESETSTAT").ConfigureAwait(false);
        var serverCpu = ProcessSampler.CpuSeconds(server.Process.Id);
        progress.WriteLine($"{settings.Events} events published while away; {settings.Clients:N0} clients come back with since={since}...");

        var started = Stopwatch.GetTimestamp();
        var back = await ConnectAllAsync(settings, _ => new Uri(uri + "?since=" + since), settings.Events, cancellationToken).ConfigureAwait(false);
        var allConnected = Stopwatch.GetElapsedTime(started);
        await WaitForAsync(Task.WhenAll(back.Select(client => client.Done)), "every client's missed events", cancellationToken).ConfigureAwait(false);
        var serverSeconds = ProcessSampler.CpuSeconds(server.Process.Id) - serverCpu;
        var reads = await HistoryReadsAsync(redis).ConfigureAwait(false);

        var completion = back.Select(client => Stopwatch.GetElapsedTime(started, client.DoneAt).TotalMilliseconds).Order().ToArray();
        long missing = 0, duplicated = 0, disordered = 0;
        foreach (var client in back)
        {
            var ids = client.Ids;
            missing += missed.Except(ids).Count();
            duplicated += ids.Count - ids.Distinct().Count();
            disordered += ids.Distinct().SequenceEqual(missed.Where(ids.Contains)) ? 0 : 1;
            client.Abort();
        }

        return new StormFigures
        {
            Clients = settings.Clients,
            Events = settings.Events,
            ConnectConcurrency = settings.ConnectConcurrency,
            LastClientMs = Math.Round(completion[^1], 1),
            MedianClientMs = Math.Round(completion[completion.Length / 2], 1),
            AllConnectedMs = Math.Round(allConnected.TotalMilliseconds, 1),
            HistoryReads = reads,
            ServerCpuSeconds = Math.Round(serverSeconds, 3),
            Missing = missing,
            Duplicated = duplicated,
            Disordered = disordered,
            Resyncs = back.Count(client => client.Resynced),
        };
    }

    /// <summary>Opens <see cref="HistoryBenchSettings.Clients"/> clients, <see cref="HistoryBenchSettings.ConnectConcurrency"/> handshakes at a time.</summary>
    private static async Task<StormClient[]> ConnectAllAsync(HistoryBenchSettings settings, Func<int, Uri> uriOf, int expected, CancellationToken cancellationToken)
    {
        using var gate = new SemaphoreSlim(settings.ConnectConcurrency);
        var connecting = Enumerable.Range(0, settings.Clients).Select(async index =>
        {
            await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(Patience);
                return await StormClient.ConnectAsync(uriOf(index), expected, timeout.Token).ConfigureAwait(false);
            }
            finally
            {
                gate.Release();
            }
        });
        return await Task.WhenAll(connecting).ConfigureAwait(false);
    }

    /// <summary>Waits for <paramref name="task"/>, doing <paramref name="poke"/> every half second meanwhile (a probe publish), up to the patience.</summary>
    private static async Task WaitForAsync(Task task, string what, CancellationToken cancellationToken, Func<Task>? poke = null)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(Patience.TotalSeconds * Stopwatch.Frequency);
        do
        {
            if (poke is not null)
            {
                await poke().ConfigureAwait(false);
            }

            if (await Task.WhenAny(task, Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken)).ConfigureAwait(false) == task)
            {
                await task.ConfigureAwait(false);
                return;
            }
        }
        while (Stopwatch.GetTimestamp() < deadline);

        throw new TimeoutException($"Waited {Patience.TotalSeconds:0} s for {what}.");
    }

    private static async Task WaitUntilAsync(Func<bool> condition, CancellationToken cancellationToken)
    {
        while (!condition())
        {
            await Task.Delay(TimeSpan.FromMilliseconds(50), cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task WaitUnsubscribedAsync(RedisInstance redis, CancellationToken cancellationToken)
    {
        var server = redis.Client.GetServer(redis.Endpoint);
        while (true)
        {
            var reply = (RedisResult[])(await server.ExecuteAsync("PUBSUB", "NUMSUB", Channel).ConfigureAwait(false))!;
            if ((long)reply[1] == 0)
            {
                return;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(50), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary><c>XRANGE</c> and <c>XREVRANGE</c> calls since the last <c>CONFIG RESETSTAT</c>.</summary>
    private static async Task<long> HistoryReadsAsync(RedisInstance redis)
    {
        var stats = await redis.Client.GetServer(redis.Endpoint).InfoAsync("commandstats").ConfigureAwait(false);
        long reads = 0;
        foreach (var pair in stats.SelectMany(group => group))
        {
            if (pair.Key is "cmdstat_xrange" or "cmdstat_xrevrange")
            {
                // calls=3,usec=…
                var calls = pair.Value.Split(',')[0]["calls=".Length..];
                reads += long.Parse(calls, CultureInfo.InvariantCulture);
            }
        }

        return reads;
    }
}
