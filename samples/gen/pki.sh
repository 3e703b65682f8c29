#!/bin/bash
# samples/gen/pki.sh OUTDIR
#
# Builds the small test PKI used by make-samples.sh and regen-check.sh, fresh,
# with openssl only. Validity periods are relative to the time the script runs
# (openssl ca -startdate/-enddate), so "expired" and "not yet valid" stay true
# for the captures made right after it.
#
#   root-ca            tlsblame Root CA            (trust anchor for both sides)
#   intermediate-ca    tlsblame Intermediate CA    (signed by root; signs leaves)
#   other-root-ca      tlsblame Other Root CA      (unrelated root, trusted by nobody)
#   server             CN=server.test, SAN DNS:server.test, IP:127.0.0.1, DNS:localhost
#   server-wronghost   CN=wrong.test,  SAN DNS:wrong.test
#   server-expired     server.test, notAfter yesterday
#   server-untrusted   server.test, issued by other-root-ca
#   client-rsa         good client, RSA 2048          client-ecdsa   good, ECDSA P-256
#   client-ed25519     good client, Ed25519
#   client-expired     notAfter = yesterday            client-notyet  notBefore = in 30 days
#   client-bad-eku     EKU serverAuth only             client-bad-ku  KeyUsage keyEncipherment only
#   client-rsa1024     RSA 1024 key                    client-sha1    signed with sha1WithRSAEncryption
#   client-revoked     revoked in intermediate-ca.crl  client-selfsigned  self-signed, EKU clientAuth
#   client-untrusted   issued by other-root-ca
#   root-ca-rekeyed    CN=tlsblame Root CA again, but a different key (re-keyed CA)
#   wrongkey           an extra RSA 2048 key that matches no certificate
#   wrongkey-ed25519   an extra Ed25519 key that matches no certificate
#   root-ca-rekeyed-noskid  CN=tlsblame Root CA, another key, and no subjectKeyIdentifier
#                      (so OpenSSL does take it as the issuer and the signature check fails)
#   server-selfsigned  server.test, self-signed     server-bad-eku   EKU clientAuth only
#   server-notyet      notBefore = in 30 days       server-revoked   revoked in intermediate-ca.crl
#   server-sha1        signed with sha1WithRSAEncryption  server-rsa1024  RSA 1024 key
#
# Files per leaf NAME: NAME.key (PKCS#8 PEM), NAME.crt (leaf only),
# NAME.chain.pem (leaf + intermediate, when issued by the intermediate),
# NAME.p12 (key + chain, password "changeit", for Java).
# Also: ca-chain.pem (intermediate + root), crl-chain.pem (CRLs of both CAs),
# truststore.p12 (root only), other-truststore.p12 (other root only),
# rekeyed-truststore.p12 (root-ca-rekeyed only).
set -euo pipefail

OUT=${1:?usage: pki.sh OUTDIR}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
cd "$OUT"
rm -rf -- "$OUT"/*
trap 'rm -f -- "$OUT"/*.csr' EXIT

PASS=changeit
d() { date -u -d "$1" +%Y%m%d%H%M%SZ; }
NOW_M1D=$(d '-1 day'); NOW_M2D=$(d '-2 days'); NOW_M30D=$(d '-30 days')
NOW_P1Y=$(d '+1 year'); NOW_P10Y=$(d '+10 years')
NOW_P30D=$(d '+30 days'); NOW_P60D=$(d '+60 days'); NOW_M1H=$(d '-1 hour')

cat > ext.cnf <<'EOF'
[ root_ext ]
basicConstraints       = critical, CA:TRUE
keyUsage               = critical, keyCertSign, cRLSign
subjectKeyIdentifier   = hash
[ inter_ext ]
basicConstraints       = critical, CA:TRUE, pathlen:0
keyUsage               = critical, keyCertSign, cRLSign
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always
[ server_ext ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature, keyEncipherment
extendedKeyUsage       = serverAuth
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always
subjectAltName         = DNS:server.test, DNS:localhost, IP:127.0.0.1
[ wronghost_ext ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature, keyEncipherment
extendedKeyUsage       = serverAuth
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always
subjectAltName         = DNS:wrong.test
[ client_ext ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature
extendedKeyUsage       = clientAuth
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always
subjectAltName         = DNS:${ENV::LEAF}.client.test
[ client_ecc_ext ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature
extendedKeyUsage       = clientAuth
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always
subjectAltName         = DNS:${ENV::LEAF}.client.test
[ bad_eku_ext ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature
extendedKeyUsage       = serverAuth
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always
subjectAltName         = DNS:${ENV::LEAF}.client.test
[ bad_ku_ext ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, keyEncipherment
extendedKeyUsage       = clientAuth
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always
subjectAltName         = DNS:${ENV::LEAF}.client.test
[ server_selfsigned_ext ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature, keyEncipherment
extendedKeyUsage       = serverAuth
subjectKeyIdentifier   = hash
subjectAltName         = DNS:server.test, DNS:localhost, IP:127.0.0.1
[ server_bad_eku_ext ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature, keyEncipherment
extendedKeyUsage       = clientAuth
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always
subjectAltName         = DNS:server.test, DNS:localhost, IP:127.0.0.1
[ root_noskid_ext ]
basicConstraints       = critical, CA:TRUE
keyUsage               = critical, keyCertSign, cRLSign
subjectKeyIdentifier   = none
authorityKeyIdentifier = none
[ selfsigned_ext ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature
extendedKeyUsage       = clientAuth
subjectKeyIdentifier   = hash
subjectAltName         = DNS:client-selfsigned.client.test
[ crl_ext ]
authorityKeyIdentifier = keyid:always
EOF
export LEAF=none

# One `openssl ca` database per CA.
mkca_db() {  # DIR
  mkdir -p "$1/new"
  : > "$1/index.txt"
  echo 1000 > "$1/serial"
  echo 1000 > "$1/crlnumber"
  cat > "$1/ca.cnf" <<EOF
[ ca ]
default_ca = CA_default
[ CA_default ]
dir             = $OUT/$1
database        = \$dir/index.txt
new_certs_dir   = \$dir/new
serial          = \$dir/serial
crlnumber       = \$dir/crlnumber
default_md      = sha256
default_crl_days= 30
policy          = policy_any
unique_subject  = no
copy_extensions = none
[ policy_any ]
commonName             = supplied
organizationName       = optional
organizationalUnitName = optional
EOF
}

genkey() {  # NAME TYPE
  case $2 in
    rsa2048) openssl genpkey -quiet -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1.key" 2>/dev/null || openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1.key" ;;
    rsa1024) openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out "$1.key" 2>/dev/null ;;
    ec256)   openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key" ;;
    ed25519) openssl genpkey -algorithm ED25519 -out "$1.key" ;;
  esac
}

# sign CADIR CAKEY CACRT NAME SUBJ EXT START END [MD]
sign() {
  local cadir=$1 cakey=$2 cacrt=$3 name=$4 subj=$5 ext=$6 start=$7 end=$8 md=${9:-sha256}
  openssl req -new -key "$name.key" -subj "$subj" -out "$name.csr" 2>/dev/null
  LEAF=$name openssl ca -batch -notext -config "$cadir/ca.cnf" -keyfile "$cakey" -cert "$cacrt" \
     -extfile ext.cnf -extensions "$ext" -startdate "$start" -enddate "$end" -md "$md" \
     -in "$name.csr" -out "$name.crt" 2>/dev/null
  rm -f "$name.csr"
}

O="/O=tlsblame samples"
# --- CAs ---------------------------------------------------------------------
mkca_db rootdb; mkca_db interdb; mkca_db otherdb
genkey root-ca rsa2048
openssl req -new -key root-ca.key -subj "/CN=tlsblame Root CA$O" -out root-ca.csr
openssl ca -batch -notext -selfsign -config rootdb/ca.cnf -keyfile root-ca.key -in root-ca.csr \
   -extfile ext.cnf -extensions root_ext -startdate "$NOW_M2D" -enddate "$NOW_P10Y" -out root-ca.crt 2>/dev/null
genkey other-root-ca rsa2048
openssl req -new -key other-root-ca.key -subj "/CN=tlsblame Other Root CA$O" -out other-root-ca.csr
openssl ca -batch -notext -selfsign -config otherdb/ca.cnf -keyfile other-root-ca.key -in other-root-ca.csr \
   -extfile ext.cnf -extensions root_ext -startdate "$NOW_M2D" -enddate "$NOW_P10Y" -out other-root-ca.crt 2>/dev/null
rm -f root-ca.csr other-root-ca.csr
# Same name as the real root, different key: a "re-keyed CA" trust anchor. A server
# that trusts only this one lists "CN=tlsblame Root CA" in its CertificateRequest
# (so JSSE/Go clients do send their chain) but cannot verify the chain.
genkey root-ca-rekeyed rsa2048
openssl req -new -x509 -key root-ca-rekeyed.key -subj "/CN=tlsblame Root CA$O" -days 3650 -sha256 \
   -config ext.cnf -extensions root_ext -out root-ca-rekeyed.crt 2>/dev/null
# The same again without a subjectKeyIdentifier: the intermediate's authorityKeyIdentifier
# then rules nothing out, OpenSSL takes this certificate as the issuer and the
# signature check fails (X509_V_ERR_CERT_SIGNATURE_FAILURE -> decrypt_error).
genkey root-ca-rekeyed-noskid rsa2048
openssl req -new -x509 -key root-ca-rekeyed-noskid.key -subj "/CN=tlsblame Root CA$O" -days 3650 -sha256 \
   -config ext.cnf -extensions root_noskid_ext -out root-ca-rekeyed-noskid.crt 2>/dev/null
genkey intermediate-ca rsa2048
sign rootdb root-ca.key root-ca.crt intermediate-ca "/CN=tlsblame Intermediate CA$O" inter_ext "$NOW_M2D" "$NOW_P10Y"
cat intermediate-ca.crt root-ca.crt > ca-chain.pem

I="interdb intermediate-ca.key intermediate-ca.crt"
X="otherdb other-root-ca.key other-root-ca.crt"
# --- servers -----------------------------------------------------------------
genkey server rsa2048;           sign $I server "/CN=server.test$O" server_ext "$NOW_M1D" "$NOW_P1Y"
genkey server-wronghost rsa2048; sign $I server-wronghost "/CN=wrong.test$O" wronghost_ext "$NOW_M1D" "$NOW_P1Y"
genkey server-expired rsa2048;   sign $I server-expired "/CN=server.test$O" server_ext "$NOW_M30D" "$NOW_M1D"
genkey server-untrusted rsa2048; sign $X server-untrusted "/CN=server.test$O" server_ext "$NOW_M1D" "$NOW_P1Y"
genkey server-bad-eku rsa2048;   sign $I server-bad-eku "/CN=server.test$O" server_bad_eku_ext "$NOW_M1D" "$NOW_P1Y"
genkey server-notyet rsa2048;    sign $I server-notyet "/CN=server.test$O" server_ext "$NOW_P30D" "$NOW_P60D"
genkey server-revoked rsa2048;   sign $I server-revoked "/CN=server.test$O" server_ext "$NOW_M1D" "$NOW_P1Y"
genkey server-sha1 rsa2048;      sign $I server-sha1 "/CN=server.test$O" server_ext "$NOW_M1D" "$NOW_P1Y" sha1
genkey server-rsa1024 rsa1024;   sign $I server-rsa1024 "/CN=server.test$O" server_ext "$NOW_M1D" "$NOW_P1Y"
genkey server-selfsigned rsa2048
openssl req -new -x509 -key server-selfsigned.key -subj "/CN=server.test$O" -days 365 -sha256 \
   -config ext.cnf -extensions server_selfsigned_ext -out server-selfsigned.crt 2>/dev/null
# --- clients -----------------------------------------------------------------
genkey client-rsa rsa2048;       sign $I client-rsa "/CN=client-rsa$O" client_ext "$NOW_M1D" "$NOW_P1Y"
genkey client-ecdsa ec256;       sign $I client-ecdsa "/CN=client-ecdsa$O" client_ecc_ext "$NOW_M1D" "$NOW_P1Y"
genkey client-ed25519 ed25519;   sign $I client-ed25519 "/CN=client-ed25519$O" client_ecc_ext "$NOW_M1D" "$NOW_P1Y"
genkey client-expired rsa2048;   sign $I client-expired "/CN=client-expired$O" client_ext "$NOW_M30D" "$NOW_M1D"
genkey client-notyet rsa2048;    sign $I client-notyet "/CN=client-notyet$O" client_ext "$NOW_P30D" "$NOW_P60D"
genkey client-bad-eku rsa2048;   sign $I client-bad-eku "/CN=client-bad-eku$O" bad_eku_ext "$NOW_M1D" "$NOW_P1Y"
genkey client-bad-ku rsa2048;    sign $I client-bad-ku "/CN=client-bad-ku$O" bad_ku_ext "$NOW_M1D" "$NOW_P1Y"
genkey client-rsa1024 rsa1024;   sign $I client-rsa1024 "/CN=client-rsa1024$O" client_ext "$NOW_M1D" "$NOW_P1Y"
genkey client-sha1 rsa2048;      sign $I client-sha1 "/CN=client-sha1$O" client_ext "$NOW_M1D" "$NOW_P1Y" sha1
genkey client-revoked rsa2048;   sign $I client-revoked "/CN=client-revoked$O" client_ext "$NOW_M1D" "$NOW_P1Y"
genkey client-untrusted rsa2048; sign $X client-untrusted "/CN=client-untrusted$O" client_ext "$NOW_M1D" "$NOW_P1Y"
genkey client-selfsigned rsa2048
openssl req -new -x509 -key client-selfsigned.key -subj "/CN=client-selfsigned$O" -days 365 -sha256 \
   -config ext.cnf -extensions selfsigned_ext -out client-selfsigned.crt 2>/dev/null
genkey wrongkey rsa2048
genkey wrongkey-ed25519 ed25519

# --- revocation ----------------------------------------------------------------
openssl ca -batch -config interdb/ca.cnf -keyfile intermediate-ca.key -cert intermediate-ca.crt \
   -revoke client-revoked.crt -crl_reason keyCompromise 2>/dev/null
openssl ca -batch -config interdb/ca.cnf -keyfile intermediate-ca.key -cert intermediate-ca.crt \
   -revoke server-revoked.crt -crl_reason keyCompromise 2>/dev/null
openssl ca -batch -config interdb/ca.cnf -keyfile intermediate-ca.key -cert intermediate-ca.crt -gencrl \
   -crl_lastupdate "$NOW_M1H" -crl_nextupdate "$NOW_P30D" -out intermediate-ca.crl 2>/dev/null
openssl ca -batch -config rootdb/ca.cnf -keyfile root-ca.key -cert root-ca.crt -gencrl \
   -crl_lastupdate "$NOW_M1H" -crl_nextupdate "$NOW_P30D" -out root-ca.crl 2>/dev/null
cat intermediate-ca.crl root-ca.crl > crl-chain.pem

# --- chain files and Java keystores ----------------------------------------------
for c in server server-wronghost server-expired server-bad-eku server-notyet server-revoked server-sha1 server-rsa1024 client-rsa client-ecdsa client-ed25519 client-expired \
         client-notyet client-bad-eku client-bad-ku client-rsa1024 client-sha1 client-revoked; do
  cat "$c.crt" intermediate-ca.crt > "$c.chain.pem"
done
for c in server-untrusted server-selfsigned client-untrusted client-selfsigned; do cp "$c.crt" "$c.chain.pem"; done
for c in server client-rsa client-ecdsa client-untrusted client-expired client-selfsigned; do
  openssl pkcs12 -export -passout pass:$PASS -name "$c" -inkey "$c.key" -in "$c.chain.pem" -out "$c.p12"
done
if command -v keytool >/dev/null; then
  keytool -importcert -noprompt -alias root -file root-ca.crt -keystore truststore.p12 -storetype PKCS12 -storepass $PASS >/dev/null 2>&1
  keytool -importcert -noprompt -alias other -file other-root-ca.crt -keystore other-truststore.p12 -storetype PKCS12 -storepass $PASS >/dev/null 2>&1
  keytool -importcert -noprompt -alias rekeyed -file root-ca-rekeyed.crt -keystore rekeyed-truststore.p12 -storetype PKCS12 -storepass $PASS >/dev/null 2>&1
fi
date -u +%Y-%m-%dT%H:%M:%SZ > created-at
echo "pki.sh: PKI in $OUT"
