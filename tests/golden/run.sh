#!/usr/bin/env bash
# Golden suites: the verdict of every sample against samples/MANIFEST.tsv, and
# the full text report of a handful of samples against tests/golden/*.out.
set -u
bin=${TB_BIN:-build/asan/tlsblame}
python3 tests/golden/check_manifest.py "$bin" samples --ca-file samples/pki/ca-chain.pem |
    awk '/^(not )?ok/ { n++; sub(/^(not )?ok [0-9]+/, ($1 == "ok" ? "ok " : "not ok ") n) } { print }' >"${TMPDIR:-/tmp}/golden.$$"
status=${PIPESTATUS[0]}
cat "${TMPDIR:-/tmp}/golden.$$"
n=$(grep -cE '^(not )?ok' "${TMPDIR:-/tmp}/golden.$$")
rm -f "${TMPDIR:-/tmp}/golden.$$"
# Text reports: tests/golden/TESTLIST lines "name capture flags..."
while read -r name capture flags; do
    case "$name" in ''|'#'*) continue ;; esac
    n=$((n + 1))
    # shellcheck disable=SC2086
    if NO_COLOR=1 "$bin" --color=never $flags "$capture" 2>/dev/null | diff -u "tests/golden/$name.out" - >"${TMPDIR:-/tmp}/gd.$$"; then
        echo "ok $n - text report $name"
    else
        echo "not ok $n - text report $name differs (make golden-update after checking the diff)"
        sed 's/^/#   /' "${TMPDIR:-/tmp}/gd.$$" | head -40
        status=1
    fi
    rm -f "${TMPDIR:-/tmp}/gd.$$"
done <tests/golden/TESTLIST
exit "$status"
