#!/bin/bash
# samples/gen/regen-check.sh OUTDIR
#
# For CI: regenerates a few OpenSSL captures from nothing (fresh PKI) into
# OUTDIR, with OUTDIR/MANIFEST.tsv in the same format as samples/MANIFEST.tsv
# and the CA certificates in OUTDIR/pki/ (for --ca-file), so tlsblame can be
# run against captures made on the CI machine itself. Needs root, openssl,
# tcpdump, tshark, python3, iproute2, ethtool. Takes about 20-30 s; hard limit 58 s.
set -euo pipefail
OUT=${1:?usage: regen-check.sh OUTDIR}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
rm -f "$OUT"/*.pcap "$OUT"/*.pcapng "$OUT"/*.keys "$OUT/MANIFEST.tsv"
SCENARIOS=(
  openssl-success-tls12 openssl-success-tls13
  openssl-untrusted-client-ca-tls12 openssl-untrusted-client-ca-tls13
  openssl-expired-client-tls12
  openssl-no-client-cert-tls12 openssl-no-client-cert-tls13
)
# make-samples.sh cleans up its own processes and namespaces on exit,
# including when timeout stops it.
OUTDIR=$OUT PKIDIR=$OUT/pki-private BASEPORT=${BASEPORT:-23000} FRESH_PKI=1 \
  timeout -k 2 58 "$HERE/make-samples.sh" "${SCENARIOS[@]}"
test -s "$OUT/MANIFEST.tsv"
echo "regen-check: $(($(wc -l < "$OUT/MANIFEST.tsv") - 1)) capture(s) in $OUT"
