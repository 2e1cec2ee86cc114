using Microsoft.AspNetCore.SignalR;

namespace Atr.Hub.SignalR;

/// <summary>
/// The hub turning a SignalR client away, with the documented shape clients parse:
/// <c>&lt;status&gt;: &lt;reason&gt;</c> (<c>403: Scope 'organization.2' is not allowed…</c>). It is an
/// answer, not a failure: the hub counts it in its refusal log, and SignalR's own error log of it
/// (one line with a stack trace per refused call) is left out.
/// </summary>
internal sealed class HubRefusal(int status, string reason) : HubException($"{status}: {reason}")
{
    public int Status { get; } = status;
}
