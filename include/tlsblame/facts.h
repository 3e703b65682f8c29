#ifndef TLSBLAME_FACTS_H
#define TLSBLAME_FACTS_H
/*
 * facts.h - the fact catalogue: the contract between the C code and the
 * rules. Every fact has one name, spelled the same in C (TB_F_<name>), in
 * YAML and in tlsblame-rules(5), which is checked against this table.
 * A fact may be unknown (null): TLS 1.3 without keys, a message never seen.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tlsblame/arena.h"
#include "tlsblame/session.h"

enum tb_fact_type { TB_FT_BOOL, TB_FT_INT, TB_FT_STR, TB_FT_LIST };

/* X(name, type, description) */
#define TB_FACTS(X)                                                                                \
    X(outcome, STR, "success, failed, incomplete or unknown")                                      \
    X(version, STR, "negotiated version, \"TLS 1.2\"; null if never negotiated")                   \
    X(version_code, INT, "negotiated version as a number, 0x0303 = 771")                           \
    X(tls13, BOOL, "TLS 1.3 was negotiated")                                                       \
    X(client_max_version, STR, "highest version the client offered")                               \
    X(client_versions, LIST, "versions the client offered, highest first")                         \
    X(resumed, BOOL, "an abbreviated (resumed) handshake")                                         \
    X(hrr, BOOL, "the server sent a HelloRetryRequest")                                            \
    X(cipher, STR, "negotiated cipher suite name")                                                 \
    X(cipher_count, INT, "cipher suites the client offered")                                       \
    X(sni, STR, "server_name the client sent")                                                     \
    X(alpn_offered, LIST, "ALPN protocols the client offered")                                     \
    X(alpn_selected, STR, "ALPN protocol the server selected")                                     \
    X(client, STR, "client ip:port")                                                               \
    X(server, STR, "server ip:port")                                                               \
    X(server_port, INT, "server TCP port")                                                         \
    X(protocol, STR, "application protocol carrying TLS (STARTTLS preamble or nDPI), or null")     \
    X(preamble_refusal, STR, "plaintext refusal before TLS (\"454 TLS not available\")")           \
    X(saw_syn, BOOL, "the capture has the connection's SYN")                                       \
    X(stage, STR,                                                                                  \
      "furthest point reached: none, client_hello, server_hello, client_finished, "               \
      "server_finished, application_data")                                                         \
    X(handshake_complete, BOOL, "both sides finished the handshake")                               \
    X(client_hello_seen, BOOL, "a ClientHello was read")                                           \
    X(server_hello_seen, BOOL, "a ServerHello was read")                                           \
    X(last_message, STR, "last handshake message on the wire before the failure, e.g. finished")   \
    X(last_message_by, STR, "client or server: who sent last_message")                             \
    X(alert, STR, "first fatal alert's name (unknown when encrypted)")                             \
    X(alert_code, INT, "first fatal alert's code")                                                 \
    X(alert_by, STR, "client or server: who sent the first fatal (or encrypted) alert")            \
    X(alert_encrypted, BOOL, "that alert was encrypted")                                           \
    X(alert_decrypted, BOOL, "that alert was encrypted and read with a key log")                   \
    X(alert_after, STR, "the last handshake message the alert sender received before it")         \
    X(alert_stage, STR, "stage when the alert was sent")                                           \
    X(warning_alerts, LIST, "names of warning-level alerts")                                       \
    X(close_notify_by, STR, "client or server: who sent close_notify first (plaintext)")           \
    X(closed_first_by, STR, "client or server: who closed first (FIN, RST or an alert)")                         \
    X(close_kind, STR, "fin, rst or alert: how closed_first_by closed")                                   \
    X(rst_by, STR, "client or server: who sent the first RST")                                     \
    X(closed_without_alert, BOOL, "the handshake stopped and a side closed without any alert")     \
    X(gaps, BOOL, "the capture is missing bytes of this connection")                               \
    X(gap_bytes, INT, "bytes the capture missed")                                                  \
    X(handshake_gap, BOOL, "bytes are missing before the handshake ended")                         \
    X(capture_ended_open, BOOL, "the capture ends while the handshake is still open")              \
    X(not_tls, BOOL, "a direction stopped looking like TLS")                                       \
    X(not_tls_by, STR, "client or server: the side whose bytes are not TLS")                       \
    X(parse_error, STR, "first TLS parse error, with direction")                                   \
    X(server_cert_seen, BOOL, "the server's Certificate was read")                                 \
    X(server_cert_count, INT, "certificates in the server's Certificate")                          \
    X(cert_requested, BOOL, "the server sent a CertificateRequest")                                \
    X(cr_ca_names, LIST, "CA names in the CertificateRequest (RFC 4514)")                          \
    X(cr_ca_count, INT, "number of CA names in the CertificateRequest")                            \
    X(cr_sig_algs, LIST, "signature schemes the CertificateRequest allows")                        \
    X(cr_cert_types, LIST, "TLS 1.2 certificate types the CertificateRequest allows")              \
    X(cr_sig_alg_count, INT, "signature schemes in the CertificateRequest")                        \
    X(cr_key_types, LIST,                                                                          \
      "client key types the CertificateRequest's schemes can serve: RSA, RSA-PSS, EC, Ed25519, "  \
      "Ed448, DSA")                                                                                \
    X(client_sent_certificate, BOOL, "the client's Certificate was non-empty")                    \
    X(client_cert_count, INT, "certificates in the client's Certificate")                          \
    X(client_cert_estimated, BOOL, "client_sent_certificate was estimated from encrypted sizes")   \
    X(client_cert_basis, STR, "how the TLS 1.3 estimate was made")                                 \
    X(client_flight_bytes, INT, "TLS 1.3: ciphertext bytes of the client's second flight")         \
    TB_CHAIN_FACTS(X, client)                                                                      \
    TB_CHAIN_FACTS(X, server)                                                                      \
    X(server_name_matches_sni, BOOL, "the server leaf is valid for the SNI (RFC 6125)")            \
    X(cv_seen, BOOL, "the client's CertificateVerify was read")                                    \
    X(cv_sig_alg, STR, "its signature scheme")                                                     \
    X(cv_offered, BOOL, "that scheme was in the server's CertificateRequest")                      \
    X(cv_valid, BOOL, "the signature verifies with the client leaf's key over the transcript")     \
    X(cv_why, STR, "why cv_valid is false or null")                                                \
    X(ske_sig_alg, STR, "ServerKeyExchange signature scheme")                                      \
    X(ske_valid, BOOL, "the ServerKeyExchange signature verifies with the server leaf's key")      \
    X(server_signature_valid, BOOL,                                                                \
      "the server's handshake signature verifies: ServerKeyExchange (TLS 1.2) or its "            \
      "CertificateVerify (TLS 1.3, decrypted)")                                                    \
    X(server_signature_alg, STR, "the scheme of that signature")                                   \
    X(app_records_c2s, INT, "application_data records from the client")                            \
    X(app_records_s2c, INT, "application_data records from the server")                            \
    X(app_bytes_s2c, INT, "application_data bytes from the server")                                \
    X(server_closed_after_request, BOOL,                                                           \
      "handshake complete, the client sent data, the server answered briefly (or not) and "       \
      "closed first")                                                                              \
    X(server_alert_after_client_finished, BOOL,                                                    \
      "TLS 1.3: an encrypted alert-sized server record right after the client's Finished")        \
    X(app_status_line, STR, "first line of decrypted server application data")                    \
    X(http_status, INT, "HTTP status code from app_status_line")                                   \
    X(app_refusal, STR,                                                                            \
      "decrypted server line refusing the client: HTTP 4xx/5xx, SMTP/FTP 4yz/5yz, IMAP NO/BAD, "  \
      "POP3 -ERR")                                                                                 \
    X(decrypted, BOOL, "a key log decrypted the handshake")                                        \
    X(trust_store, BOOL, "--ca-file was given")                                                    \
    X(ndpi_protocol, STR, "nDPI protocol name")                                                    \
    X(ndpi_risks, LIST, "nDPI flow risks")                                                         \
    X(ja3, STR, "JA3 of the ClientHello")                                                          \
    X(ja4, STR, "JA4 of the ClientHello")

/* Per-chain facts, X(client_leaf_subject, ...) and X(server_leaf_subject, ...). */
#define TB_CHAIN_FACTS(X, who)                                                                     \
    X(who##_leaf_subject, STR, "leaf subject (RFC 4514)")                                          \
    X(who##_leaf_issuer, STR, "leaf issuer (RFC 4514)")                                            \
    X(who##_leaf_key, STR, "leaf key, \"RSA 2048\", \"EC P-256\"")                                 \
    X(who##_leaf_key_bits, INT, "leaf key size in bits")                                           \
    X(who##_leaf_sig_alg, STR, "leaf signature algorithm")                                         \
    X(who##_leaf_eku, LIST, "leaf extended key usages")                                            \
    X(who##_leaf_key_usage, LIST, "leaf key usages")                                               \
    X(who##_leaf_not_before, STR, "leaf notBefore, RFC 3339")                                      \
    X(who##_leaf_not_after, STR, "leaf notAfter, RFC 3339")                                        \
    X(who##_leaf_san, LIST, "leaf subject alternative names")                                      \
    X(who##_chain_length, INT, "certificates in the chain")                                        \
    X(who##_chain_parse_error, STR, "mbedTLS's error for a certificate it refused")                 \
    X(who##_chain_order_ok, BOOL, "each certificate is issued by the next")                        \
    X(who##_chain_expired, BOOL, "a certificate had expired at capture time")                      \
    X(who##_chain_expired_subject, STR, "which one")                                               \
    X(who##_chain_expired_days, INT, "days between its notAfter and the capture")                  \
    X(who##_chain_not_yet_valid, BOOL, "a certificate was not yet valid at capture time")          \
    X(who##_chain_not_yet_valid_days, INT, "days between the capture and its notBefore")           \
    X(who##_chain_self_signed, BOOL, "the leaf is self-signed")                                    \
    X(who##_chain_root_included, BOOL, "the last certificate is a self-signed root")               \
    X(who##_chain_missing_intermediate, BOOL, "the last certificate's issuer is missing")          \
    X(who##_chain_missing_issuer, STR, "name of the missing issuer")                               \
    X(who##_chain_missing_issuer_in_store, BOOL,                                                   \
      "--ca-file holds the missing issuer as an intermediate (false: it does not know it)")       \
    X(who##_chain_eku_ok, BOOL, "the leaf's EKU allows this side's role")                          \
    X(who##_chain_ku_ok, BOOL, "the leaf's KeyUsage allows digitalSignature")                      \
    X(who##_chain_intermediates_ca, BOOL, "every issuer in the chain is a CA")                     \
    X(who##_chain_weak_key, BOOL, "a key is too small (RSA < 2048, EC < 224)")                     \
    X(who##_chain_weak_key_desc, STR, "which key")                                                 \
    X(who##_chain_weak_signature, BOOL, "a certificate is signed with MD5 or SHA-1")               \
    X(who##_chain_weak_signature_desc, STR, "which signature")                                     \
    X(who##_chain_issuer_in_ca_list, BOOL, "an issuer in the chain is in the CertificateRequest")  \
    X(who##_chain_key_type_allowed, BOOL, "the leaf key type is in the TLS 1.2 certificate_types") \
    X(who##_chain_leaf_sig_alg_offered, BOOL, "the leaf's signature algorithm was offered")        \
    X(who##_chain_trusted, BOOL, "the chain verifies against --ca-file at capture time")           \
    X(who##_chain_verify_error, STR, "why it does not")

enum tb_fact_id {
#define TB_FACT_ENUM(name, type, doc) TB_F_##name,
    TB_FACTS(TB_FACT_ENUM)
#undef TB_FACT_ENUM
        TB_F__COUNT
};

struct tb_fact_desc {
    const char *name;
    enum tb_fact_type type;
    const char *doc;
};

extern const struct tb_fact_desc tb_fact_table[TB_F__COUNT];
const char *tb_fact_type_name(enum tb_fact_type t);  /* "bool", "int", "string", "list" */
/* Index of a fact by name, or -1. */
int tb_fact_lookup(const char *name);

struct tb_fact_value {
    bool known;            /* false: null */
    bool b;
    int64_t i;
    const char *s;
    const char *const *list;
    size_t list_count;
};

struct tb_facts {
    const struct tb_session *session;
    struct tb_fact_value v[TB_F__COUNT];
};

/* Derive every fact of a session; strings go to the session's arena. */
void tb_facts_compute(struct tb_session *s, bool have_trust_store, struct tb_facts *out);
/* Render a fact's value as text ("true", "42", "a, b") into the arena; "unknown" when null. */
const char *tb_fact_to_text(const struct tb_fact_value *v, enum tb_fact_type t, struct tb_arena *a);

#endif
