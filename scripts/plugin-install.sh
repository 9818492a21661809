#!/usr/bin/env bash
# Installs the tcplife Wireshark plugin into the current user's personal plugin folder for the
# installed Wireshark version, and a configuration profile "TCP Lifecycle" whose packet list has
# the lifecycle columns. Undo with scripts/plugin-uninstall.sh.
#
#   scripts/plugin-install.sh             build (cargo, release) and install
#   scripts/plugin-install.sh --lib FILE  install an already built libtcplife_plugin.so
#
# Then: wireshark -C "TCP Lifecycle" capture.pcap   (or pick the profile in the status bar),
#       tshark -C "TCP Lifecycle" -r capture.pcap
# Wireshark ignores personal plugins when run as root: use it as a normal user.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
lib=""
while [ $# -gt 0 ]; do
  case "$1" in
    --lib) lib=${2:?--lib needs a file}; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "plugin-install: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

for tool in tshark pkg-config; do
  command -v "$tool" >/dev/null || {
    echo "plugin-install: $tool not found; run scripts/setup-debian.sh first" >&2; exit 1; }
done
version=$(pkg-config --modversion wireshark 2>/dev/null) || {
  echo "plugin-install: Wireshark development files not found (libwireshark-dev); run scripts/setup-debian.sh" >&2
  exit 1
}

if [ -z "$lib" ]; then
  (cd "$root" && cargo build --release -p tcplife-plugin)
  lib="${CARGO_TARGET_DIR:-$root/target}/release/libtcplife_plugin.so"
fi
[ -f "$lib" ] || { echo "plugin-install: $lib does not exist" >&2; exit 1; }

# Ask the installed Wireshark where it looks, rather than guessing its folder rules.
folders=$(tshark -G folders 2>/dev/null)
plugins=$(printf '%s\n' "$folders" | sed -n 's/^Personal Plugins:[[:space:]]*//p')
config=$(printf '%s\n' "$folders" | sed -n 's/^Personal configuration:[[:space:]]*//p')
[ -n "$plugins" ] && [ -n "$config" ] || {
  echo "plugin-install: could not read Wireshark's personal folders from 'tshark -G folders'" >&2; exit 1; }
case "$plugins" in
  */"${version%.*}") ;;
  *) echo "plugin-install: unexpected plugin folder '$plugins' for Wireshark $version" >&2; exit 1 ;;
esac

dest="$plugins/epan"
mkdir -p "$dest"
install -m 0644 "$lib" "$dest/tcplife.so"

profile="$config/profiles/TCP Lifecycle"
mkdir -p "$profile"
cat > "$profile/preferences" <<'PREFS'
# Wireshark profile "TCP Lifecycle", written by tcplife's scripts/plugin-install.sh.
# Packet list columns: the lifecycle of each TCP packet next to the usual ones.
gui.column.format:
	"No.", "%m",
	"Time", "%t",
	"Source", "%s",
	"Destination", "%d",
	"Protocol", "%p",
	"Conn", "%Cus:tcplife.conn:0:R",
	"Phase", "%Cus:tcplife.phase:0:R",
	"Step", "%Cus:tcplife.step:0:R",
	"Client state", "%Cus:tcplife.client_state:0:R",
	"Server state", "%Cus:tcplife.server_state:0:R",
	"conn_state", "%Cus:tcplife.conn_state:0:R",
	"Info", "%i"
PREFS
# Widths (pixels) of the lifecycle columns and Protocol, wide enough for their longest values
# ("SYN-RECEIVED", "data transfer", "HelloDemo"): Wireshark keeps them in the profile's recent
# file, which it rewrites on exit with the user's own widths, so an existing one is left alone.
if [ ! -e "$profile/recent" ]; then
  cat > "$profile/recent" <<'RECENT'
# Column widths for the "TCP Lifecycle" profile, written by tcplife's scripts/plugin-install.sh.
column.width:
	%p, 84,
	%Cus:tcplife.conn, 48,
	%Cus:tcplife.phase, 112,
	%Cus:tcplife.step, 52,
	%Cus:tcplife.client_state, 118,
	%Cus:tcplife.server_state, 118,
	%Cus:tcplife.conn_state, 84
RECENT
fi

echo "installed $dest/tcplife.so (Wireshark $version)"
echo "installed profile '$profile'"
if [ "$(id -u)" -eq 0 ]; then
  echo "note: Wireshark run as root ignores personal plugins; run it as a normal user" >&2
fi
