#!/usr/bin/env bash
# The end-to-end throughput run of the throughput issue (not part of CI; a short version is
# `adversary::throughput_smoke` in the end-to-end tests). Builds the node and the adversary
# tool with optimisations, starts --nodes node processes of --chain on loopback (node 0 mines a
# block every target block time), and submits pre-signed P2PKH payments at each offered rate
# for --step seconds, in tx_submitBatch calls of up to --batch (default 500; 1 = one tx_submit
# each), round-robin over the nodes. Prints, per rate, submitted and confirmed transactions/s,
# p50/p99 latency from submission to confirmation on every node and the backlog; block
# propagation and bytes (whole and compact); the ceiling; and this machine's signature-check
# rate on all cores.
#
#   scripts/throughput.sh --nodes 1 --rates 500,1000,2000,4000 --step 30
#   scripts/throughput.sh --nodes 5 --rates 500,1000,2000 --step 30
#   # what a node does rather than what dev blocks hold (dev: 4 MB every 2 s):
#   scripts/throughput.sh --chain scripts/throughput-chain.yaml --rates 5000,10000,20000 --step 20
#
# Node logs stay in the directory the report names; node data is removed after the run
# unless --keep-data.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -p i8o8i-cli -p i8o8i-adversary
target_dir="${CARGO_TARGET_DIR:-target}"
exec "$target_dir/release/i8o8i-adversary" throughput --binary "$target_dir/release/i8o8icoin" "$@"
