using System.Diagnostics;
using System.Net.WebSockets;
using System.Text.Json;
using Atr.Bench.Clients;

namespace Atr.Bench.History;

/// <summary>A raw client that keeps the ids of the events it receives, and says when it holds as many as it waits for.</summary>
internal sealed class StormClient
{
    private readonly WebSocket _socket;
    private readonly int _expected;
    private readonly List<string> _ids = [];
    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private StormClient(WebSocket socket, int expected)
    {
        _socket = socket;
        _expected = expected;
    }

    /// <summary>Completes when <see cref="Ids"/> holds the expected number of events, the hub sent <c>atr.resync</c>, or the socket closed.</summary>
    public Task Done => _done.Task;

    /// <summary>When <see cref="Done"/> completed (<see cref="Stopwatch.GetTimestamp"/>).</summary>
    public long DoneAt { get; private set; }

    public bool Resynced { get; private set; }

    public IReadOnlyList<string> Ids
    {
        get
        {
            lock (_ids)
            {
                return [.. _ids];
            }
        }
    }

    /// <summary>Whether the event with <paramref name="id"/> arrived.</summary>
    public bool Holds(string id)
    {
        lock (_ids)
        {
            return _ids.Contains(id);
        }
    }

    public static async Task<StormClient> ConnectAsync(Uri uri, int expected, CancellationToken cancellationToken)
    {
        var socket = await WebSocketConnector.ConnectAsync(uri, null, cancellationToken).ConfigureAwait(false);
        var client = new StormClient(socket, expected);
        _ = client.ReceiveAsync();
        return client;
    }

    /// <summary>Drops the connection at once, as a node going away or a phone changing networks does.</summary>
    public void Abort() => _socket.Abort();

    private async Task ReceiveAsync()
    {
        var buffer = new byte[4096];
        var filled = 0;
        try
        {
            while (_socket.State == WebSocketState.Open)
            {
                if (filled == buffer.Length)
                {
                    Array.Resize(ref buffer, buffer.Length * 2);
                }

                var result = await _socket.ReceiveAsync(buffer.AsMemory(filled), CancellationToken.None).ConfigureAwait(false);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    break;
                }

                filled += result.Count;
                if (result.EndOfMessage)
                {
                    Handle(buffer.AsSpan(0, filled));
                    filled = 0;
                }
            }
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or ObjectDisposedException or OperationCanceledException)
        {
            // Aborted by the storm, or dropped by the hub: Done says so below.
        }

        Finish();
    }

    private void Handle(ReadOnlySpan<byte> message)
    {
        var (name, id) = Read(message);
        if (name == "atr.resync")
        {
            Resynced = true;
            Finish();
            return;
        }

        if (id is null)
        {
            return;
        }

        int count;
        lock (_ids)
        {
            _ids.Add(id);
            count = _ids.Count;
        }

        if (count >= _expected)
        {
            Finish();
        }
    }

    private void Finish()
    {
        if (!_done.Task.IsCompleted)
        {
            DoneAt = Stopwatch.GetTimestamp();
            _done.TrySetResult();
        }
    }

    private static (string? Name, string? Id) Read(ReadOnlySpan<byte> message)
    {
        string? name = null;
        string? id = null;
        var reader = new Utf8JsonReader(message);
        try
        {
            while (reader.Read())
            {
                if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == 1)
                {
                    var isName = reader.ValueTextEquals("name"u8);
                    var isId = reader.ValueTextEquals("id"u8);
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.String && (isName || isId))
                    {
                        if (isName)
                        {
                            name = reader.GetString();
                        }
                        else
                        {
                            id = reader.GetString();
                        }
                    }
                    else
                    {
                        reader.Skip();
                    }
                }
            }
        }
        catch (JsonException)
        {
            // Not an event: counted as nothing.
        }

        return (name, id);
    }
}
