using System.Globalization;

namespace Atr.Bench.Cluster;

/// <summary>
/// The scopes of a measurement (<c>organization.1</c> … <c>organization.N</c>) and the master that owns each: the slot
/// of its channel, <c>atr:organization.N</c>, which is also its history's key. Events go to the scopes round-robin, so
/// event <c>i</c> goes to scope <c>i mod N</c>.
/// </summary>
internal sealed class ScopeLayout
{
    public const string ChannelPrefix = "atr:";

    private readonly int[] _owners;

    private ScopeLayout(string[] scopes, int[] owners, int masters)
    {
        Scopes = scopes;
        _owners = owners;
        Masters = masters;
    }

    public IReadOnlyList<string> Scopes { get; }

    public int Masters { get; }

    /// <summary>Asks the cluster for the slot of every scope's channel (<c>CLUSTER KEYSLOT</c>) and finds its master.</summary>
    public static async Task<ScopeLayout> ReadAsync(LocalCluster cluster, int scopes, CancellationToken cancellationToken)
    {
        var names = Enumerable.Range(1, scopes).Select(n => "organization." + n.ToString(CultureInfo.InvariantCulture)).ToArray();
        var owners = new int[scopes];
        for (var scope = 0; scope < scopes; scope++)
        {
            var slot = await cluster.Masters[0].Admin.IntegerAsync(["CLUSTER", "KEYSLOT", ChannelPrefix + names[scope]], cancellationToken).ConfigureAwait(false);
            owners[scope] = cluster.OwnerOf(slot);
        }

        return new ScopeLayout(names, owners, cluster.Masters.Count);
    }

    /// <summary>The index of the master that owns <paramref name="scope"/>'s channel.</summary>
    public int OwnerOf(int scope) => _owners[scope];

    /// <summary>The channels of the scopes master <paramref name="master"/> owns.</summary>
    public IReadOnlyList<string> ChannelsOf(int master)
        => [.. Enumerable.Range(0, Scopes.Count).Where(scope => _owners[scope] == master).Select(scope => ChannelPrefix + Scopes[scope])];

    /// <summary>How many scopes master <paramref name="master"/> owns.</summary>
    public int ScopesOf(int master) => _owners.Count(owner => owner == master);

    /// <summary>How many of events <c>first</c> … <c>first + count − 1</c> go to each master's scopes.</summary>
    public long[] EventsPerMaster(long first, long count)
    {
        var perMaster = new long[Masters];
        for (var scope = 0; scope < Scopes.Count; scope++)
        {
            perMaster[_owners[scope]] += UpTo(first + count, scope) - UpTo(first, scope);
        }

        return perMaster;

        // Events 0 … n − 1 that go to this scope.
        long UpTo(long n, int scope) => (n / Scopes.Count) + (scope < n % Scopes.Count ? 1 : 0);
    }
}
