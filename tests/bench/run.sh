#!/usr/bin/env bash
# tests/bench/run.sh - `make bench`: throughput and memory of tlsblame next to
# a bare libpcap read loop (the floor), tshark and ndpiReader, on generated
# captures. Never an assertion: it prints numbers (README.md has this
# machine's). Run from the repository root after `make tlsblame`.
#
# Environment:
#   TB_BENCH_CACHE  where captures and helper binaries live (default build/bench-cache;
#                   reused between runs, never under samples/)
#   TB_BENCH_REPS   repetitions per tool and capture, alternating (default 5; median)
#   TB_BENCH_LARGE  1: also the 2x captures (50,000 handshakes, 2.8 GB), for the
#                   memory-growth check
#   TB_BENCH_ONLY   hs | bulk: one capture kind only
#   TB_BENCH_TSHARK 0: skip tshark (it takes ~20 s per pass on the bulk capture)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
CACHE=${TB_BENCH_CACHE:-build/bench-cache}
REPS=${TB_BENCH_REPS:-5}
LARGE=${TB_BENCH_LARGE:-0}
ONLY=${TB_BENCH_ONLY:-}
mkdir -p "$CACHE"
CACHE=$(cd "$CACHE" && pwd)
TB=$ROOT/tlsblame
TIME=/usr/bin/time

die() { echo "bench: $*" >&2; exit 1; }
[ -x "$TB" ] || die "build tlsblame first (make tlsblame)"
if [ ! -x "$TIME" ]; then
    echo "bench: installing GNU time for peak RSS" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null 2>&1 || die "need /usr/bin/time (package time)"
fi

# ---- helpers: floor and the generator ----
cc -O2 -o "$CACHE/floor" tests/bench/floor.c -lpcap || die "cannot build floor.c (libpcap-dev?)"
GEN=$CACHE/benchgen
if [ ! -x "$GEN" ] || [ tests/bench/gen/main.go -nt "$GEN" ]; then
    if ! command -v go >/dev/null && [ "$(id -u)" -eq 0 ]; then
        echo "bench: installing Go (golang-go) for the capture generator" >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq golang-go >/dev/null 2>&1 ||
            { apt-get update -qq >/dev/null 2>&1 &&
              DEBIAN_FRONTEND=noninteractive apt-get install -y -qq golang-go >/dev/null 2>&1; }
    fi
    command -v go >/dev/null || die "need Go (golang-go) to generate the captures"
    (cd tests/bench/gen && GOPROXY=off GOFLAGS=-mod=mod GO111MODULE=on \
        GOCACHE=${GOCACHE:-$CACHE/gocache} go build -o "$GEN" .) || die "go build failed"
fi

# name kind args...: generate once, cached; the .n file holds the handshake count
make_capture() {
    local name=$1 n=$2
    shift 2
    if [ ! -s "$CACHE/$name" ] || [ ! -s "$CACHE/$name.n" ]; then
        echo "bench: generating $name ..." >&2
        "$GEN" -o "$CACHE/$name.tmp" -ca-out "$CACHE/ca.pem" "$@" || die "generator failed"
        mv "$CACHE/$name.tmp" "$CACHE/$name"
        echo "$n" >"$CACHE/$name.n"
    fi
}
captures=()
if [ "$ONLY" != bulk ]; then
    make_capture hs-25k.pcap 25000 -mode handshake -n 25000
    captures+=(hs-25k.pcap)
    if [ "$LARGE" = 1 ]; then
        make_capture hs-50k.pcap 50000 -mode handshake -n 50000
        captures+=(hs-50k.pcap)
    fi
fi
if [ "$ONLY" != hs ]; then
    make_capture bulk-1.4g.pcap 4 -mode bulk -gb 1.4 -conns 4
    captures+=(bulk-1.4g.pcap)
    if [ "$LARGE" = 1 ]; then
        make_capture bulk-2.8g.pcap 4 -mode bulk -gb 2.8 -conns 4
        captures+=(bulk-2.8g.pcap)
    fi
fi

# ---- the tools ----
tools=(floor tlsblame)
if [ "${TB_BENCH_TSHARK:-1}" = 1 ] && command -v tshark >/dev/null; then
    tools+=(tshark)
else
    echo "bench: tshark skipped" >&2
fi
if command -v ndpiReader >/dev/null; then
    tools+=(ndpiReader)
else
    echo "bench: ndpiReader not installed (Debian: libndpi-bin); skipped" >&2
fi

cmd_for() { # tool file: the command line into CMD
    case $1 in
    floor) CMD=("$CACHE/floor" "$2") ;;
    tlsblame) CMD=("$TB" --json "$2") ;;
    tshark) CMD=(tshark -r "$2" -Y "tls.alert_message || tls.handshake.certificate" -T fields
        -e tls.alert_message.desc -e x509sat.uTF8String) ;;
    ndpiReader) CMD=(ndpiReader -q -i "$2") ;;
    esac
}

median() { sort -g | awk '{a[NR]=$1} END {print NR ? a[int((NR+1)/2)] : "nan"}'; }

# one timed run: prints "seconds maxrss_kib"
timed() { # tool file
    local t=$CACHE/time.out
    cmd_for "$1" "$2"
    "$TIME" -f "%e %M" -o "$t" "${CMD[@]}" >/dev/null 2>&1 || true
    tail -1 "$t"
}

printf '\n%-16s %-11s %8s %9s %11s %11s %9s %8s %8s\n' capture tool "median_s" "MB/s" "packets/s" \
    "handshk/s" "RSS_MiB" "x_floor" "tb/this"
for cap in "${captures[@]}"; do
    f=$CACHE/$cap
    bytes=$(stat -c %s "$f")
    packets=$("$CACHE/floor" "$f" | awk '{print $1}')
    hs=$(cat "$f.n")
    declare -A secs=() rss=()
    for tool in "${tools[@]}"; do
        secs[$tool]=""
        rss[$tool]=""
    done
    cat "$f" >/dev/null # page cache: every tool reads from memory
    for ((r = 0; r < REPS; r++)); do
        for tool in "${tools[@]}"; do
            read -r s m < <(timed "$tool" "$f")
            secs[$tool]+="$s "
            rss[$tool]+="$m "
        done
    done
    declare -A med=()
    for tool in "${tools[@]}"; do
        med[$tool]=$(tr ' ' '\n' <<<"${secs[$tool]}" | grep . | median)
    done
    for tool in "${tools[@]}"; do
        m=$(tr ' ' '\n' <<<"${rss[$tool]}" | grep . | sort -g | tail -1)
        awk -v cap="$cap" -v tool="$tool" -v s="${med[$tool]}" -v b="$bytes" -v p="$packets" \
            -v h="$hs" -v m="$m" -v fl="${med[floor]}" -v tb="${med[tlsblame]}" 'BEGIN {
            if (s <= 0) s = 0.005;  # below /usr/bin/time resolution
            printf "%-16s %-11s %8.2f %9.0f %11.0f %11.0f %9.1f %8.2f %8.2f\n", cap, tool, s,
                b / s / 1e6, p / s, h / s, m / 1024, (fl > 0 ? fl : 0.005) / s, s / (tb > 0 ? tb : 0.005)
        }'
    done
    unset secs rss med
done
echo "(x_floor: floor time / this tool's time, 1.00 = as fast as a bare pcap_next_ex loop;"
echo " tb/this: tlsblame throughput / this tool's throughput, above 1 = tlsblame is faster; RSS: max of the runs)"

# ---- multi-core ----
# median seconds and max RSS (KiB) of REPS runs of a command
time_runs() {
    local secs="" rss=0 s m
    for ((r = 0; r < REPS; r++)); do
        "$TIME" -f "%e %M" -o "$CACHE/time.out" "$@" >/dev/null 2>&1 || true
        read -r s m < <(tail -1 "$CACHE/time.out")
        secs+="$s "
        [ "$m" -gt "$rss" ] && rss=$m
    done
    echo "$(tr ' ' '\n' <<<"$secs" | grep . | median) $rss"
}
speedup() { # label a_s a_kib b_s b_kib
    awk -v l="$1" -v a="$2" -v am="$3" -v b="$4" -v bm="$5" 'BEGIN {
        printf "%-44s -j 1 %6.2f s %6.1f MiB   -j 2 %6.2f s %6.1f MiB   speed-up %.2fx\n",
            l, a, am / 1024, b, bm / 1024, (b > 0 ? a / b : 0) }'
}
echo
echo "multi-core (2 cores): -j 2 on one capture shards connections over 2 workers, one reader"
for cap in "${captures[@]}"; do
    f=$CACHE/$cap
    cat "$f" >/dev/null
    read -r a am < <(time_runs "$TB" --json -j 1 "$f")
    read -r b bm < <(time_runs "$TB" --json -j 2 "$f")
    speedup "one file: $cap" "$a" "$am" "$b" "$bm"
done
batch_cap=${captures[0]}
bdir=$CACHE/batch-${batch_cap%.pcap}
if [ ! -s "$bdir/.done" ]; then
    rm -rf "$bdir"
    mkdir -p "$bdir"
    packets=$("$CACHE/floor" "$CACHE/$batch_cap" | awk '{print $1}')
    editcap -c $(((packets + 3) / 4)) "$CACHE/$batch_cap" "$bdir/chunk.pcap" >/dev/null
    touch "$bdir/.done"
fi
chunks=("$bdir"/chunk*.pcap)
read -r a am < <(time_runs "$TB" --json -j 1 "${chunks[@]}")
read -r b bm < <(time_runs "$TB" --json -j 2 "${chunks[@]}")
speedup "batch: ${#chunks[@]} chunks of $batch_cap" "$a" "$am" "$b" "$bm"
nsamples=$(ls "$ROOT"/samples/*.pcap* | wc -l)
read -r a am < <(time_runs "$TB" --json -j 1 "$ROOT/samples")
read -r b bm < <(time_runs "$TB" --json -j 2 "$ROOT/samples")
speedup "batch: samples/ ($nsamples small captures)" "$a" "$am" "$b" "$bm"
