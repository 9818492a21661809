#!/usr/bin/env bash
# Runs every test of the project, from a fresh Debian 12 machine that has only the Rust
# toolchain: installs the system packages the build and the tests need (tshark, Wireshark's
# headers, libclang for bindgen, tcptrace), builds the whole workspace (the tcplife CLI, the
# Wireshark plugin, the demo harness), then runs the unit and integration tests, which load the
# real plugin into the real tshark.
#
# Usage: scripts/test.sh [extra cargo test arguments]
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${TCPLIFE_SKIP_SETUP:-0}" != 1 ]; then
    scripts/setup-debian.sh
fi

echo "==> building the workspace"
cargo build --workspace --all-targets

echo "==> running the tests"
cargo test --workspace "$@"
