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
};

/* hs.c */
void tb_hs_message(struct tb_tls *t, enum tb_dir dir, uint8_t type, const uint8_t *body,
                   size_t len, uint64_t frame, int64_t ts_us, bool decrypted);
void tb_tls_parse_error(struct tb_tls *t, enum tb_dir dir, uint64_t frame, const char *what,
                        enum tb_err err, size_t at);
void tb_tls_sslv2_client_hello(struct tb_tls *t, const uint8_t *msg, size_t len, uint64_t frame,
                               int64_t ts_us);

#endif
