#!/usr/bin/env bash
# The whole test suite: installs prerequisites, builds every target of every crate (so the
# benchmarks and fuzz-free tools cannot rot), then runs all unit, integration and doc tests.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh --test

# Every locked package, for every platform: the contract builds the tests run ask
# `cargo metadata --offline`, which reads the manifests of the whole lockfile (a build
# downloads only this platform's).
cargo fetch --locked

# One build of all targets first: one feature resolution for the whole workspace, so the test
# run below reuses it (RocksDB's C++ is built once).
cargo build --workspace --all-features --all-targets --locked
cargo test --workspace --all-features --locked
