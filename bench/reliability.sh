#!/usr/bin/env bash
# Runs Atr's reliability tests (tests/Atr.Hub.Tests/Reliability), and the seeded random run of the
# handshake parity test (tests/Atr.Hub.Tests/Protocol/HandshakeParityTests), larger than CI does: the
# same tests, with more clients, events, fault cycles and mutated handshakes, scaled by
# ATR_RELIABILITY_SCALE. ATR_PARITY_SEED (and ATR_FUZZ_SEED) repeat a printed seed.
#
#   bench/reliability.sh            # scale 10, three runs
#   bench/reliability.sh 20 1       # scale 20, one run
#
# Each run's figures (what the tests print: recovery times, memory, counts) go to
# bench/results/reliability-<UTC time>-scale<N>.txt, summed up by hand in docs/reliability.md.
set -euo pipefail
cd "$(dirname "$0")/.."

scale=${1:-10}
runs=${2:-3}
mkdir -p bench/results
out="bench/results/reliability-$(date -u +%Y%m%dT%H%M%SZ)-scale${scale}.txt"

# Thousands of sockets in one test process and in the hub.
ulimit -n 1048576 2>/dev/null || ulimit -n "$(ulimit -Hn)"

dotnet build tests/Atr.Hub.Tests -c Release --nologo -v q
{
  echo "# Atr reliability tests at scale ${scale}, ${runs} run(s)"
  echo "# commit $(git rev-parse --short HEAD), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(uname -r)"
} | tee "$out"

status=0
for run in $(seq 1 "$runs"); do
  echo "## run ${run}" | tee -a "$out"
  ATR_RELIABILITY_SCALE=$scale dotnet test tests/Atr.Hub.Tests -c Release --no-build --nologo \
    --filter "FullyQualifiedName~Atr.Hub.Tests.Reliability|FullyQualifiedName~HandshakeParityTests.SeededRandom" --logger "console;verbosity=detailed" 2>&1 \
    | grep -E '^\s+(Passed|Failed) |^ [^ ]|Total tests|Passed:|Failed:' | tee -a "$out" || status=1
done

echo "Results: $out"
exit $status
