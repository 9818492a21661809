#!/usr/bin/env bash
# Regenerates the pictures of the plugin's Statistics windows in docs/, from the real Wireshark
# GUI (Qt, under Xvfb) with the plugin, on the demo's real captures (tests/samples/:
# server-closes, client-closes, refused, reset, server-reset, half-close) merged with Zeek's
# wikipedia.pcap, so that most endings appear:
#   stats-window.png       Statistics > TCP Lifecycle (the stats tree), opened through the menu;
#   stats-menu.png         the Statistics menu with TCP Lifecycle Connections, and its Service
#                          Response Time submenu with TCPLife;
#   stats-connections.png  TCP Lifecycle Connections sorted by its "ending" column, a row's
#                          context menu open (Copy, Save as...: the dialog has no filter action);
#   stats-filter.png       Service Response Time > TCPLife, a row's Apply as Filter submenu open;
#   stats-filter-applied.png  after Apply as Filter > Selected: tcplife.conn==15 in the main
#                          window's filter bar and only that connection's packets listed.
#
#   scripts/screenshot-stats.sh
#
# Installs wireshark-qt, xvfb, imagemagick and xdotool when missing (apt-get, needs root or
# sudo). There is no window manager under Xvfb: menus and headers are clicked at the places
# Wireshark's "recent" file and this capture put them (measured at 1600x900), windows are
# moved and sized with xdotool, and the two tables are opened the way Wireshark opens a tap
# window from its command line (`wireshark -z tcplife,table`, `-z tcplife,srt`): the same dialogs
# as the menu items.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
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
export DISPLAY="$display"

# Starts Wireshark on the capture with the extra arguments, and waits for it to settle.
start_wireshark() {
  "${as_user[@]}" env HOME="$home" XDG_CONFIG_HOME="$home/.config" XDG_RUNTIME_DIR="$work/run" \
    DISPLAY="$display" wireshark -C "TCP Lifecycle" -r "$work/endings.pcapng" "$@" >/dev/null 2>&1 &
  ws_pid=$!
  sleep "${SCREENSHOT_WAIT:-12}"
  kill -0 "$ws_pid" 2>/dev/null || { echo "screenshot-stats: wireshark exited early" >&2; exit 1; }
}

stop_wireshark() {
  kill "$ws_pid" 2>/dev/null || true
  wait "$ws_pid" 2>/dev/null || true
  ws_pid=""
}

# The id of the window whose title contains $1.
window() {
  local win
  win=$(xdotool search --name "$1" | head -n1)
  [ -n "$win" ] || { echo "screenshot-stats: no window named like \"$1\"" >&2; exit 1; }
  echo "$win"
}

# Writes docs/$1 from the screen, cropped to $2 (WxH+X+Y) when given.
shot() {
  import -window root "$work/shot.png"
  if [ -n "${2:-}" ]; then
    convert "$work/shot.png" -crop "$2" +repage "$work/crop.png"
    mv "$work/crop.png" "$work/shot.png"
  fi
  install -m 0644 "$work/shot.png" "$root/docs/$1"
  echo "wrote $root/docs/$1"
}

# Statistics > TCP Lifecycle, the stats tree: the Statistics menu, then its last item (Up from
# the top wraps to it).
start_wireshark
xdotool mousemove 325 10 click 1
sleep 1
xdotool key Up Return
sleep 4
win=$(window "TCP Lifecycle ·")
xdotool windowmove "$win" 0 0 windowsize "$win" 1600 900
sleep 3
shot stats-window.png
stop_wireshark

# The menu: Statistics, its eighth item (Service Response Time) and that submenu.
start_wireshark
xdotool mousemove 325 10 click 1
sleep 1
xdotool key Down Down Down Down Down Down Down Down Right
sleep 1
shot stats-menu.png 1000x810+0+0
stop_wireshark

# TCP Lifecycle Connections, sorted by "ending" (its header at x=536), a row's context menu.
start_wireshark -z tcplife,table
win=$(window "TCP Lifecycle Connections")
xdotool windowmove "$win" 0 0 windowsize "$win" 1600 420
sleep 2
xdotool mousemove 536 22 click 1
sleep 1
xdotool mousemove 300 100 click 1 sleep 0.5 click 3
sleep 1
shot stats-connections.png 1600x420+0+0
stop_wireshark

# Service Response Time > TCPLife, sorted by its verdict column: the last row (reset by
# server), Apply as Filter > Selected.
start_wireshark -z tcplife,srt
win=$(window "TCPLife Service Response Time")
xdotool windowmove "$win" 0 0 windowsize "$win" 1600 420
sleep 2
xdotool mousemove 300 296 click 1 sleep 0.5 click 3
sleep 1
xdotool key Down Right
sleep 1
shot stats-filter.png 1600x420+0+0
xdotool key Return
sleep 3
xdotool windowmove "$win" 0 470 windowsize "$win" 1600 430
sleep 2
shot stats-filter-applied.png
stop_wireshark
