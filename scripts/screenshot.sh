#!/usr/bin/env bash
# Regenerates docs/screenshot.png: the real Wireshark GUI (Qt, under Xvfb) with the plugin and
# the "TCP Lifecycle" profile, on a capture of the demo.
#
#   scripts/screenshot.sh [CAPTURE]
#
# CAPTURE defaults to the demo's server-closes capture in tests/samples/ when there is one, else
# one recorded now with tcplife-harness, else Zeek's http_get.pcap. Installs wireshark-qt, xvfb
# and imagemagick when missing (apt-get, needs root or sudo).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/docs/screenshot.png"
target="${CARGO_TARGET_DIR:-$root/target}"

need=()
command -v wireshark >/dev/null || need+=(wireshark-qt)
command -v Xvfb >/dev/null || need+=(xvfb)
command -v import >/dev/null || need+=(imagemagick)
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo 'wireshark-common wireshark-common/install-setuid boolean false' | $SUDO debconf-set-selections
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

(cd "$root" && cargo build --release -p tcplife-plugin -p hellodemo >&2)
lib="$target/release/libtcplife_plugin.so"

work=$(mktemp -d "${TMPDIR:-/tmp}/tcplife-shot.XXXXXX")
xvfb_pid="" ws_pid=""
cleanup() {
  [ -n "$ws_pid" ] && kill "$ws_pid" 2>/dev/null || true
  [ -n "$xvfb_pid" ] && kill "$xvfb_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

capture=${1:-}
if [ -z "$capture" ]; then
  capture=$(ls "$root"/tests/samples/*server-closes*.pcap* 2>/dev/null | head -n1 || true)
fi
if [ -z "$capture" ] && [ -x "$target/release/tcplife-harness" -o -x "$target/debug/tcplife-harness" ]; then
  harness="$target/release/tcplife-harness"
  [ -x "$harness" ] || harness="$target/debug/tcplife-harness"
  "$harness" --scenario server-closes --out "$work/demo" >/dev/null 2>&1 || true
  capture=$(ls "$work"/demo/*.pcap* 2>/dev/null | head -n1 || true)
fi
[ -n "$capture" ] || capture="$root/../shared/captures/zeek/http_get.pcap"
echo "capture: $capture"

# Wireshark ignores personal plugins as root: the GUI runs as nobody, with its own HOME.
home="$work/home"
mkdir -p "$home"
HOME="$home" XDG_CONFIG_HOME="$home/.config" "$root/scripts/plugin-install.sh" --lib "$lib" >/dev/null
HOME="$home" XDG_CONFIG_HOME="$home/.config" "$root/scripts/plugin.sh" hellodemo \
  --lib "$target/release/libhellodemo.so" --install 2>/dev/null
# No window manager under Xvfb: the window's size and panes come from Wireshark's "recent" file.
cat > "$home/.config/wireshark/recent_common" <<'RECENT'
gui.geometry_main_x: 0
gui.geometry_main_y: 0
gui.geometry_main_width: 1600
gui.geometry_main_height: 900
gui.geometry_main_maximized: FALSE
gui.geometry_main_upper_pane: 430
gui.geometry_main_lower_pane: 440
RECENT
cp "$capture" "$work/capture.${capture##*.}"
mkdir -p "$work/run"
chmod -R a+rwX "$work"
as_user=()
[ "$(id -u)" -eq 0 ] && as_user=(setpriv --reuid=nobody --regid=nogroup --clear-groups)

display=":$((90 + RANDOM % 9))"
Xvfb "$display" -screen 0 1600x900x24 -nolisten tcp >/dev/null 2>&1 &
xvfb_pid=$!
sleep 2
"${as_user[@]}" env HOME="$home" XDG_CONFIG_HOME="$home/.config" XDG_RUNTIME_DIR="$work/run" \
  DISPLAY="$display" wireshark -C "TCP Lifecycle" -r "$work/capture.${capture##*.}" -g "${SCREENSHOT_PACKET:-2}" \
  -o gui.packet_list_show_minimap:FALSE >/dev/null 2>&1 &
ws_pid=$!
sleep "${SCREENSHOT_WAIT:-12}"
kill -0 "$ws_pid" 2>/dev/null || { echo "screenshot: wireshark exited early" >&2; exit 1; }
DISPLAY="$display" import -window root "$work/shot.png"
install -m 0644 "$work/shot.png" "$out"
echo "wrote $out"
