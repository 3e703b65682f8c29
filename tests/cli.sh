#!/usr/bin/env bash
# Command line behaviour: exit status and messages (INTERFACE.md).
set -u
bin=${TB_BIN:-build/asan/tlsblame}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
bad() { n=$((n + 1)); echo "not ok $n - $1"; sed 's/^/#   /' "$tmp/err" | head -5; }

# expect NAME STATUS STDERR_REGEX -- ARGS...
expect() {
    local name=$1 want=$2 re=$3
    shift 4
    "$bin" "$@" >"$tmp/out" 2>"$tmp/err"
    local rc=$?
    if [ "$rc" -eq "$want" ] && grep -qE -- "$re" "$tmp/err" "$tmp/out"; then
        ok "$name (exit $rc)"
    else
        bad "$name: exit $rc (want $want), stderr/stdout did not match /$re/"
    fi
}

sample=samples/go-success-tls12.pcap
: >"$tmp/empty.pcap"
printf 'this is not a capture\n' >"$tmp/text.pcap"
head -c 200 "$sample" >"$tmp/truncated.pcap"
# A valid pcap header with LINKTYPE 147 (USER0): nothing tlsblame decodes.
printf '\xd4\xc3\xb2\xa1\x02\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\x00\x00\x93\x00\x00\x00' >"$tmp/user0.pcap"

expect "no arguments" 2 "usage: tlsblame" --
expect "unknown option" 2 "usage: tlsblame" -- --no-such-option
expect "help" 0 "--ca-file" -- --help
expect "version names the libraries" 0 "libpcap.*|nDPI" -- --version
expect "missing file" 2 "nosuchfile.pcap: cannot open: No such file" -- -r "$tmp/nosuchfile.pcap"
expect "empty file" 2 "empty file \\(0 bytes\\)" -- -r "$tmp/empty.pcap"
expect "text file" 2 "text.pcap: not a pcap or pcapng capture" -- -r "$tmp/text.pcap"
expect "unsupported link type" 2 "unsupported link type 147" -- -r "$tmp/user0.pcap"
expect "bad filter" 2 "bad filter 'tcp port pizza'" -- -f 'tcp port pizza' -r "$sample"
expect "bad -T" 2 "-T takes text or json" -- -T xml -r "$sample"
expect "bad rules directory" 2 "no-such-rules" -- --rules "$tmp/no-such-rules" -r "$sample"
expect "check-rules on the defaults" 0 "rules OK" -- --check-rules rules
# A mistyped capture after a good one is a missing file, not a filter expression.
expect "mistyped second path" 0 "no/such.pcap: cannot open: No such file" -- "$sample" "$tmp/no/such.pcap"
# A truncated file: the packets before the damage are analyzed, the damage named.
expect "truncated file" 0 "truncated.pcap: frame [0-9]+: .*truncated" -- -r "$tmp/truncated.pcap"
# One bad input among good ones: reported, the rest analyzed, exit 0.
expect "bad input among good ones" 0 "text.pcap: not a pcap" -- "$tmp/text.pcap" "$sample"
if grep -q '"type":"session"' "$tmp/out" || grep -q 'TLS session' "$tmp/out"; then
    ok "the good input after a bad one was analyzed"
else
    bad "the good input after a bad one was analyzed"
fi
"$bin" --json "$tmp/text.pcap" "$sample" >"$tmp/out" 2>"$tmp/err"
if jq -e -s 'map(select(.type == "error"))[0] | .file != null and .message != null' "$tmp/out" >/dev/null; then
    ok "JSON error object for a bad input"
else
    bad "JSON error object for a bad input"
fi
# Classic pcap in every byte order and time precision, and pcapng (read by
# libpcap, not by tlsblame's own loop), give the same sessions.
sessions() { "$bin" --json "$1" 2>/dev/null | jq -c 'select(.type == "session") | del(.file)'; }
mtls=samples/java-untrusted-client-ca-tls12.pcap
editcap -F nsecpcap "$mtls" "$tmp/ns.pcap" 2>/dev/null
editcap -F pcapng "$mtls" "$tmp/ng.pcapng" 2>/dev/null
python3 - "$mtls" "$tmp/be.pcap" "$tmp/ns.pcap" "$tmp/nsbe.pcap" <<'PY'
import struct, sys
def swap(src, dst):
    b = open(src, 'rb').read()
    out = bytearray(b[:0])
    h = struct.unpack('<IHHiIII', b[:24])
    out += struct.pack('>IHHiIII', *h)
    i = 24
    while i + 16 <= len(b):
        sec, frac, cap, wire = struct.unpack('<IIII', b[i:i + 16])
        out += struct.pack('>IIII', sec, frac, cap, wire) + b[i + 16:i + 16 + cap]
        i += 16 + cap
    open(dst, 'wb').write(out)
swap(sys.argv[1], sys.argv[2]); swap(sys.argv[3], sys.argv[4])
PY
sessions "$mtls" >"$tmp/ref"
for v in ns.pcap be.pcap nsbe.pcap ng.pcapng; do
    sessions "$tmp/$v" >"$tmp/got"
    if [ -s "$tmp/ref" ] && cmp -s "$tmp/ref" "$tmp/got"; then
        ok "same sessions from $v as from the little-endian microsecond file"
    else
        diff "$tmp/ref" "$tmp/got" >"$tmp/err"
        bad "same sessions from $v as from the little-endian microsecond file"
    fi
done
# A filter does not renumber frames: without the SYNs the session starts at
# frame 4, the ClientHello (frame 3, a bare ACK, opens nothing), as Wireshark
# numbers it; renumbered it would be 2 (both readers).
for v in "$mtls" "$tmp/ng.pcapng"; do
    first=$("$bin" --json -f 'tcp[tcpflags] & tcp-syn == 0' "$v" 2>"$tmp/err" |
        jq -s 'map(select(.type == "session"))[0].first_frame')
    if [ "$first" = 4 ]; then
        ok "frame numbers under a filter are the file's ($(basename "$v"))"
    else
        bad "frame numbers under a filter are the file's ($(basename "$v")): first_frame $first, want 4"
    fi
done
# -c counts the packets that pass the filter, as tcpdump does.
pk=$("$bin" --json -c 4 -f 'tcp[tcpflags] & tcp-syn == 0' "$mtls" 2>"$tmp/err" | jq -s 'map(select(.type == "summary"))[0].packets')
if [ "$pk" = 4 ]; then ok "-c counts filtered packets"; else bad "-c counts filtered packets: $pk"; fi
# A trailing BPF expression, tcpdump style, and -f on files.
"$bin" --json "$sample" 'tcp port 1' >"$tmp/out" 2>"$tmp/err"
if [ "$(jq -s 'map(select(.type == "session")) | length' "$tmp/out")" = 0 ]; then
    ok "trailing filter expression applies to files"
else
    bad "trailing filter expression applies to files"
fi
# stdin
if "$bin" --json - <"$sample" 2>"$tmp/err" | jq -e -s 'map(select(.type == "session"))[0].file == "-"' >/dev/null; then
    ok "stdin as -"
else
    bad "stdin as -"
fi
# Closed stdout: ends quietly.
"$bin" -v "$sample" "$sample" "$sample" 2>"$tmp/err" | head -c 10 >/dev/null
if ! grep -qE 'Sanitizer|Broken pipe' "$tmp/err"; then
    ok "a closed pipe ends the run quietly"
else
    bad "a closed pipe ends the run quietly"
fi
# --export-certs: the printed openssl verify command reproduces the rejecting side's check.
"$bin" --export-certs "$tmp/certs" samples/openssl-expired-client-tls12.pcap >"$tmp/out" 2>"$tmp/err"
cmd=$(grep -m1 'openssl verify' "$tmp/out" | sed "s|TRUSTED-CAS.pem|samples/pki/root-ca.pem|")
if [ -n "$cmd" ] && eval "$cmd" 2>&1 | grep -q "certificate has expired"; then
    ok "--export-certs: openssl verify at the capture time says the client certificate expired"
else
    bad "--export-certs reproduce command (got: $cmd)"
fi
# make install honours PREFIX and DESTDIR, and the installed binary finds the
# installed rules (not the source tree's): prune them and count what loads.
if make --no-print-directory install DESTDIR="$tmp/inst" PREFIX=/opt/tb >"$tmp/inst.log" 2>&1 &&
   [ -x "$tmp/inst/opt/tb/bin/tlsblame" ] && [ -f "$tmp/inst/opt/tb/share/man/man1/tlsblame.1" ] &&
   [ -f "$tmp/inst/opt/tb/share/man/man5/tlsblame-rules.5" ]; then
    find "$tmp/inst/opt/tb/share/tlsblame/rules" -name '*.yaml' ! -name handshake.yaml -delete
    want=$(grep -c '^- id:' rules/handshake.yaml)
    got=$(env -u TLSBLAME_RULES "$tmp/inst/opt/tb/bin/tlsblame" --list-rule-tests | cut -f1 | sort -u | wc -l)
    if [ "$got" = "$want" ]; then
        ok "make install DESTDIR/PREFIX: the installed binary loads the installed rules ($got)"
    else
        bad "installed binary loaded $got rules, want the $want installed ones"
    fi
else
    bad "make install DESTDIR=... PREFIX=/opt/tb"
    sed 's/^/#   /' "$tmp/inst.log" | tail -5
fi
