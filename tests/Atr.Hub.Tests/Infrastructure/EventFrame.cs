using System.Text.Json;

namespace Atr.Hub.Tests.Infrastructure;

/// <summary>Reads the fields the tests check from an event frame's JSON text.</summary>
internal static class EventFrame
{
    /// <summary>The frame's <c>name</c>: the event's, or <c>atr.resync</c>.</summary>
    public static string? Name(string frame)
    {
        using var document = JsonDocument.Parse(frame);
        return document.RootElement.GetProperty("name").GetString();
    }
}
