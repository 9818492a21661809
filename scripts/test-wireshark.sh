#!/usr/bin/env bash
# Builds the Wireshark plugin and the tcplife CLI against one Wireshark release and runs the
# plugin's tshark tests there (tests/plugin_*.rs and each plugin's own tests): the plugin's
# fields equal `tcplife packets --format tsv` byte for byte in one pass and with -2, experts,
# display filters, the Hello Demo dissector, Wireshark's own captures.
#
#   scripts/test-wireshark.sh 4.0    this machine's Wireshark (Debian 12), target/ as usual
#   scripts/test-wireshark.sh 4.4    a Debian 13 (trixie) root
#   scripts/test-wireshark.sh 4.6    a Debian sid root (the newest Wireshark Debian serves)
#   scripts/test-wireshark.sh sid    the same, whatever version sid has today
#
# A root is made once with debootstrap (needs root and the Debian archive) under
# $TCPLIFE_WS_ROOTS (default target/wireshark-roots/<suite>) and reused; the source tree is
# copied into it on every run, ../shared is bind-mounted read-only, and the build uses the
# root's own target dir, so versions never share build artefacts. Inside a root the Rust
# toolchain is Debian's rustc and cargo. Mounts live in a private mount namespace and vanish
# when the script ends.
#
# Environment: TCPLIFE_WS_ROOTS (where roots live), TCPLIFE_DEBIAN_MIRROR (archive URL),
# TCPLIFE_WS_REFRESH=1 (apt-get upgrade an existing root first).
#
# Exit status: 0 every test passed; 1 a build or a test failed; 2 wrong usage; 3 this machine
# cannot make or enter a root (not root, no debootstrap, Debian's archive unreachable, no mount
# namespaces): nothing was tested, and the line before says why.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
want=${1:-}
case "$want" in
  4.0) suite=host ;;
  4.4) suite=trixie ;;
  4.6|sid) suite=sid ;;
  -h|--help|"") awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
               [ -n "$want" ]; exit ;;
  *) echo "test-wireshark: unknown version '$want' (4.0, 4.4, 4.6 or sid)" >&2; exit 2 ;;
esac
[ $# -eq 1 ] || { echo "test-wireshark: one argument, the version" >&2; exit 2; }

roots=${TCPLIFE_WS_ROOTS:-$here/target/wireshark-roots}
mirror=${TCPLIFE_DEBIAN_MIRROR:-http://deb.debian.org/debian}
shared=$(cd "$here/.." && pwd)/shared
[ -d "$shared/captures" ] || { echo "test-wireshark: $shared/captures is missing" >&2; exit 1; }

# What a root needs: tshark, Wireshark's and glib's headers, libclang for bindgen, a C compiler
# for the shim, Debian's Rust, certificates for crates.io.
pkgs=(tshark libwireshark-dev libwiretap-dev libglib2.0-dev libclang-dev clang pkg-config
      gcc libc6-dev rustc cargo ca-certificates)

t0=$(date +%s)
stamp() { echo "$(( $(date +%s) - t0 ))"; }
say() { echo "==> [$(stamp) s] $*"; }

log=$(mktemp -d /tmp/test-wireshark.XXXXXX)
trap 'rm -rf "$log"' EXIT

# The test run and its summary are the same on the host and in a root: only the prefix differs.
# Usage: run_tests SRC TARGET_DIR PREFIX...: PREFIX runs a command in the build environment.
run_tests() {
  local src=$1 target=$2; shift 2
  local t_build t_test rc=0
  # Every plugin crate under plugins/ (the tshark tests load them all), the CLI the fields are
  # compared with, and the engine's C ABI library that tests/plugin_abi.rs loads beside them.
  local plugins="" m
  for m in "$here"/plugins/*/Cargo.toml; do
    plugins+=" -p $(sed -n 's/^name = "\(.*\)"/\1/p' "$m" | head -n 1)"
  done
  local build="-p tcplife-cli -p tcplife-abi$plugins"
  # Every tests/plugin_*.rs (plugin_tshark, plugin_abi, plugin_tables...): a new file of tshark
  # tests is run in every version without this script knowing its name.
  local tests="-p tcplife-tests" t
  for t in "$here"/tests/plugin_*.rs; do
    tests+=" --test $(basename "$t" .rs)"
  done
  say "building$plugins, tcplife-cli, tcplife-abi and their tests"
  "$@" bash -c "cd '$src' && export CARGO_TARGET_DIR='$target' &&
      cargo build $build && cargo test --no-run $tests && cargo test --no-run$plugins"
  t_build=$(stamp)
  say "running cargo test $tests; cargo test$plugins"
  "$@" bash -c "cd '$src' && export CARGO_TARGET_DIR='$target' && rc=0 &&
      { cargo test --no-fail-fast $tests -- --nocapture || rc=1; } &&
      { cargo test --no-fail-fast$plugins -- --nocapture || rc=1; } && exit \$rc" \
      >"$log/test.out" 2>&1 || rc=$?
  t_test=$(stamp)
  grep -E '^(test |test result|---- |thread )' "$log/test.out" || true
  [ $rc -eq 0 ] || tail -n 60 "$log/test.out"
  local ws compared differing
  ws=$("$@" bash -c 'tshark --version 2>/dev/null | head -n 1')
  compared=$(sed -n 's/^tcplife-figures: .*frames_compared=\([0-9]*\).*/\1/p' "$log/test.out" | tail -n 1)
  differing=$(sed -n 's/^tcplife-figures: .*frames_differing=\([0-9]*\).*/\1/p' "$log/test.out" | tail -n 1)
  echo
  echo "== scripts/test-wireshark.sh $want"
  echo "Wireshark version:  $ws"
  echo "rustc:              $("$@" bash -c 'rustc --version')"
  echo "frames compared:    ${compared:-none (the comparison did not run)} (each in one pass and with -2)"
  echo "frames differing:   ${differing:-unknown}"
  echo "test result:        $( [ $rc -eq 0 ] && echo PASS || echo "FAIL (cargo test exit $rc)")"
  echo "times:              build done at $t_build s, tests done at $t_test s"
  return $rc
}

if [ "$suite" = host ]; then
  have=$(pkg-config --modversion wireshark 2>/dev/null || true)
  case "$have" in
    4.0|4.0.*) ;;
    *) echo "test-wireshark: 4.0 runs on this machine's Wireshark, which is '${have:-missing}' (scripts/setup-debian.sh installs Debian 12's 4.0)" >&2; exit 1 ;;
  esac
  # The workspace's own target dir is already a 4.0 build (the one CI and scripts/test.sh use).
  run_tests "$here" "${CARGO_TARGET_DIR:-$here/target}" env
  exit
fi

# What stops a run before anything is built is this machine's, not the code's: exit 3.
cannot() { echo "test-wireshark: $* (nothing was tested)" >&2; exit 3; }
[ "$(id -u)" -eq 0 ] || cannot "making and entering a root needs root"
root=$roots/$suite
if ! command -v debootstrap >/dev/null; then
  say "installing debootstrap"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap \
    >"$log/debootstrap-install.out" 2>&1 || {
    tail -n 20 "$log/debootstrap-install.out" >&2; cannot "apt-get install debootstrap failed"; }
fi
for tool in debootstrap unshare chroot; do
  command -v "$tool" >/dev/null || cannot "$tool not found"
done

if [ ! -e "$root/.tcplife-debootstrap-done" ]; then
  say "making a Debian $suite root in $root (debootstrap, minbase)"
  rm -rf "$root.partial"
  mkdir -p "$roots"
  debootstrap --variant=minbase "$suite" "$root.partial" "$mirror" >"$log/debootstrap.out" 2>&1 || {
    tail -n 30 "$log/debootstrap.out" >&2; cannot "debootstrap of $suite from $mirror failed"; }
  rm -rf "$root"
  mv "$root.partial" "$root"
  touch "$root/.tcplife-debootstrap-done"
  say "root made"
fi
cp /etc/resolv.conf "$root/etc/resolv.conf"
# The root trusts what this machine trusts (a site's own CA, a proxy's) when cargo downloads
# crates; Debian's ca-certificates in the root knows only the public CAs.
cp /etc/ssl/certs/ca-certificates.crt "$root/etc/tcplife-host-ca.crt"

# Runs a command in the root, with /proc, /dev and ../shared mounted in a private namespace.
in_root() {
  unshare --mount --propagation private -- bash -c '
    set -e
    root=$1; shared=$2; shift 2
    mount -t proc proc "$root/proc"
    mount --rbind /dev "$root/dev"
    mkdir -p "$root/src/shared"
    mount --bind -o ro "$shared" "$root/src/shared"
    exec chroot "$root" env -i PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin HOME=/root \
      LANG=C.UTF-8 CARGO_HOME=/build/cargo-home CARGO_TERM_COLOR=never \
      CARGO_HTTP_CAINFO=/etc/tcplife-host-ca.crt "$@"' \
    in_root "$root" "$shared" "$@"
}

in_root true 2>"$log/enter.out" || {
  cat "$log/enter.out" >&2; cannot "cannot enter the root (unshare, mount or chroot refused)"; }

want_pkgs="${pkgs[*]}"
if [ "$(cat "$root/.tcplife-packages" 2>/dev/null)" != "$want_pkgs" ] || [ "${TCPLIFE_WS_REFRESH:-0}" = 1 ]; then
  say "installing ${pkgs[*]}"
  in_root bash -c "set -e
    echo 'wireshark-common wireshark-common/install-setuid boolean false' | debconf-set-selections
    export DEBIAN_FRONTEND=noninteractive
    # sid's Release file is valid for a week only; a mirror that lags (or a clock that runs
    # ahead) would stop the run. Signatures are still checked.
    apt-get -o Acquire::Check-Valid-Until=false update -qq
    apt-get upgrade -y -qq
    apt-get install -y -qq --no-install-recommends $want_pkgs" >"$log/apt.out" 2>&1 || {
      tail -n 30 "$log/apt.out" >&2; cannot "apt-get in the $suite root failed"; }
  echo "$want_pkgs" >"$root/.tcplife-packages"
  say "packages installed"
fi

have=$(in_root pkg-config --modversion wireshark)
case "$want" in
  sid) ;;
  *) case "$have" in
       "$want"|"$want".*) ;;
       *) echo "test-wireshark: Debian $suite has Wireshark $have, not $want" >&2; exit 1 ;;
     esac ;;
esac
# tests/plugin_tshark.rs runs tshark as nobody:nogroup (Wireshark ignores plugin folders for
# root); base-passwd makes both, but a trimmed root might lack them.
in_root bash -c 'getent passwd nobody >/dev/null && getent group nogroup >/dev/null' || {
  echo "test-wireshark: the root has no nobody/nogroup for tshark to run as" >&2; exit 1; }

say "copying the source tree into $root/src/tcplife"
mkdir -p "$root/src/tcplife" "$root/build"
# tar keeps modification times, so cargo rebuilds only what changed since the last run.
tar -C "$here" --exclude=./target --exclude=./.git --exclude=./fuzz/target -cf - . |
  tar -C "$root/src/tcplife" -xf - --overwrite

# Debian's rustc can be older than what the newest releases of some dependencies need (the
# workspace's Cargo.lock follows crates.io). Only then, and for this build only, the lock in the
# root's copy is re-resolved to the newest versions this rustc can build; the project's
# Cargo.lock is untouched, and the versions that changed are printed.
rustc_v=$(in_root rustc --version | awk '{print $2}')
rustc_v=${rustc_v%%[-+]*}
needed=$(in_root bash -c "cd /src/tcplife && cargo metadata -q --format-version 1 --locked" |
         grep -o '"rust_version":"[0-9.]*"' | cut -d'"' -f4 | sort -V | tail -n 1)
if [ "$(printf '%s\n' "$needed" "$rustc_v" | sort -V | tail -n 1)" = "$rustc_v" ]; then
  echo "==> Debian's rustc $rustc_v builds the project's Cargo.lock as it is (its newest need: $needed)"
else
  cp "$root/src/tcplife/Cargo.lock" "$root/build/Cargo.lock.project"
  in_root bash -c "cd /src/tcplife &&
    sed -i 's/^rust-version = .*/rust-version = \"$rustc_v\"/' Cargo.toml &&
    CARGO_RESOLVER_INCOMPATIBLE_RUST_VERSIONS=fallback cargo update -q"
  lock_changes=$(diff <(grep -A1 '^name = ' "$root/build/Cargo.lock.project" | paste - - - | sort) \
                      <(grep -A1 '^name = ' "$root/src/tcplife/Cargo.lock" | paste - - - | sort) |
                 sed -n 's/^> name = "\([^"]*\)".*version = "\([^"]*\)".*/\1 \2/p' | tr '\n' ' ' || true)
  echo "==> Debian's rustc $rustc_v is older than the lock needs ($needed): for this build only," \
       "re-resolved to: ${lock_changes:-nothing changed}"
fi

run_tests /src/tcplife /build/target in_root
