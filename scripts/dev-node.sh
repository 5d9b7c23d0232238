#!/usr/bin/env bash
# Starts a single-node development chain: installs prerequisites, builds, and runs
# `i8o8icoin node --dev` (RPC on http://127.0.0.1:5000, a block every 2 seconds, coins mined to
# the wallet "dev" with password "dev"). Extra arguments are passed to `i8o8icoin node`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec cargo run --locked -p i8o8i-cli --bin i8o8icoin -- node --dev "$@"
