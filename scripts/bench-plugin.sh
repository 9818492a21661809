#!/usr/bin/env bash
# Measures what the tcplife plugin costs tshark: the same runs with and without the plugin on a
# capture of at least 200k packets, `-T fields -e tcp.stream` and plain summary output, each
# repeated and the fastest kept; prints the ratios. A benchmark, not a test: numbers depend on
# the machine.
#
#   scripts/bench-plugin.sh [--runs N] [--capture FILE] [--instructions N]
#
# Without --capture it builds one (in $TMPDIR) from ../shared/captures/perf/echo-connections.pcap:
# three copies, each shifted an hour later (editcap -t), concatenated (mergecap -a).
# Wall time on a busy machine is noisy (runs alternate with/without and the fastest is kept);
# --instructions N also counts CPU instructions with valgrind (callgrind) on the first N packets,
# which load does not disturb, and reports the per-packet cost with tshark's start-up removed.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
runs=5
capture=""
instructions=0
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=${2:?}; shift 2 ;;
    --capture) capture=${2:?}; shift 2 ;;
    --instructions) instructions=${2:?}; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench-plugin: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
for tool in tshark editcap mergecap capinfos pkg-config; do
  command -v "$tool" >/dev/null || { echo "bench-plugin: $tool missing; run scripts/setup-debian.sh" >&2; exit 1; }
done

target="${CARGO_TARGET_DIR:-$root/target}"
(cd "$root" && cargo build --release -p tcplife-plugin >&2)
lib="$target/release/libtcplife_plugin.so"
majmin=$(pkg-config --modversion wireshark | cut -d. -f1,2)

work=$(mktemp -d "${TMPDIR:-/tmp}/tcplife-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/with/$majmin/epan" "$work/without" "$work/home"
install -m 0644 "$lib" "$work/with/$majmin/epan/tcplife.so"

if [ -z "$capture" ]; then
  src="$root/../shared/captures/perf/echo-connections.pcap"
  [ -f "$src" ] || { echo "bench-plugin: $src missing; pass --capture FILE" >&2; exit 1; }
  parts=()
  for i in 0 1 2; do
    editcap -t $((i * 3600)) "$src" "$work/part$i.pcap"
    parts+=("$work/part$i.pcap")
  done
  mergecap -a -F pcap -w "$work/bench.pcap" "${parts[@]}"
  capture="$work/bench.pcap"
else
  cp "$capture" "$work/bench.pcap"
  capture="$work/bench.pcap"
fi
chmod -R a+rX "$work"
chmod 777 "$work/home"
packets=$(capinfos -c -M "$capture" | sed -n 's/^Number of packets:[[:space:]]*//p')
echo "capture: $packets packets ($(du -h "$capture" | cut -f1))"
[ "$packets" -ge 200000 ] || echo "warning: fewer than 200k packets" >&2

# Wireshark ignores plugin folders as root; run tshark as nobody then.
as_user=()
[ "$(id -u)" -eq 0 ] && as_user=(setpriv --reuid=nobody --regid=nogroup --clear-groups)

tshark_as_user() { # plugin-dir, args...
  local dir=$1; shift
  (cd "$work" && "${as_user[@]}" env HOME="$work/home" WIRESHARK_PLUGIN_DIR="$dir" "$@")
}

seconds() { # plugin-dir, tshark args...: wall time of one run
  local dir=$1; shift
  local t0 t1
  t0=$(date +%s.%N)
  tshark_as_user "$dir" tshark -r "$capture" "$@" >/dev/null
  t1=$(date +%s.%N)
  echo "$t0 $t1" | awk '{print $2-$1}'
}

loaded=$(cd "$work" && "${as_user[@]}" env HOME="$work/home" WIRESHARK_PLUGIN_DIR="$work/with" tshark -G plugins 2>/dev/null | grep -c '^tcplife.so' || true)
[ "$loaded" -ge 1 ] || { echo "bench-plugin: tshark did not load the plugin" >&2; exit 1; }

min() { echo "$1 $2" | awk '{print ($1<$2)?$1:$2}'; }
pct() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%+.1f%%", (b/a-1)*100}'; }

printf '%-28s %10s %10s %8s\n' "tshark output" "without" "with" "ratio"
for mode in fields summary; do
  if [ "$mode" = fields ]; then args=(-T fields -e tcp.stream); label="-T fields -e tcp.stream"
  else args=(); label="summary (default)"; fi
  a=1e9 b=1e9
  # Alternating keeps slow drifts in the machine's load from favouring one side.
  for _ in $(seq "$runs"); do
    a=$(min "$a" "$(seconds "$work/without" "${args[@]}")")
    b=$(min "$b" "$(seconds "$work/with" "${args[@]}")")
  done
  printf '%-28s %9.3fs %9.3fs %8s\n' "$label" "$a" "$b" "$(pct "$a" "$b")"
done
echo "(wall time, fastest of $runs alternating runs each; Wireshark $(pkg-config --modversion wireshark))"

if [ "$instructions" -gt 0 ]; then
  command -v valgrind >/dev/null || { echo "bench-plugin: --instructions needs valgrind" >&2; exit 1; }
  editcap -r "$capture" "$work/head.pcap" "1-$instructions"
  editcap -r "$capture" "$work/one.pcap" 1-1
  chmod a+r "$work"/*.pcap
  count() { # plugin-dir, capture, tshark args...: instructions executed
    local dir=$1 cap=$2; shift 2
    local out="$work/home/cg.$RANDOM"
    tshark_as_user "$dir" valgrind --tool=callgrind --callgrind-out-file="$out" \
      tshark -r "$cap" "$@" >/dev/null 2>"$out.log"
    sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$out.log"
  }
  printf '\n%-28s %14s %14s %8s\n' "instructions per packet" "without" "with" "ratio"
  for mode in fields summary; do
    if [ "$mode" = fields ]; then args=(-T fields -e tcp.stream); label="-T fields -e tcp.stream"
    else args=(); label="summary (default)"; fi
    base=$(count "$work/without" "$work/one.pcap" "${args[@]}")
    a=$(count "$work/without" "$work/head.pcap" "${args[@]}")
    b=$(count "$work/with" "$work/head.pcap" "${args[@]}")
    pa=$(( (a - base) / (instructions - 1) ))
    pb=$(( (b - base) / (instructions - 1) ))
    printf '%-28s %14d %14d %8s\n' "$label" "$pa" "$pb" "$(pct "$pa" "$pb")"
  done
  echo "(callgrind on the first $instructions packets, tshark start-up subtracted)"
fi
