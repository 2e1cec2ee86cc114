using System.Reflection;
using Atr.Hub.SignalR;
using Microsoft.AspNetCore.SignalR;
using Xunit;

namespace Atr.Hub.Tests.SignalR;

/// <summary>
/// <see cref="AtrHubLifetimeManager"/> hands everything to SignalR's own lifetime manager. A member
/// that a later ASP.NET Core adds to <see cref="HubLifetimeManager{THub}"/> would otherwise fall
/// back to the base class's default silently, skipping the inner manager (and its Redis backplane).
/// </summary>
public sealed class AtrHubLifetimeManagerTests
{
    [Fact]
    public void EveryOverridableMemberOfTheBaseIsOverridden()
    {
        var overridable = typeof(HubLifetimeManager<AtrHub>)
            .GetMethods(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic)
            .Where(method => method.DeclaringType != typeof(object) && (method.IsAbstract || method.IsVirtual) && !method.IsFinal)
            .ToArray();
        var overridden = typeof(AtrHubLifetimeManager)
            .GetMethods(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly)
            .Where(method => method.GetBaseDefinition().DeclaringType != method.DeclaringType)
            .Select(method => method.GetBaseDefinition())
            .ToHashSet();

        var missing = overridable.Where(method => !overridden.Contains(method.GetBaseDefinition())).Select(method => method.ToString()).ToArray();

        Assert.NotEmpty(overridable);
        Assert.True(missing.Length == 0, "AtrHubLifetimeManager does not override: " + string.Join("; ", missing));
    }
}
