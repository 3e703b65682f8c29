#!/usr/bin/env bash
# Rule tests: every default rule names captures where it must fire and where
# it must stay silent (`tests:` in rules/*.yaml); run them all. A rule with no
# test fails. Also: --check-rules on each broken file gives the expected
# message with its line and column.
set -u
bin=${TB_BIN:-build/asan/tlsblame}
n=0
status=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
bad() { n=$((n + 1)); echo "not ok $n - $1"; status=1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$bin" --list-rule-tests >"$tmp/list" || { bad "--list-rule-tests failed"; exit 1; }
echo "# $(cut -f1 "$tmp/list" | sort -u | wc -l) rules, $(grep -c $'\tfires\t' "$tmp/list") fires and $(grep -c $'\tsilent\t' "$tmp/list") silent tests"
while IFS=$'\t' read -r id kind capture; do
    if [ "$kind" = none ]; then
        bad "rule $id has no test capture"
        continue
    fi
    # "unit:TEST": no stack here makes a capture of it; a unit test on the facts
    # of the situation (tests/unit/test_rules.c) must name the rule.
    case "$capture" in
    unit:*)
        t=${capture#unit:}
        if awk -v t="static void $t(" -v id="\"$id\"" 'index($0, t) == 1 { on = 1 } on && index($0, id) { found = 1 } on && /^}/ { on = 0 } END { exit !found }' tests/unit/test_rules.c; then
            ok "$id fires in unit test $t (no real capture possible here)"
        else
            bad "$id: unit test $t does not exercise it"
        fi
        continue
        ;;
    esac
    # "FILE+keylog": run with the key log beside the capture (decrypted TLS 1.3).
    keys=()
    case "$capture" in
    *+keylog)
        capture=${capture%+keylog}
        keys=(--keylog "${capture%.pcap*}.keys")
        ;;
    esac
    if [ ! -f "$capture" ]; then
        bad "rule $id: $kind test $capture does not exist"
        continue
    fi
    # Without "+keylog", no key log: the TLS 1.3 rules that reason from sizes
    # are tested as a user without keys would meet them.
    out=$tmp/$(basename "$capture")${keys[0]:+.keys}.json
    if [ ! -f "$out" ]; then
        "$bin" --json --ca-file samples/pki/ca-chain.pem "${keys[@]}" "$capture" >"$out" 2>/dev/null
    fi
    fired=$(jq -r 'select(.type=="session") | (.verdict.rules // [])[]' "$out" | grep -cx "$id")
    if [ "$kind" = fires ] && [ "$fired" -gt 0 ]; then
        ok "$id fires on $capture"
    elif [ "$kind" = silent ] && [ "$fired" -eq 0 ]; then
        ok "$id stays silent on $capture"
    else
        bad "$id should $( [ "$kind" = fires ] && echo fire || echo stay silent) on $capture (rules that fired: $(jq -r -c 'select(.type=="session") | .verdict.rules' "$out" | tr '\n' ' '))"
    fi
done <"$tmp/list"

# Broken rule files: message and position.
for f in tests/rules/*.yaml; do
    [ -f "$f" ] || continue
    want=$(cat "${f%.yaml}.expected" 2>/dev/null)
    mkdir -p "$tmp/one"
    rm -f "$tmp/one"/*
    cp "$f" "$tmp/one/"
    got=$("$bin" --check-rules "$tmp/one" 2>&1 >/dev/null | sed "s|$tmp/one/|tests/rules/|g")
    if [ -n "$want" ] && [ "$got" = "$want" ]; then
        ok "--check-rules $(basename "$f"): ${got#tlsblame: }"
    else
        bad "--check-rules $(basename "$f"): got '$got', want '$want'"
    fi
done
"$bin" --check-rules tests/rules >/dev/null 2>&1
[ $? -eq 2 ] && ok "--check-rules exits 2 on broken rules" || bad "--check-rules exits 2 on broken rules"
exit $status
