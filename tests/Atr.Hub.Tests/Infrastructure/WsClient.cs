using System.Net.WebSockets;
using System.Text;
using System.Threading.Channels;
using Atr.Testing;

namespace Atr.Hub.Tests.Infrastructure;

/// <summary>A real <see cref="ClientWebSocket"/> whose frames are read as they arrive and kept for the test.</summary>
internal sealed class WsClient : IAsyncDisposable
{
    private readonly Channel<string> _messages = Channel.CreateUnbounded<string>();
    private readonly TaskCompletionSource<WebSocketCloseStatus?> _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private WsClient(ClientWebSocket socket)
    {
        Socket = socket;
        // Ends by itself when the connection does; its outcome is _closed.
        _ = ReadAsync();
    }

    public ClientWebSocket Socket { get; }

    /// <summary>The close code the server sent, once the connection ended; null when it ended without one.</summary>
    public Task<WebSocketCloseStatus?> Closed => _closed.Task;

    /// <summary>Connects to <paramref name="uri"/>; <paramref name="options"/> may set headers first (what a proxy adds, an Origin).</summary>
    public static async Task<WsClient> ConnectAsync(Uri uri, Action<ClientWebSocketOptions>? options = null)
    {
        var socket = new ClientWebSocket();
        options?.Invoke(socket.Options);
        await socket.ConnectAsync(uri, CancellationToken.None).DefaultTimeout();
        return new WsClient(socket);
    }

    /// <summary>The next text frame; fails after the default timeout.</summary>
    public Task<string> ReceiveAsync() => _messages.Reader.NextAsync("frame");

    /// <summary>Receives <paramref name="count"/> frames.</summary>
    public async Task<List<string>> ReceiveAsync(int count)
    {
        var frames = new List<string>(count);
        for (var i = 0; i < count; i++)
        {
            frames.Add(await ReceiveAsync());
        }

        return frames;
    }

    /// <summary>Asserts that no frame arrives within a short bounded wait.</summary>
    public Task AssertNothingAsync() => _messages.Reader.AssertNothingAsync("frame");

    /// <summary>Every text frame as it arrives, for a reader of the test's own instead of <see cref="ReceiveAsync()"/>; completes when the connection ends.</summary>
    public ChannelReader<string> Frames => _messages.Reader;

    /// <summary>Frames received so far and not yet taken.</summary>
    public int Pending => _messages.Reader.Count;

    public Task SendTextAsync(string text)
        => Socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None).DefaultTimeout();

    public async ValueTask DisposeAsync()
    {
        if (Socket.State == WebSocketState.Open)
        {
            try
            {
                using var timeout = new CancellationTokenSource(TestTimeouts.Default);
                await Socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token);
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
            {
                // The connection is gone already (reset, or dropped by the hub): nothing left to close.
            }
        }

        await _closed.Task.WaitAsync(TestTimeouts.Default).ContinueWith(_ => { }, TaskScheduler.Default);
        Socket.Dispose();
    }

    private async Task ReadAsync()
    {
        var buffer = new byte[64 * 1024];
        var message = new MemoryStream();
        try
        {
            while (true)
            {
                var result = await Socket.ReceiveAsync(buffer, CancellationToken.None);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    if (Socket.State == WebSocketState.CloseReceived)
                    {
                        await Socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
                    }

                    _closed.TrySetResult(result.CloseStatus);
                    return;
                }

                message.Write(buffer, 0, result.Count);
                if (result.EndOfMessage)
                {
                    _messages.Writer.TryWrite(Encoding.UTF8.GetString(message.GetBuffer(), 0, (int)message.Length));
                    message.SetLength(0);
                }
            }
        }
        catch (Exception)
        {
            _closed.TrySetResult(Socket.CloseStatus);
        }
        finally
        {
            _messages.Writer.TryComplete();
        }
    }
}
