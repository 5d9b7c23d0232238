#!/usr/bin/env bash
# Rebuilds ERC20.bin from ERC20.sol with solc-js (npm), pinned. Run on purpose only: the
# committed ERC20.bin is what the comparison measures.
set -euo pipefail
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm install --silent --no-audit --no-fund solc@0.8.28 >/dev/null)
"$tmp/node_modules/.bin/solcjs" --bin --optimize --optimize-runs 200 -o "$tmp/out" ERC20.sol
cp "$tmp/out/ERC20_sol_ERC20.bin" ERC20.bin
echo "ERC20.bin: $(wc -c < ERC20.bin) hex characters"
