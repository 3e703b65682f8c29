#!/usr/bin/env bash
# tests/keylog/gen.sh - regenerate tests/keylog/captures/: one OpenSSL handshake
# per cipher family over loopback (tcpdump), with the client's key log
# (s_client -keylogfile). Covers what the project samples do not: ChaCha20,
# CCM, CCM_8, HelloRetryRequest, KeyUpdate, TLS 1.2 GCM/ChaCha/CCM, CBC with
# and without encrypt_then_mac, TLS 1.1 and TLS 1.0 (chained IV).
# Needs root (tcpdump on lo) and openssl(1). Not run by the test suite.
set -eu
cd "$(dirname "$0")"
OUT=captures
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$OUT"

openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj /CN=keylog.test \
    -keyout "$WORK/server.key" -out "$WORK/server.pem" 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj /CN=keylog-client \
    -addext extendedKeyUsage=clientAuth \
    -keyout "$WORK/client.key" -out "$WORK/client.pem" 2>/dev/null

port=24400
# gen NAME "SERVER OPTIONS" "CLIENT OPTIONS" [CLIENT INPUT]
gen() {
    local name=$1 sopts=$2 copts=$3 input=${4:-$'GET / HTTP/1.0\r\n\r\n'}
    port=$((port + 1))
    rm -f "$OUT/$name.pcap" "$OUT/$name.keys"
    tcpdump -i lo -U -s 0 -w "$OUT/$name.pcap" "tcp port $port" 2>/dev/null &
    local dump=$!
    sleep 1
    # shellcheck disable=SC2086
    timeout 15 openssl s_server -accept "$port" -naccept 1 -www -cert "$WORK/server.pem" \
        -key "$WORK/server.key" -CAfile "$WORK/client.pem" -Verify 1 $sopts \
        >"$WORK/$name.server" 2>&1 &
    local srv=$!
    sleep 0.5
    # shellcheck disable=SC2086
    printf '%s' "$input" | timeout 10 openssl s_client -connect "127.0.0.1:$port" \
        -servername keylog.test -cert "$WORK/client.pem" -key "$WORK/client.key" \
        -keylogfile "$OUT/$name.keys" $copts >"$WORK/$name.client" 2>&1 || true
    wait "$srv" 2>/dev/null || true
    sleep 0.5
    kill -INT "$dump"
    wait "$dump" 2>/dev/null || true
    echo "$name: $(stat -c %s "$OUT/$name.pcap") bytes, $(wc -l <"$OUT/$name.keys") key lines"
}

T13="-tls1_3 -ciphersuites"
gen tls13-chacha20 "$T13 TLS_CHACHA20_POLY1305_SHA256 -alpn http/1.1" \
    "$T13 TLS_CHACHA20_POLY1305_SHA256 -alpn http/1.1"
gen tls13-aes128-ccm "$T13 TLS_AES_128_CCM_SHA256" "$T13 TLS_AES_128_CCM_SHA256"
gen tls13-aes128-ccm8 "$T13 TLS_AES_128_CCM_8_SHA256" "$T13 TLS_AES_128_CCM_8_SHA256"
gen tls13-hrr "-tls1_3 -groups P-256" "-tls1_3 -groups X25519:P-256"
gen tls13-keyupdate "-tls1_3" "-tls1_3" $'k\nGET / HTTP/1.0\r\n\r\n'
gen tls12-aes128-gcm "-tls1_2" "-tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256"
gen tls12-chacha20 "-tls1_2" "-tls1_2 -cipher ECDHE-RSA-CHACHA20-POLY1305"
gen tls12-aes128-ccm "-tls1_2 -cipher AES128-CCM" "-tls1_2 -cipher AES128-CCM"
gen tls12-aes256-ccm8 "-tls1_2 -cipher AES256-CCM8" "-tls1_2 -cipher AES256-CCM8"
gen tls12-aes256-cbc-sha384-etm "-tls1_2" "-tls1_2 -cipher ECDHE-RSA-AES256-SHA384"
gen tls12-aes128-cbc-sha "-tls1_2" "-tls1_2 -cipher ECDHE-RSA-AES128-SHA -no_etm"
gen tls11-aes128-cbc-sha "-tls1_1 -cipher ALL@SECLEVEL=0" "-tls1_1 -cipher ECDHE-RSA-AES128-SHA@SECLEVEL=0"
gen tls10-aes256-cbc-sha "-tls1 -cipher ALL@SECLEVEL=0" "-tls1 -cipher ECDHE-RSA-AES256-SHA@SECLEVEL=0 -no_etm"
