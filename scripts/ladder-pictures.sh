#!/usr/bin/env bash
# Regenerates the ladder pictures in docs/ from real captures: the demo's server-closes run
# (tests/samples/server-closes.pcapng, the article's exchange) and Zeek's http_get.pcap, each as
# `tcplife ladder --format svg` writes it and as a PNG rendered from that SVG by rsvg-convert.
#
#   scripts/ladder-pictures.sh
#
# Installs librsvg2-bin when rsvg-convert is missing (apt-get, needs root or sudo).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
target="${CARGO_TARGET_DIR:-$root/target}"
if ! command -v rsvg-convert >/dev/null; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends librsvg2-bin >/dev/null
fi
(cd "$root" && cargo build --release -p tcplife-cli >&2)
tcplife="$target/release/tcplife"

draw() { # NAME CAPTURE
  "$tcplife" ladder --format svg "$2" > "$root/docs/ladder-$1.svg" 2>/dev/null
  rsvg-convert "$root/docs/ladder-$1.svg" -o "$root/docs/ladder-$1.png"
  echo "docs/ladder-$1.svg, docs/ladder-$1.png  <- $2"
}
draw server-closes "$root/tests/samples/server-closes.pcapng"
draw http_get "$root/../shared/captures/zeek/http_get.pcap"
