using Microsoft.Extensions.Options;

namespace Atr.Hub.Security;

/// <summary>Checks at start that the configured key source can verify tokens, so a bad key fails the start, not every request.</summary>
internal sealed class JwtKeyValidation : IValidateOptions<AtrHubOptions>
{
    public ValidateOptionsResult Validate(string? name, AtrHubOptions options)
        => JwtValidator.Problem(options) is { } problem ? ValidateOptionsResult.Fail(problem) : ValidateOptionsResult.Success;
}
