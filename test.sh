#!/usr/bin/env bash
# Runs every test suite of Atr and ends with one line: "N passed, N failed".
#
# The tests use real parts: a redis-server that the fixtures start on free loopback ports, the
# hub on Kestrel, real WebSocket clients. What is missing is installed here when the machine
# allows it (root with apt-get), otherwise the run stops and says what to install.
set -uo pipefail
cd "$(dirname "$0")"

need_packages=()
command -v redis-server >/dev/null 2>&1 || need_packages+=(redis-server)
command -v node >/dev/null 2>&1 || need_packages+=(nodejs npm)
# The browser tests drive Debian's Chromium with playwright-core (no browser download).
[ -x /usr/bin/chromium ] || [ -x /usr/bin/chromium-browser ] || [ -n "${CHROMIUM_PATH:-}" ] || need_packages+=(chromium)
if ((${#need_packages[@]})); then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing ${need_packages[*]} ..."
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_packages[@]}" >/dev/null \
      || { echo "Could not install ${need_packages[*]}." >&2; exit 1; }
  else
    echo "The tests need: ${need_packages[*]}. Install them (e.g. sudo apt-get install -y ${need_packages[*]}) and run again." >&2
    exit 1
  fi
fi
command -v dotnet >/dev/null 2>&1 || { echo "The tests need the .NET 10 SDK (dotnet) on PATH." >&2; exit 1; }
node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 10) ? 0 : 1)' 2>/dev/null \
  || { echo "The JS tests need Node 20.10 or later (its node --test options); this machine has $(node --version 2>/dev/null || echo none). Install a newer Node and run again." >&2; exit 1; }
command -v npm >/dev/null 2>&1 || { echo "The tests need npm with Node; install it (e.g. apt-get install -y npm) and run again." >&2; exit 1; }

passed=0
failed=0
status=0
log=$(mktemp)
node_log=$(mktemp)
trap 'rm -f "$log" "$node_log"' EXIT

# The Node packages come first: the JS client's, and the benchmark peers' (bench/peers) whose ws
# server Atr.Bench.Tests starts in its smoke run.
npm ci --no-audit --no-fund --loglevel=error
npm_status=$?

# A hung test fails the run (with a dump of where it hung) instead of hanging it.
dotnet test Atr.sln --nologo --blame-hang-timeout 5m 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

# One summary line per test assembly: "Passed!  - Failed: 0, Passed: 42, Skipped: 0, Total: 42, ...".
while read -r f p; do
  passed=$((passed + p))
  failed=$((failed + f))
done < <(sed -nE 's/.*(Passed|Failed)! +- Failed: +([0-9]+), Passed: +([0-9]+),.*/\2 \3/p' "$log")

if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  # The build or a test host broke before any result was counted.
  failed=1
fi

# The JS suites (npm workspaces: Atr.Client.Js builds itself, then tests its unit, packed-package,
# Node end-to-end and Chromium cases) run against the hub that dotnet test just built.
if [ "$npm_status" -eq 0 ]; then
  npm test --workspaces --if-present 2>&1 | tee "$node_log"
  node_status=${PIPESTATUS[0]}
else
  echo "npm ci failed: the JS suites did not run." >&2
  node_status=$npm_status
fi
node_passed=$(sed -nE 's/^# pass ([0-9]+)$/\1/p' "$node_log" | awk '{s+=$1} END {print s+0}')
node_failed=$(sed -nE 's/^# (fail|cancelled) ([0-9]+)$/\2/p' "$node_log" | awk '{s+=$1} END {print s+0}')
passed=$((passed + node_passed))
failed=$((failed + node_failed))
if [ "$node_status" -ne 0 ] && [ "$node_failed" -eq 0 ]; then
  failed=$((failed + 1))
fi
if [ "$passed" -eq 0 ] && [ "$failed" -eq 0 ]; then
  echo "No test ran." >&2
  failed=1
fi

echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
