#!/usr/bin/env bash
# -j N on one capture: flows sharded over N workers must give the output of
# one thread, byte for byte (session numbers, order, summary), on captures
# with many interleaved connections; and ThreadSanitizer must find no race.
#
# Inputs, made here from the samples: every sample merged in time order, and
# every sample moved to start within half a second, three times over (555
# connections, many at once, 5-tuples reused: ends by reuse, idle and linger).
set -u
bin=${TB_BIN:-$PWD/build/asan/tlsblame}
tsan=${TB_TSAN_BIN:-$PWD/build/tsan/tlsblame}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
bad() { n=$((n + 1)); echo "not ok $n - $1"; [ -s "$tmp/why" ] && sed 's/^/#   /' "$tmp/why" | head -8; }

# (the one deliberately truncated sample stays out: mergecap refuses it)
mapfile -t caps < <(ls samples/*.pcap samples/*.pcapng | grep -v truncated | sort)
mergecap -F pcap -w "$tmp/timeline.pcap" "${caps[@]}" 2>"$tmp/why" ||
    { bad "mergecap of the samples"; exit 0; }
i=0
for c in "${caps[@]}"; do
    start=$(capinfos -T -r -S -a "$c" 2>/dev/null | cut -f2)
    i=$((i + 1))
    # all start at 1700000000 s, 3 ms apart
    shift_s=$(awk -v s="$start" -v i="$i" 'BEGIN { printf "%.6f", 1700000000 + i * 0.003 - s }')
    editcap -F pcap -t "$shift_s" "$c" "$tmp/shifted-$i.pcap" 2>/dev/null
done
# three rounds, 10 s apart: the same 5-tuples again (new SYNs end the old sessions)
mergecap -F pcap -w "$tmp/round0.pcap" "$tmp"/shifted-*.pcap 2>"$tmp/why" ||
    { bad "mergecap of the shifted samples"; exit 0; }
editcap -F pcap -t 10 "$tmp/round0.pcap" "$tmp/round1.pcap"
editcap -F pcap -t 20 "$tmp/round0.pcap" "$tmp/round2.pcap"
mergecap -F pcap -w "$tmp/crowd.pcap" "$tmp"/round[012].pcap 2>"$tmp/why" ||
    { bad "mergecap of the rounds"; exit 0; }
# The smallest ring between reader and workers: the reader waits for them all
# the time, so reports from different workers really do interleave.
export TLSBLAME_RING_KIB=1
cat samples/*.keys >"$tmp/all.keys"

for cap in timeline crowd; do
    f="$tmp/$cap.pcap"
    "$bin" --json --keylog "$tmp/all.keys" "$f" >"$tmp/j1.json" 2>"$tmp/j1.err"
    sessions=$(grep -c '"type":"session"' "$tmp/j1.json")
    if [ "$sessions" -ge 150 ]; then
        ok "$cap: $sessions sessions from one thread"
    else
        : >"$tmp/why"
        bad "$cap: only $sessions sessions from one thread"
    fi
    for j in 2 3 8; do
        "$bin" -j "$j" --json --keylog "$tmp/all.keys" "$f" >"$tmp/jn.json" 2>"$tmp/jn.err"
        if cmp -s "$tmp/j1.json" "$tmp/jn.json" && cmp -s "$tmp/j1.err" "$tmp/jn.err"; then
            ok "$cap: -j $j output identical to one thread (NDJSON and stderr)"
        else
            diff "$tmp/j1.json" "$tmp/jn.json" | cut -c1-200 >"$tmp/why"
            bad "$cap: -j $j output identical to one thread (NDJSON and stderr)"
        fi
    done
    "$bin" --ca-file samples/pki/ca-chain.pem "$f" >"$tmp/t1.txt" 2>&1
    "$bin" -j 4 --ca-file samples/pki/ca-chain.pem "$f" >"$tmp/t4.txt" 2>&1
    if cmp -s "$tmp/t1.txt" "$tmp/t4.txt"; then
        ok "$cap: -j 4 text report identical to one thread"
    else
        diff "$tmp/t1.txt" "$tmp/t4.txt" | cut -c1-200 >"$tmp/why"
        bad "$cap: -j 4 text report identical to one thread"
    fi
    # Frame filter and packet count go through the same reader.
    "$bin" --json -c 3000 -f 'tcp port 8443 or tcp port 443' "$f" >"$tmp/c1.json" 2>&1
    "$bin" --json -j 2 -c 3000 -f 'tcp port 8443 or tcp port 443' "$f" >"$tmp/c2.json" 2>&1
    if cmp -s "$tmp/c1.json" "$tmp/c2.json"; then
        ok "$cap: -j 2 with -c and -f identical to one thread"
    else
        diff "$tmp/c1.json" "$tmp/c2.json" | cut -c1-200 >"$tmp/why"
        bad "$cap: -j 2 with -c and -f identical to one thread"
    fi
    if [ -x "$tsan" ]; then
        "$tsan" -j 3 --json --keylog "$tmp/all.keys" "$f" >"$tmp/ts.json" 2>"$tmp/ts.err"
        rc=$?
        if [ $rc -eq 0 ] && ! grep -q ThreadSanitizer "$tmp/ts.err" && cmp -s "$tmp/j1.json" "$tmp/ts.json"; then
            ok "$cap: ThreadSanitizer finds no race with -j 3"
        else
            grep -A6 ThreadSanitizer "$tmp/ts.err" >"$tmp/why"
            bad "$cap: ThreadSanitizer finds no race with -j 3 (exit $rc)"
        fi
    else
        echo "ok $((n += 1)) - # SKIP $cap: no ThreadSanitizer build ($tsan)"
    fi
done

# The flow tables' clock moves with TCP segments only, as one table's does: a
# UDP datagram stamped 10,000 s later in the middle of a handshake must not
# end the connection in a worker (it did: -j 2 made two sessions of one).
python3 - samples/gnutls-success-tls13.pcap "$tmp/late-udp.pcap" <<'PY'
import struct, sys
b = open(sys.argv[1], 'rb').read()
out, i, n = bytearray(b[:24]), 24, 0
while i + 16 <= len(b):
    sec, usec, cap, wire = struct.unpack('<IIII', b[i:i + 16])
    out += b[i:i + 16 + cap]
    i += 16 + cap
    n += 1
    if n == 5:
        payload = b'late'
        ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 28 + len(payload), 0, 0, 64, 17, 0,
                         bytes([127, 0, 0, 1]), bytes([127, 0, 0, 1]))
        pkt = b'\0' * 12 + b'\x08\x00' + ip + struct.pack('!HHHH', 5353, 53, 8 + len(payload), 0) + payload
        out += struct.pack('<IIII', sec + 10000, usec, len(pkt), len(pkt)) + pkt
open(sys.argv[2], 'wb').write(out)
PY
"$bin" --json "$tmp/late-udp.pcap" >"$tmp/u1.json" 2>&1
"$bin" --json -j 2 "$tmp/late-udp.pcap" >"$tmp/u2.json" 2>&1
if [ "$(grep -c '"type":"session"' "$tmp/u1.json")" = 1 ] && cmp -s "$tmp/u1.json" "$tmp/u2.json"; then
    ok "a late non-TCP packet moves no worker's clock: -j 2 gives one session, as one thread"
else
    diff "$tmp/u1.json" "$tmp/u2.json" | cut -c1-160 >"$tmp/why"
    bad "a late non-TCP packet moves no worker's clock: -j 2 gives one session, as one thread"
fi

# Several inputs, each waiting its turn with little held: no race either.
if [ -x "$tsan" ]; then
    TLSBLAME_BATCH_HOLD_KIB=1 "$tsan" -j 3 --json samples/ >"$tmp/tsb.json" 2>"$tmp/tsb.err"
    "$bin" --json samples/ >"$tmp/b1.json" 2>/dev/null
    if ! grep -q ThreadSanitizer "$tmp/tsb.err" && cmp -s "$tmp/b1.json" "$tmp/tsb.json"; then
        ok "batch: ThreadSanitizer finds no race with -j 3 and inputs waiting their turn"
    else
        grep -A6 ThreadSanitizer "$tmp/tsb.err" >"$tmp/why"
        bad "batch: ThreadSanitizer finds no race with -j 3 and inputs waiting their turn"
    fi
fi

# Session numbers: in order of first packet, 1..N, as with one thread.
if jq -s -e '[.[] | select(.type == "session") | .id] | sort == [range(1; length + 1)]' \
    "$tmp/j1.json" >/dev/null; then
    ok "session numbers are 1..N"
else
    : >"$tmp/why"
    bad "session numbers are 1..N"
fi
