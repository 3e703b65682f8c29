#ifndef TLSBLAME_SESSION_H
#define TLSBLAME_SESSION_H
/*
 * session.h - one record per TCP connection: endpoints, TCP facts, the TLS
 * timeline and negotiated parameters, both chains, and what later stages
 * derive. Written by the TLS layer (tls.c), read by facts, rules, reports.
 * Every derived string lives in the session's arena.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tlsblame/arena.h"
#include "tlsblame/buf.h"
#include "tlsblame/chain.h"
#include "tlsblame/common.h"
#include "tlsblame/limits.h"
#include "tlsblame/x509.h"

struct tb_endpoint {
    char ip[48];   /* text form, no name resolution */
    uint16_t port;
};

/* "10.0.0.1:443", "[2001:db8::1]:443" */
#define TB_ENDPOINT_STR_LEN 64
void tb_endpoint_str(const struct tb_endpoint *e, char out[TB_ENDPOINT_STR_LEN]);

enum tb_event_kind {
    TB_EV_HANDSHAKE,      /* hs_type set */
    TB_EV_CCS,
    TB_EV_ALERT,
    TB_EV_APPDATA,        /* first application_data record of a run; records/bytes count the run */
    TB_EV_ENCRYPTED_HS,   /* records that could not be read */
    TB_EV_HEARTBEAT,
    TB_EV_FIN,
    TB_EV_RST,
    TB_EV_GAP,            /* bytes the capture never saw */
    TB_EV_NOT_TLS,        /* this direction stopped looking like TLS */
    TB_EV_PREAMBLE,       /* STARTTLS-style plaintext before TLS */
};

/* TLS HandshakeType (RFC 8446 4 / RFC 5246 7.4) */
enum tb_hs_type {
    TB_HS_HELLO_REQUEST = 0,
    TB_HS_CLIENT_HELLO = 1,
    TB_HS_SERVER_HELLO = 2,
    TB_HS_HELLO_VERIFY_REQUEST = 3,
    TB_HS_NEW_SESSION_TICKET = 4,
    TB_HS_END_OF_EARLY_DATA = 5,
    TB_HS_HELLO_RETRY_REQUEST = 6, /* pseudo type: a ServerHello with the HRR random */
    TB_HS_ENCRYPTED_EXTENSIONS = 8,
    TB_HS_CERTIFICATE = 11,
    TB_HS_SERVER_KEY_EXCHANGE = 12,
    TB_HS_CERTIFICATE_REQUEST = 13,
    TB_HS_SERVER_HELLO_DONE = 14,
    TB_HS_CERTIFICATE_VERIFY = 15,
    TB_HS_CLIENT_KEY_EXCHANGE = 16,
    TB_HS_FINISHED = 20,
    TB_HS_CERTIFICATE_URL = 21,
    TB_HS_CERTIFICATE_STATUS = 22,
    TB_HS_KEY_UPDATE = 24,
    TB_HS_MESSAGE_HASH = 254,
};

struct tb_event {
    enum tb_event_kind kind;
    enum tb_dir dir;
    uint64_t frame;
    int64_t ts_us;
    uint8_t hs_type;          /* TB_EV_HANDSHAKE */
    uint16_t count;           /* certificates in a Certificate message */
    uint32_t length;          /* message or record length */
    uint8_t alert_level;      /* TB_EV_ALERT; 0 when encrypted */
    uint8_t alert_desc;
    bool encrypted;           /* alert or handshake inside an encrypted record */
    bool decrypted;           /* learnt through a key log */
    uint32_t records;         /* TB_EV_APPDATA / TB_EV_ENCRYPTED_HS: records in this run */
    uint64_t bytes;           /* ... and their payload bytes; TB_EV_GAP: bytes missing */
    const char *note;         /* arena string or NULL (preamble text, parse error) */
};

struct tb_alert {
    enum tb_dir dir;
    uint64_t frame;
    int64_t ts_us;
    uint8_t level;            /* 1 warning, 2 fatal, 0 unknown (encrypted) */
    uint8_t desc;
    bool encrypted;
    bool decrypted;
    bool likely_fatal;        /* encrypted: sent where a close_notify would not be */
    bool after_peer_close;    /* sent after the peer's FIN/RST: a reaction, not a rejection */
    int after_event;          /* index in events of the alert */
};

struct tb_u16_list {
    uint16_t v[TB_MAX_LIST];
    uint16_t count;           /* kept */
    uint32_t total;           /* seen on the wire (count < total: capped) */
};

struct tb_client_hello {
    bool seen;
    uint64_t frame;
    uint16_t legacy_version;
    uint8_t random[32];
    uint8_t session_id[32];
    uint8_t session_id_len;
    struct tb_u16_list cipher_suites;
    struct tb_u16_list versions;        /* supported_versions */
    struct tb_u16_list sig_algs;
    struct tb_u16_list sig_algs_cert;
    struct tb_u16_list groups;
    struct tb_u16_list key_share_groups;
    struct tb_u16_list extensions;      /* types in order (JA3/JA4) */
    struct tb_u16_list ec_point_formats;
    const char *sni;                    /* arena, raw bytes NUL-terminated (escaped on output) */
    size_t sni_len;
    const char *alpn[TB_MAX_ALPN];
    size_t alpn_count;
    size_t ca_names_count;              /* certificate_authorities extension */
    bool has_psk, has_early_data, has_ech, has_post_handshake_auth, has_status_request;
    bool has_extended_master_secret, has_renegotiation_info, has_session_ticket;
    bool sslv2_format;
};

struct tb_server_hello {
    bool seen;
    uint64_t frame;
    uint16_t legacy_version;
    uint16_t version;                   /* negotiated (supported_versions wins) */
    uint8_t random[32];
    uint8_t session_id[32];
    uint8_t session_id_len;
    uint16_t cipher;
    uint8_t compression;
    const char *alpn;                   /* selected, arena */
    struct tb_u16_list extensions;
    bool hrr_seen;                      /* a HelloRetryRequest came first */
    uint16_t hrr_group;
    bool has_extended_master_secret;
};

struct tb_chain {
    bool seen;                          /* a Certificate message was read */
    uint64_t frame;
    int64_t ts_us;
    uint32_t msg_len;
    const struct tb_cert *certs[TB_MAX_CERTS]; /* references held in the cert cache */
    size_t count;                       /* kept */
    size_t total;                       /* in the message */
    bool analyzed;
    struct tb_chain_report report;
};

struct tb_cert_request {
    bool seen;
    uint64_t frame;
    bool tls13;
    uint8_t cert_types[32];
    size_t cert_types_count;
    struct tb_u16_list sig_algs;
    struct tb_u16_list sig_algs_cert;
    /* Arena arrays of TB_MAX_CA_NAMES, made at the first name (NULL before: a
     * session is cleared whole when it starts, and most have no CA list). */
    const uint8_t **ca_der;             /* arena copies of DER Names */
    size_t *ca_len;
    const char **ca_names;              /* RFC 4514, arena */
    size_t ca_count;                    /* kept */
    size_t ca_total;                    /* in the message */
};

struct tb_cert_verify {
    bool seen;
    uint64_t frame;
    enum tb_dir dir;
    uint16_t sig_alg;                   /* 0 for TLS 1.0/1.1 */
    const uint8_t *sig;                 /* arena copy */
    size_t sig_len;
    size_t transcript_len;              /* bytes of transcript before this message */
    enum tb_tri offered;                /* sig_alg among the peer's offered schemes */
    enum tb_tri valid;                  /* filled by the certificate stage */
    const char *why;                    /* arena */
};

enum tb_outcome { TB_OUTCOME_UNKNOWN = 0, TB_OUTCOME_SUCCESS, TB_OUTCOME_FAILED, TB_OUTCOME_INCOMPLETE };

/* Anomaly bits: things that went wrong in the capture or the bytes. */
#define TB_ANOM_GAP_C2S (1u << 0)
#define TB_ANOM_GAP_S2C (1u << 1)
#define TB_ANOM_OVERLAP_CONFLICT (1u << 2)
#define TB_ANOM_OOO_CAP (1u << 3)
#define TB_ANOM_EVICTED (1u << 4)
#define TB_ANOM_PARSE_C2S (1u << 5)
#define TB_ANOM_PARSE_S2C (1u << 6)
#define TB_ANOM_NOT_TLS_C2S (1u << 7)
#define TB_ANOM_NOT_TLS_S2C (1u << 8)
#define TB_ANOM_EVENTS_CAP (1u << 9)
#define TB_ANOM_NO_SYN (1u << 10)
#define TB_ANOM_CAPTURE_END (1u << 11)    /* capture ended with the handshake open */
#define TB_ANOM_ARENA_CAP (1u << 12)
#define TB_ANOM_SNAPLEN (1u << 13)

struct tb_dir_stats {
    uint64_t packets;
    uint64_t bytes;           /* TCP payload bytes */
    uint64_t gap_bytes;
    uint32_t gaps;
    uint64_t fin_frame, rst_frame;
    int64_t fin_ts_us, rst_ts_us;
    uint64_t appdata_records, appdata_bytes;
    uint64_t first_appdata_frame;
    uint32_t encrypted_hs_records;     /* TLS 1.3 / post-CCS handshake records */
    uint64_t encrypted_hs_bytes;       /* ...their ciphertext bytes (flight size estimate) */
    uint32_t post_hs_records_before_appdata;
    const char *parse_error;           /* arena: first parse error in this direction */
    uint64_t parse_error_frame;
    bool saw_ccs;
    bool saw_finished;                 /* plaintext or decrypted Finished, or encrypted after CCS */
};

struct tb_session {
    uint64_t id;                       /* 1-based, order of first packet within the input */
    const char *file;                  /* input name (borrowed from the config) */
    uint64_t first_frame, last_frame;
    int64_t start_us, end_us;
    struct tb_endpoint client, server;
    bool is_ipv6;
    bool saw_syn;
    bool client_by_guess;              /* client chosen without SYN or ClientHello */
    struct tb_dir_stats dir[TB_DIR_COUNT];
    uint32_t anomalies;                /* TB_ANOM_* */

    bool is_tls;                       /* a TLS record was recognised */
    const char *preamble_protocol;     /* "SMTP", "IMAP", ... for STARTTLS, or NULL */
    const char *preamble_refusal;      /* plaintext refusal line, or NULL */
    struct tb_client_hello ch;
    struct tb_server_hello sh;
    uint16_t version;                  /* negotiated, 0 if unknown */
    bool tls13;
    bool resumed;
    struct tb_chain chain[TB_DIR_COUNT]; /* [C2S] client chain, [S2C] server chain */
    struct tb_cert_request cr;
    struct tb_cert_verify cv;          /* client's CertificateVerify */
    struct tb_cert_verify scv;         /* server's CertificateVerify (1.3, decrypted) */
    uint16_t ske_sig_alg;
    enum tb_tri ske_valid;
    enum tb_tri client_sent_certificate; /* UNKNOWN: encrypted and not estimated */
    const char *client_cert_estimate;  /* basis of a TLS 1.3 size estimate, or NULL */
    bool decrypted;                    /* a key log opened the handshake */
    const char *app_first_line[TB_DIR_COUNT]; /* decrypted first app line, or NULL */
    const char *app_refusal;           /* decrypted server line refusing the client, or NULL */

    struct tb_event *events;           /* arena array, grown by doubling up to TB_MAX_EVENTS */
    size_t event_count;
    size_t event_cap;
    struct tb_alert alerts[TB_MAX_ALERTS];
    size_t alert_count;

    enum tb_outcome outcome;

    /* nDPI */
    const char *ndpi_protocol, *ndpi_app, *ndpi_category, *ja3, *ja3s, *ja4;
    const char *ndpi_risks[16];
    size_t ndpi_risk_count;

    struct tb_arena arena;
};

void tb_session_init(struct tb_session *s, uint64_t id, const char *file);
/* Releases certificate references and the arena. */
void tb_session_fini(struct tb_session *s, struct tb_certcache *cache);
/* Append a timeline event (capped: sets TB_ANOM_EVENTS_CAP). Returns it or NULL. */
struct tb_event *tb_session_add_event(struct tb_session *s, enum tb_event_kind kind, enum tb_dir dir,
                                      uint64_t frame, int64_t ts_us);
/* First fatal (or encrypted) alert, or NULL. */
const struct tb_alert *tb_session_first_fatal(const struct tb_session *s);
const char *tb_outcome_name(enum tb_outcome o);
/* The status code of an HTTP response line ("HTTP/1.1 403 Forbidden": 403), or -1. */
int tb_http_status(const char *line);
/* This direction's first FIN or RST, whichever came first; 0 if neither. */
uint64_t tb_tcp_close_frame(const struct tb_dir_stats *d);
/* Frame of this side's first FIN, RST or alert; 0 if none. */
uint64_t tb_session_close_frame(const struct tb_session *s, enum tb_dir dir);

#endif
