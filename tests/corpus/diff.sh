#!/usr/bin/env bash
# Differential suite against tshark's ground truth (see diff_truth.py).
set -u
corpus=${TB_CORPUS:-../shared/corpus}
if [ ! -f "$corpus/MANIFEST.tsv" ]; then
    echo "ok 1 - corpus differential # SKIP $corpus not present (a user's clone has no shared/corpus)"
    exit 0
fi
exec python3 "$(dirname "$0")/diff_truth.py" build/asan/tlsblame "$corpus"
