#!/usr/bin/env bash
# Wireshark's own robustness method applied to tcplife: mutate real captures with
# `editcap -E` (random byte errors in packets, several error rates and seeds) and cut them
# short at random points, then run every mutated file through
#   - `tcplife conns` and `tcplife packets`: no panic, no hang, exit status 0, 1 or 2 only;
#   - tshark with the tcplife plugin (when a built plugin is found), as an unprivileged user
#     since Wireshark ignores plugin folders when run as root: no crash, no hang, no
#     Wireshark assertion, no "Dissector bug" from tcplife.
#
#   scripts/mutate.sh           # all rates and seeds (~700 files)
#   scripts/mutate.sh --quick   # CI: fewer files
# PLUGIN=path/to/libtcplife_plugin.so picks the plugin; otherwise the release build in the
# cargo target directory is used if it exists. Results: out/mutate/summary.txt; exit status 1
# when any run failed (the failing files are kept in out/mutate/failed/).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
quick=0
[ "${1:-}" = --quick ] && quick=1
shared=${TCPLIFE_SHARED:-$root/../shared/captures}
work=$root/out/mutate
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/target}
bin=$CARGO_TARGET_DIR/release

if [ $quick = 1 ]; then
    rates=(0.005 0.05)
    seeds=(1)
else
    rates=(0.001 0.005 0.02 0.1)
    seeds=(1 2)
fi

command -v editcap >/dev/null || { echo "mutate: editcap missing (apt-get install tshark)" >&2; exit 1; }
cargo build -q --release -p tcplife-cli -p tcplife-gen
tcplife=$bin/tcplife

rm -rf "$work"
mkdir -p "$work/in" "$work/files" "$work/failed"
"$bin/tcplife-gen" -q --connections 200 --concurrency 30 --seed 9 -o "$work/in/gen.pcap"
"$bin/tcplife-gen" -q --connections 200 --concurrency 30 --seed 10 --format pcapng -o "$work/in/gen.pcapng"
inputs=("$work"/in/*)
for f in "$shared"/zeek/*.pcap "$shared"/zeek/*.pcapng "$shared"/wireshark/*.pcap "$shared"/wireshark/*.pcapng; do
    [ -f "$f" ] && inputs+=("$f")
done

# Mutated copies, named after input, rate and seed; and truncations at seeded offsets.
n=0
for f in "${inputs[@]}"; do
    b=$(basename "$f")
    for rate in "${rates[@]}"; do
        for seed in "${seeds[@]}"; do
            out="$work/files/$b.E$rate.s$seed"
            if editcap -E "$rate" --seed "$seed" "$f" "$out" >/dev/null 2>&1; then
                n=$((n + 1))
            else
                rm -f "$out"
            fi
        done
    done
    size=$(stat -c %s "$f")
    for seed in "${seeds[@]}"; do
        cut=$(((size * (seed * 37 % 100) / 100) + seed * 13))
        [ "$cut" -lt "$size" ] || continue
        head -c "$cut" "$f" >"$work/files/$b.cut$cut"
        n=$((n + 1))
    done
done
echo "mutate: $n mutated files from ${#inputs[@]} captures (editcap -E ${rates[*]}; seeds ${seeds[*]}; truncations)"

declare -A rc_count=()
fail=0
fail_line() {
    echo "$1" >>"$work/failures.txt"
    cp -n "$2" "$work/failed/" 2>/dev/null || true
    fail=$((fail + 1))
}
: >"$work/failures.txt"
for f in "$work"/files/*; do
    for cmd in "conns --format zeek" "packets --format tsv"; do
        set +e
        # shellcheck disable=SC2086
        timeout 30 "$tcplife" $cmd "$f" >/dev/null 2>"$work/stderr.txt"
        rc=$?
        set -e
        rc_count["tcplife $rc"]=$((${rc_count["tcplife $rc"]:-0} + 1))
        if [ $rc -gt 2 ] || grep -q 'panicked' "$work/stderr.txt"; then
            fail_line "tcplife $cmd $(basename "$f"): exit $rc $(head -c 300 "$work/stderr.txt")" "$f"
        fi
    done
done

plugin=${PLUGIN:-$bin/libtcplife_plugin.so}
plugin_runs=0
wireshark_own=0
: >"$work/wireshark-own.txt"
if [ -f "$plugin" ] && command -v tshark >/dev/null && command -v setpriv >/dev/null; then
    version=$(tshark -v 2>/dev/null | head -1 | grep -oE '[0-9]+\.[0-9]+' | head -1)
    pdir=$(mktemp -d /tmp/tcplife-mutate-plugins.XXXXXX)
    mkdir -p "$pdir/$version/epan"
    cp "$plugin" "$pdir/$version/epan/tcplife.so"
    chmod -R a+rX "$pdir"
    chmod a+rx "$work" "$work/files"
    chmod a+r "$work"/files/*
    as_nobody=(setpriv --reuid=nobody --regid=nogroup --clear-groups
        env HOME=/tmp WIRESHARK_PLUGIN_DIR="$pdir")
    if ! "${as_nobody[@]}" tshark -G plugins 2>/dev/null | grep -q "$pdir"; then
        echo "mutate: tshark did not load $plugin from $pdir" >&2
        exit 1
    fi
    echo "mutate: tshark $version with plugin $plugin ($(sha256sum "$plugin" | cut -c1-12))"
    for f in "$work"/files/*; do
        set +e
        timeout 120 "${as_nobody[@]}" tshark -n -r "$f" -T fields -e frame.number \
            -e tcplife.phase -e tcplife.conn_state -e _ws.expert.message \
            >"$work/tshark.out" 2>"$work/tshark.err"
        rc=$?
        set -e
        plugin_runs=$((plugin_runs + 1))
        rc_count["tshark+plugin $rc"]=$((${rc_count["tshark+plugin $rc"]:-0} + 1))
        bug=$(cat "$work/tshark.out" "$work/tshark.err" |
            grep -ci 'dissector bug.*tcplife\|tcplife.*dissector bug' || true)
        if [ $rc -ge 124 ] || [ "$bug" != 0 ] ||
            grep -qiE 'assert|panicked|segmentation|aborted' "$work/tshark.err"; then
            # Wireshark's own dissectors have assertions that mutated input can trip; those
            # that fire the same way without the plugin are Wireshark's, not tcplife's.
            own=0
            if [ $rc -lt 124 ] && [ "$bug" = 0 ]; then
                set +e
                timeout 120 setpriv --reuid=nobody --regid=nogroup --clear-groups env HOME=/tmp \
                    tshark -n -r "$f" -T fields -e frame.number >/dev/null 2>"$work/tshark.noplugin.err"
                set -e
                if diff -q <(grep -o 'Dissector bug.*' "$work/tshark.err" | sort -u) \
                    <(grep -o 'Dissector bug.*' "$work/tshark.noplugin.err" | sort -u) >/dev/null; then
                    own=1
                fi
            fi
            if [ $own = 1 ]; then
                wireshark_own=$((wireshark_own + 1))
                echo "$(basename "$f"): $(grep -o 'Dissector bug, protocol [^,]*' "$work/tshark.err" | sort -u | tr '\n' ' ')" \
                    >>"$work/wireshark-own.txt"
            else
                fail_line "tshark+plugin $(basename "$f"): exit $rc, $bug tcplife dissector bugs, $(head -c 300 "$work/tshark.err")" "$f"
            fi
        fi
    done
    rm -rf "$pdir"
else
    echo "mutate: no plugin at $plugin (or no tshark/setpriv): tshark runs skipped"
fi

{
    echo "mutated files: $n (from ${#inputs[@]} captures; editcap -E ${rates[*]}, seeds ${seeds[*]}, truncations)"
    echo "tcplife runs: $((n * 2)) (conns and packets, 30 s timeout each)"
    echo "tshark+plugin runs: $plugin_runs (120 s timeout each)"
    echo "exit statuses:"
    for k in "${!rc_count[@]}"; do echo "  $k: ${rc_count[$k]}"; done | sort
    echo "Wireshark's own dissector assertions (the same without the plugin): $wireshark_own"
    sed 's/^/  /' "$work/wireshark-own.txt"
    echo "failures: $fail"
    cat "$work/failures.txt"
} | tee "$work/summary.txt"
[ $fail = 0 ]
