#!/usr/bin/env bash
# The whole test suite: installs prerequisites, then runs every crate's tests (unit, integration,
# doc) and checks that the benchmarks and fuzz targets still compile.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh

cargo test --workspace --all-features --locked
# Benchmarks are measured by hand (`cargo bench`), but must not rot.
cargo build --workspace --all-features --benches --locked
