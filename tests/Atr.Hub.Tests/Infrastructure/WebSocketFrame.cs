using System.Buffers.Binary;

namespace Atr.Hub.Tests.Infrastructure;

/// <summary>
/// One WebSocket frame as a client puts it on the wire (RFC 6455 §5.2), with every field under the
/// test's control, including the ones a well-behaved client never gets wrong: reserved bits, any
/// opcode, no mask, a length that does not match the payload.
/// </summary>
internal sealed record WebSocketFrame(int Opcode, byte[] Payload)
{
    public const int Continuation = 0x0;
    public const int Text = 0x1;
    public const int Binary = 0x2;
    public const int Close = 0x8;
    public const int Ping = 0x9;
    public const int Pong = 0xA;

    /// <summary>Whether this is the last frame of its message. Default true.</summary>
    public bool Fin { get; init; } = true;

    /// <summary>The RSV1..RSV3 bits, as a number from 0 to 7 (RSV1 is 4). Default 0.</summary>
    public int Reserved { get; init; }

    /// <summary>Whether the payload is masked, as a client must do. Default true.</summary>
    public bool Masked { get; init; } = true;

    /// <summary>The payload length the header announces; default the payload's own length.</summary>
    public ulong? DeclaredLength { get; init; }

    /// <summary>A close frame with <paramref name="code"/> and <paramref name="reason"/>.</summary>
    public static WebSocketFrame CloseWith(int code, byte[]? reason = null)
    {
        var payload = new byte[2 + (reason?.Length ?? 0)];
        BinaryPrimitives.WriteUInt16BigEndian(payload, (ushort)code);
        reason?.CopyTo(payload, 2);
        return new WebSocketFrame(Close, payload);
    }

    /// <summary>The frame's bytes; the mask key comes from <paramref name="random"/> (or is fixed) so a seeded run repeats exactly.</summary>
    public byte[] ToBytes(Random? random = null)
    {
        var length = DeclaredLength ?? (ulong)Payload.Length;
        var lengthBytes = length < 126 ? 0 : length <= ushort.MaxValue ? 2 : 8;
        var headerLength = 2 + lengthBytes + (Masked ? 4 : 0);
        var bytes = new byte[headerLength + Payload.Length];

        bytes[0] = (byte)((Fin ? 0x80 : 0) | ((Reserved & 0x7) << 4) | (Opcode & 0xF));
        bytes[1] = (byte)((Masked ? 0x80 : 0) | (lengthBytes switch { 0 => (int)length, 2 => 126, _ => 127 }));
        if (lengthBytes == 2)
        {
            BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(2), (ushort)length);
        }
        else if (lengthBytes == 8)
        {
            BinaryPrimitives.WriteUInt64BigEndian(bytes.AsSpan(2), length);
        }

        Payload.CopyTo(bytes, headerLength);
        if (Masked)
        {
            var key = bytes.AsSpan(2 + lengthBytes, 4);
            if (random is null)
            {
                key.Fill(0x5A);
            }
            else
            {
                random.NextBytes(key);
            }

            for (var i = 0; i < Payload.Length; i++)
            {
                bytes[headerLength + i] ^= key[i % 4];
            }
        }

        return bytes;
    }
}
