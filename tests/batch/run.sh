#!/usr/bin/env bash
# Batch triage: nested directories, a gzip-compressed capture, a corrupt and
# an empty file; -j 1 and -j 4 agree; the summary equals the sum of the
# single-file runs; parallel NDJSON parses line by line.
set -u
bin=${TB_BIN:-$PWD/build/asan/tlsblame}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
bad() { n=$((n + 1)); echo "not ok $n - $1"; }

mkdir -p "$tmp/in/a/b" "$tmp/in/c"
picked=(samples/openssl-untrusted-client-ca-tls12.pcap samples/openssl-success-tls12.pcap
        samples/java-untrusted-client-ca-tls12.pcap samples/openssl-expired-server-tls12.pcap
        samples/openssl-go-bad-certificate-verify-tls12.pcap samples/openssl-no-client-cert-tls13.pcap)
cp "${picked[0]}" "${picked[1]}" "$tmp/in/"
cp "${picked[2]}" "$tmp/in/a/"
cp "${picked[3]}" "$tmp/in/a/b/"
gzip -c "${picked[4]}" >"$tmp/in/c/$(basename "${picked[4]}").gz"
cp "${picked[5]}" "$tmp/in/c/"
head -c 700 "${picked[0]}" >"$tmp/in/c/corrupt.pcap"
: >"$tmp/in/a/empty.pcap"
echo "not a capture" >"$tmp/in/a/notes.txt"   # not a capture name: not picked up

"$bin" --json -j 1 "$tmp/in" >"$tmp/j1.json" 2>"$tmp/j1.err"
rc1=$?
"$bin" --json -j 4 "$tmp/in" >"$tmp/j4.json" 2>"$tmp/j4.err"
rc4=$?
[ $rc1 -eq 0 ] && [ $rc4 -eq 0 ] && ok "batch exits 0 with bad inputs among good ones" ||
    bad "batch exits 0 with bad inputs among good ones (got $rc1 and $rc4)"

if python3 -c '
import json, sys
for i, line in enumerate(open(sys.argv[1]), 1):
    json.loads(line)
' "$tmp/j4.json"; then ok "parallel NDJSON parses line by line"; else bad "parallel NDJSON parses line by line"; fi

if cmp -s "$tmp/j1.json" "$tmp/j4.json"; then
    ok "-j 1 and -j 4 give the same output, in input order"
else
    bad "-j 1 and -j 4 differ"; diff <(jq -c '[.type,.file,.id]' "$tmp/j1.json") <(jq -c '[.type,.file,.id]' "$tmp/j4.json") | head | sed 's/^/#   /'
fi

sessions=$(jq -s 'map(select(.type=="session")) | length' "$tmp/j4.json")
files=$(jq -s 'map(select(.type=="session") | .file) | unique | length' "$tmp/j4.json")
# 6 good captures, and the packets of the corrupt one before its damage.
[ "$files" -eq 7 ] && ok "all 6 good captures and the readable part of the corrupt one analyzed" ||
    bad "all captures analyzed (got $files files with sessions, want 7)"
errs=$(jq -s -r 'map(select(.type=="error") | .file) | sort | join(" ")' "$tmp/j4.json")
case "$errs" in
*corrupt.pcap*empty.pcap* | *empty.pcap*corrupt.pcap*) ok "corrupt and empty files reported as error objects" ;;
*) bad "corrupt and empty files reported as error objects (got: $errs)" ;;
esac
grep -q "corrupt.pcap: frame" "$tmp/j4.err" && ok "the corrupt file's message names the frame" ||
    bad "the corrupt file's message names the frame"

# The summary equals the sum of single-file runs.
sum_sessions=0
sum_failed=0
for f in $(find "$tmp/in" -type f \( -name '*.pcap' -o -name '*.pcap.gz' \) ! -name empty.pcap | sort); do
    out=$("$bin" --json "$f" 2>/dev/null | tail -1)
    sum_sessions=$((sum_sessions + $(echo "$out" | jq '.sessions')))
    sum_failed=$((sum_failed + $(echo "$out" | jq '.failed')))
done
got_sessions=$(tail -1 "$tmp/j4.json" | jq '.sessions')
got_failed=$(tail -1 "$tmp/j4.json" | jq '.failed')
if [ "$got_sessions" = "$sum_sessions" ] && [ "$got_failed" = "$sum_failed" ] && [ "$sessions" = "$sum_sessions" ]; then
    ok "batch summary equals the sum of single runs ($got_sessions sessions, $got_failed failed)"
else
    bad "batch summary ($got_sessions/$got_failed) differs from the single runs ($sum_sessions/$sum_failed)"
fi
errors=$(tail -1 "$tmp/j4.json" | jq '.errors // .input_errors // 0')
[ "$errors" = 2 ] && ok "summary counts the 2 unreadable inputs" || bad "summary counts the 2 unreadable inputs (got $errors)"

# --from list and text mode whole-per-file output
printf '%s\n' "$tmp/in/a" "# a comment" "$tmp/in/c/corrupt.pcap" >"$tmp/list"
"$bin" --json --from "$tmp/list" >"$tmp/from.json" 2>/dev/null
if [ "$(jq -s 'map(select(.type=="session")) | length' "$tmp/from.json")" -ge 1 ] &&
   [ "$(jq -s 'map(select(.type=="error")) | length' "$tmp/from.json")" = 2 ]; then
    ok "--from reads paths (directories too) and skips comments"
else
    bad "--from reads paths"
fi
"$bin" --summary -j 4 "$tmp/in" >"$tmp/sum.txt" 2>/dev/null
grep -q "^Summary: $sum_sessions TLS session" "$tmp/sum.txt" && ok "--summary prints only the summary" || { bad "--summary prints only the summary"; head -3 "$tmp/sum.txt" | sed 's/^/#   /'; }

# One nDPI module serves file after file (tb_classify_reset): every file's
# sessions must be exactly those of a run on that file alone, with a fresh
# module. The corpus has what the samples lack: STUN, BitTorrent and other
# flows nDPI remembers servers from.
rel=${TB_REL_BIN:-$PWD/tlsblame}
corpus=${TB_CORPUS:-$PWD/../shared/corpus}
mapfile -t every < <( { ls samples/*.pcap samples/*.pcapng
                        [ -d "$corpus" ] && find "$corpus" -name '*.pcap' -o -name '*.pcapng'; } | sort)
"$bin" --json -j 2 "${every[@]}" 2>/dev/null | grep -v '"type":"summary"' >"$tmp/one-run.json"
for f in "${every[@]}"; do
    "$rel" --json "$f" 2>/dev/null | grep -v '"type":"summary"'
done >"$tmp/each-alone.json"
if [ -s "$tmp/each-alone.json" ] && cmp -s "$tmp/one-run.json" "$tmp/each-alone.json"; then
    ok "one run over ${#every[@]} captures reports each as a run on it alone (nDPI module reused)"
else
    diff "$tmp/one-run.json" "$tmp/each-alone.json" | head -3 | cut -c1-200 | sed 's/^/#   /'
    bad "one run over ${#every[@]} captures reports each as a run on it alone (nDPI module reused)"
fi

# An input whose turn has not come keeps a bounded amount of output in memory,
# the rest in a temporary file (TLSBLAME_BATCH_HOLD_KIB, 8 MiB by default;
# 1 KiB here, so that every input but the first spills): the output is still
# that of one thread.
"$bin" --json -j 1 samples/ >"$tmp/hold1.json" 2>/dev/null
TLSBLAME_BATCH_HOLD_KIB=1 "$bin" --json -j 3 samples/ >"$tmp/hold3.json" 2>/dev/null
if [ -s "$tmp/hold1.json" ] && cmp -s "$tmp/hold1.json" "$tmp/hold3.json"; then
    ok "-j 3 with 1 KiB held per input before its turn: same output as -j 1"
else
    bad "-j 3 with 1 KiB held per input before its turn: same output as -j 1"
fi
