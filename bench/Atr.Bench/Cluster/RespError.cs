namespace Atr.Bench.Cluster;

/// <summary>An error reply (<c>-MOVED 3999 127.0.0.1:7001</c>, <c>-ERR …</c>).</summary>
internal sealed record RespError(string Message);
