using System.Diagnostics;
using System.Globalization;
using System.Text;
using Atr.Hub.Tests.Infrastructure;
using Atr.Publishing;
using Xunit;
using Xunit.Abstractions;

namespace Atr.Hub.Tests.Protocol;

/// <summary>
/// The connection-level path (<c>DirectUpgrade</c>) reads handshakes ahead of Kestrel's HTTP/1.1
/// parser, so it is held to that parser by difference, not by reading: every request of a corpus
/// of the valid handshake and its mutations, then of seeded random mutations, goes to a hub with
/// the path and to one without it, and both must give the same answer — the same status line, and
/// for a 101 the same scope.
/// </summary>
public sealed class HandshakeParityTests(ParityHubs hubs, ITestOutputHelper output) : IClassFixture<ParityHubs>
{
    private const int Concurrency = 8;

    private const int RacyRetries = 8;

    private static readonly int RandomCases = ReliabilityScale.Of(1_000);

    // Scopes an upgraded socket is tried against besides its path's: the corpus's target and its neighbours.
    private static readonly string[] Decoys =
        [HandshakeCorpus.Scope, "Organization.1234", "ORGANIZATION.1234", "organization.5", "organization.5678", "organization.1234.user.42", string.Empty];

    private int _retried;

    private readonly record struct CaseResult(HandshakeCase Case, HandshakeProbe.Outcome Direct, HandshakeProbe.Outcome Kestrel)
    {
        public bool Agree => Direct.Answer == Kestrel.Answer;
    }

    [Fact]
    public async Task EveryCaseOfTheCorpusIsAnsweredAlikeWithAndWithoutTheConnectionLevelPath()
    {
        var corpus = HandshakeCorpus.Build(ParityHubs.Limits);

        var clock = Stopwatch.StartNew();
        var results = await RunAsync(corpus);

        Report(clock.Elapsed, $"corpus: {corpus.Count} cases ({corpus.Count(c => !c.Jwt)} anonymous, {corpus.Count(c => c.Jwt)} with a token's hubs)", results);
        AssertAgree(results);

        // Not a vacuous agreement: the connection-level path does take the valid handshakes, and
        // requests at each limit's edge, itself.
        foreach (var name in new[] { "the valid handshake", "the valid handshake, token in the query", "request line at MaxRequestLineSize", "headers at MaxRequestHeadersTotalSize", "header count at MaxRequestHeaderCount" })
        {
            foreach (var result in results.Where(r => r.Case.Name == name))
            {
                Assert.True(result.Direct.AtConnection, $"'{name}'{(result.Case.Jwt ? " (JWT)" : string.Empty)} was not upgraded at the connection: {result.Direct.Answer}");
            }
        }
    }

    [Fact]
    public async Task SeededRandomMutationsAreAnsweredAlikeWithAndWithoutTheConnectionLevelPath()
    {
        var seed = int.TryParse(Environment.GetEnvironmentVariable("ATR_PARITY_SEED"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var chosen) ? chosen : Random.Shared.Next();
        output.WriteLine($"seed {seed} (ATR_PARITY_SEED={seed} repeats this run); {RandomCases} cases (ATR_RELIABILITY_SCALE={ReliabilityScale.Factor})");
        var corpus = HandshakeCorpus.Build(ParityHubs.Limits);
        var valid = corpus.Where(c => c.Name.StartsWith("the valid handshake", StringComparison.Ordinal)).ToList();
        var random = new Random(seed);

        // Drawn before anything runs, so the order cases finish in cannot change them.
        var cases = Enumerable.Range(0, RandomCases).Select(i => HandshakeMutator.Draw(random, i, corpus, valid)).ToList();
        var clock = Stopwatch.StartNew();
        var results = await RunAsync(cases);

        Report(clock.Elapsed, $"random mutations: {cases.Count} cases of seed {seed}", results);
        AssertAgree(results, $" (seed {seed}: ATR_PARITY_SEED={seed} repeats it)");
    }

    private async Task<CaseResult[]> RunAsync(IReadOnlyList<HandshakeCase> cases)
    {
        var results = new CaseResult[cases.Count];
        await Parallel.ForAsync(0, cases.Count, new ParallelOptions { MaxDegreeOfParallelism = Concurrency }, async (i, _) =>
        {
            var @case = cases[i];
            var (direct, kestrel) = @case.Jwt ? (hubs.DirectJwt, hubs.KestrelJwt) : (hubs.Direct, hubs.Kestrel);
            var token = @case.Jwt ? hubs.PublishToken : null;
            var scopes = CandidateScopes(@case.Bytes);
            var answers = await Task.WhenAll(ProbeAsync(direct, @case.Bytes, scopes, token), ProbeAsync(kestrel, @case.Bytes, scopes, token));
            var (withPath, alone) = (answers[0], answers[1]);

            // An upgrade that fails at once (bytes after the head that are not a frame) is aborted,
            // and the abort can overtake the 101 on its way out, in Kestrel as much as at the
            // connection: "closed without an answer" against an answer is asked again, and the two
            // hubs agree when one answer was seen from both.
            if (withPath.Answer != alone.Answer && (Racy(withPath) || Racy(alone)))
            {
                var seenWithPath = new Dictionary<string, HandshakeProbe.Outcome>(StringComparer.Ordinal) { [withPath.Answer] = withPath };
                var seenAlone = new HashSet<string>(StringComparer.Ordinal) { alone.Answer };
                for (var attempt = 0; attempt < RacyRetries && !seenWithPath.Keys.Any(seenAlone.Contains); attempt++)
                {
                    Interlocked.Increment(ref _retried);
                    answers = await Task.WhenAll(ProbeAsync(direct, @case.Bytes, scopes, token), ProbeAsync(kestrel, @case.Bytes, scopes, token));
                    seenWithPath.TryAdd(answers[0].Answer, answers[0]);
                    seenAlone.Add(answers[1].Answer);
                }

                if (seenWithPath.Keys.FirstOrDefault(seenAlone.Contains) is { } common)
                {
                    (withPath, alone) = (seenWithPath[common], alone with { Answer = common });
                }
            }

            results[i] = new CaseResult(@case, withPath, alone);
        });
        return results;
    }

    private static bool Racy(HandshakeProbe.Outcome outcome) => outcome.Answer.StartsWith("closed without an answer", StringComparison.Ordinal);

    private static async Task<HandshakeProbe.Outcome> ProbeAsync(HubHost hub, byte[] request, IReadOnlyList<string> scopes, string? token)
    {
        try
        {
            return await HandshakeProbe.RunAsync(hub, request, scopes, token);
        }
        catch (Exception ex)
        {
            return new HandshakeProbe.Outcome($"the probe failed: {ex.GetType().Name}: {ex.Message}", false);
        }
    }

    /// <summary>The decoys, and the scope the request's path would name, as written and percent-decoded.</summary>
    private static IReadOnlyList<string> CandidateScopes(byte[] request)
    {
        var scopes = new HashSet<string>(Decoys, StringComparer.Ordinal);
        var line = Encoding.Latin1.GetString(request);
        var parts = line[..Math.Max(0, line.IndexOf('\n', StringComparison.Ordinal))].Split(' ');
        if (parts.Length >= 2)
        {
            var target = parts[1];
            var path = target.Split('?', '#')[0];
            if (Uri.TryCreate(path, UriKind.Absolute, out var absolute) && absolute.Scheme is "http" or "https")
            {
                path = absolute.AbsolutePath;
            }

            foreach (var candidate in new[] { path, Uri.UnescapeDataString(path) })
            {
                var scope = candidate.Trim('/').Replace('/', '.');
                if (RoutingKeys.IsValidScope(scope))
                {
                    scopes.Add(scope);
                }
            }
        }

        return [.. scopes];
    }

    private void Report(TimeSpan elapsed, string what, CaseResult[] results)
    {
        var upgraded = results.Count(r => r.Kestrel.Answer.StartsWith("HTTP/1.1 101 ", StringComparison.Ordinal));
        var atConnection = results.Count(r => r.Direct.AtConnection);
        output.WriteLine($"{what}: {results.Length} requests to each of two hubs in {elapsed.TotalSeconds:F1} s; {upgraded} upgraded, {atConnection} of them at the connection by the hub with the path; {results.Count(r => !r.Agree)} disagreements; {Volatile.Read(ref _retried)} requests asked again after a reset");
        foreach (var group in results.GroupBy(r => Status(r.Kestrel.Answer)).OrderByDescending(g => g.Count()))
        {
            output.WriteLine($"  {group.Key}: {group.Count()}");
        }
    }

    private static string Status(string answer)
        => answer.StartsWith("HTTP/", StringComparison.Ordinal) ? answer.Split(',')[0] : answer.Split(" after ")[0];

    private static void AssertAgree(CaseResult[] results, string context = "")
    {
        var disagreements = results.Where(r => !r.Agree).ToList();
        Assert.True(
            disagreements.Count == 0,
            $"{disagreements.Count} of {results.Length} requests were answered differently with the connection-level path than by Kestrel alone{context}:{Environment.NewLine}" +
            string.Join(Environment.NewLine, disagreements.Select(r => $"  [{(r.Case.Jwt ? "jwt" : "anonymous")}] {r.Case.Name}: with the path '{r.Direct.Answer}', Kestrel alone '{r.Kestrel.Answer}'")));
        var failed = results.Where(r => r.Kestrel.Answer.StartsWith("the probe failed", StringComparison.Ordinal)).ToList();
        Assert.True(failed.Count == 0, "Probes failed:" + Environment.NewLine + string.Join(Environment.NewLine, failed.Select(r => $"  {r.Case.Name}: {r.Kestrel.Answer}")));
    }
}
