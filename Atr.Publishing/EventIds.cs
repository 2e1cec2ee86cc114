using System.Security.Cryptography;

namespace Atr.Publishing;

/// <summary>Event ids: 16 random bytes written as 32 lowercase hexadecimal digits, as the original's <c>SecureRandom.hex</c>.</summary>
internal static class EventIds
{
    public static string NewId()
    {
        Span<byte> bytes = stackalloc byte[16];
        RandomNumberGenerator.Fill(bytes);
        return Convert.ToHexStringLower(bytes);
    }

    public static bool IsValid(string id)
    {
        if (id.Length != 32)
        {
            return false;
        }

        foreach (var c in id)
        {
            if (!char.IsAsciiHexDigitLower(c) && !char.IsAsciiDigit(c))
            {
                return false;
            }
        }

        return true;
    }
}
