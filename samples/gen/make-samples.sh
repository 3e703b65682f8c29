#!/bin/bash
# samples/gen/make-samples.sh [SCENARIO...]
#
# Regenerates the tlsblame sample captures from nothing: a fresh PKI (pki.sh),
# then for every scenario a capture of a real handshake between real TLS
# implementations over loopback (or inside network namespaces this script
# creates and deletes), the logs of both sides, a key log beside TLS 1.3
# captures, and one MANIFEST.tsv row.
#
#   make-samples.sh                 every scenario, fresh PKI, stale files removed
#   make-samples.sh NAME...         only these (NAME = capture base name, e.g.
#                                   openssl-untrusted-client-ca-tls12); reuses
#                                   the existing private PKI so the committed
#                                   samples/pki CA files stay valid
#   make-samples.sh --list          list scenario names
# Environment:
#   OUTDIR   where captures, logs, MANIFEST.tsv and pki/ go (default: samples/)
#   PKIDIR   private PKI with keys (default: samples/gen/out/pki, not committed)
#   FRESH_PKI=1  force a new PKI even for a partial run
#   VERBOSE=1    print the alert summary of every capture
#
# Needs root (tcpdump, ip netns), openssl, tcpdump, tshark/dumpcap/editcap,
# python3; per scenario family also gnutls-bin, golang-go, a JDK, nginx, curl,
# postgresql, postfix, dovecot-imapd, dovecot-pop3d, vsftpd, slapd, ldap-utils,
# mariadb-server, mariadb-client, prosody.
set -euo pipefail
export LC_ALL=C

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SAMPLES=$(dirname "$HERE")
OUTDIR=${OUTDIR:-$SAMPLES}
mkdir -p "$OUTDIR"
OUTDIR=$(cd "$OUTDIR" && pwd)
PKIDIR=${PKIDIR:-$HERE/out/pki}
BINDIR=${BINDIR:-$HERE/out/bin}
LOGDIR=$OUTDIR/logs
VERBOSE=${VERBOSE:-0}
BASEPORT=${BASEPORT:-21000}

WORK=$(mktemp -d /tmp/tlsblame-samples.XXXXXX)
declare -a PIDS=() NETNS=() LINKS=()
cleanup() {
  local p n
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  for n in "${LINKS[@]}"; do ip link del "$n" 2>/dev/null || true; done
  for n in "${NETNS[@]}"; do ip netns del "$n" 2>/dev/null || true; done
  rm -rf -- "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { printf '%s\n' "$*" >&2; }
die() { log "make-samples: $*"; exit 1; }

# ---------------------------------------------------------------------------
# tools and stack binaries
# ---------------------------------------------------------------------------
need() { command -v "$1" >/dev/null || die "missing tool: $1 ($2)"; }
need openssl openssl; need tcpdump tcpdump; need editcap tshark; need dumpcap tshark; need ethtool ethtool; need tshark tshark; need python3 python3; need ip iproute2; need ss iproute2

GO_BUILT=0 JAVA_BUILT=0 MBED_BUILT=0
build_go() {
  [ $GO_BUILT = 1 ] && return
  need go golang-go
  mkdir -p "$BINDIR" "$WORK/gocache"
  (cd "$HERE/go" && GOPROXY=off GOFLAGS=-mod=mod GOCACHE=${GOCACHE:-$WORK/gocache} GO111MODULE=on \
     timeout 300 go build -o "$BINDIR/" ./tlsserver ./tlsclient) || die "go build failed"
  GO_BUILT=1
}
build_mbedtls() {  # samples/gen/mbedtls/mbedtls-tls.c against Debian's libmbedtls-dev (2.28)
  [ $MBED_BUILT = 1 ] && return
  need gcc gcc
  [ -f /usr/include/mbedtls/ssl.h ] || die "missing libmbedtls-dev"
  mkdir -p "$BINDIR"
  gcc -O1 -o "$BINDIR/mbedtls-tls" "$HERE/mbedtls/mbedtls-tls.c" -lmbedtls -lmbedx509 -lmbedcrypto || die "mbedtls build failed"
  MBED_BUILT=1
}
build_java() {
  [ $JAVA_BUILT = 1 ] && return
  need javac openjdk-17-jdk-headless
  mkdir -p "$BINDIR/java"
  timeout 120 javac -d "$BINDIR/java" "$HERE/java/JsseServer.java" "$HERE/java/JsseClient.java" || die "javac failed"
  # TLS 1.0/1.1 are disabled in jdk.tls.disabledAlgorithms; this override re-enables them (seed 000).
  cat > "$BINDIR/java/legacy-tls.security" <<'EOF'
jdk.tls.disabledAlgorithms=SSLv3, RC4, DES, MD5withRSA, DH keySize < 1024, EC keySize < 224, 3DES_EDE_CBC, anon, NULL
EOF
  JAVA_BUILT=1
}

# ---------------------------------------------------------------------------
# scenario machinery
# ---------------------------------------------------------------------------
# A scenario is a function scn_<capture-base-name> that sets the variables
# below and the SRV / CLI command arrays, then returns; run_one does the rest.
reset_vars() {
  FMT=pcap NET=lo TLSV=- SSTACK=- CSTACK=- OUTCOME=failed REJBY=- REJ=- CAUSE=- KEYLOG=auto
  CLI_IN=ping NOTE="" POST="" SRV_KIND=exit SRV_ENV=() CLI_ENV=() DISSECTOR=tls
  SRV=() CLI=()
  SLOG_RE="" CLOG_RE="" SCEN=""
}

# netns helpers ---------------------------------------------------------------
mk_ns() {  # NAME -> creates netns with lo up
  ip netns add "$1"; NETNS+=("$1")
  ip netns exec "$1" ip link set lo up
}
setup_net() {  # uses NET, sets H, NSS (server prefix), NSC (client prefix), CAPIF, CAPNS
  local tag=$1
  NSS=() NSC=() CAPNS=() CAPIF=lo H=127.0.0.1
  case $NET in
    lo) ;;
    ns)   # private namespace with its own loopback (for servers that bind the wildcard address)
      mk_ns "tlsb-$tag"
      NSS=(ip netns exec "tlsb-$tag"); NSC=("${NSS[@]}"); CAPNS=("${NSS[@]}") ;;
    veth|veth-mtu)
      mk_ns "tlsb-s$tag"; mk_ns "tlsb-c$tag"
      ip link add "tbs$tag" type veth peer name "tbc$tag"; LINKS+=("tbs$tag")
      ip link set "tbs$tag" netns "tlsb-s$tag"; ip link set "tbc$tag" netns "tlsb-c$tag"
      ip netns exec "tlsb-s$tag" ip addr add 10.99.0.1/24 dev "tbs$tag"
      ip netns exec "tlsb-c$tag" ip addr add 10.99.0.2/24 dev "tbc$tag"
      if [ $NET = veth-mtu ]; then
        ip netns exec "tlsb-s$tag" ip link set "tbs$tag" mtu 576
        ip netns exec "tlsb-c$tag" ip link set "tbc$tag" mtu 576
        # no segmentation offload: every segment on the wire is what tcpdump sees
        ip netns exec "tlsb-s$tag" ethtool -K "tbs$tag" tso off gso off gro off >/dev/null
        ip netns exec "tlsb-c$tag" ethtool -K "tbc$tag" tso off gso off gro off >/dev/null
      fi
      ip netns exec "tlsb-s$tag" ip link set "tbs$tag" up
      ip netns exec "tlsb-c$tag" ip link set "tbc$tag" up
      NSS=(ip netns exec "tlsb-s$tag"); NSC=(ip netns exec "tlsb-c$tag"); CAPNS=("${NSS[@]}")
      CAPIF="tbs$tag" H=10.99.0.1 ;;
    *) die "bad NET $NET" ;;
  esac
}
teardown_net() {
  local n
  for n in "${NETNS[@]}"; do ip netns del "$n" 2>/dev/null || true; done
  NETNS=() LINKS=()
}

wait_listen() {  # PORT PID: wait until something listens on PORT (or PID died)
  local i
  for i in $(seq 1 100); do
    if "${NSS[@]}" ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; then return 0; fi
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}
wait_pid() {  # PID SECONDS: wait for PID to exit, else TERM it
  local i
  for i in $(seq 1 $(($2 * 10))); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
  kill -TERM "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

nap() { sleep "$1" & wait $!; }
client_input() {  # what the client gets on stdin (run in the background; TERM stops it and its sleep)
  trap 'kill $! 2>/dev/null; exit 0' TERM
  case $CLI_IN in
    ping) nap 0.7; printf 'ping\n'; nap 1 ;;
    none) nap 1.7 ;;
    imap) nap 0.7; printf 'a CAPABILITY\n'; nap 0.3; printf 'b AUTHENTICATE EXTERNAL =\n'; nap 0.5; printf 'c LOGOUT\n'; nap 1 ;;
    smtp) nap 0.7; printf 'EHLO client.test\n'; nap 0.3; printf 'QUIT\n'; nap 1 ;;
    pop3) nap 0.7; printf 'CAPA\n'; nap 0.3; printf 'AUTH EXTERNAL =\n'; nap 0.5; printf 'QUIT\n'; nap 1 ;;
    xmpp) nap 0.7; printf '%s\n' "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='server.test' version='1.0'>"; nap 0.5; printf '</stream:stream>\n'; nap 1 ;;
    ftp)  nap 0.7; printf 'FEAT\n'; nap 0.3; printf 'PBSZ 0\n'; nap 0.3; printf 'PROT P\n'; nap 0.3; printf 'QUIT\n'; nap 1 ;;
  esac
}

# the most telling error line(s) of a log, joined into one line
errline() (  # FILE REGEX
  set +o pipefail +e
  local f=$1 re=${2:-}
  [ -s "$f" ] || { echo "-"; return; }
  [ -n "$re" ] || re='x509:|tls: |error|alert|fail|exception|denied|refused|unable|invalid|mismatch|not trusted|expired|not yet valid|no certificate|bad |certificate required|closing without|400 |HTTP/'
  # lines naming the TLS/X.509 reason first, then the others, at most 3, in one line
  grep -a -i -E "$re" "$f" \
    | grep -a -v -E '^ *[0-9a-f]{4} - |CONNECTION (CLOSED|FAILURE)|verify return:1|Verification: OK|Verify return code: 0|^depth=|Verification error: 0|SSL handshake has read|^ *(Secure Renegotiation|Max Early Data|Early data was)|no peer certificate available|No client certificate CA names sent|epoll_wait|Provider routines' \
    | sed -E 's/^[0-9A-F]{8,16}:error:/error:/; s/^[0-9]{4}\/[0-9]{2}\/[0-9]{2} [0-9:]{8} //; s/\r//g; s/(request: ")[^"]*[^ -~][^"]*("|$)/\1<binary>\2/; s/[^ -~\t]//g; s/[[:space:]]+/ /g; s/^ //; s/ $//' \
    | awk '!seen[$0]++ { p = ($0 ~ /verify error|SSL routines|Exception|x509:|tls: |Error in handshake|Fatal error|certificate verify error|no required SSL|<title>|HTTP status/) ? 1 : 2; print p "\t" NR "\t" $0 }' \
    | sort -t$'\t' -k1,1n -k2,2n | cut -f3- | head -3 | paste -sd'|' | sed 's/|/ | /g' | cut -c1-400 | { read -r l || true; echo "${l:--}"; }
)

scenario_id() {  # capture base name -> scenario id (stack names and version dropped)
  local n=${1#"$SSTACK"-}
  [ "$CSTACK" != "$SSTACK" ] && n=${n#"$CSTACK"-}
  n=${n%-tls1[0-3]}
  echo "${SCEN:-$n}"
}

ROWS=$WORK/rows.tsv
: > "$ROWS"
declare -a DONE_FILES=()

run_one() {  # NAME INDEX
  local name=$1 idx=$2
  reset_vars
  P=$((BASEPORT + idx))
  local tag=$idx
  # NET and FMT must be known before the commands are built: scenario functions
  # declare them in a "pre" function when they differ from the defaults.
  if declare -F "pre_$name" >/dev/null; then "pre_$name"; fi
  setup_net "$tag"
  local ext=pcap; [ "$FMT" = pcapng ] && ext=pcapng
  FILE=$name.$ext
  local cap=$OUTDIR/$FILE
  SK=$WORK/$name.server.keys CK=$WORK/$name.client.keys
  SLOG=$LOGDIR/$name.server.log CLOG=$LOGDIR/$name.client.log
  rm -f "$OUTDIR/$name".pcap "$OUTDIR/$name".pcapng "$OUTDIR/$name".keys "$SK" "$CK"
  "scn_$name"
  [ ${#SRV[@]} -gt 0 ] && [ ${#CLI[@]} -gt 0 ] || die "$name: no commands"

  # 1. capture
  local caperr=$WORK/$name.cap.err tmpcap=$WORK/$name.raw.$ext
  if [ "$FMT" = pcapng ]; then
    "${CAPNS[@]}" timeout 60 dumpcap -q -i "$CAPIF" -f "tcp port $P" -w "$tmpcap" 2>"$caperr" &
  else
    "${CAPNS[@]}" timeout 60 tcpdump -i "$CAPIF" --immediate-mode -U -s 0 -w "$tmpcap" "tcp port $P" 2>"$caperr" &
  fi
  local cpid=$!; PIDS+=("$cpid")
  local i
  for i in $(seq 1 50); do grep -q -E 'listening on|Capturing on|File:' "$caperr" 2>/dev/null && break; sleep 0.1; done
  sleep 0.3
  # 2. server
  env "${SRV_ENV[@]}" "${NSS[@]}" timeout 30 "${SRV[@]}" </dev/null >"$SLOG" 2>&1 &
  local spid=$!; PIDS+=("$spid")
  wait_listen "$P" "$spid" || log "  warning: $name: server not listening on $P"
  sleep 0.2
  # 3. client
  local fifo=$WORK/$name.in
  mkfifo "$fifo"
  client_input > "$fifo" 2>/dev/null &
  local ipid=$!; PIDS+=("$ipid")
  env "${CLI_ENV[@]}" "${NSC[@]}" timeout 25 "${CLI[@]}" <"$fifo" >"$CLOG" 2>&1 || true
  kill -TERM "$ipid" 2>/dev/null || true; wait "$ipid" 2>/dev/null || true
  # 4. server done (one-shot servers exit by themselves; daemons are stopped)
  if [ "$SRV_KIND" = daemon ]; then sleep 0.5; wait_pid "$spid" 0; else wait_pid "$spid" 5; fi
  sleep 0.6   # tcpdump runs in immediate mode; let the last FIN/ACK arrive
  kill -INT "$cpid" 2>/dev/null || true
  wait "$cpid" 2>/dev/null || true
  PIDS=()
  teardown_net
  [ -s "$tmpcap" ] || die "$name: empty capture ($(cat "$caperr"))"
  # 5. post-processing (e.g. drop a frame)
  if [ -n "$POST" ]; then "$POST" "$tmpcap" "$cap"; else cp "$tmpcap" "$cap"; fi
  chown --reference="$OUTDIR" "$cap" 2>/dev/null || true
  chmod 644 "$cap"
  # 6. key log
  local keys=-
  cat "$SK" "$CK" 2>/dev/null | grep -a -E '^[A-Z0-9_]+ [0-9a-fA-F]+ [0-9a-fA-F]+$' | sort -u > "$WORK/$name.keys" || true
  if [ -s "$WORK/$name.keys" ] && [ "$KEYLOG" != no ]; then
    cp "$WORK/$name.keys" "$OUTDIR/$name.keys"; keys=$name.keys
  fi
  # 7. alerts as seen on the wire (and decrypted, for the logs)
  local al; al=$(python3 "$HERE/alerts.py" "$cap" "$P" "$([ "$keys" = - ] && echo - || echo "$OUTDIR/$keys")" "$DISSECTOR")
  local wire dec ver
  { read -r wire; read -r dec; read -r ver; } <<<"$al"
  TLSV=$ver
  wire=${wire//encrypted\?/encrypted}   # 19-byte TLS 1.3 records without a key log: alerts by size
  printf 'alerts on the wire: %s\ndecrypted: %s\n' "$wire" "$dec" > "$LOGDIR/$name.alerts"
  local sl cl; sl=$(errline "$SLOG" "$SLOG_RE"); cl=$(errline "$CLOG" "$CLOG_RE")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
    "$FILE" "$(scenario_id "$name")" "$TLSV" "$SSTACK" "$CSTACK" "$sl" "$cl" "$OUTCOME" "$REJBY" "$REJ" "$CAUSE" "$wire" "$keys" >> "$ROWS"
  DONE_FILES+=("$FILE")
  log "  $FILE: $dec"
  [ "$VERBOSE" = 1 ] && { log "    server: $sl"; log "    client: $cl"; } || true
}

# POST hook: drop the 2nd data segment the server sent (part of its first
# flight, which spans several segments at MTU 576): a capture with a hole.
drop_server_segment() {  # IN OUT
  local n
  n=$(tshark -r "$1" -Y "tcp.srcport == $P && tcp.len > 0" -T fields -e frame.number 2>/dev/null | sed -n 2p)
  [ -n "$n" ] || die "drop_server_segment: no such frame"
  editcap "$1" "$2" "$n"
  echo "dropped frame $n (2nd server data segment) with editcap" >> "$SLOG"
}

# POST hook: drop the 3rd data segment the client sent (the 2nd of its
# certificate flight, Certificate + ClientKeyExchange + CertificateVerify, which
# spans several segments at MTU 576): a hole in the client's flight.
drop_client_segment() {  # IN OUT
  local n
  n=$(tshark -r "$1" -Y "tcp.dstport == $P && tcp.len > 0" -T fields -e frame.number 2>/dev/null | sed -n 3p)
  [ -n "$n" ] || die "drop_client_segment: no such frame"
  editcap "$1" "$2" "$n"
  echo "dropped frame $n (3rd client data segment, inside its certificate flight) with editcap" >> "$CLOG"
}
# POST hook: cut the capture file in the middle of the packet that carries the
# start of the server's first flight (ServerHello, Certificate...), as a capture
# that was copied while still being written, or a disk that filled up.
truncate_mid_packet() {  # IN OUT
  local n
  n=$(tshark -r "$1" -Y "tcp.srcport == $P && tcp.len > 0" -T fields -e frame.number 2>/dev/null | sed -n 1p)
  [ -n "$n" ] || die "truncate_mid_packet: no server data"
  python3 - "$1" "$2" "$n" >> "$SLOG" <<'PY'
import struct, sys
src, dst, want = sys.argv[1], sys.argv[2], int(sys.argv[3])
b = open(src, "rb").read()
off, n = 24, 0                      # classic pcap: 24-byte file header, 16-byte record headers
while off < len(b):
    n += 1
    incl = struct.unpack_from("<I", b, off + 8)[0]
    if n == want:
        cut = off + 16 + incl // 2
        open(dst, "wb").write(b[:cut])
        print(f"capture file cut at byte {cut} of {len(b)}: in the middle of frame {n} ({incl} bytes captured), as head -c {cut} would")
        break
    off += 16 + incl
PY
}

# ---------------------------------------------------------------------------
# stack command builders
# ---------------------------------------------------------------------------
K() { printf '%s/%s' "$PKIDIR" "$1"; }
vflag() { case $1 in 1.0) echo -tls1;; 1.1) echo -tls1_1;; 1.2) echo -tls1_2;; 1.3) echo -tls1_3;; esac; }
tlsname() { case $1 in -) echo -;; *) echo "TLS $1";; esac; }

# OpenSSL s_server. Variables: SCERT (server cert base), SCHAIN (0: send the leaf
# only), SCAF (CA file for client verification), SAUTH (Verify|verify|none), SX
# (extra args array)
os_server() {  # VER
  local v=$1
  SRV=(openssl s_server -accept "$H:$P" -naccept 1 -rev -cert "$(K "$SCERT.crt")" -key "$(K "$SCERT.key")")
  [ "$SCERT" = server-untrusted ] || [ "$SCHAIN" = 0 ] || SRV+=(-cert_chain "$(K intermediate-ca.crt)")
  case $SAUTH in
    Verify) SRV+=(-Verify 5 -verify_return_error -CAfile "$(K "$SCAF")") ;;
    verify) SRV+=(-verify 5 -verify_return_error -CAfile "$(K "$SCAF")") ;;
    none) ;;
  esac
  [ -n "$v" ] && SRV+=("$(vflag "$v")")
  [ "$v" = 1.3 ] && SRV+=(-keylogfile "$SK")
  SRV+=("${SX[@]}")
  SSTACK=openssl
}
# OpenSSL s_client. Variables: CCERT (client cert base or "none"), CCHAIN (1: send
# the intermediate), CCAF (trust anchors), CX (extra args array)
os_client() {  # VER
  local v=$1
  CLI=(openssl s_client -connect "$H:$P" -servername server.test -verify_hostname server.test
       -CAfile "$(K "$CCAF")" -verify_return_error)
  if [ "$CCERT" != none ]; then
    CLI+=(-cert "$(K "$CCERT.crt")" -key "$(K "$CKEY.key")")
    [ "$CCHAIN" = 1 ] && CLI+=(-cert_chain "$(K intermediate-ca.crt)")
  fi
  [ -n "$v" ] && CLI+=("$(vflag "$v")")
  [ "$v" = 1.3 ] && CLI+=(-keylogfile "$CK")
  CLI+=("${CX[@]}")
  CSTACK=openssl
}
os_defaults() {
  SCERT=server SCHAIN=1 SCAF=root-ca.crt SAUTH=Verify SX=()
  CCERT=client-rsa CKEY=client-rsa CCHAIN=1 CCAF=root-ca.crt CX=()
}

# Go programs (samples/gen/go)
go_server() {  # VER  Variables: GS_AUTH, GS_CA, GS_CERT, GSX
  build_go
  local v=$1
  SRV=("$BINDIR/tlsserver" -addr "$H:$P" -cert "$(K "$GS_CERT.chain.pem")" -key "$(K "$GS_CERT.key")"
       -auth "$GS_AUTH" -ca "$(K "$GS_CA")")
  [ -n "$v" ] && SRV+=(-min "$v" -max "$v")
  [ "$v" = 1.3 ] && SRV+=(-keylog "$SK")
  SRV+=("${GSX[@]}")
  SSTACK=go
}
go_client() {  # VER  Variables: GC_CERT (or none), GC_KEY, GC_CA, GCX
  build_go
  local v=$1
  CLI=("$BINDIR/tlsclient" -addr "$H:$P" -sni server.test -ca "$(K "$GC_CA")")
  if [ "$GC_CERT" != none ]; then CLI+=(-cert "$(K "$GC_CERT.chain.pem")" -key "$(K "$GC_KEY.key")"); fi
  [ -n "$v" ] && CLI+=(-min "$v" -max "$v")
  [ "$v" = 1.3 ] && CLI+=(-keylog "$CK")
  CLI+=("${GCX[@]}")
  CSTACK=go
}
go_defaults() {
  GS_AUTH=require GS_CA=root-ca.crt GS_CERT=server GSX=()
  GC_CERT=client-rsa GC_KEY=client-rsa GC_CA=root-ca.crt GCX=()
}

# GnuTLS gnutls-serv / gnutls-cli. gnutls-serv binds the wildcard address, so
# GnuTLS-server scenarios run in a private network namespace (NET=ns).
gnutls_prio() {  # VER
  case $1 in
    1.2) echo "NORMAL:-VERS-ALL:+VERS-TLS1.2" ;;
    1.3) echo "NORMAL:-VERS-ALL:+VERS-TLS1.3" ;;
    *) echo NORMAL ;;
  esac
}
gnutls_server() {  # VER  Variables: GT_CA, GT_REQUIRE (1/0), GTX
  local v=$1
  SRV=(gnutls-serv --port "$P" --x509certfile "$(K server.chain.pem)" --x509keyfile "$(K server.key)"
       --x509cafile "$(K "$GT_CA")" --priority "$(gnutls_prio "$v")" --echo)
  [ "$GT_REQUIRE" = 1 ] && SRV+=(--require-client-cert --verify-client-cert)
  SRV+=("${GTX[@]}")
  SRV_KIND=daemon SSTACK=gnutls
  [ "$v" = 1.3 ] && SRV_ENV=(SSLKEYLOGFILE="$SK")
  return 0
}
gnutls_client() {  # VER  Variables: GTC_CERT (or none), GTC_CA, GTCX
  local v=$1
  CLI=(gnutls-cli --port "$P" --sni-hostname server.test --verify-hostname server.test
       --x509cafile "$(K "$GTC_CA")" --priority "$(gnutls_prio "$v")")
  [ "$GTC_CERT" != none ] && CLI+=(--x509certfile "$(K "$GTC_CERT.chain.pem")" --x509keyfile "$(K "$GTC_CERT.key")")
  CLI+=("${GTCX[@]}" "$H")
  CSTACK=gnutls
  [ "$v" = 1.3 ] && CLI_ENV=(SSLKEYLOGFILE="$CK")
  return 0
}
gnutls_defaults() { GT_CA=root-ca.crt GT_REQUIRE=1 GTX=() GTC_CERT=client-rsa GTC_CA=root-ca.crt GTCX=(); }

# Java JSSE (samples/gen/java)
jprot() { case $1 in 1.0) echo TLSv1;; 1.1) echo TLSv1.1;; 1.2) echo TLSv1.2;; 1.3) echo TLSv1.3;; esac; }
java_server() {  # VER  Variables: JS_TRUST, JS_AUTH, JSX (extra key=value args), JS_JVM (extra JVM args)
  build_java
  local v=$1
  SRV=(java "${JS_JVM[@]}" -cp "$BINDIR/java" JsseServer port="$P" keystore="$(K server.p12)"
       truststore="$(K "$JS_TRUST")" protocols="$(jprot "$v")" auth="$JS_AUTH" "${JSX[@]}")
  SSTACK=java
}
java_client() {  # VER  Variables: JC_KS (p12 base or none), JC_TRUST, JCX, JC_JVM
  build_java
  local v=$1
  CLI=(java "${JC_JVM[@]}" -cp "$BINDIR/java" JsseClient host="$H" port="$P" sni=server.test
       truststore="$(K "$JC_TRUST")" protocols="$(jprot "$v")" warmup="$(K server.p12)")
  [ "$JC_KS" != none ] && CLI+=(keystore="$(K "$JC_KS.p12")")
  CLI+=("${JCX[@]}")
  CSTACK=java
}
java_defaults() { JS_TRUST=truststore.p12 JS_AUTH=need JSX=() JS_JVM=(-Xshare:auto) JC_KS=client-rsa JC_TRUST=truststore.p12 JCX=() JC_JVM=(-Xshare:auto); }

# nginx (ssl_verify_client) + curl. nginx runs in the foreground, one worker-less
# process, with its config and temp dirs under $WORK.
nginx_server() {  # VER  Variables: NG_VERIFY (on|optional|off), NG_CERT (server cert base), NG_PLAIN (1: plain HTTP on the port, no TLS)
  need nginx nginx
  local v=$1 d=$WORK/nginx-$P
  mkdir -p "$d/logs" "$d/tmp"
  local tlsconf="    listen $H:$P ssl;
    ssl_protocols TLSv$v;
    ssl_certificate $(K "$NG_CERT.chain.pem");
    ssl_certificate_key $(K "$NG_CERT.key");
    ssl_client_certificate $(K root-ca.crt);
    ssl_verify_client $NG_VERIFY;
    ssl_verify_depth 2;"
  [ "$NG_PLAIN" = 1 ] && tlsconf="    listen $H:$P;"
  cat > "$d/nginx.conf" <<EOF
daemon off;
master_process off;
worker_processes 1;
pid $d/nginx.pid;
error_log $d/logs/error.log info;
events { worker_connections 16; }
http {
  access_log $d/logs/access.log;
  client_body_temp_path $d/tmp/body; proxy_temp_path $d/tmp/proxy; fastcgi_temp_path $d/tmp/fcgi;
  uwsgi_temp_path $d/tmp/uwsgi; scgi_temp_path $d/tmp/scgi;
  server {
$tlsconf
    server_name server.test;
    location / { return 200 "hello \$ssl_client_s_dn\n"; }
  }
}
EOF
  # nginx writes its log to error.log; the wrapper prints it when nginx is stopped
  SRV=(bash -c 'trap "kill -QUIT \$p 2>/dev/null; wait \$p; cat \"\$1/logs/error.log\"; exit 0" TERM; nginx -p "$1" -c "$1/nginx.conf" -e "$1/logs/error.log" & p=$!; wait $p' nginx "$d")
  SRV_KIND=daemon SSTACK=nginx
  SLOG_RE='SSL certificate verify error|no required SSL certificate|\[(error|crit|alert|emerg)\]|SSL_do_handshake'
  return 0
}
curl_client() {  # VER  Variables: CU_CERT (or none)
  need curl curl
  local v=$1
  CLI=(curl -sS --max-time 10 --cacert "$(K root-ca.crt)" --resolve "server.test:$P:$H" --tlsv$v --tls-max $v
       -o - -w 'HTTP status %{http_code}\n')
  [ "$CU_CERT" != none ] && CLI+=(--cert "$(K "$CU_CERT.chain.pem")" --key "$(K "$CU_CERT.key")")
  CLI+=("https://server.test:$P/")
  CLI_ENV=(SSLKEYLOGFILE="$CK") CLI_IN=none CSTACK=curl
  CLOG_RE='<title>|^curl: |HTTP status [^2]' 
}
nginx_defaults() { NG_VERIFY=on NG_CERT=server NG_PLAIN=0 CU_CERT=client-rsa; }

# mbedTLS 2.28 (samples/gen/mbedtls/mbedtls-tls.c), TLS 1.2 only (Debian builds it without TLS 1.3)
mbedtls_server() {  # Variables: MB_AUTH (required|optional|none), MB_CA
  build_mbedtls
  SRV=("$BINDIR/mbedtls-tls" server "$H" "$P" "$(K server.chain.pem)" "$(K server.key)" "$(K "$MB_CA")" "$MB_AUTH")
  SSTACK=mbedtls
}
mbedtls_client() {  # Variables: MBC_CERT (or none), MBC_CA
  build_mbedtls
  CLI=("$BINDIR/mbedtls-tls" client "$H" "$P" server.test "$(K "$MBC_CA")")
  [ "$MBC_CERT" != none ] && CLI+=("$(K "$MBC_CERT.chain.pem")" "$(K "$MBC_CERT.key")")
  CLI_IN=none CSTACK=mbedtls
  return 0
}
mbedtls_defaults() { MB_AUTH=required MB_CA=root-ca.crt MBC_CERT=client-rsa MBC_CA=root-ca.crt; }

# Node.js tls.connect() (samples/gen/node/tlsclient.js)
node_client() {  # VER  Variables: ND_CERT (or none), ND_CA
  need node nodejs
  local v=$1
  CLI=(node "$HERE/node/tlsclient.js" host="$H" port="$P" sni=server.test ca="$(K "$ND_CA")"
       min="$(jprot "$v")" max="$(jprot "$v")" keylog="$CK")
  [ "$ND_CERT" != none ] && CLI+=(cert="$(K "$ND_CERT.chain.pem")" key="$(K "$ND_CERT.key")")
  CLI_IN=none CSTACK=node
  return 0
}
node_defaults() { ND_CERT=client-rsa ND_CA=root-ca.crt; }

# A plaintext SMTP server (samples/gen/smtp-notls.py) that advertises STARTTLS
# and then refuses it with "454 4.7.0 TLS not available due to local problem"
# (what Postfix answers when its certificate or key cannot be loaded).
smtp_server() {
  SRV=(python3 "$HERE/smtp-notls.py" "$H" "$P")
  SSTACK=python
}

# A server that accepts and never answers (samples/gen/silent-server.py): the
# client times out after its ClientHello.
silent_server() {
  SRV=(python3 "$HERE/silent-server.py" "$H" "$P")
  SSTACK=silent
}

# PostgreSQL (Debian postgresql 15): a private cluster (initdb) run as user
# postgres, in the foreground, on $H:$P only (no Unix socket), ssl=on with the
# samples server chain, ssl_ca_file = the root, and every host connection
# required to be TLS with a client certificate verified in full:
#   hostssl all all 127.0.0.1/32 cert clientcert=verify-full
# The data directory is under $WORK (made traversable by the postgres user).
pg_server() {  # VER  Variables: PG_CA (ssl_ca_file), PG_USER (role = client cert CN)
  need runuser util-linux
  local v=$1 bin d=$WORK/pg-$P
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  [ -x "$bin/postgres" ] || die "missing postgresql"
  chmod 711 "$WORK"
  mkdir -p "$d"; chown postgres: "$d"
  runuser -u postgres -- "$bin/initdb" -D "$d/data" -U "$PG_USER" -A reject --no-sync >"$d/initdb.log" 2>&1 \
    || die "initdb failed: $(tail -3 "$d/initdb.log")"
  install -o postgres -m 600 "$(K server.chain.pem)" "$d/data/server.crt"
  install -o postgres -m 600 "$(K server.key)" "$d/data/server.key"
  install -o postgres -m 644 "$(K "$PG_CA")" "$d/data/ca.crt"
  cat >> "$d/data/postgresql.conf" <<EOF
listen_addresses = '$H'
port = $P
unix_socket_directories = ''
ssl = on
ssl_cert_file = 'server.crt'
ssl_key_file = 'server.key'
ssl_ca_file = 'ca.crt'
ssl_min_protocol_version = 'TLSv$v'
ssl_max_protocol_version = 'TLSv$v'
log_connections = on
log_line_prefix = 'postgres[%p]: '
log_destination = 'stderr'
logging_collector = off
EOF
  printf 'hostssl all all 127.0.0.1/32 cert clientcert=verify-full\n' > "$d/data/pg_hba.conf"
  chown postgres: "$d/data/pg_hba.conf"
  # postgres logs to stderr; TERM = smart shutdown (the client is gone by then)
  SRV=(runuser -u postgres -- "$bin/postgres" -D "$d/data")
  SRV_KIND=daemon SSTACK=postgresql DISSECTOR=pgsql
  SLOG_RE='FATAL|ERROR|LOG: +(could not accept SSL|connection authorized)|certificate|SSL'
  return 0
}
psql_client() {  # VER  Variables: PQ_CERT (client cert base), PQ_USER
  need psql postgresql-client
  local v=$1
  CLI=(psql "host=server.test hostaddr=$H port=$P dbname=postgres user=$PQ_USER sslmode=verify-full
       sslrootcert=$(K root-ca.crt) sslcert=$(K "$PQ_CERT.chain.pem") sslkey=$(K "$PQ_CERT.key")
       gssencmode=disable ssl_min_protocol_version=TLSv$v ssl_max_protocol_version=TLSv$v"
       -X -w -c "select ssl, version, cipher, client_dn from pg_stat_ssl where pid = pg_backend_pid()")
  CLI_IN=none CSTACK=psql
  CLOG_RE='psql: |error|FATAL|alert|certificate'
}
pg_defaults() { PG_CA=root-ca.crt PG_USER=client-rsa PQ_CERT=client-rsa PQ_USER=client-rsa; }

# Postfix 3.7 smtpd: a private instance (postfix -c DIR start-fg) with its own
# config, queue and data directories under $WORK, smtpd alone on $H:$P
# (master.cf), STARTTLS with the samples server chain, smtpd_tls_CAfile = the
# root. PF_REQ=1: smtpd_tls_security_level = encrypt + smtpd_tls_req_ccert =
# yes (a trusted client certificate required); else may + ask_ccert. Postfix
# never fails the handshake over the client certificate: it finishes it and
# answers "421 4.7.1 ... Error: Client certificate not trusted" inside TLS.
postfix_server() {  # VER  Variables: PF_REQ
  need postfix postfix
  local v=$1 d=$WORK/postfix-$P
  chmod 711 "$WORK"
  mkdir -p "$d/conf" "$d/queue" "$d/data"; chown postfix: "$d/data"
  cp "$(K server.chain.pem)" "$d/conf/server.chain.pem"; cp "$(K root-ca.crt)" "$d/conf/ca.crt"
  install -m 600 "$(K server.key)" "$d/conf/server.key"
  local lvl=may req=no; [ "$PF_REQ" = 1 ] && lvl=encrypt req=yes
  cat > "$d/conf/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $d/queue
data_directory = $d/data
inet_interfaces = loopback-only
inet_protocols = ipv4
myhostname = server.test
mydestination =
local_recipient_maps =
maillog_file = /dev/stdout
smtpd_banner = \$myhostname ESMTP Postfix (Debian/GNU)
smtpd_tls_security_level = $lvl
smtpd_tls_cert_file = $d/conf/server.chain.pem
smtpd_tls_key_file = $d/conf/server.key
smtpd_tls_CAfile = $d/conf/ca.crt
smtpd_tls_ask_ccert = yes
smtpd_tls_req_ccert = $req
smtpd_tls_loglevel = 1
smtpd_tls_session_cache_database =
smtpd_tls_protocols = >=TLSv$v
smtpd_tls_mandatory_protocols = >=TLSv$v
EOF
  cat > "$d/conf/master.cf" <<EOF
$H:$P inet n - n - 1 smtpd
tlsmgr unix - - n 1000? 1 tlsmgr
postlog unix-dgram n - n - 1 postlogd
EOF
  # postfix start-fg keeps master as a child of a shell script, which a TERM
  # does not reach: the wrapper stops the instance with "postfix stop"
  SRV=(bash -c 'trap "postfix -c \"\$1\" stop >/dev/null 2>&1; wait \$p; exit 0" TERM; postfix -c "$1" start-fg & p=$!; wait $p' postfix "$d/conf")
  SRV_KIND=daemon SSTACK=postfix DISSECTOR=smtp
  SLOG_RE='NOQUEUE|abort|TLS connection established|warning|fatal|error|lost connection'
  return 0
}
pf_defaults() { PF_REQ=1; }

# Dovecot 2.3 IMAP: a private instance (dovecot -F -c CONF) with its base and
# state directories under $WORK, imap-login alone on $H:$P (no imaps), ssl =
# required (STARTTLS before any login), ssl_ca = the root and the CRLs,
# ssl_verify_client_cert = yes, auth_ssl_require_client_cert = yes, SASL
# EXTERNAL with the user name taken from the certificate's CN. Dovecot never
# fails the handshake over the client certificate: it finishes it and refuses
# the login ("NO [ALERT] Client didn't present valid SSL certificate").
dovecot_server() {  # VER  Variables: DV_PROTO (imap|pop3)
  need dovecot dovecot-imapd
  [ "$DV_PROTO" = pop3 ] && need /usr/lib/dovecot/pop3 dovecot-pop3d
  local v=$1 d=$WORK/dovecot-$P
  chmod 711 "$WORK"
  mkdir -p "$d/run" "$d/state" "$d/home"; chown nobody: "$d/home"
  # ssl_require_crl = yes (the default): the CRLs of root and intermediate go in ssl_ca too
  cp "$(K server.chain.pem)" "$d/server.chain.pem"; cat "$(K root-ca.crt)" "$(K crl-chain.pem)" > "$d/ca.crt"
  install -m 600 "$(K server.key)" "$d/server.key"
  cat > "$d/dovecot.conf" <<EOF
protocols = $DV_PROTO
listen = $H
base_dir = $d/run
state_dir = $d/state
log_path = /dev/stderr
info_log_path = /dev/stderr
auth_verbose = yes
verbose_ssl = yes
ssl = required
ssl_cert = <$d/server.chain.pem
ssl_key = <$d/server.key
ssl_ca = <$d/ca.crt
ssl_verify_client_cert = yes
ssl_min_protocol = TLSv$v
auth_ssl_require_client_cert = yes
auth_ssl_username_from_cert = yes
auth_mechanisms = external
passdb {
  driver = static
  args = nopassword=y
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=$d/home
}
mail_location = maildir:~/Maildir
service $DV_PROTO-login {
  inet_listener $DV_PROTO {
    address = $H
    port = $P
  }
  inet_listener ${DV_PROTO}s {
    port = 0
  }
}
EOF
  SRV=(dovecot -F -c "$d/dovecot.conf")
  SRV_KIND=daemon SSTACK=dovecot DISSECTOR=$DV_PROTO
  [ "$DV_PROTO" = pop3 ] && DISSECTOR=pop
  # verbose_ssl prints each verification error of the chain; the first says why
  SLOG_RE='Info: Received invalid SSL certificate: unable to get local issuer|Client didn.t present|Info: Disconnected|Info: Login: |Fatal:|Panic:'
  return 0
}
dv_defaults() { DV_PROTO=imap; }

# vsftpd 3.0.3 (explicit FTPS: AUTH TLS on the control connection): a private
# standalone instance (listen=YES, background=NO) on $H:$P, its config and log
# under $WORK, ssl_enable with the samples server chain, require_cert +
# validate_cert with ca_certs_file = the root: OpenSSL verifies the client
# certificate during the handshake. The wrapper prints vsftpd's log file when
# the instance is stopped.
vsftpd_server() {  # VER
  need vsftpd vsftpd
  local v=$1 d=$WORK/vsftpd-$P
  mkdir -p "$d/empty"; chmod 755 "$d/empty"
  cp "$(K server.chain.pem)" "$d/server.chain.pem"; cp "$(K root-ca.crt)" "$d/ca.crt"
  install -m 600 "$(K server.key)" "$d/server.key"
  cat > "$d/vsftpd.conf" <<EOF
listen=YES
listen_ipv6=NO
listen_address=$H
listen_port=$P
background=NO
seccomp_sandbox=NO
isolate=NO
isolate_network=NO
anonymous_enable=NO
local_enable=YES
pam_service_name=vsftpd
secure_chroot_dir=$d/empty
nopriv_user=nobody
ftpd_banner=server.test FTP server (vsftpd)
ssl_enable=YES
ssl_tlsv1=YES
ssl_sslv2=NO
ssl_sslv3=NO
rsa_cert_file=$d/server.chain.pem
rsa_private_key_file=$d/server.key
ca_certs_file=$d/ca.crt
require_cert=YES
validate_cert=YES
force_local_logins_ssl=YES
force_local_data_ssl=YES
require_ssl_reuse=NO
debug_ssl=YES
log_ftp_protocol=YES
xferlog_enable=YES
xferlog_std_format=NO
syslog_enable=NO
vsftpd_log_file=$d/vsftpd.log
EOF
  SRV=(bash -c 'trap "kill -TERM \$p 2>/dev/null; wait \$p; cat \"\$1/vsftpd.log\" 2>/dev/null; exit 0" TERM; vsftpd "$1/vsftpd.conf" & p=$!; wait $p' vsftpd "$d")
  SRV_KIND=daemon SSTACK=vsftpd DISSECTOR=ftp
  SLOG_RE='SSL_accept failed|SSL version:|"(221|4[0-9][0-9]|5[0-9][0-9]) '
  return 0
}
ftp_defaults() { :; }

# OpenLDAP slapd 2.5 (StartTLS extended operation): a private instance in the
# foreground (-d stats) on ldap://$H:$P only, slapd.conf under $WORK, no
# database (the client reads the root DSE), TLSCertificateFile = the samples
# server chain, TLSCACertificateFile = the root, TLSVerifyClient demand.
# Debian builds OpenLDAP (slapd and libldap) against GnuTLS: the version is
# pinned with a GnuTLS priority string (TLSCipherSuite / LDAPTLS_CIPHER_SUITE),
# and both sides write a key log through SSLKEYLOGFILE.
# Client: ldapsearch -ZZ with the certificate from LDAPTLS_CERT/LDAPTLS_KEY.
slapd_server() {  # VER
  need slapd slapd
  local v=$1 d=$WORK/slapd-$P
  mkdir -p "$d/run"
  cp "$(K server.chain.pem)" "$d/server.chain.pem"; cp "$(K root-ca.crt)" "$d/ca.crt"
  install -m 600 "$(K server.key)" "$d/server.key"
  cat > "$d/slapd.conf" <<EOF
include /etc/ldap/schema/core.schema
pidfile $d/run/slapd.pid
argsfile $d/run/slapd.args
TLSCertificateFile $d/server.chain.pem
TLSCertificateKeyFile $d/server.key
TLSCACertificateFile $d/ca.crt
TLSVerifyClient demand
TLSCipherSuite $(gnutls_prio "$v")
EOF
  SRV=(slapd -d stats -h "ldap://$H:$P/" -f "$d/slapd.conf")
  SRV_ENV=(SSLKEYLOGFILE="$SK")
  SRV_KIND=daemon SSTACK=slapd DISSECTOR=ldap
  SLOG_RE='TLS: can.t accept|closed \(|SRCH base|SEARCH RESULT|STARTTLS'
  return 0
}
ldapsearch_client() {  # VER  Variables: LD_CERT (client certificate file), LD_KEY
  need ldapsearch ldap-utils
  local v=$1
  CLI=(ldapsearch -x -ZZ -H "ldap://$H:$P" -o nettimeout=10 -LLL -s base -b "" "(objectClass=*)" supportedExtension)
  CLI_ENV=(SSLKEYLOGFILE="$CK" LDAPTLS_CIPHER_SUITE="$(gnutls_prio "$v")" LDAPCONF=/dev/null LDAPRC=/dev/null LDAPTLS_REQCERT=demand
           LDAPTLS_CACERT="$(K root-ca.crt)" LDAPTLS_CERT="$(K "$LD_CERT")" LDAPTLS_KEY="$(K "$LD_KEY")")
  CLI_IN=none CSTACK=ldapsearch
  CLOG_RE='ldap_|error|TLS|additional info|supportedExtension'
}
ldap_defaults() { LD_CERT=client-rsa.chain.pem LD_KEY=client-rsa.key; }

# MariaDB 10.11 (MySQL protocol: the server's greeting, the client's 32-byte
# SSL Request with CLIENT_SSL, then TLS): a private instance (mariadb-install-db
# into $WORK, then mariadbd in the foreground as user mysql, networking on
# $H:$P only, no socket shared with anything else, grant tables in force),
# ssl_cert = the samples server chain, ssl_ca = the root, tls_version = the
# scenario's version. --init-file creates the account 'client-rsa'@'%'
# REQUIRE X509 (any certificate that verifies against ssl_ca). Debian builds
# both mariadbd and libmariadb against OpenSSL 3; neither honours
# SSLKEYLOGFILE, so these captures have no key log.
mariadb_server() {  # VER
  need mariadbd mariadb-server
  local v=$1 d=$WORK/mariadb-$P
  chmod 711 "$WORK"
  mkdir -p "$d/data" "$d/run"; chown mysql: "$d/data" "$d/run"
  install -o mysql -m 644 "$(K server.chain.pem)" "$d/server.chain.pem"; install -o mysql -m 644 "$(K root-ca.crt)" "$d/ca.crt"
  install -o mysql -m 600 "$(K server.key)" "$d/server.key"
  timeout 120 mariadb-install-db --no-defaults --datadir="$d/data" --user=mysql --auth-root-authentication-method=socket \
    --skip-test-db >"$d/install.log" 2>&1 || die "mariadb-install-db failed: $(tail -3 "$d/install.log")"
  cat > "$d/init.sql" <<EOF
CREATE USER IF NOT EXISTS 'client-rsa'@'%' REQUIRE X509;
GRANT USAGE ON *.* TO 'client-rsa'@'%';
EOF
  chown mysql: "$d/init.sql"
  # the error log goes to stderr; the general log (one "Connect" line per login, with the
  # transport) to a file the wrapper prints when the instance is stopped
  SRV=(bash -c 'd=$1; shift; trap "kill -TERM \$p 2>/dev/null; wait \$p; cat \"\$d/run/general.log\" 2>/dev/null; exit 0" TERM; "$@" & p=$!; wait $p' mariadbd "$d"
       mariadbd --no-defaults --user=mysql --datadir="$d/data" --socket="$d/run/mysqld.sock" --pid-file="$d/run/mysqld.pid"
       --bind-address="$H" --port="$P" --skip-name-resolve --log-warnings=4 --skip-log-bin
       --general-log --general-log-file="$d/run/general.log"
       --innodb-buffer-pool-size=16M --init-file="$d/init.sql"
       --ssl-cert="$d/server.chain.pem" --ssl-key="$d/server.key" --ssl-ca="$d/ca.crt" --tls-version="TLSv$v")
  SRV_KIND=daemon SSTACK=mariadb DISSECTOR=mysql
  SLOG_RE='Connect.*using|Aborted connection|Access denied|\[ERROR\]|SSL error'
  return 0
}
mysql_client() {  # VER  Variables: MY_CERT (client certificate file), MY_KEY, MY_USER
  need mariadb mariadb-client
  local v=$1
  CLI=(mariadb --no-defaults --protocol=TCP -h "$H" -P "$P" -u "$MY_USER" --connect-timeout=10
       --ssl --ssl-verify-server-cert --ssl-ca="$(K root-ca.crt)" --ssl-cert="$(K "$MY_CERT")" --ssl-key="$(K "$MY_KEY")"
       --tls-version="TLSv$v" -e "SHOW SESSION STATUS WHERE Variable_name IN ('Ssl_version','Ssl_cipher'); SELECT CURRENT_USER()")
  CLI_IN=none CSTACK=mysql
  CLOG_RE='ERROR|error|Ssl_|client-rsa'
}
my_defaults() { MY_CERT=client-rsa.chain.pem MY_KEY=client-rsa.key MY_USER=client-rsa; }

# Prosody 0.12 XMPP c2s (STARTTLS, RFC 6120 5.4): a private instance in the
# foreground (-F, log to the console) as user prosody, config
# and data under $WORK, c2s on $H:$P only (direct TLS, s2s and HTTP off),
# c2s_require_encryption = true, one VirtualHost server.test with ssl =
# XP_CERT chain + key, cafile = the root, protocol pinned to the version.
# LuaSec (OpenSSL 3). Prosody has no client-certificate authentication
# without a community module: these are server-certificate scenarios.
prosody_server() {  # VER  Variables: XP_CERT (server certificate base)
  need prosody prosody
  local v=$1 d=$WORK/prosody-$P
  chmod 711 "$WORK"
  mkdir -p "$d/data"
  install -m 644 "$(K "$XP_CERT.chain.pem")" "$d/server.chain.pem"; install -m 644 "$(K root-ca.crt)" "$d/ca.crt"
  install -o prosody -m 600 "$(K "$XP_CERT.key")" "$d/server.key"
  cat > "$d/prosody.cfg.lua" <<EOF
pidfile = "$d/prosody.pid"
data_path = "$d/data"
certificates = "$d"
log = { { levels = { min = "debug" }, to = "console" } }
modules_enabled = { "tls", "saslauth", "disco" }
modules_disabled = { "s2s", "offline", "c2s_csi" }
c2s_ports = { $P }
c2s_interfaces = { "$H" }
c2s_direct_tls_ports = {}
s2s_ports = {}
http_ports = {}
https_ports = {}
c2s_require_encryption = true
authentication = "internal_plain"
ssl = { certificate = "$d/server.chain.pem", key = "$d/server.key", cafile = "$d/ca.crt", protocol = "tlsv${v/./_}" }
VirtualHost "server.test"
EOF
  chown -R prosody: "$d"
  SRV=(runuser -u prosody -- prosody --config "$d/prosody.cfg.lua" -F)
  SRV_KIND=daemon SSTACK=prosody DISSECTOR=xmpp
  SLOG_RE='TLS handshake (complete|error)|Stream encrypted|Client disconnected'
  return 0
}
xp_defaults() { XP_CERT=server; }

defaults() { os_defaults; go_defaults; gnutls_defaults; java_defaults; nginx_defaults; mbedtls_defaults; node_defaults; pg_defaults; pf_defaults; dv_defaults; ftp_defaults; ldap_defaults; my_defaults; xp_defaults; }

# shorthand for the OpenSSL <-> OpenSSL pair
osos() {  # VER
  os_server "$1"; os_client "$1"; TLSV=$(tlsname "$1")
}

# expectation helpers
ok()        { OUTCOME=success REJBY=- REJ=- CAUSE=-; }
srv_rejects() { OUTCOME=failed REJBY=server REJ=$1 CAUSE=$2; }
cli_rejects() { OUTCOME=failed REJBY=client REJ=$1 CAUSE=$2; }

# ---------------------------------------------------------------------------
# scenarios
# ---------------------------------------------------------------------------
source "$HERE/scenarios.sh"

# ---------------------------------------------------------------------------
# main
# ---------------------------------------------------------------------------
mapfile -t ALL < <(declare -F | awk '{print $3}' | sed -n 's/^scn_//p')
if [ "${1:-}" = --list ]; then printf '%s\n' "${ALL[@]}"; exit 0; fi
[ "$(id -u)" = 0 ] || die "must run as root (tcpdump, ip netns)"

declare -A IDX=()
for i in "${!ALL[@]}"; do IDX[${ALL[$i]}]=$i; done
if [ $# -gt 0 ]; then
  SEL=("$@")
  for s in "${SEL[@]}"; do [ -n "${IDX[$s]:-}" ] || die "unknown scenario $s (see --list)"; done
  FULL=0
else
  SEL=("${ALL[@]}"); FULL=1
fi

START=$(date +%s)
mkdir -p "$LOGDIR" "$OUTDIR/pki"
if [ "$FULL" = 0 ] && [ "${FRESH_PKI:-0}" != 1 ] && [ -s "$OUTDIR/pki/root-ca.pem" ] \
   && ! cmp -s "$PKIDIR/root-ca.crt" "$OUTDIR/pki/root-ca.pem"; then
  die "the private PKI ($PKIDIR) is not the one $OUTDIR/pki and the existing captures were made with;
  regenerate everything (no arguments), or set FRESH_PKI=1 to make these captures with a new PKI anyway"
fi
if [ "$FULL" = 1 ] || [ "${FRESH_PKI:-0}" = 1 ] || [ ! -s "$PKIDIR/root-ca.crt" ]; then
  log "make-samples: new PKI in $PKIDIR"
  timeout 120 "$HERE/pki.sh" "$PKIDIR" >/dev/null
fi
for f in root-ca.crt intermediate-ca.crt other-root-ca.crt root-ca-rekeyed.crt root-ca-rekeyed-noskid.crt ca-chain.pem crl-chain.pem; do
  b=${f%.crt}; cp "$PKIDIR/$f" "$OUTDIR/pki/${b%.pem}.pem"
done
cp "$PKIDIR/created-at" "$OUTDIR/pki/created-at"
if [ "$FULL" = 1 ]; then
  rm -f "$OUTDIR"/*.pcap "$OUTDIR"/*.pcapng "$OUTDIR"/*.keys "$LOGDIR"/*.log "$LOGDIR"/*.alerts
fi

log "make-samples: ${#SEL[@]} scenario(s) -> $OUTDIR"
for s in "${SEL[@]}"; do
  defaults
  run_one "$s" "${IDX[$s]}"
done

# MANIFEST: rows of this run replace those of the same files
HDR=$'file\tscenario\ttls_version\tserver_stack\tclient_stack\tserver_log\tclient_log\toutcome\trejected_by\trejected\tcause\talert\tkeylog'
{
  if [ "$FULL" = 0 ] && [ -s "$OUTDIR/MANIFEST.tsv" ]; then
    tail -n +2 "$OUTDIR/MANIFEST.tsv" | awk -F'\t' -v done="$(printf '%s\n' "${DONE_FILES[@]}")" \
      'BEGIN{n=split(done,a,"\n"); for(i=1;i<=n;i++) d[a[i]]=1} !($1 in d)'
  fi
  cat "$ROWS"
} | sort -t$'\t' -k1,1 > "$WORK/manifest.body"
{ echo "$HDR"; cat "$WORK/manifest.body"; } > "$OUTDIR/MANIFEST.tsv"

# stack versions
{
  echo "generated: $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(. /etc/os-release; echo "$PRETTY_NAME") $(uname -r)"
  echo "openssl: $(openssl version)"
  command -v gnutls-serv >/dev/null && echo "gnutls: $(gnutls-serv --version 2>&1 | head -1)"
  command -v go >/dev/null && echo "go: $(go version)"
  command -v java >/dev/null && echo "java: $(java -version 2>&1 | head -1) ($(java -version 2>&1 | sed -n 2p))"
  command -v nginx >/dev/null && echo "nginx: $(nginx -v 2>&1)"
  command -v curl >/dev/null && echo "curl: $(curl --version | head -1)"
  command -v node >/dev/null && echo "node: $(node --version)"
  [ -f /usr/include/mbedtls/version.h ] && echo "mbedtls: $(sed -n 's/^#define MBEDTLS_VERSION_STRING_FULL *"\(.*\)"/\1/p' /usr/include/mbedtls/version.h) (libmbedtls-dev $(dpkg-query -W -f '${Version}' libmbedtls-dev 2>/dev/null))"
  ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 && echo "postgresql: $("$(ls /usr/lib/postgresql/*/bin/postgres | sort -V | tail -1)" --version) (postgresql $(dpkg-query -W -f '${Version}' postgresql 2>/dev/null)), psql: $(psql --version) (libpq5 $(dpkg-query -W -f '${Version}' libpq5 2>/dev/null))"
  command -v postconf >/dev/null && echo "postfix: $(postconf -d -h mail_version) (postfix $(dpkg-query -W -f '${Version}' postfix 2>/dev/null))"
  command -v dovecot >/dev/null && echo "dovecot: $(dovecot --version) (dovecot-imapd $(dpkg-query -W -f '${Version}' dovecot-imapd 2>/dev/null))"
  [ -x /usr/lib/dovecot/pop3 ] && echo "dovecot-pop3d: $(dpkg-query -W -f '${Version}' dovecot-pop3d 2>/dev/null)"
  command -v vsftpd >/dev/null && echo "vsftpd: $(timeout 5 vsftpd -v 0>&1 2>/dev/null | sed -n 's/^vsftpd: version //p') (vsftpd $(dpkg-query -W -f '${Version}' vsftpd 2>/dev/null))"
  command -v slapd >/dev/null && echo "slapd: $(slapd -VV 2>&1 | sed -n 's/.*\(slapd [0-9][^ ]*\).*/\1/p' | head -1) (slapd $(dpkg-query -W -f '${Version}' slapd 2>/dev/null), ldap-utils $(dpkg-query -W -f '${Version}' ldap-utils 2>/dev/null), libgnutls30 $(dpkg-query -W -f '${Version}' libgnutls30 2>/dev/null))"
  command -v mariadbd >/dev/null && echo "mariadb: $(mariadbd --version 2>/dev/null | sed 's/^.*Ver //') (mariadb-server $(dpkg-query -W -f '${Version}' mariadb-server 2>/dev/null), libmariadb3 $(dpkg-query -W -f '${Version}' libmariadb3 2>/dev/null))"
  command -v prosody >/dev/null && echo "prosody: $(dpkg-query -W -f '${Version}' prosody 2>/dev/null) (lua-sec $(dpkg-query -W -f '${Version}' lua-sec 2>/dev/null))"
  echo "tcpdump: $(tcpdump --version 2>&1 | head -1)"
  echo "tshark: $(tshark --version | head -1)"
} > "$OUTDIR/VERSIONS.txt" 2>/dev/null || true
log "make-samples: done in $(( $(date +%s) - START )) s, $(wc -l < "$ROWS") capture(s)"
