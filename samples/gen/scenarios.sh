# samples/gen/scenarios.sh -- sourced by make-samples.sh.
#
# One function scn_<capture base name> per capture; the capture base name is
# <server stack>-<client stack>-<scenario>-<tls version> (one stack name when
# both sides run the same stack). A pre_<name> function may set NET
# (lo|ns|veth|veth-mtu) and FMT (pcap|pcapng) before the network is set up.
# Inside scn_*: $H/$P are the server address and port, $SK/$CK the server and
# client key log files. The expectation (outcome, rejected_by, rejected, cause)
# is the cause that was engineered; the alert column is measured from the
# capture by alerts.py.

# ---- OpenSSL s_server <-> OpenSSL s_client ------------------------------------
for v in 12 13; do
  V=1.${v#1}
  eval "
scn_openssl-success-tls$v()                { osos $V; ok; }
scn_openssl-no-client-auth-tls$v()         { SAUTH=none CCERT=none; osos $V; ok; }
scn_openssl-untrusted-client-ca-tls$v()    { CCERT=client-untrusted CKEY=client-untrusted CCHAIN=0; osos $V; srv_rejects client_certificate unknown_ca; }
scn_openssl-missing-intermediate-tls$v()   { CCHAIN=0; osos $V; srv_rejects client_certificate missing_intermediate; }
scn_openssl-expired-client-tls$v()         { CCERT=client-expired CKEY=client-expired; osos $V; srv_rejects client_certificate expired; }
scn_openssl-not-yet-valid-client-tls$v()   { CCERT=client-notyet CKEY=client-notyet; osos $V; srv_rejects client_certificate not_yet_valid; }
scn_openssl-bad-eku-client-tls$v()         { CCERT=client-bad-eku CKEY=client-bad-eku; osos $V; srv_rejects client_certificate bad_eku; }
scn_openssl-bad-key-usage-client-tls$v()   { CCERT=client-bad-ku CKEY=client-bad-ku; osos $V; srv_rejects client_certificate bad_key_usage; }
scn_openssl-weak-key-client-tls$v()        { CCERT=client-rsa1024 CKEY=client-rsa1024 CX=(-cipher DEFAULT:@SECLEVEL=0); osos $V; srv_rejects client_certificate weak_key; }
scn_openssl-sha1-client-tls$v()            { CCERT=client-sha1 CKEY=client-sha1 CX=(-cipher DEFAULT:@SECLEVEL=0); osos $V; srv_rejects client_certificate weak_signature; }
scn_openssl-revoked-client-tls$v()         { CCERT=client-revoked CKEY=client-revoked SX=(-CRL \"\$(K intermediate-ca.crl)\" -crl_check); osos $V; srv_rejects client_certificate revoked; }
scn_openssl-self-signed-client-tls$v()     { CCERT=client-selfsigned CKEY=client-selfsigned CCHAIN=0; osos $V; srv_rejects client_certificate self_signed; }
scn_openssl-no-client-cert-tls$v()         { CCERT=none; osos $V; srv_rejects client_certificate no_client_certificate; }
scn_openssl-untrusted-server-ca-tls$v()    { SCERT=server-untrusted; osos $V; cli_rejects server_certificate unknown_ca; }
scn_openssl-hostname-mismatch-tls$v()      { SCERT=server-wronghost; osos $V; cli_rejects server_certificate hostname_mismatch; }
scn_openssl-expired-server-tls$v()         { SCERT=server-expired; osos $V; cli_rejects server_certificate expired; }
scn_openssl-unrecognized-name-tls$v()      { SX=(-servername server.test -servername_fatal -cert2 \"\$(K server.crt)\" -key2 \"\$(K server.key)\"); osos $V;
                                             CLI=(\"\${CLI[@]/#server.test/other.test}\"); srv_rejects client_hello unrecognized_name; }
scn_openssl-no-application-protocol-tls$v() { SX=(-alpn h2) CX=(-alpn http/1.1); osos $V; srv_rejects client_hello no_application_protocol; }
"
done
scn_openssl-no-shared-cipher-tls12() { SX=(-cipher AES256-GCM-SHA384) CX=(-cipher ECDHE-RSA-AES128-GCM-SHA256); osos 1.2; srv_rejects client_hello no_shared_cipher; }
scn_openssl-no-shared-cipher-tls13() { SX=(-ciphersuites TLS_AES_256_GCM_SHA384) CX=(-ciphersuites TLS_CHACHA20_POLY1305_SHA256); osos 1.3; srv_rejects client_hello no_shared_cipher; }
scn_openssl-protocol-version-srv13-cli12() { os_server 1.3; os_client 1.2; TLSV=-; srv_rejects client_hello protocol_version; }
scn_openssl-protocol-version-srv12-cli13() { os_server 1.2; os_client 1.3; TLSV=-; srv_rejects client_hello protocol_version; }
scn_openssl-protocol-version-cli10() { CX=(-cipher 'DEFAULT:@SECLEVEL=0'); os_server ""; os_client 1.0; TLSV=-; srv_rejects client_hello protocol_version; }

# ---- OpenSSL s_server <-> Go client ---------------------------------------------
# openssl-go-bad-certificate-verify-tls12 is the seed 003 reproduction: a
# SHA-256-signed client certificate whose CertificateVerify is signed with a
# key that does not belong to it; the server answers decrypt_error(51).
for v in 12 13; do
  V=1.${v#1}
  eval "
scn_openssl-go-bad-certificate-verify-tls$v() { GC_KEY=wrongkey; os_server $V; go_client $V; TLSV=\$(tlsname $V); srv_rejects certificate_verify bad_certificate_verify; }
scn_openssl-go-ca-list-excludes-issuer-tls$v() { SCAF=other-root-ca.crt; os_server $V; go_client $V; TLSV=\$(tlsname $V); srv_rejects client_certificate no_client_certificate; }
scn_openssl-go-signature-algorithm-mismatch-tls$v() { SX=(-client_sigalgs RSA-PSS+SHA256:rsa_pss_pss_sha256) GC_CERT=client-ecdsa GC_KEY=client-ecdsa; os_server $V; go_client $V; TLSV=\$(tlsname $V); srv_rejects client_certificate signature_algorithm_mismatch; }
scn_openssl-go-untrusted-server-ca-tls$v() { SCERT=server-untrusted; os_server $V; go_client $V; TLSV=\$(tlsname $V); cli_rejects server_certificate unknown_ca; }
scn_openssl-go-hostname-mismatch-tls$v() { SCERT=server-wronghost; os_server $V; go_client $V; TLSV=\$(tlsname $V); cli_rejects server_certificate hostname_mismatch; }
"
done
# Ed25519 client certificate, CertificateVerify signed with another Ed25519 key
scn_openssl-go-bad-certificate-verify-ed25519-tls12() { GC_CERT=client-ed25519 GC_KEY=wrongkey-ed25519; os_server 1.2; go_client 1.2; TLSV="TLS 1.2"; srv_rejects certificate_verify bad_certificate_verify; }
scn_openssl-signature-algorithm-mismatch-tls12() { SX=(-client_sigalgs RSA-PSS+SHA256:rsa_pss_pss_sha256) CCERT=client-ecdsa CKEY=client-ecdsa; osos 1.2; srv_rejects client_certificate signature_algorithm_mismatch; }
scn_openssl-signature-algorithm-mismatch-tls13() { SX=(-client_sigalgs RSA-PSS+SHA256:rsa_pss_pss_sha256) CCERT=client-ecdsa CKEY=client-ecdsa; osos 1.3; srv_rejects client_certificate signature_algorithm_mismatch; }
scn_openssl-gnutls-signature-algorithm-mismatch-tls12() { SX=(-client_sigalgs RSA-PSS+SHA256:rsa_pss_pss_sha256) GTC_CERT=client-ecdsa; os_server 1.2; gnutls_client 1.2; TLSV="TLS 1.2"; cli_rejects certificate_request signature_algorithm_mismatch; }

# ---- Go server ------------------------------------------------------------------
# Go 1.19 (Debian 12): every client-certificate failure is bad_certificate(42).
for v in 12 13; do
  V=1.${v#1}
  eval "
scn_go-openssl-untrusted-client-ca-tls$v() { CCERT=client-untrusted CKEY=client-untrusted CCHAIN=0; go_server $V; os_client $V; TLSV=\$(tlsname $V); srv_rejects client_certificate unknown_ca; }
scn_go-openssl-expired-client-tls$v()      { CCERT=client-expired CKEY=client-expired; go_server $V; os_client $V; TLSV=\$(tlsname $V); srv_rejects client_certificate expired; }
scn_go-openssl-bad-eku-client-tls$v()      { CCERT=client-bad-eku CKEY=client-bad-eku; go_server $V; os_client $V; TLSV=\$(tlsname $V); srv_rejects client_certificate bad_eku; }
scn_go-openssl-no-client-cert-tls$v()      { CCERT=none; go_server $V; os_client $V; TLSV=\$(tlsname $V); srv_rejects client_certificate no_client_certificate; }
scn_go-bad-certificate-verify-tls$v()      { GC_KEY=wrongkey; go_server $V; go_client $V; TLSV=\$(tlsname $V); srv_rejects certificate_verify bad_certificate_verify; }
scn_go-success-tls$v()                     { GC_CERT=client-ed25519 GC_KEY=client-ed25519; go_server $V; go_client $V; TLSV=\$(tlsname $V); ok; }
"
done
# (Go lets a client that offers only "http/1.1" through without ALPN, so offer something else)
scn_go-openssl-no-application-protocol-tls13() { GSX=(-alpn h2) CX=(-alpn imap); go_server 1.3; os_client 1.3; TLSV="TLS 1.3"; srv_rejects client_hello no_application_protocol; }
# Go ignores KeyUsage: the keyEncipherment-only client certificate is accepted.
scn_go-openssl-bad-key-usage-client-tls12() { CCERT=client-bad-ku CKEY=client-bad-ku; go_server 1.2; os_client 1.2; TLSV="TLS 1.2"; ok; }
# A server that reads the ClientHello and closes the connection without any alert.
scn_go-openssl-closed-without-alert-tls12() { GSX=(-mode close-after-hello); go_server 1.2; os_client 1.2; TLSV=-; OUTCOME=failed REJBY=server REJ=client_hello CAUSE=closed_without_alert; }
scn_go-openssl-closed-without-alert-tls13() { GSX=(-mode close-after-hello); go_server 1.3; os_client 1.3; TLSV=-; OUTCOME=failed REJBY=server REJ=client_hello CAUSE=closed_without_alert; }

# ---- GnuTLS gnutls-serv (in a private netns: it binds the wildcard address) ------
for v in 12 13; do
  V=1.${v#1}
  eval "
pre_gnutls-openssl-untrusted-client-ca-tls$v() { NET=ns; }
scn_gnutls-openssl-untrusted-client-ca-tls$v() { CCERT=client-untrusted CKEY=client-untrusted CCHAIN=0; gnutls_server $V; os_client $V; TLSV=\$(tlsname $V); srv_rejects client_certificate unknown_ca; }
pre_gnutls-openssl-expired-client-tls$v() { NET=ns; }
scn_gnutls-openssl-expired-client-tls$v() { CCERT=client-expired CKEY=client-expired; gnutls_server $V; os_client $V; TLSV=\$(tlsname $V); srv_rejects client_certificate expired; }
pre_gnutls-openssl-no-client-cert-tls$v() { NET=ns; }
scn_gnutls-openssl-no-client-cert-tls$v() { CCERT=none; gnutls_server $V; os_client $V; TLSV=\$(tlsname $V); srv_rejects client_certificate no_client_certificate; }
pre_gnutls-openssl-bad-key-usage-client-tls$v() { NET=ns; }
scn_gnutls-openssl-bad-key-usage-client-tls$v() { CCERT=client-bad-ku CKEY=client-bad-ku; gnutls_server $V; os_client $V; TLSV=\$(tlsname $V); srv_rejects client_certificate bad_key_usage; }
pre_gnutls-go-bad-certificate-verify-tls$v() { NET=ns; }
scn_gnutls-go-bad-certificate-verify-tls$v() { GC_KEY=wrongkey; gnutls_server $V; go_client $V; TLSV=\$(tlsname $V); srv_rejects certificate_verify bad_certificate_verify; }
pre_gnutls-success-tls$v() { NET=ns; }
scn_gnutls-success-tls$v() { gnutls_server $V; gnutls_client $V; TLSV=\$(tlsname $V); ok; }
scn_openssl-gnutls-untrusted-server-ca-tls$v() { SCERT=server-untrusted; os_server $V; gnutls_client $V; TLSV=\$(tlsname $V); cli_rejects server_certificate unknown_ca; }
"
done
pre_gnutls-openssl-unrecognized-name-tls13() { NET=ns; }
scn_gnutls-openssl-unrecognized-name-tls13() { GTX=(--sni-hostname server.test --sni-hostname-fatal); gnutls_server 1.3; os_client 1.3; CLI=("${CLI[@]/#server.test/other.test}"); TLSV=-; srv_rejects client_hello unrecognized_name; }
pre_gnutls-openssl-no-application-protocol-tls12() { NET=ns; }
scn_gnutls-openssl-no-application-protocol-tls12() { GTX=(--alpn h2 --alpn-fatal) CX=(-alpn http/1.1); gnutls_server 1.2; os_client 1.2; TLSV=-; srv_rejects client_hello no_application_protocol; }
scn_openssl-gnutls-hostname-mismatch-tls12() { SCERT=server-wronghost; os_server 1.2; gnutls_client 1.2; TLSV="TLS 1.2"; cli_rejects server_certificate hostname_mismatch; }

# ---- Java JSSE ------------------------------------------------------------------------
# Seed 000: JSSE client, ECDHE_RSA, receives fatal certificate_unknown(46) after its
# Finished. The JSSE server trusts only a re-keyed "tlsblame Root CA" (same name,
# other key): its CertificateRequest names the client's root, so the JSSE client
# does send its chain, and the server's PKIX check fails.
JSEED=(ciphers=TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA)
# checkdelay: the server looks the chain up slowly, so the alert follows the client Finished as in the seed
scn_java-untrusted-client-ca-tls12() { JS_TRUST=rekeyed-truststore.p12 JSX=("${JSEED[@]}" checkdelay=300) JCX=("${JSEED[@]}"); java_server 1.2; java_client 1.2; srv_rejects client_certificate unknown_ca; }
scn_java-untrusted-client-ca-tls10() { JS_TRUST=rekeyed-truststore.p12 JSX=("${JSEED[@]}" checkdelay=300) JCX=("${JSEED[@]}")
  build_java; JS_JVM=(-Djava.security.properties="$BINDIR/java/legacy-tls.security") JC_JVM=("${JS_JVM[@]}")
  java_server 1.0; java_client 1.0; srv_rejects client_certificate unknown_ca; }
scn_java-ca-list-excludes-issuer-tls12() { JC_KS=client-untrusted; java_server 1.2; java_client 1.2; srv_rejects client_certificate no_client_certificate; }
scn_java-success-tls13() { java_server 1.3; java_client 1.3; ok; }
for v in 12 13; do
  V=1.${v#1}
  eval "
scn_java-openssl-untrusted-client-ca-tls$v() { CCERT=client-untrusted CKEY=client-untrusted CCHAIN=0; java_server $V; os_client $V; srv_rejects client_certificate unknown_ca; }
scn_java-openssl-no-client-cert-tls$v() { CCERT=none; java_server $V; os_client $V; srv_rejects client_certificate no_client_certificate; }
scn_java-go-bad-certificate-verify-tls$v() { GC_KEY=wrongkey; java_server $V; go_client $V; srv_rejects certificate_verify bad_certificate_verify; }
scn_openssl-java-untrusted-server-ca-tls$v() { SCERT=server-untrusted; os_server $V; java_client $V; cli_rejects server_certificate unknown_ca; }
"
done
scn_java-openssl-expired-client-tls12() { CCERT=client-expired CKEY=client-expired; java_server 1.2; os_client 1.2; srv_rejects client_certificate expired; }
scn_java-openssl-bad-key-usage-client-tls12() { CCERT=client-bad-ku CKEY=client-bad-ku; java_server 1.2; os_client 1.2; srv_rejects client_certificate bad_key_usage; }
scn_openssl-java-hostname-mismatch-tls12() { SCERT=server-wronghost; os_server 1.2; java_client 1.2; cli_rejects server_certificate hostname_mismatch; }
scn_openssl-java-expired-server-tls13() { SCERT=server-expired; os_server 1.3; java_client 1.3; cli_rejects server_certificate expired; }

# ---- nginx (ssl_verify_client on) + curl -----------------------------------------------
# nginx never lets OpenSSL send an alert for a client certificate: the handshake
# completes and nginx answers the first request with HTTP 400 inside the
# encrypted stream. The key logs (curl SSLKEYLOGFILE) decrypt it, TLS 1.2 too.
for v in 12 13; do
  V=1.${v#1}
  eval "
scn_nginx-curl-success-tls$v() { nginx_server $V; curl_client $V; ok; }
scn_nginx-curl-untrusted-client-ca-tls$v() { CU_CERT=client-untrusted; nginx_server $V; curl_client $V; OUTCOME=failed REJBY=server REJ=application CAUSE=application_rejected; }
"
done
scn_nginx-curl-no-client-cert-tls13() { CU_CERT=none; nginx_server 1.3; curl_client 1.3; OUTCOME=failed REJBY=server REJ=application CAUSE=application_rejected; }
scn_nginx-curl-expired-client-tls12() { CU_CERT=client-expired; nginx_server 1.2; curl_client 1.2; OUTCOME=failed REJBY=server REJ=application CAUSE=application_rejected; }

# ---- capture shapes ------------------------------------------------------------------
# pcapng (dumpcap)
pre_openssl-revoked-client-tls12() { FMT=pcapng; }
pre_gnutls-openssl-no-client-cert-tls13() { NET=ns FMT=pcapng; }
# through a veth pair between two network namespaces (10.99.0.1 server, 10.99.0.2 client)
pre_openssl-untrusted-client-ca-veth-tls13() { NET=veth; }
scn_openssl-untrusted-client-ca-veth-tls13() { CCERT=client-untrusted CKEY=client-untrusted CCHAIN=0; osos 1.3; srv_rejects client_certificate unknown_ca; }
# MTU 576 on the veth pair: every flight is split across many TCP segments
pre_openssl-missing-intermediate-mtu576-tls12() { NET=veth-mtu; }
scn_openssl-missing-intermediate-mtu576-tls12() { CCHAIN=0; osos 1.2; srv_rejects client_certificate missing_intermediate; }
# a segment of the server's Certificate flight is missing from the capture
# (removed with editcap afterwards; the real handshake succeeded)
pre_openssl-success-missing-segment-tls12() { NET=veth-mtu; }
scn_openssl-success-missing-segment-tls12() { osos 1.2; POST=drop_server_segment; OUTCOME=incomplete REJBY=unknown REJ=unknown CAUSE=incomplete_capture; }
scn_openssl-success-ecdsa-client-tls13() { CCERT=client-ecdsa CKEY=client-ecdsa; osos 1.3; ok; }
scn_openssl-success-ed25519-client-tls12() { CCERT=client-ed25519 CKEY=client-ed25519; osos 1.2; ok; }
scn_openssl-java-expired-server-tls12() { SCERT=server-expired; os_server 1.2; java_client 1.2; cli_rejects server_certificate expired; }
scn_openssl-java-signature-algorithm-mismatch-tls12() { SX=(-client_sigalgs RSA-PSS+SHA256:rsa_pss_pss_sha256) JC_KS=client-ecdsa; os_server 1.2; java_client 1.2; srv_rejects client_certificate signature_algorithm_mismatch; }

# ---- client rejecting the server certificate (OpenSSL s_server <-> s_client) ------------
for v in 12 13; do
  V=1.${v#1}
  eval "
scn_openssl-self-signed-server-tls$v()        { SCERT=server-selfsigned SCHAIN=0; osos $V; cli_rejects server_certificate self_signed; }
scn_openssl-missing-intermediate-server-tls$v() { SCHAIN=0; osos $V; cli_rejects server_certificate missing_intermediate; }
scn_openssl-bad-eku-server-tls$v()            { SCERT=server-bad-eku; osos $V; cli_rejects server_certificate bad_eku; }
scn_openssl-not-yet-valid-server-tls$v()      { SCERT=server-notyet; osos $V; cli_rejects server_certificate not_yet_valid; }
scn_openssl-revoked-server-tls$v()            { SCERT=server-revoked CX=(-crl_check -CRL \"\$(K intermediate-ca.crl)\"); osos $V; cli_rejects server_certificate revoked; }
scn_openssl-sha1-server-tls$v()               { SCERT=server-sha1 SX=(-cipher DEFAULT:@SECLEVEL=0); osos $V; cli_rejects server_certificate weak_signature; }
scn_openssl-weak-key-server-tls$v()           { SCERT=server-rsa1024 SX=(-cipher DEFAULT:@SECLEVEL=0); osos $V; cli_rejects server_certificate weak_key; }
"
done
# Re-keyed CA: the server trusts a "tlsblame Root CA" with another key. With a
# subjectKeyIdentifier (root-ca-rekeyed, the JSSE seed's) OpenSSL does not even
# take it as the issuer; without one (root-ca-rekeyed-noskid) it does, and the
# intermediate's signature fails to verify.
scn_openssl-rekeyed-ca-tls12()        { SCAF=root-ca-rekeyed.crt; osos 1.2; srv_rejects client_certificate unknown_ca; }
scn_openssl-rekeyed-ca-noskid-tls12() { SCAF=root-ca-rekeyed-noskid.crt; osos 1.2; srv_rejects client_certificate unknown_ca; }
scn_openssl-rekeyed-ca-noskid-tls13() { SCAF=root-ca-rekeyed-noskid.crt; osos 1.3; srv_rejects client_certificate unknown_ca; }

# ---- unparseable certificates and bad server signatures (Go) -----------------------------
for v in 12 13; do
  V=1.${v#1}
  eval "
scn_go-openssl-garbage-server-cert-tls$v()   { GSX=(-garbage-cert); go_server $V; os_client $V; TLSV=\$(tlsname $V); cli_rejects server_certificate bad_certificate; }
scn_openssl-go-garbage-client-cert-tls$v()   { GCX=(-garbage-cert); os_server $V; go_client $V; TLSV=\$(tlsname $V); srv_rejects client_certificate bad_certificate; }
scn_go-openssl-bad-server-signature-tls$v()  { GSX=(-signkey \"\$(K wrongkey.key)\"); go_server $V; os_client $V; TLSV=\$(tlsname $V); cli_rejects handshake bad_certificate_verify; }
"
done

# ---- mbedTLS 2.28 (Debian libmbedtls-dev, TLS 1.2) ------------------------------------------
scn_mbedtls-openssl-success-tls12()               { mbedtls_server; os_client 1.2; ok; }
scn_mbedtls-openssl-no-client-cert-tls12()        { CCERT=none; mbedtls_server; os_client 1.2; srv_rejects client_certificate no_client_certificate; }
scn_mbedtls-openssl-untrusted-client-ca-tls12()   { CCERT=client-untrusted CKEY=client-untrusted CCHAIN=0; mbedtls_server; os_client 1.2; srv_rejects client_certificate unknown_ca; }
scn_mbedtls-openssl-bad-key-usage-client-tls12()  { CCERT=client-bad-ku CKEY=client-bad-ku; mbedtls_server; os_client 1.2; srv_rejects client_certificate bad_key_usage; }
scn_mbedtls-go-no-client-cert-tls12()             { GC_CERT=none; mbedtls_server; go_client 1.2; srv_rejects client_certificate no_client_certificate; }
scn_mbedtls-go-bad-certificate-verify-tls12()     { GC_KEY=wrongkey; mbedtls_server; go_client 1.2; srv_rejects certificate_verify bad_certificate_verify; }
scn_mbedtls-go-garbage-client-cert-tls12()        { GCX=(-garbage-cert); mbedtls_server; go_client 1.2; srv_rejects client_certificate bad_certificate; }
scn_openssl-mbedtls-untrusted-server-ca-tls12()   { SCERT=server-untrusted; os_server 1.2; mbedtls_client; TLSV="TLS 1.2"; cli_rejects server_certificate unknown_ca; }

# ---- post-handshake checks: Node.js client, curl host name ------------------------------------
scn_openssl-node-untrusted-server-ca-tls12() { SCERT=server-untrusted; os_server 1.2; node_client 1.2; cli_rejects server_certificate unknown_ca; }
scn_openssl-node-untrusted-server-ca-tls13() { SCERT=server-untrusted; os_server 1.3; node_client 1.3; cli_rejects server_certificate unknown_ca; }
# Node.js HTTPS-style client against nginx: nginx closes without an alert when
# the client goes away (s_server answers the EOF with decode_error(50), above).
scn_nginx-node-untrusted-server-ca-tls12() { NG_CERT=server-untrusted; nginx_server 1.2; node_client 1.2; cli_rejects server_certificate unknown_ca; }
scn_nginx-node-expired-server-tls12()      { NG_CERT=server-expired; nginx_server 1.2; node_client 1.2; cli_rejects server_certificate expired; }
scn_nginx-node-self-signed-server-tls12()  { NG_CERT=server-selfsigned; nginx_server 1.2; node_client 1.2; cli_rejects server_certificate self_signed; }
scn_nginx-node-hostname-mismatch-tls12()   { NG_CERT=server-wronghost; nginx_server 1.2; node_client 1.2; cli_rejects server_certificate hostname_mismatch; }
scn_openssl-curl-hostname-mismatch-tls12()   { SCERT=server-wronghost; os_server 1.2; curl_client 1.2; cli_rejects server_certificate hostname_mismatch; }
scn_nginx-curl-no-client-cert-tls12()        { CU_CERT=none; nginx_server 1.2; curl_client 1.2; OUTCOME=failed REJBY=server REJ=application CAUSE=application_rejected; }

# ---- not TLS at all ---------------------------------------------------------------------------
# nginx with a plain-HTTP listener: the ClientHello is answered with HTTP 400.
scn_nginx-openssl-plaintext-server-tls12() { NG_PLAIN=1; nginx_server 1.2; os_client 1.2; SLOG_RE='client sent|400|\[(error|crit|alert|emerg|info)\]'; TLSV=-; OUTCOME=failed REJBY=server REJ=client_hello CAUSE=unknown; }
# SMTP: STARTTLS is advertised, then refused with 454; s_client starts TLS anyway.
# s_client against a server that never answers: the client gives up (2 s) after its ClientHello.
scn_silent-openssl-client-gives-up-tls12() { silent_server; os_client 1.2; CLI=(timeout -s TERM 2 "${CLI[@]}"); CLI_IN=none; SLOG_RE='not answering|closed'; CLOG_RE='.'; TLSV=-; OUTCOME=failed REJBY=client REJ=handshake CAUSE=closed_without_alert; }
scn_python-openssl-starttls-refused() { smtp_server; os_client 1.2; CLI+=(-starttls smtp); SLOG_RE='454|502|C: '; TLSV=-; OUTCOME=failed REJBY=server REJ=client_hello CAUSE=unknown; }

# ---- STARTTLS-style protocols served by Debian servers ----------------------------------------------
# PostgreSQL 15 (SSLRequest, then TLS; hostssl ... cert clientcert=verify-full) <-> psql (libpq 15)
for v in 12 13; do
  V=1.${v#1}
  eval "
scn_postgresql-psql-success-tls$v()                { pg_server $V; psql_client $V; ok; }
scn_postgresql-psql-untrusted-client-ca-tls$v()    { PQ_CERT=client-untrusted PQ_USER=client-untrusted; pg_server $V; psql_client $V; srv_rejects client_certificate unknown_ca; }
"
done
# Postfix 3.7 smtpd (STARTTLS, smtpd_tls_req_ccert = yes) <-> openssl s_client -starttls smtp.
# s_client writes a key log in TLS 1.2 too: Postfix's refusal is an SMTP reply inside TLS.
# -nocommands: a line starting with Q (QUIT) must be sent, not taken as s_client's quit command
pf_cli() { os_client "$1"; CLI+=(-starttls smtp -crlf -nocommands); [ "$1" = 1.2 ] && CLI+=(-keylogfile "$CK"); CLI_IN=smtp; }
for v in 12 13; do
  V=1.${v#1}
  eval "
scn_postfix-openssl-success-tls$v()               { postfix_server $V; pf_cli $V; ok; }
scn_postfix-openssl-untrusted-client-ca-tls$v()   { CCERT=client-untrusted CKEY=client-untrusted CCHAIN=0; postfix_server $V; pf_cli $V; OUTCOME=failed REJBY=server REJ=application CAUSE=application_rejected; }
scn_postfix-openssl-no-client-cert-tls$v()        { CCERT=none; postfix_server $V; pf_cli $V; OUTCOME=failed REJBY=server REJ=application CAUSE=application_rejected; }
"
done
# Dovecot 2.3 IMAP (STARTTLS, ssl = required, ssl_verify_client_cert, auth_ssl_require_client_cert,
# SASL EXTERNAL) <-> openssl s_client -starttls imap. The refusal is an IMAP reply inside TLS.
dv_cli() { os_client "$1"; CLI+=(-starttls imap -crlf -nocommands); [ "$1" = 1.2 ] && CLI+=(-keylogfile "$CK"); CLI_IN=imap; }
for v in 12 13; do
  V=1.${v#1}
  eval "
scn_dovecot-openssl-success-tls$v()               { dovecot_server $V; dv_cli $V; ok; }
scn_dovecot-openssl-untrusted-client-ca-tls$v()   { CCERT=client-untrusted CKEY=client-untrusted CCHAIN=0; dovecot_server $V; dv_cli $V; OUTCOME=failed REJBY=server REJ=application CAUSE=application_rejected; }
"
done

# Dovecot 2.3 POP3 (STLS; the same setup as the IMAP one, pop3-login on the test port) <-> openssl
# s_client -starttls pop3; sends CAPA, AUTH EXTERNAL =, QUIT. The refusal is a POP3 -ERR inside TLS.
pop_cli() { os_client "$1"; CLI+=(-starttls pop3 -crlf -nocommands -keylogfile "$CK"); CLI_IN=pop3; CLOG_RE='^-ERR|^\+OK Logged in'; }
scn_dovecot-pop3-openssl-success-tls12()             { SCEN=success; DV_PROTO=pop3; dovecot_server 1.2; pop_cli 1.2; ok; }
scn_dovecot-pop3-openssl-untrusted-client-ca-tls12() { SCEN=untrusted-client-ca; DV_PROTO=pop3; CCERT=client-untrusted CKEY=client-untrusted CCHAIN=0; dovecot_server 1.2; pop_cli 1.2; OUTCOME=failed REJBY=server REJ=application CAUSE=application_rejected; }
# vsftpd 3.0.3 (AUTH TLS, require_cert + validate_cert) <-> openssl s_client -starttls ftp;
# sends FEAT, PBSZ 0, PROT P, QUIT.
ftp_cli() { os_client "$1"; CLI+=(-starttls ftp -crlf -nocommands -keylogfile "$CK"); CLI_IN=ftp; }
scn_vsftpd-openssl-success-tls12()             { vsftpd_server 1.2; ftp_cli 1.2; ok; }
scn_vsftpd-openssl-untrusted-client-ca-tls12() { CCERT=client-untrusted CKEY=client-untrusted CCHAIN=0; vsftpd_server 1.2; ftp_cli 1.2; srv_rejects client_certificate unknown_ca; }
# OpenLDAP slapd 2.5 (StartTLS, TLSVerifyClient demand; GnuTLS) <-> ldapsearch -ZZ (libldap, GnuTLS;
# LDAPTLS_CERT/LDAPTLS_KEY). A GnuTLS client sends only a certificate whose issuer is in the
# server's CertificateRequest CA list: with the untrusted-root certificate it sends none.
scn_slapd-ldapsearch-success-tls12()                 { slapd_server 1.2; ldapsearch_client 1.2; ok; }
scn_slapd-ldapsearch-ca-list-excludes-issuer-tls12() { LD_CERT=client-untrusted.crt LD_KEY=client-untrusted.key; slapd_server 1.2; ldapsearch_client 1.2; srv_rejects client_certificate no_client_certificate; }
# slapd <-> openssl s_client -starttls ldap: OpenSSL sends the untrusted certificate anyway; slapd
# completes the handshake (its CCS + Finished), checks the certificate after gnutls_handshake
# returns ("TLS: can't accept: (unknown error code)") and closes with a FIN, no alert; s_client
# answers the EOF with an encrypted decode_error(50). tlsblame reads it as the server's
# post-handshake rejection (rule post-handshake-server-close-untrusted-client).
scn_slapd-openssl-untrusted-client-ca-tls12()        { CCERT=client-untrusted CKEY=client-untrusted CCHAIN=0; slapd_server 1.2; os_client 1.2; CLI+=(-starttls ldap -keylogfile "$CK"); CLI_IN=none; srv_rejects client_certificate unknown_ca; }

# MariaDB 10.11 (MySQL SSL Request, then TLS; ssl_ca = root, account REQUIRE X509) <-> mariadb
# client (libmariadb, OpenSSL; --ssl-verify-server-cert). No key log: neither side writes one.
scn_mariadb-mysql-success-tls12()             { mariadb_server 1.2; mysql_client 1.2; ok; }
scn_mariadb-mysql-untrusted-client-ca-tls12() { MY_CERT=client-untrusted.crt MY_KEY=client-untrusted.key; mariadb_server 1.2; mysql_client 1.2; srv_rejects client_certificate unknown_ca; }

# Prosody 0.12 XMPP c2s (STARTTLS, c2s_require_encryption; LuaSec/OpenSSL) <-> openssl s_client
# -starttls xmpp -xmpphost server.test (a key log in TLS 1.2 too); inside TLS the client restarts the
# stream and closes it. No client-certificate authentication in stock Prosody: server-side scenarios.
xp_cli() { os_client "$1"; CLI+=(-starttls xmpp -xmpphost server.test -nocommands); [ "$1" = 1.2 ] && CLI+=(-keylogfile "$CK"); CLI_IN=xmpp; CLOG_RE='verify error|Verification error|alert|error|^New, TLS'; }
scn_prosody-openssl-success-tls12()           { prosody_server 1.2; xp_cli 1.2; ok; }
scn_prosody-openssl-hostname-mismatch-tls12() { XP_CERT=server-wronghost; prosody_server 1.2; xp_cli 1.2; cli_rejects server_certificate hostname_mismatch; }

# ---- capture defects -----------------------------------------------------------------------------
# a segment of the client's certificate flight is missing from the capture
pre_openssl-client-flight-gap-tls12() { NET=veth-mtu; }
scn_openssl-client-flight-gap-tls12() { osos 1.2; POST=drop_client_segment; OUTCOME=incomplete REJBY=unknown REJ=unknown CAUSE=incomplete_capture; }
# the capture file ends in the middle of a packet (cut like head -c) during the server's first flight
scn_openssl-truncated-tls12() { osos 1.2; POST=truncate_mid_packet; OUTCOME=incomplete REJBY=unknown REJ=unknown CAUSE=incomplete_capture; }
