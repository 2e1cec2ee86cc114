namespace Atr.Hub;

/// <summary>The JWT claims the hub reads from connection and publish tokens.</summary>
/// <remarks>See <c>docs/security.md</c> for their forms and what each grants.</remarks>
public static class AtrClaims
{
    /// <summary>
    /// <c>atr_scopes</c>: the scopes a token may listen to (exact scope keys, patterns ending in
    /// <c>.*</c>, or <c>*</c> for all), as a JSON array or a space-separated string.
    /// </summary>
    public const string Scopes = "atr_scopes";

    /// <summary><c>atr_publish</c>: <see langword="true"/> allows <c>POST /publish</c>, within <see cref="Scopes"/> when given.</summary>
    public const string Publish = "atr_publish";
}
