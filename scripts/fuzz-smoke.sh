#!/usr/bin/env bash
# Fuzzes the capture reader and the engine with cargo-fuzz (libFuzzer), seeded from the sample
# captures in ../shared/captures and from tcplife-gen output. Short by default (CI smoke run);
# FUZZ_SECONDS sets the time per target for long runs:
#   scripts/fuzz-smoke.sh                         # 30 s per target
#   FUZZ_SECONDS=660 scripts/fuzz-smoke.sh engine # one target, 11 minutes
# Targets run one after the other, one process each. Exit status is non-zero on a crash; the
# crashing input is in out/fuzz/artifacts/TARGET/.
#
# libFuzzer's instrumentation needs unstable rustc flags: the stable compiler is asked to
# accept them (RUSTC_BOOTSTRAP=1), so no nightly toolchain is needed. Builds are release builds
# as shipped; FUZZ_ASSERTIONS=1 turns debug assertions and overflow checks on (cargo fuzz -a),
# which finds more (an overflow that wraps silently in release) but also stops at known ones.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
seconds=${FUZZ_SECONDS:-30}
assertions=()
[ "${FUZZ_ASSERTIONS:-0}" = 1 ] && assertions=(-a)
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(capture_reader engine)
shared=${TCPLIFE_SHARED:-$root/../shared/captures}
work=$root/out/fuzz
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/target}/fuzz

if ! command -v cargo-fuzz >/dev/null; then
    cargo install cargo-fuzz --locked
fi
export RUSTC_BOOTSTRAP=1

# Seeds are copied into out/ at run time: the shared captures are not part of the project.
seed() {
    local corpus=$work/corpus
    mkdir -p "$corpus/capture_reader" "$corpus/engine"
    local f
    for f in "$shared"/zeek/*.pcap "$shared"/zeek/*.pcapng "$shared"/wireshark/*.pcap "$shared"/wireshark/*.pcapng; do
        [ -f "$f" ] || continue
        # Large files slow every iteration down without adding shapes.
        [ "$(stat -c %s "$f")" -le 400000 ] || continue
        cp -n "$f" "$corpus/capture_reader/$(basename "$f")"
    done
    # The generator is an ordinary build, in the ordinary target folder.
    CARGO_TARGET_DIR=${CARGO_TARGET_DIR%/fuzz} cargo build -q --release -p tcplife-gen
    local gen=${CARGO_TARGET_DIR%/fuzz}/release/tcplife-gen
    "$gen" -q --connections 30 --concurrency 10 --seed 1 -o "$corpus/capture_reader/gen-1.pcap"
    "$gen" -q --connections 30 --concurrency 10 --seed 2 --format pcapng \
        -o "$corpus/capture_reader/gen-2.pcapng"
    # Engine seeds: the segments of the small sample captures in the engine target's record
    # format (see fuzz/fuzz_targets/engine.rs).
    command -v tshark >/dev/null || return 0
    for f in "$shared"/zeek/*.pcap "$shared"/zeek/*.pcapng "$corpus/capture_reader/gen-1.pcap"; do
        local out=$corpus/engine/$(basename "$f").seg
        [ -s "$out" ] && continue
        tshark -n -r "$f" -Y tcp -T fields -E separator=, \
            -e ip.src -e ipv6.src -e tcp.srcport -e ip.dst -e ipv6.dst -e tcp.dstport \
            -e tcp.flags -e tcp.seq_raw -e tcp.ack_raw -e tcp.window_size_value -e tcp.len \
            -e frame.time_delta 2>/dev/null | head -2000 | python3 -c '
import struct, sys
addrs, ports, out = {}, {}, bytearray([0x3f])
for line in sys.stdin:
    f = line.rstrip("\n").split(",")
    if len(f) < 12 or not f[6]:
        continue
    def idx(table, key):
        return table.setdefault(key, len(table) % 4)
    src, dst = f[0] or f[1], f[3] or f[4]
    sel = idx(addrs, src) | idx(addrs, dst) << 2 | idx(ports, f[2]) << 4 | idx(ports, f[5]) << 6
    num = lambda s: int(s.split(";")[0] or "0", 0)
    dt = min(int(float(f[11] or 0) * 100), 32767)
    out += struct.pack(">BBIIHHh", num(f[6]) & 0xff, sel, num(f[7]) & 0xffffffff,
                       num(f[8]) & 0xffffffff, num(f[9]) & 0xffff, num(f[10]) & 0xffff, dt)
sys.stdout.buffer.write(out)
' >"$out" || true
    done
}

seed
status=0
for t in "${targets[@]}"; do
    mkdir -p "$work/artifacts/$t"
    echo "== cargo fuzz run $t for ${seconds}s"
    set +e
    (cd fuzz && cargo fuzz run "${assertions[@]}" "$t" "$work/corpus/$t" -- \
        -max_total_time="$seconds" -rss_limit_mb=1024 -timeout=10 -max_len=65536 \
        -artifact_prefix="$work/artifacts/$t/" -print_final_stats=1) >"$work/$t.log" 2>&1
    rc=$?
    set -e
    grep -E '^#[0-9]+[[:space:]]+(DONE|INITED)|^stat::(number_of_executed_units|peak_rss_mb)|SUMMARY|panicked' \
        "$work/$t.log" || true
    if [ $rc != 0 ] || grep -qE 'SUMMARY|panicked|deadly signal' "$work/$t.log"; then
        echo "fuzz-smoke: $t FAILED (exit $rc), see $work/$t.log and $work/artifacts/$t/" >&2
        status=1
    else
        echo "fuzz-smoke: $t ok"
    fi
done
exit $status
