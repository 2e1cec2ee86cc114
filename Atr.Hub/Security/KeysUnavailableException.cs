namespace Atr.Hub.Security;

/// <summary>The keys that verify tokens cannot be had right now (an OpenID authority out of reach).</summary>
internal sealed class KeysUnavailableException(string message, Exception inner) : Exception(message, inner);
