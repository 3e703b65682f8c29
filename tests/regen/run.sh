#!/usr/bin/env bash
# Fixtures cannot drift from what real stacks do today: regenerate a few
# OpenSSL scenarios from nothing on this machine (fresh PKI, real s_server and
# s_client over loopback) and check tlsblame's verdicts against the manifest
# the generator writes.
set -u
bin=${TB_BIN:-$PWD/build/asan/tlsblame}
if [ "$(id -u)" -ne 0 ]; then
    echo "ok 1 - regenerated OpenSSL samples # SKIP not root: tcpdump on lo needs CAP_NET_RAW"
    exit 0
fi
for tool in openssl tcpdump tshark; do
    if ! command -v $tool >/dev/null 2>&1; then
        echo "ok 1 - regenerated OpenSSL samples # SKIP $tool is not installed"
        exit 0
    fi
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if ! samples/gen/regen-check.sh "$tmp/out" >"$tmp/log" 2>&1; then
    echo "not ok 1 - regenerating OpenSSL samples failed"
    tail -20 "$tmp/log" | sed 's/^/#   /'
    exit 1
fi
echo "ok 1 - regenerated $(($(wc -l <"$tmp/out/MANIFEST.tsv") - 1)) OpenSSL captures from nothing"
ca=$(ls "$tmp"/out/pki/ca-chain.pem 2>/dev/null || true)
python3 tests/golden/check_manifest.py "$bin" "$tmp/out" ${ca:+--ca-file "$ca"} |
    awk '/^(not )?ok/ { n++; sub(/^(not )?ok [0-9]+/, ($1 == "ok" ? "ok " : "not ok ") (n + 1)) } { print }'
exit "${PIPESTATUS[0]}"
