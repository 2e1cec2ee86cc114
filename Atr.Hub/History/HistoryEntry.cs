namespace Atr.Hub.History;

/// <summary>One event of a scope's history: its id and its JSON, byte for byte as it was published.</summary>
internal readonly record struct HistoryEntry(string Id, ReadOnlyMemory<byte> Payload);
