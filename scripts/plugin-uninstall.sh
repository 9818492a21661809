#!/usr/bin/env bash
# Removes what scripts/plugin-install.sh installed for the current user: the plugin from the
# personal plugin folder and the "TCP Lifecycle" profile.
set -euo pipefail

command -v tshark >/dev/null || { echo "plugin-uninstall: tshark not found" >&2; exit 1; }
folders=$(tshark -G folders 2>/dev/null)
plugins=$(printf '%s\n' "$folders" | sed -n 's/^Personal Plugins:[[:space:]]*//p')
config=$(printf '%s\n' "$folders" | sed -n 's/^Personal configuration:[[:space:]]*//p')
[ -n "$plugins" ] && [ -n "$config" ] || {
  echo "plugin-uninstall: could not read Wireshark's personal folders from 'tshark -G folders'" >&2; exit 1; }

removed=0
if [ -f "$plugins/epan/tcplife.so" ]; then
  rm -f "$plugins/epan/tcplife.so"
  echo "removed $plugins/epan/tcplife.so"
  removed=1
fi
profile="$config/profiles/TCP Lifecycle"
if [ -d "$profile" ]; then
  rm -rf "$profile"
  echo "removed profile '$profile'"
  removed=1
fi
[ "$removed" -eq 1 ] || echo "nothing to remove"
