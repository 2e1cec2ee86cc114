#!/usr/bin/env bash
# Builds Atr, the load tool and the peers in Release, raises the open-files limit, and runs the load
# tool on the load CPU (taskset -c 1 unless --load-cpus says otherwise); the tool pins each server it
# starts to the server CPU (0). See bench/README.md.
#
#   bench/run.sh fanout --targets atr,ws --clients 1000 --scopes 10 --runs 1
#   bench/run.sh idle --targets atr --max 10000
#   bench/run.sh report                       # charts and tables from bench/results/*.jsonl
#   bench/run.sh cluster-publish --masters 3 --rate 20000 --events 200000   # the defaults; Redis Cluster: each master's CPU, sharded vs classic
#   bench/run.sh cluster-scale --masters 3 --events 300000                  # the defaults; Redis Cluster: highest publish rate on 1, 2, 3 masters
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

if [ $# -eq 0 ] || [ "$1" = "-h" ] || [ "$1" = "--help" ]; then
  sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
  echo "scenarios: fanout bigscope smallscopes idle smoke; history-publish history-storm; cluster-publish cluster-scale; every option: bench/run.sh fanout --help (or cluster-publish --help…)"
  exit 0
fi

build() {
  echo "building $1 (Release)..." >&2
  dotnet build "$1" -c Release -v q --nologo -clp:ErrorsOnly >&2
}

build bench/Atr.Bench/Atr.Bench.csproj
if [ "$1" != "report" ]; then
  build Atr.Server/Atr.Server.csproj
  build bench/peers/signalr-redis/signalr-redis.slnx
  build bench/peers/dotnet-ws/DotnetWsPeer.csproj
  if [ ! -d node_modules ] || [ ! -d node_modules/ws ] || [ ! -d node_modules/socket.io ]; then
    echo "installing the Node peers' packages (npm ci)..." >&2
    npm ci --no-audit --no-fund --loglevel=error >&2
  fi
fi

# Every connection holds a descriptor in the tool and one in the server (100,000 connections need
# more than 100,000 each). Raise the soft limit as far as the hard limit allows.
ulimit -n 1048576 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt 200000 ] && [ "$1" = "idle" ]; then
  echo "note: open files are limited to $(ulimit -n) here (hard limit $(ulimit -Hn)); an idle ramp stops short of that." >&2
fi

load_cpus=1
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  case "${args[i]}" in
    --load-cpus) load_cpus="${args[i + 1]:-1}" ;;
    --load-cpus=*) load_cpus="${args[i]#--load-cpus=}" ;;
    --no-pin) load_cpus="" ;;
  esac
done

tool=(dotnet bench/Atr.Bench/bin/Release/net10.0/atr-bench.dll)
if [ -n "$load_cpus" ] && [ "$1" != "report" ] && command -v taskset >/dev/null 2>&1 && [ "$(nproc)" -ge 2 ]; then
  exec taskset -c "$load_cpus" "${tool[@]}" "$@"
fi
exec "${tool[@]}" "$@"
