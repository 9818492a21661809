#!/usr/bin/env bash
# Installs the tcplife Wireshark plugin into the current user's personal plugin folder for the
# installed Wireshark version, and a configuration profile "TCP Lifecycle" whose packet list has
# the lifecycle columns, then checks that Wireshark loads the plugin. Undo with
# scripts/plugin-uninstall.sh.
#
#   scripts/plugin-install.sh             build (cargo, release) and install
#   scripts/plugin-install.sh --lib FILE  install an already built libtcplife_plugin.so
#                                         (needs only tshark, not Wireshark's development files)
#
# Then: wireshark -C "TCP Lifecycle" capture.pcap   (or pick the profile in the status bar),
#       tshark -C "TCP Lifecycle" -r capture.pcap
# Wireshark ignores personal plugins when run as root: install and use it as a normal user.
# Run as root with HOME set to another user's home, it installs as that user.
# A profile whose preferences were changed since it was installed is kept as it is.

set -euo pipefail

me=plugin-install
root=$(cd "$(dirname "$0")/.." && pwd)
lib=""
while [ $# -gt 0 ]; do
  case "$1" in
    --lib) lib=${2:?--lib needs a file}; shift 2 ;;
    # The help is the comment block above, up to its first non-comment line.
    -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
    *) echo "$me: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

command -v tshark >/dev/null || {
  echo "$me: tshark not found; run scripts/setup-debian.sh first" >&2; exit 1; }
# The version that matters is the one of the Wireshark that will load the plugin.
version=$(tshark -v 2>/dev/null | sed -n '1s/^TShark (Wireshark) \([0-9]*\.[0-9]*\.[0-9]*\).*/\1/p')
[ -n "$version" ] || { echo "$me: could not read the Wireshark version from 'tshark -v'" >&2; exit 1; }

if [ -z "$lib" ]; then
  command -v cargo >/dev/null || {
    echo "$me: cargo not found: build needs the Rust toolchain (or give --lib FILE)" >&2; exit 1; }
  (cd "$root" && cargo build --release -p tcplife-plugin)
  lib="${CARGO_TARGET_DIR:-$root/target}/release/libtcplife_plugin.so"
fi
[ -f "$lib" ] || { echo "$me: $lib does not exist" >&2; exit 1; }
lib=$(cd "$(dirname "$lib")" && pwd)/$(basename "$lib")
# The profile's packet-list columns and their widths, rendered from the field schema
# (crates/tcplife-fields; a test fails when these copies are stale).
profile_src="$root/plugins/tcplife/profile"
[ -r "$profile_src/preferences" ] && [ -r "$profile_src/recent" ] || {
  echo "$me: $profile_src/preferences or recent is missing or unreadable" >&2; exit 1; }

# Root installing into somebody else's home (HOME points there): the files must be that user's,
# and only that user's Wireshark can tell whether it loads them.
owner=$(stat -c %u "${HOME:?HOME is not set}")
if [ "$(id -u)" -eq 0 ] && [ "$owner" -ne 0 ]; then
  command -v setpriv >/dev/null || {
    echo "$me: HOME ($HOME) belongs to uid $owner: run this script as that user" >&2; exit 1; }
  # Its own groups: with group root, Wireshark would still count as privileged.
  group=$(id -g "$owner" 2>/dev/null) || {
    echo "$me: HOME ($HOME) belongs to uid $owner, who has no account: run this script as the" \
      "user who runs Wireshark" >&2; exit 1; }
  exec setpriv --reuid="$owner" --regid="$group" --init-groups "$0" --lib "$lib"
fi
[ -r "$lib" ] || { echo "$me: $lib is not readable by $(id -un)" >&2; exit 1; }

# Ask the installed Wireshark where it looks, rather than guessing its folder rules.
folders=$(tshark -G folders 2>/dev/null)
plugins=$(printf '%s\n' "$folders" | sed -n 's/^Personal Plugins:[[:space:]]*//p')
config=$(printf '%s\n' "$folders" | sed -n 's/^Personal configuration:[[:space:]]*//p')
[ -n "$plugins" ] && [ -n "$config" ] || {
  echo "$me: could not read Wireshark's personal folders from 'tshark -G folders'" >&2; exit 1; }
case "$plugins" in
  */"${version%.*}") ;;
  *) echo "$me: unexpected plugin folder '$plugins' for Wireshark $version" >&2; exit 1 ;;
esac

dest="$plugins/epan"
mkdir -p "$dest"
install -m 0644 "$lib" "$dest/tcplife.so"

# Does this Wireshark load it? `tshark -G plugins` lists what loaded; why one did not (wrong
# version, not a plugin, missing library) goes to its stderr.
loads() { # PLUGIN_PATH [command prefix...]: lists PLUGIN_PATH, else prints why not
  local want=$1 out err
  shift
  err=$(mktemp)
  out=$("$@" tshark -G plugins 2>"$err") || true
  if printf '%s\n' "$out" | awk -F'\t' -v p="$want" '$1 ~ /^tcplife\.so/ && $NF == p { f = 1 } END { exit !f }'; then
    rm -f "$err"
    return 0
  fi
  sed 's/^/  /' "$err" >&2
  rm -f "$err"
  return 1
}
if [ "$(id -u)" -ne 0 ]; then
  if ! loads "$dest/tcplife.so"; then
    rm -f "$dest/tcplife.so"
    echo "$me: Wireshark $version did not load $dest/tcplife.so (its messages are above);" \
      "removed it again. Was $lib built for Wireshark ${version%.*}?" >&2
    exit 1
  fi
  checked="Wireshark $version loads it"
else
  # Root's Wireshark ignores personal plugins, so the installed copy cannot be checked in place:
  # check the same file from a private folder, as an unprivileged user.
  tmp=$(mktemp -d)
  mkdir -p "$tmp/${version%.*}/epan" "$tmp/home"
  cp "$lib" "$tmp/${version%.*}/epan/tcplife.so"
  chmod -R a+rX "$tmp"
  chmod a+w "$tmp/home"
  ok=1
  (cd "$tmp" && loads "$tmp/${version%.*}/epan/tcplife.so" env HOME="$tmp/home" \
    XDG_CONFIG_HOME="$tmp/home/.config" WIRESHARK_PLUGIN_DIR="$tmp" \
    setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups) || ok=0
  rm -rf "$tmp"
  if [ "$ok" -eq 0 ]; then
    rm -f "$dest/tcplife.so"
    echo "$me: Wireshark $version did not load $lib (checked as nobody; its messages are above);" \
      "removed it again. Was it built for Wireshark ${version%.*}?" >&2
    exit 1
  fi
  checked="Wireshark $version loads it (checked as nobody)"
fi
echo "installed $dest/tcplife.so: $checked"

profile="$config/profiles/TCP Lifecycle"
prefs="$profile/preferences"
# What the installer wrote, so that the uninstaller (and a later install) can tell a profile the
# user changed from one that is still as installed.
stamp="$profile/.tcplife-installed"
# Installs older than the stamp are recognised by this first line, which Wireshark drops when it
# saves the preferences.
header="# Wireshark profile \"TCP Lifecycle\", written by tcplife's scripts/plugin-install.sh."
# The preferences are still as installed: their checksum matches the stamp or, without a stamp,
# their first line is still ours.
ours() {
  if [ -f "$stamp" ]; then
    (cd "$profile" && sha256sum --status -c "$stamp" 2>/dev/null)
  else
    [ "$(head -n1 "$prefs")" = "$header" ]
  fi
}
if [ -f "$prefs" ] && ! ours; then
  echo "kept profile '$profile': its preferences were changed since they were installed" \
    "(scripts/plugin-uninstall.sh --purge removes it; then install again for the new columns)"
else
  mkdir -p "$profile"
  {
    echo "$header"
    cat "$profile_src/preferences"
  } > "$prefs"
  (cd "$profile" && sha256sum preferences > "$stamp")
  # Widths (pixels) of the lifecycle columns and Protocol: Wireshark keeps them in the profile's
  # recent file, which it rewrites on exit with the user's own widths, so an existing one is left
  # alone.
  if [ ! -e "$profile/recent" ]; then
    cat "$profile_src/recent" > "$profile/recent"
  fi
  echo "installed profile '$profile'"
fi
if [ "$(id -u)" -eq 0 ]; then
  echo "$me: warning: installed for root, but Wireshark run as root ignores personal plugins:" \
    "run this script as the user who runs Wireshark" >&2
fi
