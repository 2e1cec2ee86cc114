using System.Buffers;

namespace Atr.Publishing;

/// <summary>
/// Writes an event as the bytes every client receives (the original's <c>event_serializer</c>).
/// </summary>
/// <remarks>
/// The publisher serializes once and hub nodes forward the bytes unchanged, so the output must be
/// a UTF-8 JSON object with a string <c>name</c> (hubs drop anything else). The default is
/// <see cref="JsonEventSerializer"/>; a custom serializer may add, drop or rename keys.
/// </remarks>
public interface IEventSerializer
{
    /// <summary>Writes <paramref name="atrEvent"/> to <paramref name="output"/>.</summary>
    /// <param name="atrEvent">The event.</param>
    /// <param name="output">Where the UTF-8 JSON goes.</param>
    void Serialize(AtrEvent atrEvent, IBufferWriter<byte> output);
}
