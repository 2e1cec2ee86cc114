using Xunit;

namespace Atr.Packaging.Tests.Infrastructure;

/// <summary>The tests that share one pack of the repository; they run one after another.</summary>
[CollectionDefinition(Name)]
public sealed class UsesPackedRepository : ICollectionFixture<PackedRepository>
{
    public const string Name = "Packed repository";
}
