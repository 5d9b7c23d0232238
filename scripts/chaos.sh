#!/usr/bin/env bash
# The chaos run of the resource-limits issue (not part of CI; a 60-second version is:
# `adversary::chaos_smoke` in the end-to-end tests). Builds the node and the adversary tool
# with optimisations, starts 5 node processes on loopback and runs, for --duration seconds,
# 100 transactions/s of load while killing nodes (SIGKILL) and restarting them, partitioning
# and healing the network, and attaching lying peers; then checks that every node is on one tip
# with one UTXO set, that no accepted transaction was lost, and that no log holds a panic, and
# prints a report ending with `accepted:`, `confirmed:`, `lost:`.
#
#   scripts/chaos.sh --duration 600 [--nodes 5] [--rate 100] [--fault-every 8] [--seed 1]
#
# Node data and logs stay in the directory the report names.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p i8o8i-cli -p i8o8i-adversary
exec target/release/i8o8i-adversary chaos --binary target/release/i8o8icoin "$@"
