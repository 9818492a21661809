#!/usr/bin/env bash
# Removes what scripts/plugin-install.sh installed for the current user: the plugin from the
# personal plugin folder and the "TCP Lifecycle" profile.
#
#   scripts/plugin-uninstall.sh           remove the plugin, and the profile unless it was changed
#   scripts/plugin-uninstall.sh --purge   remove the profile even when it was changed
#
# A profile whose preferences were changed since the install (Edit > Preferences, columns
# added or hidden), or which holds other files (coloring rules, filter buttons, ...), is kept,
# and the script says what in it was changed. Wireshark's own window state ("recent") does not
# count as a change.

set -euo pipefail

me=plugin-uninstall
purge=0
while [ $# -gt 0 ]; do
  case "$1" in
    --purge) purge=1; shift ;;
    -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
    *) echo "$me: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

command -v tshark >/dev/null || { echo "$me: tshark not found" >&2; exit 1; }
folders=$(tshark -G folders 2>/dev/null)
plugins=$(printf '%s\n' "$folders" | sed -n 's/^Personal Plugins:[[:space:]]*//p')
config=$(printf '%s\n' "$folders" | sed -n 's/^Personal configuration:[[:space:]]*//p')
[ -n "$plugins" ] && [ -n "$config" ] || {
  echo "$me: could not read Wireshark's personal folders from 'tshark -G folders'" >&2; exit 1; }

removed=0
if [ -f "$plugins/epan/tcplife.so" ]; then
  rm -f "$plugins/epan/tcplife.so"
  echo "removed $plugins/epan/tcplife.so"
  removed=1
fi

profile="$config/profiles/TCP Lifecycle"
# Written by plugin-install.sh: the checksum of the preferences it wrote, and their first line
# (for installs made before the checksum existed; Wireshark drops it when it saves them).
stamp="$profile/.tcplife-installed"
header="# Wireshark profile \"TCP Lifecycle\", written by tcplife's scripts/plugin-install.sh."
# The preferences are still as installed: their checksum matches the stamp or, without a stamp,
# their first line is still ours.
ours() {
  if [ -f "$stamp" ]; then
    (cd "$profile" && sha256sum --status -c "$stamp" 2>/dev/null)
  else
    [ "$(head -n1 "$profile/preferences")" = "$header" ]
  fi
}
if [ -d "$profile" ]; then
  changed=()
  if [ -f "$profile/preferences" ] && ! ours; then
    changed+=("preferences")
  fi
  while IFS= read -r -d '' f; do
    name=${f##*/}
    case "$name" in
      preferences|.tcplife-installed|recent) ;;
      *) changed+=("$name") ;;
    esac
  done < <(find "$profile" -mindepth 1 -maxdepth 1 -print0 | sort -z)
  if [ "$purge" -eq 1 ] || [ "${#changed[@]}" -eq 0 ]; then
    rm -rf "$profile"
    if [ "${#changed[@]}" -eq 0 ]; then
      echo "removed profile '$profile'"
    else
      echo "removed profile '$profile' (--purge), with what was changed in it: ${changed[*]}"
    fi
    removed=1
  else
    echo "kept profile '$profile': changed since it was installed: ${changed[*]}" \
      "(scripts/plugin-uninstall.sh --purge removes it)"
    removed=1
  fi
fi
[ "$removed" -eq 1 ] || echo "nothing to remove"
