using System.Net.Sockets;
using StackExchange.Redis;

namespace Atr.Hub.Backplane;

/// <summary>
/// Why Redis cannot be reached, in a few words, from a TCP connect to its first endpoint: the client
/// library reports little about a connection that never opened, and "connection refused" (a wrong
/// port, Redis down) and "host not found" call for different fixes than a Redis that accepts TCP and
/// then refuses the client (a password, TLS).
/// </summary>
internal static class RedisReachability
{
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(1);

    /// <returns>Whether a TCP connection opened, and the reason in a few words.</returns>
    public static async Task<(bool TcpConnects, string Reason)> DiagnoseAsync(string configuration, TimeProvider time, CancellationToken cancellationToken)
    {
        var endPoint = ConfigurationOptions.Parse(configuration).EndPoints.FirstOrDefault();
        if (endPoint is null)
        {
            return (false, "no endpoint configured");
        }

        using var timeout = new CancellationTokenSource(ConnectTimeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, cancellationToken);
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(endPoint, linked.Token).ConfigureAwait(false);
            return (true, "it accepts TCP connections but the client could not complete its handshake: check the password, TLS, or that this is a Redis server");
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            return (false, $"no answer to a TCP connect within {ConnectTimeout.TotalSeconds:0} s");
        }
        catch (SocketException ex)
        {
            return (false, ex.SocketErrorCode switch
            {
                SocketError.ConnectionRefused => "connection refused",
                SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain => "host not found",
                SocketError.HostUnreachable or SocketError.NetworkUnreachable => "no route to the host",
                _ => ex.Message,
            });
        }
    }
}
