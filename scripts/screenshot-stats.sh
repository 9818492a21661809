#!/usr/bin/env bash
# Regenerates docs/stats-window.png: the real Wireshark GUI (Qt, under Xvfb) with the plugin,
# its Statistics > TCP Lifecycle window opened through the menu, on the demo's real captures
# (tests/samples/: server-closes, client-closes, refused, reset, server-reset, half-close)
# merged with Zeek's wikipedia.pcap, so that most endings appear.
#
#   scripts/screenshot-stats.sh
#
# Installs wireshark-qt, xvfb, imagemagick and xdotool when missing (apt-get, needs root or
# sudo). There is no window manager under Xvfb: the menu is clicked at the place Wireshark's
# "recent" file puts it, and the window is moved and sized with xdotool.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/docs/stats-window.png"
target="${CARGO_TARGET_DIR:-$root/target}"

need=()
command -v wireshark >/dev/null || need+=(wireshark-qt)
command -v Xvfb >/dev/null || need+=(xvfb)
command -v import >/dev/null || need+=(imagemagick)
command -v xdotool >/dev/null || need+=(xdotool)
command -v mergecap >/dev/null || need+=(wireshark-common)
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo 'wireshark-common wireshark-common/install-setuid boolean false' | $SUDO debconf-set-selections
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

(cd "$root" && cargo build --release -p tcplife-plugin >&2)
lib="$target/release/libtcplife_plugin.so"

work=$(mktemp -d "${TMPDIR:-/tmp}/tcplife-stats-shot.XXXXXX")
xvfb_pid="" ws_pid=""
cleanup() {
  [ -n "$ws_pid" ] && kill "$ws_pid" 2>/dev/null || true
  [ -n "$xvfb_pid" ] && kill "$xvfb_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

s="$root/tests/samples"
mergecap -F pcapng -w "$work/endings.pcapng" "$s/server-closes.pcapng" "$s/client-closes.pcapng" \
  "$s/refused.pcapng" "$s/reset.pcapng" "$s/server-reset.pcapng" "$s/half-close.pcapng" \
  "$root/../shared/captures/zeek/wikipedia.pcap"

# Wireshark ignores personal plugins as root: the GUI runs as nobody, with its own HOME.
home="$work/home"
mkdir -p "$home"
HOME="$home" XDG_CONFIG_HOME="$home/.config" "$root/scripts/plugin-install.sh" --lib "$lib" >/dev/null 2>&1
cat > "$home/.config/wireshark/recent_common" <<'RECENT'
gui.geometry_main_x: 0
gui.geometry_main_y: 0
gui.geometry_main_width: 1600
gui.geometry_main_height: 900
gui.geometry_main_maximized: FALSE
RECENT
mkdir -p "$work/run"
chmod -R a+rwX "$work"
as_user=()
[ "$(id -u)" -eq 0 ] && as_user=(setpriv --reuid=nobody --regid=nogroup --clear-groups)

display=":$((90 + RANDOM % 9))"
Xvfb "$display" -screen 0 1600x900x24 -nolisten tcp >/dev/null 2>&1 &
xvfb_pid=$!
sleep 2
"${as_user[@]}" env HOME="$home" XDG_CONFIG_HOME="$home/.config" XDG_RUNTIME_DIR="$work/run" \
  DISPLAY="$display" wireshark -C "TCP Lifecycle" -r "$work/endings.pcapng" >/dev/null 2>&1 &
ws_pid=$!
sleep "${SCREENSHOT_WAIT:-12}"
kill -0 "$ws_pid" 2>/dev/null || { echo "screenshot-stats: wireshark exited early" >&2; exit 1; }
export DISPLAY="$display"
# Statistics menu, then its last item (Up from the top wraps to it): TCP Lifecycle.
xdotool mousemove 325 10 click 1
sleep 1
xdotool key Up Return
sleep 4
win=$(xdotool search --name "TCP Lifecycle ·" | head -n1)
[ -n "$win" ] || { echo "screenshot-stats: no TCP Lifecycle window" >&2; exit 1; }
xdotool windowmove "$win" 0 0 windowsize "$win" 1600 900
sleep 3
import -window root "$work/shot.png"
install -m 0644 "$work/shot.png" "$out"
echo "wrote $out"
