#!/usr/bin/env bash
# Live capture on loopback: tlsblame -i lo explains real OpenSSL handshakes
# while it runs, drops root, and prints a summary on SIGINT. Uses only
# 127.0.0.1 and processes it starts itself; everything is cleaned up.
set -u
bin=${TB_BIN:-$PWD/build/asan/tlsblame}
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
bad() { n=$((n + 1)); echo "not ok $n - $1"; }
skip_all() { echo "ok 1 - live capture # SKIP $1"; exit 0; }

[ "$(id -u)" -eq 0 ] || skip_all "not root: live capture needs CAP_NET_RAW"
command -v openssl >/dev/null || skip_all "openssl is not installed"
ip link show lo >/dev/null 2>&1 || skip_all "no loopback interface"

tmp=$(mktemp -d)
chmod 755 "$tmp"
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
cd "$tmp" || exit 1

# A small PKI: a CA the server trusts, a client it issued, and a client it did not.
subj() { echo "/O=tlsblame live test/CN=$1"; }
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj "$(subj 'Live CA')" 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -keyout rogue.key -out rogue.pem -days 2 -subj "$(subj 'Rogue CA')" 2>/dev/null
mk() { # mk NAME ISSUER EKU
    openssl req -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" -subj "$(subj "$1")" 2>/dev/null
    printf 'extendedKeyUsage=%s\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n' "$3" >"$1.ext"
    openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -CAcreateserial -days 2 \
        -extfile "$1.ext" -out "$1.pem" 2>/dev/null
}
mk server ca serverAuth
mk alice ca clientAuth
mk mallory rogue clientAuth
[ -s alice.pem ] && [ -s mallory.pem ] || { bad "could not make test certificates"; exit 0; }

# A site rule directory, reloaded on SIGHUP after privileges are dropped.
mkdir -p site-rules
cat >site-rules/site.yaml <<'YAML'
- id: site-live-test
  title: Site rule of the live test
  cause: unknown_ca
  rejected_by: server
  rejected: client_certificate
  score: 0.1
  summary: "loaded from the site rule directory"
  evidence: ["server {server}"]
  when:
    alert_code: 48
YAML
chmod -R a+rX site-rules

port=$((20000 + RANDOM % 20000))
"$bin" -i lo -f "tcp port $port" --json -Z nobody --rules "$tmp/site-rules" --idle-timeout 5 -w "$tmp/evidence.pcap" >live.out 2>live.err &
tb=$!
pids+=("$tb")
for _ in $(seq 1 50); do
    grep -q "listening on lo" live.err && break
    sleep 0.1
done
if grep -q "listening on lo" live.err; then ok "tlsblame listens on lo"; else bad "tlsblame listens on lo"; cat live.err | sed 's/^/#   /'; exit 0; fi

uid=$(awk '/^Uid:/ {print $2}' /proc/$tb/status)
if [ "$uid" != 0 ] && [ "$uid" = "$(id -u nobody)" ]; then
    ok "privileges dropped to nobody after opening the interface (uid $uid)"
else
    bad "privileges dropped (uid is $uid)"
fi

openssl s_server -accept "127.0.0.1:$port" -tls1_2 -cert server.pem -key server.key \
    -CAfile ca.pem -Verify 2 -verify_return_error -www -naccept 2 >server.log 2>&1 &
pids+=("$!")
sleep 0.5
# 1: alice, issued by the CA the server trusts: success.
printf 'GET / HTTP/1.0\r\n\r\n' | timeout 10 openssl s_client -connect "127.0.0.1:$port" \
    -cert alice.pem -key alice.key -CAfile ca.pem -ign_eof >alice.log 2>&1
# 2: mallory, issued by a CA the server does not know: the server says unknown_ca.
printf 'GET / HTTP/1.0\r\n\r\n' | timeout 10 openssl s_client -connect "127.0.0.1:$port" \
    -cert mallory.pem -key mallory.key -CAfile ca.pem -ign_eof >mallory.log 2>&1

# Both results must appear while tlsblame is still running.
for _ in $(seq 1 100); do
    [ "$(grep -c '"type":"session"' live.out)" -ge 2 ] && break
    sleep 0.1
done
if kill -0 "$tb" 2>/dev/null && [ "$(grep -c '"type":"session"' live.out)" -ge 2 ]; then
    ok "both sessions reported while capturing"
else
    bad "both sessions reported while capturing"
    sed 's/^/#   /' live.err
fi
if jq -e -s 'map(select(.type=="session" and .outcome=="success" and
        (.client_chain[0].subject | test("CN=alice")))) | length == 1' live.out >/dev/null 2>&1; then
    ok "alice's handshake is a success"
else
    bad "alice's handshake is a success"
fi
if jq -e -s 'map(select(.type=="session" and .outcome=="failed" and .verdict.rejected_by=="server"
        and .verdict.rejected=="client_certificate" and .verdict.cause=="unknown_ca")) | length == 1' \
        live.out >/dev/null 2>&1; then
    ok "mallory's certificate rejected by the server: unknown_ca"
else
    bad "mallory's certificate rejected by the server: unknown_ca"
    jq -c 'select(.type=="session") | [.outcome, .verdict]' live.out 2>&1 | sed 's/^/#   /'
fi

# SIGHUP re-reads the rules (as the unprivileged user); a broken file keeps the old set.
hup_until() { # hup_until PATTERN: signal, then wait for PATTERN in the log
    kill -HUP "$tb"
    for _ in $(seq 1 50); do grep -q "$1" live.err && return 0; sleep 0.1; done
    return 1
}
want=$(( $("$bin" --check-rules "$TB_SRC_DIR/rules" | awk '{print $2}') + 1 ))
if hup_until "rules reloaded ($want rules)"; then
    ok "SIGHUP reloads the default and site rules ($want)"
else
    bad "SIGHUP reloads the default and site rules ($want)"
    sed 's/^/#   /' live.err | tail -3
fi
printf '  evidence: ["unclosed"\n' >>site-rules/site.yaml
if hup_until "keeping the old ones" && kill -0 "$tb" 2>/dev/null; then
    ok "SIGHUP with a broken rule file keeps the old rules and keeps capturing"
else
    bad "SIGHUP with a broken rule file keeps the old rules and keeps capturing"
    sed 's/^/#   /' live.err | tail -3
fi

kill -INT "$tb"
for _ in $(seq 1 50); do kill -0 "$tb" 2>/dev/null || break; sleep 0.1; done
wait "$tb"
rc=$?
if [ $rc -eq 0 ]; then ok "SIGINT ends the run with status 0"; else bad "SIGINT ends the run with status 0 (got $rc)"; fi
if jq -e -s '.[-1].type == "summary" and .[-1].sessions == 2' live.out >/dev/null 2>&1; then
    ok "summary printed on SIGINT with 2 sessions"
else
    bad "summary printed on SIGINT with 2 sessions"
    tail -1 live.out | sed 's/^/#   /'
fi
if jq -e -s '.[-1] | has("drops") or has("kernel_dropped") or has("packets_dropped")' live.out >/dev/null 2>&1; then
    ok "summary reports the kernel's drop count"
else
    bad "summary reports the kernel's drop count"
    tail -1 live.out | sed 's/^/#   /'
fi
if grep -qE 'Sanitizer|runtime error' live.err; then
    bad "no sanitizer report in live mode"; sed 's/^/#   /' live.err | head
else
    ok "no sanitizer report in live mode"
fi

# -w kept the evidence: the saved file explains the same two handshakes offline.
if "$bin" --json "$tmp/evidence.pcap" 2>/dev/null | jq -e -s '[.[] | select(.type=="session") | .outcome] | sort == ["failed", "success"]' >/dev/null; then
    ok "-w wrote a capture that replays to the same two verdicts"
else
    bad "-w wrote a capture that replays to the same two verdicts"
fi

# Bad interface and bad filter: clear messages, status 2.
"$bin" -i no-such-if0 >/dev/null 2>err.txt
rc=$?
if [ $rc -eq 2 ] && grep -q "no-such-if0" err.txt; then ok "missing interface: status 2 and named"; else bad "missing interface: status 2 (got $rc)"; fi
"$bin" -i lo -f 'tcp port pizza' >/dev/null 2>err.txt
rc=$?
if [ $rc -eq 2 ] && grep -q "bad filter" err.txt; then ok "bad live filter: status 2"; else bad "bad live filter: status 2 (got $rc)"; fi
