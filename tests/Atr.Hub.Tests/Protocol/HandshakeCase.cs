namespace Atr.Hub.Tests.Protocol;

/// <summary>One raw request of the parity corpus: its name (what was done to the valid handshake), its bytes, and the hubs it goes to.</summary>
/// <param name="Name">What the case is, for the failure message: <c>Host: value emptied</c>, <c>request line: NUL in the path</c>…</param>
/// <param name="Bytes">The request exactly as written on the connection.</param>
/// <param name="Jwt">Whether it goes to the hubs that require a token (true) or to the anonymous ones.</param>
internal sealed record HandshakeCase(string Name, byte[] Bytes, bool Jwt);
