namespace Atr.Hub.Tests.Protocol;

/// <summary>
/// Kestrel's limits as the parity hubs set them, the same on each: small, so that a case at or just
/// past an edge is a short request; and a short header timeout, so that a request whose head never
/// ends is answered (408) within seconds instead of Kestrel's default 30.
/// </summary>
internal sealed record ParityLimits(int MaxRequestLineSize, int MaxRequestHeadersTotalSize, int MaxRequestHeaderCount, TimeSpan RequestHeadersTimeout);
