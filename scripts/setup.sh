#!/usr/bin/env bash
# Installs what building and testing I8o8iCoin needs on Debian 12 beyond rustup's Rust:
# a C/C++ toolchain (secp256k1, Bitcoin Core's interpreter for the differential tests),
# clang + libclang (RocksDB's bindgen), and a wasm32 toolchain for the contract examples;
# with --test also Chromium, which the test suite drives headless to check the /apidocs page,
# and the reference checkers of /metrics: promtool (package prometheus) for the classic text
# format, the Python client's parser (python3-prometheus-client) for OpenMetrics.
# Idempotent: a warm machine skips apt entirely.
set -euo pipefail

packages=(build-essential pkg-config clang libclang-dev)
if [ "${1:-}" = "--test" ]; then
  packages+=(chromium prometheus python3-prometheus-client)
fi

# Contracts build to wasm32-unknown-unknown. With rustup's target installed nothing more is
# needed; otherwise Debian's second toolchain builds core/alloc for wasm32 from source
# (see node/src/contract_build.rs), with wasm-ld from lld.
wasm_libdir="$(rustc --print target-libdir --target wasm32-unknown-unknown 2>/dev/null || true)"
if ! ls "$wasm_libdir"/libcore-*.rlib >/dev/null 2>&1; then
  packages+=(rustc-web rust-web-src cargo-web lld)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if ! command -v cargo >/dev/null 2>&1; then
  echo "setup: cargo not found; install Rust with rustup (https://rustup.rs) first" >&2
  exit 1
fi
