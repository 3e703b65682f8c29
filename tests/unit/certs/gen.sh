#!/bin/sh
# gen.sh - regenerate the x509/chain/cv test fixtures with OpenSSL 3.
# The generated files are committed so the unit tests are deterministic;
# run this only to change the fixtures, then update the expectations in
# tests/unit/test_x509.c, test_chain.c and test_cv.c (serials, dates and
# fingerprints change on every run, the structure does not).
set -eu
cd "$(dirname "$0")"
rm -f ./*.der ./*.pem ./*.key ./*.sig ./*.bin ./*.srl
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

key_rsa() { openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:"$2" -out "$1.key" 2>/dev/null; }
key_ec() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:"$2" -out "$1.key"; }
key_ed() { openssl genpkey -algorithm ED25519 -out "$1.key"; }

# ext NAME 'ext lines...' : an extension section file for openssl x509 -extfile
ext() {
    printf '[v3]\n%s\n' "$2" >"$work/$1.cnf"
}

# selfsign NAME SUBJ DAYS MD EXTLINES
selfsign() {
    ext "$1" "$5"
    md=""
    [ "$4" = none ] || md="-$4"
    openssl req -new -key "$1.key" -subj "$2" -out "$work/$1.csr"
    # shellcheck disable=SC2086
    openssl x509 -req -in "$work/$1.csr" -signkey "$1.key" -days "$3" $md \
        -set_serial "0x$(openssl rand -hex 8)" -extfile "$work/$1.cnf" -extensions v3 \
        -outform DER -out "$1.der" 2>/dev/null
}

# issue NAME SUBJ ISSUER DAYS MD EXTLINES [KEYFILE]
issue() {
    ext "$1" "$6"
    md=""
    [ "$5" = none ] || md="-$5"
    k=${7:-$1.key}
    openssl req -new -key "$k" -subj "$2" -out "$work/$1.csr"
    openssl x509 -in "$3.der" -inform DER -out "$work/$3.pem"
    # shellcheck disable=SC2086
    openssl x509 -req -in "$work/$1.csr" -CA "$work/$3.pem" -CAkey "$3.key" -days "$4" $md \
        -set_serial "0x$(openssl rand -hex 8)" -extfile "$work/$1.cnf" -extensions v3 \
        -outform DER -out "$1.der" 2>/dev/null
}

CA_EXT='basicConstraints=critical,CA:TRUE
keyUsage=critical,keyCertSign,cRLSign
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid'

# --- the main PKI: root -> inter -> leaves ---------------------------------
key_rsa root 2048
selfsign root "/O=Example/CN=Example Root CA" 7300 sha256 "$CA_EXT"
key_rsa inter 2048
issue inter "/O=Example/CN=Example Team CA" root 3650 sha256 "basicConstraints=critical,CA:TRUE,pathlen:0
keyUsage=critical,keyCertSign,cRLSign
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid"

key_rsa client 2048
issue client "/O=Example/CN=alice" inter 825 sha256 "basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
subjectAltName=URI:spiffe://example.org/ns/prod/sa/alice,email:alice@example.org,DNS:alice.example.org"

key_ec server prime256v1
issue server "/O=Example/CN=server.example.com" inter 825 sha256 "basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
subjectAltName=DNS:server.example.com,DNS:*.example.net,IP:10.0.0.1,IP:2001:db8::1"

# --- leaves with one property each ----------------------------------------
key_rsa weak1024 1024
issue rsa1024 "/CN=weak key" inter 825 sha256 "keyUsage=digitalSignature
extendedKeyUsage=clientAuth" weak1024.key

issue sha1 "/CN=sha1 signed" inter 825 sha1 "extendedKeyUsage=clientAuth" client.key

key_ec p384 secp384r1
issue p384 "/CN=p384 leaf" inter 825 sha384 "extendedKeyUsage=clientAuth,serverAuth"

key_ed ed25519
issue ed25519 "/CN=ed25519 leaf" inter 825 sha256 "extendedKeyUsage=clientAuth
subjectAltName=DNS:ed.example.com
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid"

key_ed edroot
selfsign edroot "/CN=Ed25519 Root" 3650 none "$CA_EXT"

issue srvauth "/CN=server only" inter 825 sha256 "keyUsage=digitalSignature
extendedKeyUsage=serverAuth" client.key
issue kuenc "/CN=key encipherment only" inter 825 sha256 "keyUsage=critical,keyEncipherment
extendedKeyUsage=clientAuth" client.key
issue noext "/CN=no extensions" inter 825 sha256 "" client.key
issue anyeku "/CN=any eku" inter 825 sha256 "extendedKeyUsage=anyExtendedKeyUsage,1.3.6.1.4.1.99999.1" client.key
issue expired "/CN=expired" inter 1 sha256 "extendedKeyUsage=clientAuth" client.key
issue cnonly "/CN=cn.example.com" inter 825 sha256 "extendedKeyUsage=serverAuth" client.key
issue wild "/CN=wild" inter 825 sha256 "subjectAltName=DNS:*.wild.example,DNS:f*.part.example,DNS:exact.example,IP:192.168.1.7" client.key
issue pss "/CN=pss signed" inter 825 sha256 "extendedKeyUsage=clientAuth" client.key
# re-sign the pss leaf with RSASSA-PSS
openssl x509 -in "$work/inter.pem" -out "$work/inter2.pem"
openssl req -new -key client.key -subj "/CN=pss signed" -out "$work/pss.csr"
openssl x509 -req -in "$work/pss.csr" -CA "$work/inter2.pem" -CAkey inter.key -days 825 -sha256 \
    -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32 -set_serial 0x1234 \
    -outform DER -out pss.der 2>/dev/null

issue critext "/CN=unknown critical" inter 825 sha256 "1.2.3.4=critical,ASN1:UTF8String:x
extendedKeyUsage=clientAuth" client.key

# DN escaping: multi-valued RDN, RFC 4514 specials, UTF-8
openssl req -new -key client.key -multivalue-rdn -utf8 \
    -subj "/C=DE/O=Acme, Inc./OU=R\\+D/CN=José #1+UID=jdoe" -out "$work/dn.csr"
openssl x509 -req -in "$work/dn.csr" -CA "$work/inter2.pem" -CAkey inter.key -days 825 -sha256 \
    -set_serial 0x0a0b -outform DER -out dn.der 2>/dev/null

# --- chain shapes -----------------------------------------------------------
# pathlen: inter (pathlen 0) -> subca (CA) -> leaf: violates inter's pathlen
key_rsa subca 2048
issue subca "/O=Example/CN=Sub CA" inter 3650 sha256 "$CA_EXT"
issue subleaf "/CN=under subca" subca 825 sha256 "extendedKeyUsage=clientAuth" client.key
# an "intermediate" without CA:TRUE issuing a leaf
key_rsa notca 2048
issue notca "/O=Example/CN=Not A CA" root 3650 sha256 "basicConstraints=critical,CA:FALSE"
issue notcaleaf "/CN=under notca" notca 825 sha256 "extendedKeyUsage=clientAuth" client.key
# a rogue root and a leaf under it
key_rsa rogue 2048
selfsign rogue "/CN=Rogue Root" 3650 sha256 "$CA_EXT"
issue rogueleaf "/CN=mallory" rogue 825 sha256 "extendedKeyUsage=clientAuth" client.key

# dated: exact validity (UTCTime and GeneralizedTime) through openssl ca
mkdir -p "$work/ca"
: >"$work/ca/index.txt"
echo 1000 >"$work/ca/serial"
cat >"$work/ca.cnf" <<CNF
[ca]
default_ca = d
[d]
database = $work/ca/index.txt
serial = $work/ca/serial
new_certs_dir = $work/ca
default_md = sha256
policy = p
unique_subject = no
[p]
commonName = supplied
CNF
openssl req -new -key client.key -subj "/CN=dated" -out "$work/dated.csr"
openssl ca -batch -config "$work/ca.cnf" -cert "$work/inter.pem" -keyfile inter.key \
    -startdate 20200229120000Z -enddate 20510101000000Z -notext \
    -in "$work/dated.csr" -out "$work/dated.pem" 2>/dev/null
openssl x509 -in "$work/dated.pem" -outform DER -out dated.der

# --- fixed dates far from "now": the wall clock must not matter ----------------
# timeroot 2000..2099 signs oldleaf 2005..2010 (expired by any wall clock) and
# futureleaf 2090..2095 (not yet valid by any wall clock).
key_rsa timeroot 2048
mkdir -p "$work/tca"
: >"$work/tca/index.txt"
echo 2000 >"$work/tca/serial"
cat >"$work/tca.cnf" <<CNF
[ca]
default_ca = d
[d]
database = $work/tca/index.txt
serial = $work/tca/serial
new_certs_dir = $work/tca
default_md = sha256
policy = p
unique_subject = no
copy_extensions = none
[p]
commonName = supplied
[root_ext]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[leaf_ext]
extendedKeyUsage = clientAuth
authorityKeyIdentifier = keyid
CNF
openssl req -new -key timeroot.key -subj "/CN=Time Root" -out "$work/timeroot.csr"
openssl ca -batch -selfsign -config "$work/tca.cnf" -keyfile timeroot.key -extensions root_ext \
    -startdate 20000101000000Z -enddate 20991231235959Z -notext \
    -in "$work/timeroot.csr" -out "$work/timeroot.pem" 2>/dev/null
openssl x509 -in "$work/timeroot.pem" -outform DER -out timeroot.der
openssl x509 -in "$work/timeroot.pem" -out timeroot.pem
for leaf in oldleaf:20050101000000Z:20100101000000Z futureleaf:20900101000000Z:20950101000000Z; do
    name=${leaf%%:*}
    dates=${leaf#*:}
    openssl req -new -key client.key -subj "/CN=$name" -out "$work/$name.csr"
    openssl ca -batch -config "$work/tca.cnf" -cert "$work/timeroot.pem" -keyfile timeroot.key \
        -extensions leaf_ext -startdate "${dates%%:*}" -enddate "${dates#*:}" -notext \
        -in "$work/$name.csr" -out "$work/$name.pem" 2>/dev/null
    openssl x509 -in "$work/$name.pem" -outform DER -out "$name.der"
done

# --- broken inputs ------------------------------------------------------------
head -c 100 client.der >trunc100.der
head -c "$(($(wc -c <client.der) - 1))" client.der >trunc1.der

# --- trust bundles --------------------------------------------------------------
openssl x509 -inform DER -in client.der -out client.pem
openssl x509 -inform DER -in root.der -out root.pem
openssl x509 -inform DER -in edroot.der -out edroot.pem
openssl x509 -inform DER -in rogue.der -out rogue.pem
cat root.pem edroot.pem >bundle.pem

# --- signatures for cv tests ---------------------------------------------------
openssl rand 300 >transcript.bin
openssl dgst -sha256 -sign client.key -out cv_rsa_pkcs1_sha256.sig transcript.bin
openssl dgst -sha256 -sign client.key -sigopt rsa_padding_mode:pss \
    -sigopt rsa_pss_saltlen:digest -out cv_rsa_pss_sha256.sig transcript.bin
openssl dgst -sha256 -sign server.key -out cv_ecdsa_p256_sha256.sig transcript.bin
openssl dgst -sha1 -sign server.key -out cv_ecdsa_sha1.sig transcript.bin
# TLS 1.0/1.1 RSA: PKCS#1 v1.5 over MD5(transcript) || SHA-1(transcript), no DigestInfo
{ openssl dgst -md5 -binary transcript.bin; openssl dgst -sha1 -binary transcript.bin; } >"$work/md5sha1.bin"
openssl pkeyutl -sign -inkey client.key -in "$work/md5sha1.bin" -pkeyopt rsa_padding_mode:pkcs1 \
    -out cv_rsa_md5sha1.sig
# the key does not match the certificate
openssl dgst -sha256 -sign weak1024.key -out cv_wrongkey.sig transcript.bin
openssl dgst -sha256 -sign rogue.key -out cv_wrongkey2048.sig transcript.bin

# TLS 1.3: 64 spaces || context || 0 || SHA-256(transcript)
openssl dgst -sha256 -binary transcript.bin >th.bin
for side in client server; do
    { printf '%64s' ''; printf 'TLS 1.3, %s CertificateVerify' "$side"; printf '\000'; cat th.bin; } \
        >"$work/tls13_$side.bin"
done
openssl dgst -sha256 -sign client.key -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:digest \
    -out cv13_client_rsa_pss_sha256.sig "$work/tls13_client.bin"
openssl dgst -sha256 -sign server.key -out cv13_server_ecdsa_p256_sha256.sig "$work/tls13_server.bin"

# ServerKeyExchange: client_random || server_random || params
openssl rand 32 >ske_client_random.bin
openssl rand 32 >ske_server_random.bin
printf '\003\000\027\101' >ske_params.bin
openssl rand 65 >>ske_params.bin
cat ske_client_random.bin ske_server_random.bin ske_params.bin >"$work/ske.bin"
openssl dgst -sha256 -sign server.key -out ske_ecdsa_sha256.sig "$work/ske.bin"
openssl dgst -sha256 -sign client.key -out ske_rsa_sha256.sig "$work/ske.bin"

rm -f ./*.srl
echo "fixtures written to $(pwd)"
