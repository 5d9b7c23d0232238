#!/usr/bin/env bash
# RPC throughput on loopback with wrk: chain_getInfo without a token, then with a JWT checked
# on every request. Starts its own optimised dev node (rate limits off, no p2p, no mining),
# prints wrk's reports and the ratio. Usage: benches/rpc/load.sh [seconds] [connections]
# Needs wrk (apt install wrk). The node is built at opt-level 3 into the shared target dir.
set -euo pipefail
cd "$(dirname "$0")/../.."
secs="${1:-10}"
conns="${2:-64}"
threads="${WRK_THREADS:-2}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/i8o8icoin/target-node}"
command -v wrk >/dev/null || { echo "load.sh: wrk not found (apt install wrk)" >&2; exit 1; }

CARGO_PROFILE_DEV_OPT_LEVEL=3 CARGO_PROFILE_DEV_DEBUG_ASSERTIONS=false \
  CARGO_PROFILE_DEV_OVERFLOW_CHECKS=false cargo build -q -p i8o8i-cli --bin i8o8icoin
bin="$CARGO_TARGET_DIR/debug/i8o8icoin"

data="$(mktemp -d)"
trap 'kill "$node" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$data"' EXIT
port="${RPC_PORT:-5977}"
I8O8I_RPC__RATE_LIMIT__PER_IP_PER_SECOND=0 I8O8I_RPC__RATE_LIMIT__PER_CONNECTION_CALLS_PER_SECOND=0 \
I8O8I_RPC__MAX_CONNECTIONS=1024 RUST_LOG=warn \
  "$bin" node --chain dev --data-dir "$data" --rpc-addr "127.0.0.1:$port" --no-p2p >"$data/node.log" 2>&1 &
node=$!
for _ in $(seq 100); do
  grep -q "RPC listening" "$data/node.log" 2>/dev/null && break
  sleep 0.1
done

rps() { awk '/Requests\/sec/ {print $2}'; }
echo "== without a token"
plain="$(wrk -t"$threads" -c"$conns" -d"${secs}s" --latency -s benches/rpc/chain_getInfo.lua "http://127.0.0.1:$port/")"
echo "$plain"
echo "== with a JWT (checked on every request)"
token="$("$bin" auth token --data-dir "$data")"
authed="$(TOKEN="$token" wrk -t"$threads" -c"$conns" -d"${secs}s" --latency -s benches/rpc/chain_getInfo.lua "http://127.0.0.1:$port/")"
echo "$authed"
a="$(echo "$plain" | rps)"; b="$(echo "$authed" | rps)"
awk -v a="$a" -v b="$b" 'BEGIN { printf "requests/s: %.0f without a token, %.0f with a JWT: %.1f %%\n", a, b, 100 * b / a }'
