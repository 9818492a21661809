#!/usr/bin/env bash
# Builds, installs and tests any Wireshark plugin of the workspace, by name: NAME is a folder
# under plugins/ (a crate using epan::plugin!).
#
#   scripts/plugin.sh --list                 the plugins of the workspace
#   scripts/plugin.sh NAME [OPTIONS]         build it (cargo build -p <its package>), then:
#     --release          build in release mode (default: debug)
#     --lib FILE         use this built library instead of building (for a plugin's own tests,
#                        which run inside cargo and must not start cargo again)
#     --install [DIR]    copy it as NAME.so into DIR/<major.minor>/epan/ (DIR is what
#                        WIRESHARK_PLUGIN_DIR would name), or, without DIR, into the user's
#                        personal plugin folder (`tshark -G folders`)
#     --test             load it into tshark as an unprivileged user and fail unless tshark
#                        lists it and it registers a protocol; then run its tests: the cargo
#                        test arguments in its Cargo.toml ([package.metadata.plugin] test-args),
#                        else `cargo test -p <its package>`
#     --tshark ARGS...   run `tshark ARGS...` with only this plugin loaded, as an unprivileged
#                        user (nobody when run as root: files it reads must be world-readable);
#                        takes the rest of the line
#
# Example: scripts/plugin.sh hellodemo --test --tshark -r demo.pcap -Y hellodemo
# Wireshark ignores plugin folders when run as root, hence the unprivileged user.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
die() { echo "plugin.sh: $*" >&2; exit 1; }

# `key = "value"` of [section] in a plain Cargo.toml.
manifest_value() { # file section key
  awk -v want="[$2]" -v key="$3" '
    /^[[:space:]]*\[/ { gsub(/[[:space:]]/, ""); in_s = ($0 == want); next }
    in_s {
      line = $0; sub(/#.*/, "", line)
      split(line, kv, "=")
      k = kv[1]; gsub(/[[:space:]]/, "", k)
      if (k == key) { v = substr(line, index(line, "=") + 1); sub(/^[^"]*"/, "", v); sub(/".*$/, "", v); print v; exit }
    }' "$1"
}

list() {
  for m in "$root"/plugins/*/Cargo.toml; do
    [ -f "$m" ] || continue
    d=$(dirname "$m")
    printf '%-12s package %-16s %s\n' "$(basename "$d")" "$(manifest_value "$m" package name)" \
      "$(manifest_value "$m" package description)"
  done
}

[ $# -ge 1 ] || { sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
case "$1" in
  --list) list; exit 0 ;;
  -h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  -*) die "the first argument is a plugin's name (see --list)" ;;
esac
name=$1; shift
manifest="$root/plugins/$name/Cargo.toml"
[ -f "$manifest" ] || die "no plugin '$name' (no $manifest); the plugins are:
$(list)"

profile=debug; cargo_profile=(); prebuilt=""; install=0; install_dir=""; run_test=0; tshark_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --release) profile=release; cargo_profile=(--release); shift ;;
    --lib) prebuilt=${2:?--lib needs a file}; shift 2 ;;
    --install)
      install=1; shift
      if [ $# -gt 0 ] && [ "${1#--}" = "$1" ]; then install_dir=$1; shift; fi ;;
    --test) run_test=1; shift ;;
    --tshark) shift; tshark_args=("$@"); [ ${#tshark_args[@]} -gt 0 ] || die "--tshark needs tshark's arguments"; break ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done

package=$(manifest_value "$manifest" package name)
[ -n "$package" ] || die "$manifest: no [package] name"
lib_name=$(manifest_value "$manifest" lib name)
lib_name=${lib_name:-${package//-/_}}
lib="${CARGO_TARGET_DIR:-$root/target}/$profile/lib$lib_name.so"

if [ -n "$prebuilt" ]; then
  [ -f "$prebuilt" ] || die "--lib $prebuilt: no such file"
  lib=$prebuilt
else
  echo "==> building $name (cargo build -p $package ${cargo_profile[*]-})" >&2
  (cd "$root" && cargo build -q -p "$package" "${cargo_profile[@]}")
  [ -f "$lib" ] || die "cargo built no $lib: is $manifest a cdylib?"
fi

command -v tshark >/dev/null || die "tshark not found; run scripts/setup-debian.sh"
# tshark -v's first line: "TShark (Wireshark) 4.0.17 (...)".
majmin=$(tshark -v 2>/dev/null | sed -n '1s/.*(Wireshark) \([0-9]*\.[0-9]*\).*/\1/p')
[ -n "$majmin" ] || die "cannot read the Wireshark version from 'tshark -v'"

if [ "$install" = 1 ]; then
  if [ -n "$install_dir" ]; then
    dest="$install_dir/$majmin/epan"
  else
    personal=$(tshark -G folders 2>/dev/null | sed -n 's/^Personal Plugins:[[:space:]]*//p')
    [ -n "$personal" ] || die "could not read the personal plugin folder from 'tshark -G folders'"
    dest="$personal/epan"
  fi
  mkdir -p "$dest"
  install -m 0644 "$lib" "$dest/$name.so"
  echo "installed $dest/$name.so (Wireshark $majmin)" >&2
fi

[ "$run_test" = 1 ] || [ ${#tshark_args[@]} -gt 0 ] || exit 0

# A private, world-readable plugin folder with only this plugin, and a HOME for tshark.
work=$(mktemp -d "${TMPDIR:-/tmp}/plugin-sh.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/plugins/$majmin/epan" "$work/empty" "$work/home"
install -m 0644 "$lib" "$work/plugins/$majmin/epan/$name.so"
chmod 755 "$work" "$work/plugins" "$work/plugins/$majmin" "$work/plugins/$majmin/epan" "$work/empty"
chmod 777 "$work/home"
as_user=()
if [ "$(id -u)" -eq 0 ]; then
  as_user=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
fi
tshark_with() { # plugin-dir, tshark args...
  local dir=$1; shift
  "${as_user[@]}" env HOME="$work/home" WIRESHARK_PLUGIN_DIR="$dir" tshark "$@"
}

if [ "$run_test" = 1 ]; then
  echo "==> loading $name.so into tshark $majmin as $([ ${#as_user[@]} -gt 0 ] && echo nobody || id -un)" >&2
  listing=$(cd "$work" && tshark_with "$work/plugins" -G plugins 2>&1) || die "tshark -G plugins failed: $listing"
  printf '%s\n' "$listing" | grep -q "^$name\.so[[:space:]]" \
    || die "tshark did not load $name.so; tshark -G plugins said:
$listing"
  (cd "$work" && tshark_with "$work/empty" -G protocols 2>/dev/null | sort) > "$work/without"
  (cd "$work" && tshark_with "$work/plugins" -G protocols 2>/dev/null | sort) > "$work/with"
  added=$(comm -13 "$work/without" "$work/with" | cut -f3 | paste -sd ' ' -)
  [ -n "$added" ] || die "$name.so loaded but registered no protocol"
  echo "ok: $name.so loaded; protocols: $added" >&2
  declared=$(manifest_value "$manifest" package.metadata.plugin test-args)
  read -r -a test_args <<< "${declared:-"-p $package"}"
  if [ -n "$declared" ]; then
    # Declared tests live in the tests crate and load what the workspace built.
    echo "==> cargo build --workspace ${cargo_profile[*]-}" >&2
    (cd "$root" && cargo build -q --workspace "${cargo_profile[@]}")
  fi
  echo "==> cargo test ${test_args[*]} ${cargo_profile[*]-}" >&2
  (cd "$root" && cargo test -q "${test_args[@]}" "${cargo_profile[@]}")
fi

if [ ${#tshark_args[@]} -gt 0 ]; then
  (cd "$work" && tshark_with "$work/plugins" "${tshark_args[@]}")
fi
