#!/usr/bin/env bash
# The demo, on a fresh Debian 12 machine that has only the Rust toolchain:
#   1. installs what is missing (tshark and dumpcap, Wireshark's headers, ...: scripts/setup-debian.sh);
#   2. builds the workspace in release mode (the tcplife CLI, the Wireshark plugin, the harness);
#   3. installs the plugin for the invoking user (scripts/plugin-install.sh) when that user is not
#      root; the harness itself always loads it from a private folder it uses for tshark;
#   4. runs every scenario of the demo harness for real on 127.0.0.1 (capture with dumpcap, so
#      with sudo unless already root) and checks tcplife's verdicts, engine and plugin;
#   5. shows the article's exchange (the server greets "Hello Client" and closes first) as a
#      ladder diagram, the per-packet phases and tshark's packet list with the lifecycle columns,
#      and writes that ladder as an SVG picture (OUT_DIR/server-closes.ladder.svg).
#
# Usage: scripts/demo.sh [OUT_DIR]      (default out/demo; captures land there)
# Non-interactive; exits non-zero if anything fails, including any harness check.
set -euo pipefail
cd "$(dirname "$0")/.."

out=${1:-out/demo}
sudo=""
if [ "$(id -u)" -ne 0 ]; then
    sudo="sudo"
fi

echo "==> installing the system packages the demo needs"
scripts/setup-debian.sh

echo "==> building the workspace (release)"
cargo build --release --workspace
bin="${CARGO_TARGET_DIR:-target}/release"
plugin="$bin/libtcplife_plugin.so"
for f in "$bin/tcplife-harness" "$bin/tcplife" "$plugin" "$bin/libhellodemo.so"; do
    [ -f "$f" ] || { echo "demo: $f was not built" >&2; exit 1; }
done

if [ -z "$sudo" ]; then
    echo "==> running as root: Wireshark ignores personal plugins for root, so only the harness's"
    echo "    own plugin folder is used (install for a normal user with scripts/plugin-install.sh)"
else
    echo "==> installing the Wireshark plugin and the \"TCP Lifecycle\" profile for $(id -un)"
    scripts/plugin-install.sh --lib "$plugin"
    scripts/plugin.sh hellodemo --lib "$bin/libhellodemo.so" --install
fi

echo "==> running every scenario for real on 127.0.0.1 (captures in $out)"
mkdir -p "$out"
status=0
$sudo "$bin/tcplife-harness" --scenario all --out "$out" --quiet --with-tshark "$plugin" || status=$?

echo
echo "==> the article's exchange: $out/server-closes.pcapng"
# Re-reading the capture needs no privilege. tshark runs as a normal user either way (as root the
# harness switches to an unprivileged one), since Wireshark ignores plugin folders for root.
"$bin/tcplife-harness" --reanalyse --scenario server-closes --out "$out" --with-tshark "$plugin" \
    || status=$?
# The same connection as a picture for a report (docs/cli.md, "Pictures").
"$bin/tcplife" ladder --format svg "$out/server-closes.pcapng" > "$out/server-closes.ladder.svg" \
    || status=$?
echo "ladder diagram as a picture: $out/server-closes.ladder.svg"
if [ "$status" -ne 0 ]; then
    echo "demo: the harness reported failures (exit $status); see the FAIL lines above" >&2
    exit "$status"
fi
echo
echo "demo: every scenario ran and every check held. Open the captures in Wireshark with the"
echo "lifecycle columns:  wireshark -C \"TCP Lifecycle\" $out/server-closes.pcapng"
