#!/usr/bin/env bash
# make golden-update: regenerate tests/golden/*.out from tests/golden/TESTLIST.
# Read the diff (git diff tests/golden) before committing: it is the change a
# user will see.
set -eu
bin=${TB_BIN:-./tlsblame}
while read -r name capture flags; do
    case "$name" in ''|'#'*) continue ;; esac
    # shellcheck disable=SC2086
    NO_COLOR=1 "$bin" --color=never $flags "$capture" >"tests/golden/$name.out" 2>/dev/null || true
    echo "tests/golden/$name.out"
done <tests/golden/TESTLIST
