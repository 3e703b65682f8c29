#!/usr/bin/env bash
# tests/keylog/run.sh - key-log decryption end to end (TAP): the corpus's
# key-logged captures against tshark's decrypted view (truth/), the project's
# TLS 1.3 samples that have a .keys file beside them (checked against
# samples/MANIFEST.tsv), one OpenSSL capture per cipher family
# (tests/keylog/captures, made by gen.sh), pcapng Decryption Secrets Blocks,
# SSLKEYLOGFILE, and wrong key logs (wrong secret, wrong random, truncated
# lines, garbage, a missing file): clear reports, no crash, no leak.
set -u
SRC=${TB_SRC_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$SRC" || exit 1
BIN=${TB_BIN:-build/asan/tlsblame}
CORPUS=${TB_CORPUS:-$SRC/../shared/corpus}
CHECK="python3 tests/keylog/check.py"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
unset SSLKEYLOGFILE
n=0

ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $*"; }
skip() { n=$((n + 1)); echo "ok $n - $* # SKIP"; }

# run NAME CHECKARGS... -- TLSBLAME ARGS: tlsblame must exit 0; its JSON must pass check.py.
run() {
    local name=$1
    shift
    local check=()
    while [ "$1" != "--" ]; do
        check+=("$1")
        shift
    done
    shift
    "$BIN" --json "$@" >"$TMP/out.json" 2>"$TMP/err.txt" </dev/null
    local rc=$?
    if [ $rc -ne 0 ]; then
        not_ok "$name: tlsblame exited $rc"
        sed 's/^/#   /' "$TMP/err.txt" | head -20
        return
    fi
    if $CHECK "${check[@]}" <"$TMP/out.json" >"$TMP/why.txt"; then
        ok "$name"
    else
        not_ok "$name"
        sed 's/^/#   /' "$TMP/why.txt" | head -10
    fi
}

# stderr_has NAME PATTERN: the last run's stderr says it.
stderr_has() {
    if grep -qE "$2" "$TMP/err.txt"; then
        ok "$1"
    else
        not_ok "$1"
        sed 's/^/#   /' "$TMP/err.txt" | head -5
    fi
}

[ -x "$BIN" ] || { echo "not ok 1 - $BIN not built"; exit 1; }

# ---- corpus: Wireshark's own key-logged captures, against tshark's decrypted view ----
for name in illustrated-tls13 illustrated-tls12; do
    cap=$CORPUS/$name/captures/capture.pcap
    keys=$CORPUS/$name/captures/keylog.txt
    truth=$CORPUS/truth/$name/captures/capture.pcap.json
    if [ ! -f "$cap" ] || [ ! -f "$truth" ]; then
        skip "$name: corpus not present"
        continue
    fi
    run "$name: decrypted handshake and alerts equal tshark's" truth "$truth" -- \
        --keylog "$keys" "$cap"
done
if [ -f "$CORPUS/illustrated-tls13/captures/capture.pcap" ]; then
    run "illustrated-tls13: EncryptedExtensions, Certificate, CertificateVerify decrypted; server CertificateVerify valid" \
        expect --decrypted encrypted_extensions,certificate,certificate_verify,finished,new_session_ticket \
        --scv valid -- --keylog "$CORPUS/illustrated-tls13/captures/keylog.txt" \
        "$CORPUS/illustrated-tls13/captures/capture.pcap"
    run "illustrated-tls12: Finished decrypted, close_notify's real code" \
        expect --decrypted finished --alert client:0 -- \
        --keylog "$CORPUS/illustrated-tls12/captures/keylog.txt" \
        "$CORPUS/illustrated-tls12/captures/capture.pcap"
fi
skip "ndpi/quic-v2.pcapng: QUIC (keys in its pcapng secrets block); tlsblame reads TLS over TCP"

# ---- the project's TLS 1.3 samples with key logs, against samples/MANIFEST.tsv ----
samples=0
while IFS=$'\t' read -r file scenario version _ _ _ _ outcome rejected_by rejected cause alert keylog; do
    [ "$version" = "TLS 1.3" ] && [ "$keylog" != "-" ] || continue
    [ -f "samples/$file" ] && [ -f "samples/$keylog" ] || continue
    samples=$((samples + 1))
    args=()
    if [ "$rejected" != "client_hello" ] && [ "$rejected" != "server_hello" ]; then
        args+=(--decrypted encrypted_extensions,certificate,certificate_verify)
        case $scenario in
        *bad-server-signature*) args+=(--scv invalid) ;;
        *garbage-server-cert*) ;; # no key to check it with: valid is null
        *) args+=(--scv valid) ;;
        esac
    fi
    case $rejected in
    client_certificate | certificate_verify | application)
        args+=(--decrypted certificate_request) ;;
    esac
    if [ "$rejected" = certificate_verify ]; then
        args+=(--cv invalid)
    elif [ "$rejected" = client_certificate ] && [ "$cause" != no_client_certificate ] &&
        [ "$cause" != signature_algorithm_mismatch ] && [[ $scenario != *garbage-client-cert* ]]; then
        args+=(--cv valid)
    fi
    # Each alert the manifest lists is read with its real level and code.
    IFS=, read -ra alerts <<<"$alert"
    for a in "${alerts[@]}"; do
        side=${a%%:*}
        code='*'
        [[ $a =~ \(([0-9]+)\)$ ]] && code=${BASH_REMATCH[1]}
        [ "$side" = client ] || [ "$side" = server ] && args+=(--alert "$side:$code")
    done
    run "samples/$file ($scenario, $outcome): $(printf '%s ' "${args[@]}")" expect "${args[@]}" -- \
        --keylog "samples/$keylog" "samples/$file"
done <samples/MANIFEST.tsv
[ $samples -gt 0 ] || skip "no TLS 1.3 samples with key logs yet"
if [ -f samples/nginx-curl-untrusted-client-ca-tls13.keys ]; then
    run "nginx: the decrypted HTTP status line is evidence" expect --app-line "HTTP/1.1 400" -- \
        --keylog samples/nginx-curl-untrusted-client-ca-tls13.keys \
        samples/nginx-curl-untrusted-client-ca-tls13.pcap
fi

# ---- one capture per cipher family (tests/keylog/gen.sh) ----
for cap in tests/keylog/captures/*.pcap; do
    [ -f "$cap" ] || continue
    b=${cap%.pcap}
    name=$(basename "$b")
    case $name in
    tls13-keyupdate)
        args=(--decrypted certificate_request,certificate,certificate_verify,key_update
              --cv valid --scv valid --alert client:0) ;;
    tls13-chacha20)
        args=(--decrypted certificate_request,certificate,certificate_verify,finished
              --cv valid --scv valid --alert client:0 --alpn http/1.1) ;;
    tls13-*)
        args=(--decrypted certificate_request,certificate,certificate_verify,finished
              --cv valid --scv valid --alert client:0) ;;
    *) args=(--decrypted finished --alert client:0) ;;
    esac
    run "$name: $(printf '%s ' "${args[@]}")" expect "${args[@]}" -- --keylog "$b.keys" "$cap"
done

# ---- where the secrets come from ----
I13=$CORPUS/illustrated-tls13/captures
if [ -f "$I13/capture.pcap" ]; then
    "$BIN" --json "$I13/capture.pcap" >"$TMP/out.json" 2>"$TMP/err.txt"
    if SSLKEYLOGFILE=$I13/keylog.txt "$BIN" --json "$I13/capture.pcap" 2>"$TMP/err.txt" |
        $CHECK expect --decrypted certificate_verify >"$TMP/why.txt"; then
        ok "SSLKEYLOGFILE is read without --keylog"
    else
        not_ok "SSLKEYLOGFILE is read without --keylog"
    fi
    SSLKEYLOGFILE=$TMP/does-not-exist "$BIN" --json "$I13/capture.pcap" >/dev/null 2>"$TMP/err.txt"
    [ $? -eq 0 ] && ok "an unreadable SSLKEYLOGFILE is no error" || not_ok "an unreadable SSLKEYLOGFILE is no error"
    if command -v editcap >/dev/null; then
        editcap -F pcapng --inject-secrets "tls,$I13/keylog.txt" "$I13/capture.pcap" \
            "$TMP/dsb.pcapng" 2>/dev/null
        run "pcapng Decryption Secrets Block: decrypted without --keylog" \
            expect --decrypted certificate,certificate_verify,finished --scv valid -- \
            "$TMP/dsb.pcapng"
        cat "$TMP/dsb.pcapng" | "$BIN" --json - >"$TMP/out.json" 2>"$TMP/err.txt"
        if [ $? -eq 0 ] && $CHECK expect --not-decrypted <"$TMP/out.json" >/dev/null; then
            ok "pcapng from stdin: its secrets block is not read (stdin is read once), no error"
        else
            not_ok "pcapng from stdin: its secrets block is not read (stdin is read once), no error"
        fi
    else
        skip "pcapng Decryption Secrets Block: editcap not installed"
    fi

    # ---- wrong key logs: clear reports, no crash ----
    sed 's/^SERVER_HANDSHAKE_TRAFFIC_SECRET \([0-9a-f]*\) 2/SERVER_HANDSHAKE_TRAFFIC_SECRET \1 3/' \
        "$I13/keylog.txt" >"$TMP/wrong-secret.txt"
    run "wrong secret: authentication failure reported, record not parsed" \
        expect --auth-failure -- --keylog "$TMP/wrong-secret.txt" "$I13/capture.pcap"
    stderr_has "wrong secret: stderr says which record failed and why" \
        "frame 7: decrypt: session 1: server record at frame 7 failed authentication: wrong key log or corrupted capture"
    $CHECK expect --decrypted finished <"$TMP/out.json" >/dev/null &&
        ok "wrong server secret: the client's side still decrypts" ||
        not_ok "wrong server secret: the client's side still decrypts"
    sed 's/ 000102/ ff0102/' "$I13/keylog.txt" >"$TMP/wrong-random.txt"
    run "wrong client random: nothing decrypted" expect --not-decrypted -- \
        --keylog "$TMP/wrong-random.txt" "$I13/capture.pcap"
    head -c 300 "$I13/keylog.txt" >"$TMP/truncated.txt"
    run "truncated key log: what is complete still decrypts" \
        expect --decrypted certificate_verify -- --keylog "$TMP/truncated.txt" "$I13/capture.pcap"
    stderr_has "truncated key log: the line is named" \
        "^tlsblame: $TMP/truncated.txt:2: CLIENT_HANDSHAKE_TRAFFIC_SECRET secret is [0-9]+ hex digits, not 64 or 96; line skipped$"
    head -c 4096 /dev/urandom >"$TMP/garbage.txt"
    run "binary garbage as a key log: reported, nothing decrypted" expect --not-decrypted -- \
        --keylog "$TMP/garbage.txt" "$I13/capture.pcap"
    stderr_has "binary garbage: malformed lines reported with line numbers" \
        "^tlsblame: $TMP/garbage.txt:[0-9]+: "
    "$BIN" --json --keylog "$TMP/no-such-file" "$I13/capture.pcap" >/dev/null 2>"$TMP/err.txt"
    rc=$?
    [ $rc -eq 2 ] && ok "missing --keylog file: exit 2" || not_ok "missing --keylog file: exit 2 (got $rc)"
    stderr_has "missing --keylog file: says so" "no-such-file: cannot open key log"
fi

echo "1..$n"
