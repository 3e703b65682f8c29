#ifndef TLSBLAME_TLS_INT_H
#define TLSBLAME_TLS_INT_H
/* tls_int.h - state shared by record.c (framing) and hs.c (messages). */
#include "tlsblame/buf.h"
#include "tlsblame/tls.h"

#define TB_CT_CHANGE_CIPHER_SPEC 20
#define TB_CT_ALERT 21
#define TB_CT_HANDSHAKE 22
#define TB_CT_APPLICATION_DATA 23
#define TB_CT_HEARTBEAT 24

enum tls_dir_state {
    TLS_DIR_START,     /* nothing seen yet */
    TLS_DIR_PREAMBLE,  /* plaintext protocol before TLS (STARTTLS) */
    TLS_DIR_RECORDS,   /* reading records */
    TLS_DIR_LOST,      /* after a gap: looking for a record header again */
    TLS_DIR_NOT_TLS,   /* gave up on this direction */
};

struct tls_dir {
    enum tls_dir_state state;
    uint8_t sniff[6];            /* a first segment too short to classify, held */
    size_t sniff_len;
    uint8_t hdr[5];
    size_t hdr_len;              /* bytes of the current record header held */
    uint8_t rec_type;
    uint16_t rec_version;
    size_t rec_len;              /* body length of the current record */
    size_t rec_left;             /* body bytes still to come */
    bool rec_buffered;           /* body is kept (handshake, alert, CCS) or skipped */
    struct tb_buf rec;           /* body of the current record when buffered */
    struct tb_buf hs;            /* handshake bytes across records */
    bool encrypted;              /* records from this side are protected */
    bool saw_finished;
    bool done;                   /* no longer needs bytes */
    uint64_t preamble_bytes;
    int appdata_event;           /* index of the open application_data run, -1 */
    int enc_hs_event;            /* index of the open encrypted_handshake run, -1 */
    uint64_t last_rec_frame;
    size_t last_rec_len;
    uint8_t last_rec_type;
    bool last_rec_maybe_alert;   /* a TLS 1.3 record the size of an encrypted alert */
    int last_rec_event;
    uint32_t records_after_peer_flight;
    uint64_t flight_bytes;       /* TLS 1.3 client: encrypted handshake bytes */
    uint32_t flight_records;
    bool flight_closed;
    bool closed;
    /* decrypt: begin (tls_decrypt.c) */
    bool rec_decrypt;            /* the current record is buffered to be decrypted */
    bool dec_app_seen;           /* the first decrypted application data went by */
    size_t refusal_scanned;      /* decrypted application bytes looked at for a refusal */
    bool dec_key_update;         /* a decrypted KeyUpdate: new keys after this record */
    uint32_t dec_app_records;    /* application data decrypted (capped) */
    uint64_t dec_app_bytes;
    /* decrypt: end */
};

struct tb_tls {
    struct tb_session *s;
    struct tb_certcache *cache;
    struct tls_dir d[TB_DIR_COUNT];
    struct tb_buf transcript;    /* TLS <= 1.2 handshake messages, for CertificateVerify */
    bool transcript_frozen;
    bool transcript_over_cap;
    const uint8_t *ske_params;   /* arena copy */
    size_t ske_params_len;
    const uint8_t *ske_sig;
    size_t ske_sig_len;
    bool server_flight_started;  /* TLS 1.3: encrypted server records seen */
    bool client_flight_started;
    uint64_t server_app_records_after_client_data;
    uint64_t server_app_bytes_after_client_data;
    bool client_sent_appdata;
    /* decrypt: begin (tls_decrypt.c; t->transcript also holds TLS 1.3 CH..client Finished) */
    const struct tb_keylog *keylog;      /* borrowed: --keylog files and SSLKEYLOGFILE */
    const struct tb_keylog *keylog_file; /* borrowed: this capture's pcapng secrets */
    struct tb_decrypt *dec;              /* owned; NULL until keys are found */
    bool dec_tried;
    bool transcript13_done;              /* TLS 1.3: the client's Finished is in */
    /* decrypt: end */
};

/* hs.c */
void tb_hs_message(struct tb_tls *t, enum tb_dir dir, uint8_t type, const uint8_t *body,
                   size_t len, uint64_t frame, int64_t ts_us, bool decrypted);
void tb_tls_parse_error(struct tb_tls *t, enum tb_dir dir, uint64_t frame, const char *what,
                        enum tb_err err, size_t at);
void tb_tls_sslv2_client_hello(struct tb_tls *t, const uint8_t *msg, size_t len, uint64_t frame,
                               int64_t ts_us);

/* decrypt: begin */
/* tls_decrypt.c: key-log decryption of protected records. */
/* At a record header: buffer this record to decrypt it? (Also notes a renegotiation's CCS.) */
bool tb_tls_dec_wants(struct tb_tls *t, enum tb_dir dir, uint8_t type, bool encrypted_type);
/* A complete record marked rec_decrypt: true when it was consumed (decrypted or reported). */
bool tb_tls_dec_record(struct tb_tls *t, enum tb_dir dir, uint64_t frame, int64_t ts_us);
/* Bytes were lost: this direction's sequence numbers are unknown from here on. */
void tb_tls_dec_gap(struct tb_tls *t, enum tb_dir dir, uint64_t frame);
/* TLS 1.3 CertificateVerify checks over the decrypted transcript; false when not decrypted. */
bool tb_tls_dec_check_signatures(struct tb_tls *t);
void tb_tls_dec_free(struct tb_tls *t);
/* record.c: the plaintext paths, taken by decrypted records. */
void tb_tls_rec_handshake(struct tb_tls *t, enum tb_dir dir, const uint8_t *p, size_t n,
                          uint64_t frame, int64_t ts_us);
void tb_tls_rec_alert(struct tb_tls *t, enum tb_dir dir, uint8_t level, uint8_t desc,
                      bool encrypted, uint64_t frame, int64_t ts_us);
void tb_tls_rec_encrypted(struct tb_tls *t, enum tb_dir dir, uint8_t type, size_t len,
                          uint64_t frame, int64_t ts_us);
/* decrypt: end */

#endif
