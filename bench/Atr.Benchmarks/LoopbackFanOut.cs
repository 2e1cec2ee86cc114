using System.Diagnostics;
using System.Globalization;
using System.Net.WebSockets;
using Atr.Bench.Measurement;
using Atr.Bench.Scenarios;
using Atr.Bench.Targets;
using StackExchange.Redis;

namespace Atr.Benchmarks;

/// <summary>
/// A quick loopback fan-out against a real <c>atr-server</c> process: one scope, many clients,
/// events published to Redis in bursts (about 180 bytes each with the default 140 characters of
/// <c>--pad</c>). Reports the server's CPU time per delivered message (from
/// <c>/proc/&lt;pid&gt;/stat</c>) and, with <c>--strace</c>, the server's send syscalls over the
/// publishing phase alone. The server runs on core 0 (<c>--server-cores</c> to change), Redis on
/// core 1 with this program (run it under <c>taskset -c 1</c>).
/// </summary>
internal static class LoopbackFanOut
{
    public static async Task<int> RunAsync(string[] args)
    {
        var server = Option(args, "--server", "Atr.Server/bin/Release/net10.0/atr-server.dll");
        var clients = int.Parse(Option(args, "--clients", "300"), CultureInfo.InvariantCulture);
        var events = int.Parse(Option(args, "--events", "2000"), CultureInfo.InvariantCulture);
        var burst = int.Parse(Option(args, "--burst", "20"), CultureInfo.InvariantCulture);
        var padding = int.Parse(Option(args, "--pad", "140"), CultureInfo.InvariantCulture);
        var strace = args.Contains("--strace");
        var serverCores = Option(args, "--server-cores", "0");

        var settings = new BenchSettings
        {
            Scenario = "loopback",
            Paths = new ToolPaths { RepositoryRoot = ToolPaths.FindRepositoryRoot(), AtrServerDll = Path.GetFullPath(server) },
            ServerCpus = serverCores,
        };
        await using var redis = await RedisInstance.StartAsync(settings.Paths.RedisServer, "1", CancellationToken.None);
        await using var hub = await TargetServer.StartAsync(TargetKind.Atr, settings, redis, CancellationToken.None);
        var publisher = redis.Client.GetSubscriber();

        var received = new long[1];
        var sockets = new List<ClientWebSocket>(clients);
        var readers = new List<Task>(clients);
        for (var i = 0; i < clients; i++)
        {
            var socket = new ClientWebSocket();
            await socket.ConnectAsync(new Uri($"ws://127.0.0.1:{hub.Port}/organization/1"), CancellationToken.None);
            sockets.Add(socket);
            readers.Add(ReadAsync(socket, received));
        }

        var pad = new string('p', padding);
        var hubPid = hub.Process.Id;
        ChildProcess? tracer = null;
        var traceFile = Path.Combine(Path.GetTempPath(), $"atr-strace-{hubPid}.txt");
        if (strace)
        {
            tracer = ChildProcess.Start(
                "strace", "strace", ["-c", "-f", "-e", "trace=sendmsg,sendto,write,writev", "-o", traceFile, "-p", hubPid.ToString(CultureInfo.InvariantCulture)], cpus: null);
            await Task.Delay(1000);
        }

        var cpuBefore = ProcessSampler.CpuSeconds(hubPid);
        var clock = Stopwatch.StartNew();
        for (var sent = 0; sent < events;)
        {
            var batch = new List<Task>(burst);
            for (var i = 0; i < burst && sent < events; i++, sent++)
            {
                batch.Add(publisher.PublishAsync(RedisChannel.Literal("atr:organization.1"), $$"""{"name":"bench.tick","seq":{{sent}},"pad":"{{pad}}"}"""));
            }

            await Task.WhenAll(batch);
            var expected = (long)sent * clients;
            var deadline = Stopwatch.StartNew();
            while (Interlocked.Read(ref received[0]) < expected)
            {
                if (deadline.Elapsed > TimeSpan.FromSeconds(60))
                {
                    throw new TimeoutException($"{Interlocked.Read(ref received[0])} of {expected} deliveries arrived.");
                }

                await Task.Delay(1);
            }
        }

        var elapsed = clock.Elapsed;
        var cpu = ProcessSampler.CpuSeconds(hubPid) - cpuBefore;
        if (tracer is not null)
        {
            // strace writes its summary when it detaches, on SIGINT.
            ShortProcess.Output("kill", "-INT", tracer.Id.ToString(CultureInfo.InvariantCulture));
            await tracer.WaitForExitAsync(CancellationToken.None);
            await tracer.DisposeAsync();
        }

        var deliveries = (long)events * clients;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"clients={clients} events={events} burst={burst} pad={padding}: {deliveries} deliveries in {elapsed.TotalSeconds:F2} s, server CPU {cpu:F2} s = {cpu * 1e6 / deliveries:F2} µs per delivery"));
        if (tracer is not null)
        {
            var calls = SendCalls(await File.ReadAllTextAsync(traceFile));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  send syscalls: {calls} = {calls / (double)deliveries:F3} per delivery"));
            File.Delete(traceFile);
        }

        foreach (var socket in sockets)
        {
            socket.Abort();
            socket.Dispose();
        }

        return 0;
    }

    private static async Task ReadAsync(ClientWebSocket socket, long[] received)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                var result = await socket.ReceiveAsync(buffer.AsMemory(), CancellationToken.None);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return;
                }

                if (result.EndOfMessage)
                {
                    Interlocked.Increment(ref received[0]);
                }
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
    }

    /// <summary>The number of calls in an <c>strace -c</c> summary's total line.</summary>
    private static long SendCalls(string summary)
    {
        var total = summary.Split('\n').Last(l => l.Contains("total", StringComparison.Ordinal));
        var columns = total.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return long.Parse(columns[^2], CultureInfo.InvariantCulture);
    }

    private static string Option(string[] args, string name, string fallback)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? args[index + 1] : fallback;
    }
}
