#!/usr/bin/env bash
# Every capture of ../shared/corpus through the ASan+UBSan build: exit 0, no
# sanitizer report, no leak, valid NDJSON; and per-connection packet counts
# equal to tshark's conversation table where tshark is installed.
set -u
corpus=${TB_CORPUS:-../shared/corpus}
bin=build/asan/tlsblame
if [ ! -f "$corpus/MANIFEST.tsv" ]; then
    echo "ok 1 - corpus sweep # SKIP $corpus not present (a user's clone has no shared/corpus)"
    exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
have_tshark=0
command -v tshark >/dev/null 2>&1 && have_tshark=1
while IFS=$'\t' read -r file _; do
    [ "$file" = file ] && continue
    n=$((n + 1))
    path=$corpus/$file
    "$bin" --json "$path" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    why=""
    [ $rc -eq 0 ] || why="exit status $rc"
    if grep -qE 'Sanitizer|runtime error|LeakSanitizer' "$tmp/err"; then
        why="$why sanitizer: $(grep -m1 -E 'ERROR|runtime error' "$tmp/err")"
    fi
    if ! jq -e -s 'length > 0 and (.[-1].type == "summary")' "$tmp/out" >/dev/null 2>&1; then
        why="$why invalid NDJSON or no summary"
    fi
    if [ -z "$why" ]; then
        echo "ok $n - $file"
    else
        echo "not ok $n - $file:$why"
        sed 's/^/#   /' "$tmp/err" | head -20
    fi
done <"$corpus/MANIFEST.tsv"
if [ $have_tshark = 1 ]; then
    n=$((n + 1))
    if python3 "$(dirname "$0")/conv_check.py" "$bin" "$corpus" >"$tmp/conv" 2>&1; then
        echo "ok $n - packet and byte counts per TLS connection agree with tshark -z conv,tcp"
        sed 's/^/# /' "$tmp/conv" | tail -3
    else
        echo "not ok $n - packet and byte counts per TLS connection differ from tshark"
        sed 's/^/#   /' "$tmp/conv" | head -30
    fi
fi
