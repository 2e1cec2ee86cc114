using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Atr.Hub.Tests.Infrastructure;
using Atr.Testing;

namespace Atr.Hub.Tests.Protocol;

/// <summary>
/// Sends one raw request to a hub and says what came of it, in terms two hubs can be compared by:
/// the status line of the first answer (and of the second, after a <c>100 Continue</c>), "closed
/// without an answer", or "no answer"; and for a 101, which scope the socket listens to, found by
/// publishing one event to each candidate scope and seeing which the socket receives.
/// </summary>
internal static class HandshakeProbe
{
    /// <summary>How long an answer may take: the header timeout's 408 comes within a few seconds.</summary>
    private static readonly TimeSpan AnswerWait = TimeSpan.FromSeconds(20);

    /// <summary>How long an upgraded socket may take to receive the event of its scope.</summary>
    private static readonly TimeSpan EventWait = TimeSpan.FromSeconds(10);

    /// <summary>How long the pong of the settling ping may take (<see cref="SettleAsync"/>).</summary>
    private static readonly TimeSpan PongWait = TimeSpan.FromSeconds(3);

    private static int s_markers;

    /// <summary>What a request got.</summary>
    /// <param name="Answer">The outcome two hubs must agree on.</param>
    /// <param name="AtConnection">A 101 without Kestrel's Date header: upgraded at the connection.</param>
    public readonly record struct Outcome(string Answer, bool AtConnection);

    /// <summary>Sends <paramref name="request"/> to <paramref name="hub"/> and reads what it gets.</summary>
    /// <param name="hub">The hub.</param>
    /// <param name="request">The request's bytes, written as they are in one write.</param>
    /// <param name="candidateScopes">The scopes an upgraded socket is tried against.</param>
    /// <param name="publishToken">The bearer token for <c>POST /publish</c>, on a hub that needs one.</param>
    public static async Task<Outcome> RunAsync(HubHost hub, byte[] request, IReadOnlyList<string> candidateScopes, string? publishToken)
    {
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await client.ConnectAsync(IPAddress.Loopback, hub.Port).DefaultTimeout();
        using var stream = new NetworkStream(client, ownsSocket: false);
        try
        {
            await stream.WriteAsync(request).AsTask().DefaultTimeout();
        }
        catch (IOException)
        {
            // Answered and closed before the whole request was read (a limit): the answer is there to read.
        }

        using var answerWait = new CancellationTokenSource(AnswerWait);
        var reader = new Reader(stream);
        var head = await reader.ReadHeadAsync(answerWait.Token);
        if (head.Outcome is { } ended)
        {
            return new Outcome(ended, false);
        }

        var status = StatusLine(head.Text!);
        if (status.StartsWith("HTTP/1.1 100 ", StringComparison.Ordinal))
        {
            var next = await reader.ReadHeadAsync(answerWait.Token);
            return new Outcome($"{status} then {next.Outcome ?? StatusLine(next.Text!)}", false);
        }

        if (!status.StartsWith("HTTP/1.1 101 ", StringComparison.Ordinal))
        {
            return new Outcome(status, false);
        }

        var atConnection = !head.Text!.Contains("\r\nDate: ", StringComparison.Ordinal);
        var settled = await SettleAsync(stream, reader);
        return new Outcome($"{status}, {settled ?? await ScopeAsync(hub, reader, candidateScopes, publishToken)}", atConnection);
    }

    /// <summary>
    /// Lets the server read whatever the request left after its head before any event is published:
    /// a ping, answered only once the bytes before it were read as frames. Bytes that end the
    /// connection (a protocol violation) then end it before the event in every run, instead of
    /// racing it. Null once the pong is back, or when none comes in time (the bytes before it began a
    /// frame that waits for more); otherwise how the connection ended.
    /// </summary>
    private static async Task<string?> SettleAsync(NetworkStream stream, Reader reader)
    {
        var payload = "settle"u8.ToArray();
        try
        {
            await stream.WriteAsync(new WebSocketFrame(WebSocketFrame.Ping, payload).ToBytes()).AsTask().DefaultTimeout();
        }
        catch (IOException)
        {
            // Reset already: the server closed on the bytes it read after the head.
            return "closed before an event";
        }

        using var pongWait = new CancellationTokenSource(PongWait);
        while (true)
        {
            var (opcode, received, outcome) = await reader.ReadFrameAsync(pongWait.Token);
            if (outcome is "no answer in time")
            {
                return null;
            }

            if (outcome is "closed without an answer" || opcode == 0x8)
            {
                return "closed before an event";
            }

            if (outcome is not null)
            {
                return outcome;
            }

            if (opcode == 0xA && received.AsSpan().SequenceEqual(payload))
            {
                return null;
            }
        }
    }

    /// <summary>Publishes an event marked for this socket to each candidate scope and reads which one arrives.</summary>
    private static async Task<string> ScopeAsync(HubHost hub, Reader reader, IReadOnlyList<string> candidateScopes, string? publishToken)
    {
        var marker = $"parity.c{Interlocked.Increment(ref s_markers)}";
        using (var response = await hub.PostPublishAsync(candidateScopes.Select(scope => new { scope, name = marker }).ToArray(), publishToken))
        {
            if ((int)response.StatusCode != 202)
            {
                throw new InvalidOperationException($"POST /publish answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
            }
        }

        using var eventWait = new CancellationTokenSource(EventWait);
        while (true)
        {
            var (opcode, payload, outcome) = await reader.ReadFrameAsync(eventWait.Token);

            // A close frame, or the connection's end: which of the two a client sees when the server
            // closes on bytes it did not read (a reset that can overtake the close frame) is a race.
            if (outcome is "closed without an answer" || opcode == 0x8)
            {
                return "closed before an event";
            }

            if (outcome is not null)
            {
                return outcome;
            }

            if (opcode != 0x1)
            {
                continue;
            }

            var frame = JsonDocument.Parse(payload).RootElement;
            if (frame.TryGetProperty("name", out var name) && name.GetString() == marker)
            {
                var key = frame.GetProperty("routing_key").GetString()!;
                var scope = key == marker ? string.Empty : key[..^(marker.Length + 1)];
                return scope.Length == 0 ? "scope (unscoped)" : $"scope {scope}";
            }
        }
    }

    private static string StatusLine(string head)
    {
        var end = head.IndexOf("\r\n", StringComparison.Ordinal);
        return end < 0 ? head : head[..end];
    }

    /// <summary>Reads a response head, then server frames, off the raw connection.</summary>
    private sealed class Reader(NetworkStream stream)
    {
        private readonly byte[] _buffer = new byte[64 * 1024];
        private int _start;
        private int _end;

        /// <summary>The next head (through its empty line), or why there is none.</summary>
        public async Task<(string? Text, string? Outcome)> ReadHeadAsync(CancellationToken cancellationToken)
        {
            while (true)
            {
                var at = _buffer.AsSpan(_start, _end - _start).IndexOf("\r\n\r\n"u8);
                if (at >= 0)
                {
                    var text = Encoding.Latin1.GetString(_buffer, _start, at + 4);
                    _start += at + 4;
                    return text.StartsWith("HTTP/", StringComparison.Ordinal) ? (text, null) : (null, $"not HTTP: {Printable(text)}");
                }

                if (await FillAsync(cancellationToken) is { } outcome)
                {
                    return (null, _end > _start ? $"{outcome} after '{Printable(Encoding.Latin1.GetString(_buffer, _start, _end - _start))}'" : outcome);
                }
            }
        }

        /// <summary>The next server frame (unmasked, as a server sends them), or why there is none.</summary>
        public async Task<(int Opcode, byte[] Payload, string? Outcome)> ReadFrameAsync(CancellationToken cancellationToken)
        {
            while (true)
            {
                var available = _end - _start;
                if (available >= 2)
                {
                    var length = _buffer[_start + 1] & 0x7F;
                    var header = length switch { 126 => 4, 127 => 10, _ => 2 };
                    if (available >= header)
                    {
                        long payloadLength = length switch
                        {
                            126 => (_buffer[_start + 2] << 8) | _buffer[_start + 3],
                            127 => (long)System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(_buffer.AsSpan(_start + 2)),
                            _ => length,
                        };
                        if (header + payloadLength > _buffer.Length)
                        {
                            return (0, [], $"a frame of {payloadLength} bytes");
                        }

                        if (available >= header + payloadLength)
                        {
                            var opcode = _buffer[_start] & 0x0F;
                            var payload = _buffer.AsSpan(_start + header, (int)payloadLength).ToArray();
                            _start += header + (int)payloadLength;
                            return (opcode, payload, null);
                        }
                    }
                }

                if (await FillAsync(cancellationToken) is { } outcome)
                {
                    return (0, [], outcome);
                }
            }
        }

        /// <summary>Reads more; null when bytes came, otherwise how the connection ended.</summary>
        private async Task<string?> FillAsync(CancellationToken cancellationToken)
        {
            if (_start > 0)
            {
                _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
                _end -= _start;
                _start = 0;
            }

            if (_end == _buffer.Length)
            {
                return "an answer larger than 64 KiB";
            }

            try
            {
                var read = await stream.ReadAsync(_buffer.AsMemory(_end), cancellationToken);
                if (read == 0)
                {
                    return "closed without an answer";
                }

                _end += read;
                return null;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return "no answer in time";
            }
            catch (IOException)
            {
                // A reset and a close are one outcome: which of the two a refusing server's close
                // turns into depends on whether the client's bytes were all read, a race.
                return "closed without an answer";
            }
        }
    }

    private static string Printable(string text)
        => string.Concat(text.Take(80).Select(c => c is < ' ' or > '~' ? $"\\x{(int)c:X2}" : c.ToString()));
}
