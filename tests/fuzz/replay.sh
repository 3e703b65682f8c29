#!/usr/bin/env bash
# Replay every fuzz target's saved corpus and regression inputs under ASan+UBSan.
set -u
status=0
for bin in build/asan/fuzz/fuzz_*; do
    [ -x "$bin" ] || continue
    name=${bin##*/fuzz_}
    dirs=()
    [ -d "tests/fuzz/corpus/$name" ] && dirs+=("tests/fuzz/corpus/$name")
    [ -d "tests/regress/$name" ] && dirs+=("tests/regress/$name")
    [ ${#dirs[@]} -gt 0 ] || continue
    "$bin" "${dirs[@]}" | sed "s|^ok [0-9]* - |&$name: |" || status=1
done | awk '/^(not )?ok/ { if ($1 == "ok") printf "ok %d%s\n", ++n, substr($0, index($0, " - ")); else printf "not ok %d%s\n", ++n, substr($0, index($0, " - ")); next } { print }'
exit $status
