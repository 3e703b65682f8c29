/*
 * record.c - TLS record framing per direction (RFC 5246 6.2, RFC 8446 5),
 * between reassembly and hs.c. Handshake, alert and CCS bodies are buffered
 * (capped); application data and encrypted records are counted and skipped
 * without copying. A direction whose bytes stop looking like TLS is marked
 * so and left alone; after a capture gap it resynchronises on the next
 * plausible record header or stays lost: it never reports a message that
 * was not there.
 */
#include <stdlib.h>
#include <string.h>

#include "tls_int.h"
#include "tlsblame/cv.h"
#include "tlsblame/limits.h"
#include "tlsblame/names.h"
#include "tlsblame/reader.h"

#define PREAMBLE_MAX (64u * 1024u)
/* Application records per direction we still look at once the handshake is over. */
#define APPDATA_RECORDS_WATCHED 16
/*
 * TLS 1.3 encrypted alert: 2 bytes + inner type + 16-byte AEAD tag = 19 (RFC
 * 8446 5.2), more with record padding (JSSE's alerts are 35 bytes). Anything
 * up to this size is smaller than any Finished (hash + 4 + 17 >= 53).
 */
#define TLS13_ALERT_RECORD_MAX 40

struct tb_tls *tb_tls_new(struct tb_session *s, struct tb_certcache *cache)
{
    struct tb_tls *t = calloc(1, sizeof *t);

    if (t == NULL) {
        return NULL;
    }
    t->s = s;
    t->cache = cache;
    for (int i = 0; i < TB_DIR_COUNT; i++) {
        tb_buf_init(&t->d[i].rec, TB_MAX_RECORD_LEN);
        tb_buf_init(&t->d[i].hs, TB_MAX_HS_MSG + 4);
        t->d[i].appdata_event = -1;
        t->d[i].enc_hs_event = -1;
        t->d[i].last_rec_event = -1;
    }
    tb_buf_init(&t->transcript, TB_MAX_TRANSCRIPT);
    return t;
}

void tb_tls_free(struct tb_tls *t)
{
    if (t == NULL) {
        return;
    }
    for (int i = 0; i < TB_DIR_COUNT; i++) {
        tb_buf_fini(&t->d[i].rec);
        tb_buf_fini(&t->d[i].hs);
    }
    tb_buf_fini(&t->transcript);
    tb_tls_dec_free(t); /* decrypt */
    free(t);
}

static bool plausible_header(uint8_t type, uint16_t version, size_t len)
{
    if (type < TB_CT_CHANGE_CIPHER_SPEC || type > TB_CT_HEARTBEAT) {
        return false;
    }
    if ((version >> 8) != 3 || (version & 0xff) > 4) {
        return false;
    }
    return len <= TB_MAX_RECORD_LEN;
}

/*
 * A header with a TLS content type and version but a length over the cap: TLS
 * that is broken (RFC 5246 6.2.3, record_overflow), not a plaintext preamble.
 */
static bool oversized_header(const uint8_t *bytes, size_t len)
{
    struct tb_reader r = tb_rd_init(bytes, len);
    uint8_t type = tb_rd_u8(&r);
    uint16_t version = tb_rd_u16(&r);
    uint16_t rec_len = tb_rd_u16(&r);

    return tb_rd_ok(&r) && rec_len > TB_MAX_RECORD_LEN && plausible_header(type, version, 0);
}

enum tb_tls_sniff tb_tls_sniff(const uint8_t *bytes, size_t len)
{
    struct tb_reader r = tb_rd_init(bytes, len);

    /* SSL 2.0 compatible CLIENT-HELLO: 2-byte length with the high bit, msg_type 1,
     * then a version 0x0002 or 0x03xx (RFC 5246 E.2). */
    if ((tb_rd_peek_u8(&r, 0) & 0x80) != 0 && tb_rd_peek_u8(&r, 2) == 1 &&
        (tb_rd_peek_u16(&r, 3) == 0x0002 || tb_rd_peek_u8(&r, 3) == 3)) {
        return TB_SNIFF_CLIENT_HELLO;
    }
    uint8_t type = tb_rd_u8(&r);
    uint16_t version = tb_rd_u16(&r);
    uint16_t rec_len = tb_rd_u16(&r);
    uint8_t hs_type = tb_rd_u8(&r);

    if (!tb_rd_ok(&r)) {
        return TB_SNIFF_NOT_TLS;
    }
    if (!plausible_header(type, version, rec_len)) {
        return TB_SNIFF_NOT_TLS;
    }
    if (type == TB_CT_HANDSHAKE && hs_type == TB_HS_CLIENT_HELLO) {
        return TB_SNIFF_CLIENT_HELLO;
    }
    if (type == TB_CT_HANDSHAKE && hs_type == TB_HS_SERVER_HELLO) {
        return TB_SNIFF_SERVER_HELLO;
    }
    return TB_SNIFF_TLS;
}

static void close_runs(struct tls_dir *d)
{
    d->appdata_event = -1;
    d->enc_hs_event = -1;
}

static struct tb_event *event_at(struct tb_tls *t, int idx)
{
    if (idx < 0 || (size_t)idx >= t->s->event_count) {
        return NULL;
    }
    return &t->s->events[idx];
}

static void add_alert(struct tb_tls *t, enum tb_dir dir, uint8_t level, uint8_t desc,
                      bool encrypted, uint64_t frame, int64_t ts_us)
{
    struct tb_session *s = t->s;
    struct tb_event *e = tb_session_add_event(s, TB_EV_ALERT, dir, frame, ts_us);

    if (e != NULL) {
        e->alert_level = level;
        e->alert_desc = desc;
        e->encrypted = encrypted;
    }
    if (s->alert_count < TB_MAX_ALERTS) {
        struct tb_alert *a = &s->alerts[s->alert_count++];
        a->dir = dir;
        a->frame = frame;
        a->ts_us = ts_us;
        a->level = level;
        a->desc = desc;
        a->encrypted = encrypted;
        a->after_event = (int)s->event_count - 1;
    }
}

static void mark_not_tls(struct tb_tls *t, enum tb_dir dir, uint64_t frame, int64_t ts_us,
                         const char *why)
{
    struct tls_dir *d = &t->d[dir];
    struct tb_event *e;

    if (d->state == TLS_DIR_NOT_TLS) {
        return;
    }
    d->state = TLS_DIR_NOT_TLS;
    d->done = true;
    t->s->anomalies |= dir == TB_DIR_C2S ? TB_ANOM_NOT_TLS_C2S : TB_ANOM_NOT_TLS_S2C;
    e = tb_session_add_event(t->s, TB_EV_NOT_TLS, dir, frame, ts_us);
    if (e != NULL) {
        e->note = why;
    }
}

/* Handshake bytes of one record: cut into messages (several per record, or one across many). */
static void handshake_bytes(struct tb_tls *t, enum tb_dir dir, const uint8_t *p, size_t n,
                            uint64_t frame, int64_t ts_us, bool decrypted)
{
    struct tls_dir *d = &t->d[dir];

    if (tb_buf_append(&d->hs, p, n) != TB_OK) {
        tb_tls_parse_error(t, dir, frame, "handshake message", TB_ERR_CAP, d->hs.len);
        mark_not_tls(t, dir, frame, ts_us, "handshake message over the size cap");
        return;
    }
    for (;;) {
        struct tb_reader r = tb_rd_init(d->hs.bytes, d->hs.len);
        uint8_t type = tb_rd_u8(&r);
        uint32_t len = tb_rd_u24(&r);
        if (!tb_rd_ok(&r)) {
            return; /* header not complete yet */
        }
        if (len > TB_MAX_HS_MSG) {
            struct tb_name_buf nb;
            tb_tls_parse_error(t, dir, frame, tb_hs_type_name(type, &nb), TB_ERR_CAP, 1);
            mark_not_tls(t, dir, frame, ts_us, "handshake message length over the cap");
            tb_buf_clear(&d->hs);
            return;
        }
        const uint8_t *body = tb_rd_bytes(&r, len);
        if (body == NULL) {
            return; /* wait for the rest */
        }
        tb_hs_message(t, dir, type, body, len, frame, ts_us, decrypted);
        tb_buf_consume(&d->hs, 4 + (size_t)len);
        if (d->state == TLS_DIR_NOT_TLS) {
            return;
        }
    }
}

static void on_ccs(struct tb_tls *t, enum tb_dir dir, uint64_t frame, int64_t ts_us)
{
    struct tb_session *s = t->s;

    tb_session_add_event(s, TB_EV_CCS, dir, frame, ts_us);
    s->dir[dir].saw_ccs = true;
    if (s->tls13 || (s->sh.hrr_seen && !s->sh.seen) ||
        (dir == TB_DIR_C2S && !s->sh.seen && s->ch.has_early_data)) {
        /* RFC 8446 D.4 middlebox compatibility (also the client's CCS after a
         * HelloRetryRequest or before early data): changes nothing. */
        return;
    }
    t->d[dir].encrypted = true;
    /* A 1.2 server that sends CCS before any Certificate resumed a session (ticket or id). */
    if (dir == TB_DIR_S2C && s->sh.seen && !s->chain[TB_DIR_S2C].seen && !s->cr.seen) {
        struct tb_name_buf nb;
        const char *cipher = tb_cipher_name(s->sh.cipher, &nb);
        if (strstr(cipher, "PSK") == NULL && strstr(cipher, "anon") == NULL) {
            s->resumed = true;
        }
    }
}

/* An encrypted record: a run on the timeline, and flight sizes for TLS 1.3 estimates. */
static void encrypted_record(struct tb_tls *t, enum tb_dir dir, uint8_t type, size_t len,
                             uint64_t frame, int64_t ts_us)
{
    struct tb_session *s = t->s;
    struct tls_dir *d = &t->d[dir];
    struct tls_dir *peer = &t->d[tb_dir_other(dir)];
    enum tb_event_kind kind = TB_EV_APPDATA;

    if (s->tls13 && type == TB_CT_APPLICATION_DATA) {
        /* RFC 8446: after ServerHello everything is application_data on the wire. The
         * first run from each side is its encrypted handshake flight. */
        if (dir == TB_DIR_S2C && !t->client_flight_started) {
            kind = TB_EV_ENCRYPTED_HS;
            t->server_flight_started = true;
        } else if (dir == TB_DIR_C2S && !d->flight_closed && s->sh.seen) {
            kind = TB_EV_ENCRYPTED_HS;
            t->client_flight_started = true;
            d->flight_bytes += len;
            d->flight_records++;
        }
        if (dir == TB_DIR_S2C && t->client_flight_started) {
            /* The server answered: the client's flight is over. */
            t->d[TB_DIR_C2S].flight_closed = true;
        }
    } else if (type == TB_CT_HANDSHAKE) {
        kind = TB_EV_ENCRYPTED_HS; /* TLS <= 1.2 Finished, or a renegotiation */
        d->saw_finished = true;
        s->dir[dir].saw_finished = true;
    }
    if (kind == TB_EV_APPDATA) {
        s->dir[dir].appdata_records++;
        s->dir[dir].appdata_bytes += len;
        if (s->dir[dir].first_appdata_frame == 0) {
            s->dir[dir].first_appdata_frame = frame;
        }
        if (dir == TB_DIR_C2S) {
            t->client_sent_appdata = true;
            if (s->tls13) {
                d->flight_closed = true;
            }
        } else if (t->client_sent_appdata) {
            t->server_app_records_after_client_data++;
            t->server_app_bytes_after_client_data += len;
        }
    } else {
        s->dir[dir].encrypted_hs_records++;
        s->dir[dir].encrypted_hs_bytes += len;
    }
    (void)peer;
    /* Runs: consecutive records of the same kind from the same side are one event. */
    int *open = kind == TB_EV_APPDATA ? &d->appdata_event : &d->enc_hs_event;
    struct tb_event *e = event_at(t, *open);
    bool last_is_ours = *open >= 0 && (size_t)*open == s->event_count - 1;
    bool may_be_alert = s->tls13 && len <= TLS13_ALERT_RECORD_MAX && kind == TB_EV_APPDATA;
    if (e != NULL && last_is_ours && !may_be_alert && !d->last_rec_maybe_alert) {
        e->records++;
        e->bytes += len;
    } else {
        close_runs(d);
        e = tb_session_add_event(s, kind, dir, frame, ts_us);
        if (e != NULL) {
            e->records = 1;
            e->bytes = len;
            e->length = (uint32_t)len;
            *open = (int)s->event_count - 1;
        }
    }
    d->last_rec_maybe_alert = may_be_alert;
    d->last_rec_event = *open;
    d->last_rec_frame = frame;
    d->last_rec_len = len;
    d->last_rec_type = type;
}

static void appdata_watch(struct tb_tls *t, enum tb_dir dir)
{
    struct tb_session *s = t->s;
    bool complete = t->d[TB_DIR_C2S].saw_finished && t->d[TB_DIR_S2C].saw_finished;

    if (complete && s->dir[dir].appdata_records >= APPDATA_RECORDS_WATCHED) {
        t->d[dir].done = true;
    }
}

/* decrypt: begin - the plaintext paths, for records tls_decrypt.c decrypted */
void tb_tls_rec_handshake(struct tb_tls *t, enum tb_dir dir, const uint8_t *p, size_t n,
                          uint64_t frame, int64_t ts_us)
{
    handshake_bytes(t, dir, p, n, frame, ts_us, true);
}

void tb_tls_rec_alert(struct tb_tls *t, enum tb_dir dir, uint8_t level, uint8_t desc,
                      bool encrypted, uint64_t frame, int64_t ts_us)
{
    add_alert(t, dir, level, desc, encrypted, frame, ts_us);
}

void tb_tls_rec_encrypted(struct tb_tls *t, enum tb_dir dir, uint8_t type, size_t len,
                          uint64_t frame, int64_t ts_us)
{
    encrypted_record(t, dir, type, len, frame, ts_us);
    if (type == TB_CT_APPLICATION_DATA) {
        appdata_watch(t, dir);
    }
}
/* decrypt: end */

static void complete_record(struct tb_tls *t, enum tb_dir dir, uint64_t frame, int64_t ts_us)
{
    struct tls_dir *d = &t->d[dir];
    struct tb_session *s = t->s;
    uint8_t type = d->rec_type;

    /* decrypt: begin */
    if (d->rec_decrypt && tb_tls_dec_record(t, dir, frame, ts_us)) {
        tb_buf_clear(&d->rec);
        return;
    }
    /* decrypt: end */
    if (type != TB_CT_APPLICATION_DATA) {
        close_runs(d);
        d->last_rec_maybe_alert = false;
    }
    switch (type) {
    case TB_CT_HANDSHAKE:
        if (d->encrypted) {
            encrypted_record(t, dir, type, d->rec_len, frame, ts_us);
            break;
        }
        handshake_bytes(t, dir, d->rec.bytes, d->rec.len, frame, ts_us, false);
        /* A 1.3 ServerHello switches both sides to encrypted records. */
        if (s->tls13 && s->sh.seen) {
            t->d[TB_DIR_S2C].encrypted = true;
        }
        break;
    case TB_CT_CHANGE_CIPHER_SPEC:
        on_ccs(t, dir, frame, ts_us);
        break;
    case TB_CT_ALERT: {
        if (d->encrypted) {
            add_alert(t, dir, 0, 0, true, frame, ts_us);
            break;
        }
        /* A plaintext alert is 2 bytes (level 1 or 2, then the description); any other
         * shape is protected, e.g. after a CCS the capture did not show us. */
        struct tb_reader r = tb_rd_init(d->rec.bytes, d->rec.len);
        bool plain = d->rec.len >= 2 && d->rec.len % 2 == 0 && d->rec.len <= 8;
        for (size_t i = 0; plain && i < d->rec.len; i += 2) {
            uint8_t level = tb_rd_peek_u8(&r, i);
            plain = level == 1 || level == 2;
        }
        if (!plain) {
            add_alert(t, dir, 0, 0, true, frame, ts_us);
            break;
        }
        while (tb_rd_left(&r) >= 2) {
            uint8_t level = tb_rd_u8(&r);
            uint8_t desc = tb_rd_u8(&r);
            add_alert(t, dir, level, desc, false, frame, ts_us);
        }
        break;
    }
    case TB_CT_APPLICATION_DATA:
        encrypted_record(t, dir, type, d->rec_len, frame, ts_us);
        appdata_watch(t, dir);
        break;
    case TB_CT_HEARTBEAT:
        tb_session_add_event(s, TB_EV_HEARTBEAT, dir, frame, ts_us);
        break;
    default:
        break; /* plausible_header() admits nothing else */
    }
    tb_buf_clear(&d->rec);
}

/* First printable line of bytes (at most 120 characters), for notes. */
static const char *first_line(struct tb_arena *a, const uint8_t *bytes, size_t len)
{
    return tb_arena_strndup(a, (const char *)bytes, tb_printable_len(bytes, len, 120));
}

static void not_tls_answer(struct tb_tls *t, enum tb_dir dir, const uint8_t *bytes, size_t len,
                           uint64_t frame, int64_t ts_us)
{
    struct tb_session *s = t->s;
    const char *line = first_line(&s->arena, bytes, len);
    const char *why = tb_arena_printf(&s->arena, "answered the %s with non-TLS bytes: \"%s\"",
                                      dir == TB_DIR_S2C ? "ClientHello" : "ServerHello",
                                      line != NULL ? line : "");

    if (s->dir[dir].parse_error == NULL) {
        s->dir[dir].parse_error = why;
        s->dir[dir].parse_error_frame = frame;
    }
    mark_not_tls(t, dir, frame, ts_us, why);
}

/* Plaintext before TLS: keep the first line as evidence, look for the TLS start. */
static void preamble(struct tb_tls *t, enum tb_dir dir, const uint8_t *bytes, size_t len,
                     uint64_t frame, int64_t ts_us)
{
    struct tls_dir *d = &t->d[dir];
    struct tb_session *s = t->s;

    if (d->preamble_bytes == 0) {
        struct tb_reader r = tb_rd_init(bytes, len);
        size_t n = 0;
        while (n < len && n < 120) {
            uint8_t c = tb_rd_u8(&r);
            if (c == '\r' || c == '\n') {
                break;
            }
            n++;
        }
        struct tb_event *e = tb_session_add_event(s, TB_EV_PREAMBLE, dir, frame, ts_us);
        if (e != NULL) {
            e->note = tb_arena_strndup(&s->arena, (const char *)bytes, n);
            e->bytes = len;
        }
    }
    d->preamble_bytes += len;
    if (d->preamble_bytes > PREAMBLE_MAX) {
        mark_not_tls(t, dir, frame, ts_us, "no TLS record after 64 KiB of other bytes");
    }
}

static void data_in(struct tb_tls *t, enum tb_dir dir, const uint8_t *bytes, size_t len,
                    uint64_t frame, int64_t ts_us);

#define SNIFF_MIN 6 /* record header + handshake type */

void tb_tls_data(struct tb_tls *t, enum tb_dir dir, const uint8_t *bytes, size_t len,
                 uint64_t frame, int64_t ts_us)
{
    struct tls_dir *d = &t->d[dir];
    struct tb_reader in = tb_rd_init(bytes, len);
    uint8_t first = d->sniff_len > 0 ? d->sniff[0] : tb_rd_peek_u8(&in, 0);
    /* Only what could begin a record (or an SSLv2 hello) is worth holding: a
     * PostgreSQL server's one-byte 'S' answer is a preamble, not a header. */
    bool could_be_tls = (first >= TB_CT_CHANGE_CIPHER_SPEC && first <= TB_CT_HEARTBEAT) ||
                        (first & 0x80) != 0;
    bool may_start = could_be_tls && (d->state == TLS_DIR_START || d->state == TLS_DIR_PREAMBLE);

    /*
     * A first segment too short to tell TLS from anything else (JSSE writes a
     * record's 5-byte header in a segment of its own): hold it until there are
     * enough bytes to decide, then go on as if they had come together.
     */
    if (may_start && (d->sniff_len > 0 || len < SNIFF_MIN)) {
        size_t take = SNIFF_MIN - d->sniff_len < len ? SNIFF_MIN - d->sniff_len : len;
        uint8_t held[SNIFF_MIN];

        tb_rd_copy(&in, d->sniff + d->sniff_len, take);
        d->sniff_len += take;
        if (d->sniff_len < SNIFF_MIN) {
            return;
        }
        memcpy(held, d->sniff, SNIFF_MIN);
        d->sniff_len = 0;
        data_in(t, dir, held, SNIFF_MIN, frame, ts_us);
        len = tb_rd_left(&in);
        bytes = tb_rd_bytes(&in, len);
        if (len == 0) {
            return;
        }
    }
    data_in(t, dir, bytes, len, frame, ts_us);
}

static void data_in(struct tb_tls *t, enum tb_dir dir, const uint8_t *bytes, size_t len,
                    uint64_t frame, int64_t ts_us)
{
    struct tls_dir *d = &t->d[dir];
    struct tb_session *s = t->s;
    struct tb_reader in = tb_rd_init(bytes, len);

    if (d->state == TLS_DIR_NOT_TLS || d->done) {
        return;
    }
    if (d->state == TLS_DIR_START || d->state == TLS_DIR_PREAMBLE || d->state == TLS_DIR_LOST) {
        enum tb_tls_sniff kind = tb_tls_sniff(bytes, len);
        if (kind == TB_SNIFF_NOT_TLS) {
            if (d->state == TLS_DIR_LOST) {
                return; /* still looking for a record boundary */
            }
            if (oversized_header(bytes, len)) {
                kind = TB_SNIFF_TLS; /* record framing below reports the header */
            }
        }
        if (kind == TB_SNIFF_NOT_TLS) {
            /* STARTTLS and friends: plaintext, then TLS from a segment boundary. Binary
             * preambles (PostgreSQL SSLRequest, LDAP) are short; anything else is not TLS. */
            /* STARTTLS and database preambles, text or binary (MySQL greeting,
             * PostgreSQL SSLRequest, LDAP ExtendedRequest): TLS starts later, at a
             * segment boundary. The preamble is capped; then the direction is not TLS. */
            if ((dir == TB_DIR_S2C && s->ch.seen) || (dir == TB_DIR_C2S && s->sh.seen)) {
                /* The peer already speaks TLS: this side answers it with something else
                 * (an HTTP server on a TLS port answering "400 Bad Request"). */
                not_tls_answer(t, dir, bytes, len, frame, ts_us);
                return;
            }
            d->state = TLS_DIR_PREAMBLE;
            preamble(t, dir, bytes, len, frame, ts_us);
            return;
        }
        if ((tb_rd_peek_u8(&in, 0) & 0x80) != 0 && dir == TB_DIR_C2S && !s->ch.seen) {
            /* SSLv2-format ClientHello: 2-byte length with the high bit set. */
            uint16_t hdr = tb_rd_u16(&in);
            size_t mlen = hdr & 0x7fff;
            const uint8_t *msg = tb_rd_bytes(&in, mlen < tb_rd_left(&in) ? mlen : tb_rd_left(&in));
            s->is_tls = true;
            tb_tls_sslv2_client_hello(t, msg, mlen < len - 2 ? mlen : len - 2, frame, ts_us);
            d->state = TLS_DIR_RECORDS;
            return;
        }
        d->state = TLS_DIR_RECORDS;
        d->hdr_len = 0;
        d->rec_left = 0;
        s->is_tls = true;
    }

    while (tb_rd_left(&in) > 0 && d->state == TLS_DIR_RECORDS && !d->done) {
        if (d->rec_left == 0 && d->hdr_len < 5) {
            size_t want = 5 - d->hdr_len;
            size_t n = tb_rd_left(&in) < want ? tb_rd_left(&in) : want;
            tb_rd_copy(&in, d->hdr + d->hdr_len, n);
            d->hdr_len += n;
            if (d->hdr_len < 5) {
                return;
            }
            struct tb_reader h = tb_rd_init(d->hdr, 5);
            d->rec_type = tb_rd_u8(&h);
            d->rec_version = tb_rd_u16(&h);
            d->rec_len = tb_rd_u16(&h);
            if (!plausible_header(d->rec_type, d->rec_version, d->rec_len)) {
                char *why = tb_arena_printf(&s->arena,
                                            "record header %02x %02x %02x %02x %02x is not TLS "
                                            "(type %u, version 0x%04x, length %zu)",
                                            d->hdr[0], d->hdr[1], d->hdr[2], d->hdr[3], d->hdr[4],
                                            d->rec_type, d->rec_version, d->rec_len);
                tb_tls_parse_error(t, dir, frame, "tls record", TB_ERR_NOT_TLS, 0);
                mark_not_tls(t, dir, frame, ts_us, why);
                return;
            }
            d->rec_left = d->rec_len;
            bool encrypted_type = d->rec_type == TB_CT_APPLICATION_DATA ||
                                  (d->encrypted && d->rec_type != TB_CT_CHANGE_CIPHER_SPEC);
            d->rec_buffered = !encrypted_type;
            /* decrypt: begin (with keys, protected records are kept to be decrypted) */
            d->rec_decrypt = tb_tls_dec_wants(t, dir, d->rec_type, encrypted_type);
            d->rec_buffered = d->rec_buffered || d->rec_decrypt;
            /* decrypt: end */
            tb_buf_clear(&d->rec);
            if (d->rec_len == 0) {
                d->hdr_len = 0;
                if (d->rec_type == TB_CT_HANDSHAKE || d->rec_type == TB_CT_ALERT) {
                    tb_tls_parse_error(t, dir, frame, "tls record", TB_ERR_LENGTH, 3);
                }
                complete_record(t, dir, frame, ts_us);
                continue;
            }
        }
        size_t n = tb_rd_left(&in) < d->rec_left ? tb_rd_left(&in) : d->rec_left;
        const uint8_t *p = tb_rd_bytes(&in, n);
        if (d->rec_buffered && tb_buf_append(&d->rec, p, n) != TB_OK) {
            tb_tls_parse_error(t, dir, frame, "tls record", TB_ERR_CAP, 3);
            mark_not_tls(t, dir, frame, ts_us, "record over the size cap");
            return;
        }
        d->rec_left -= n;
        if (d->rec_left == 0) {
            d->hdr_len = 0;
            complete_record(t, dir, frame, ts_us);
        }
    }
}

void tb_tls_gap(struct tb_tls *t, enum tb_dir dir, uint64_t missing, uint64_t frame,
                int64_t ts_us)
{
    struct tls_dir *d = &t->d[dir];
    struct tb_session *s = t->s;
    struct tb_event *e = tb_session_add_event(s, TB_EV_GAP, dir, frame, ts_us);

    if (e != NULL) {
        e->bytes = missing;
    }
    s->anomalies |= dir == TB_DIR_C2S ? TB_ANOM_GAP_C2S : TB_ANOM_GAP_S2C;
    s->dir[dir].gaps++;
    s->dir[dir].gap_bytes += missing;
    if (d->state == TLS_DIR_NOT_TLS) {
        return;
    }
    /* Held first bytes end before the hole: joined to what follows it, they would make
     * up a record header (or a whole record) that was never on the wire. */
    d->sniff_len = 0;
    tb_tls_dec_gap(t, dir, frame); /* decrypt: sequence numbers are lost with the bytes */
    /* If the hole falls inside a skipped (encrypted) record body, we stay in step. */
    if (d->state == TLS_DIR_RECORDS && d->hdr_len == 0 && d->rec_left > missing &&
        !d->rec_buffered) {
        d->rec_left -= missing;
        return;
    }
    d->state = d->state == TLS_DIR_START || d->state == TLS_DIR_PREAMBLE ? d->state
                                                                          : TLS_DIR_LOST;
    d->hdr_len = 0;
    d->rec_left = 0;
    tb_buf_clear(&d->rec);
    tb_buf_clear(&d->hs);
    close_runs(d);
}

void tb_tls_close(struct tb_tls *t, enum tb_dir dir, bool rst, uint64_t frame, int64_t ts_us)
{
    struct tb_session *s = t->s;
    struct tb_dir_stats *ds = &s->dir[dir];

    if (rst) {
        if (ds->rst_frame != 0) {
            return;
        }
        ds->rst_frame = frame;
        ds->rst_ts_us = ts_us;
    } else {
        if (ds->fin_frame != 0) {
            return;
        }
        ds->fin_frame = frame;
        ds->fin_ts_us = ts_us;
    }
    close_runs(&t->d[dir]);
    t->d[dir].closed = true;
    tb_session_add_event(s, rst ? TB_EV_RST : TB_EV_FIN, dir, frame, ts_us);
}

bool tb_tls_wants_bytes(const struct tb_tls *t, enum tb_dir dir)
{
    const struct tls_dir *d = &t->d[dir];
    return !d->done && d->state != TLS_DIR_NOT_TLS;
}

/* Nothing from this side after event idx but FIN/RST/CCS. */
static bool last_from_side(const struct tb_session *s, size_t idx, enum tb_dir dir)
{
    for (size_t i = idx + 1; i < s->event_count; i++) {
        const struct tb_event *x = &s->events[i];
        if (x->dir == dir && x->kind != TB_EV_FIN && x->kind != TB_EV_RST &&
            x->kind != TB_EV_CCS) {
            return false;
        }
    }
    return true;
}

/*
 * TLS 1.3: a side's whole encrypted "flight" that is one record too small to
 * hold a Finished, and nothing after it, was an alert: a client rejecting the
 * server's certificate, or a server refusing the ClientHello after its
 * ServerHello (no_application_protocol from Go).
 */
static void promote_alert_flights(struct tb_tls *t)
{
    struct tb_session *s = t->s;

    if (!s->tls13) {
        return;
    }
    for (size_t i = 0; i < s->event_count; i++) {
        struct tb_event *e = &s->events[i];
        if (e->kind != TB_EV_ENCRYPTED_HS || e->records != 1 || e->bytes > TLS13_ALERT_RECORD_MAX ||
            !last_from_side(s, i, e->dir)) {
            continue;
        }
        s->dir[e->dir].encrypted_hs_records--;
        s->dir[e->dir].encrypted_hs_bytes -= e->bytes;
        if (e->dir == TB_DIR_C2S) {
            t->client_flight_started = false;
            t->d[TB_DIR_C2S].flight_records = 0;
            t->d[TB_DIR_C2S].flight_bytes = 0;
        } else {
            t->server_flight_started = false;
        }
        e->kind = TB_EV_ALERT;
        e->encrypted = true;
        if (s->alert_count < TB_MAX_ALERTS) {
            struct tb_alert *a = &s->alerts[s->alert_count++];
            memset(a, 0, sizeof *a);
            a->dir = e->dir;
            a->frame = e->frame;
            a->ts_us = e->ts_us;
            a->encrypted = true;
            a->after_event = (int)i;
        }
    }
}

/* A lone alert-sized TLS 1.3 record that ends a side's traffic was an alert. */
static void promote_encrypted_alerts(struct tb_tls *t)
{
    struct tb_session *s = t->s;

    promote_alert_flights(t);

    for (int dir = 0; dir < TB_DIR_COUNT; dir++) {
        struct tls_dir *d = &t->d[dir];
        struct tb_event *e = event_at(t, d->last_rec_event);
        if (!d->last_rec_maybe_alert || e == NULL || e->records != 1) {
            continue;
        }
        /* Nothing from this side after it but FIN/RST. */
        bool last = true;
        for (size_t i = (size_t)d->last_rec_event + 1; i < s->event_count; i++) {
            const struct tb_event *x = &s->events[i];
            if (x->dir == (enum tb_dir)dir && x->kind != TB_EV_FIN && x->kind != TB_EV_RST) {
                last = false;
            }
        }
        if (!last) {
            continue;
        }
        s->dir[dir].appdata_records--;
        s->dir[dir].appdata_bytes -= d->last_rec_len;
        e->kind = TB_EV_ALERT;
        e->encrypted = true;
        e->alert_level = 0;
        e->alert_desc = 0;
        if (s->alert_count < TB_MAX_ALERTS) {
            struct tb_alert *a = &s->alerts[s->alert_count++];
            memset(a, 0, sizeof *a);
            a->dir = (enum tb_dir)dir;
            a->frame = e->frame;
            a->ts_us = e->ts_us;
            a->encrypted = true;
            a->after_event = d->last_rec_event;
        }
    }
    /*
     * An encrypted alert after the sender's own application data is most likely
     * close_notify. In TLS 1.3 a rejection comes before any ticket or data from
     * the rejecting side; in TLS <= 1.2 it comes before the handshake completes.
     */
    for (size_t i = 0; i < s->alert_count; i++) {
        struct tb_alert *a = &s->alerts[i];
        if (!a->encrypted) {
            continue;
        }
        bool data_before = false;
        bool both_finished_before = false;
        bool fin_c = false, fin_s = false;
        for (int k = 0; k < a->after_event && (size_t)k < s->event_count; k++) {
            const struct tb_event *x = &s->events[k];
            /* Application data from either side means the handshake was accepted. */
            if (x->kind == TB_EV_APPDATA) {
                data_before = true;
            }
            if (x->kind == TB_EV_ENCRYPTED_HS || (x->kind == TB_EV_HANDSHAKE &&
                                                  x->hs_type == TB_HS_FINISHED)) {
                if (x->dir == TB_DIR_C2S) {
                    fin_c = true;
                } else {
                    fin_s = true;
                }
            }
        }
        both_finished_before = fin_c && fin_s;
        /* A capture that starts mid-connection cannot place an encrypted alert in
         * a handshake it never saw: most likely the end of the connection. */
        a->likely_fatal = (s->ch.seen || s->sh.seen) &&
                          (s->tls13 ? !data_before : !both_finished_before);
    }
    /*
     * An alert sent after the peer's FIN or RST is a reaction to the close (the
     * OpenSSL client's decode_error when the server hangs up mid-handshake,
     * s_server's decode_error at a client's EOF): not the rejection.
     */
    for (size_t i = 0; i < s->alert_count; i++) {
        struct tb_alert *a = &s->alerts[i];
        uint64_t peer_close = tb_tcp_close_frame(&s->dir[tb_dir_other(a->dir)]);
        a->after_peer_close = peer_close != 0 && a->frame > peer_close;
    }
    /* Keep alerts in timeline order. */
    for (size_t i = 1; i < s->alert_count; i++) {
        for (size_t j = i; j > 0 && s->alerts[j].after_event < s->alerts[j - 1].after_event; j--) {
            struct tb_alert tmp = s->alerts[j];
            s->alerts[j] = s->alerts[j - 1];
            s->alerts[j - 1] = tmp;
        }
    }
}

/*
 * TLS 1.3 without keys: did the client send a certificate? Its second flight
 * is [Certificate, CertificateVerify,] Finished. Finished is hash-length + 4
 * bytes of plaintext; each record adds 1 (inner type) + 16 (tag). An empty
 * Certificate is 8 bytes; any real chain is hundreds.
 */
static void estimate_client_certificate(struct tb_tls *t)
{
    struct tb_session *s = t->s;
    struct tls_dir *c = &t->d[TB_DIR_C2S];
    struct tb_name_buf nb;

    if (!s->tls13 || s->client_sent_certificate != TB_TRI_UNKNOWN || c->flight_records == 0) {
        return;
    }
    const char *cipher = tb_cipher_name(s->sh.cipher, &nb);
    size_t hash_len = strstr(cipher, "SHA384") != NULL ? 48 : 32;
    size_t finished = hash_len + 4 + 17;
    size_t rest = c->flight_bytes > finished ? (size_t)c->flight_bytes - finished : 0;
    if (rest >= 200) {
        s->client_sent_certificate = TB_TRI_YES;
    } else if (rest < 64) {
        s->client_sent_certificate = TB_TRI_NO;
    }
    s->client_cert_estimate = tb_arena_printf(
        &s->arena,
        "client's encrypted flight: %u record(s), %llu bytes; a Finished alone is %zu bytes, "
        "%zu bytes more %s",
        c->flight_records, (unsigned long long)c->flight_bytes, finished, rest,
        rest >= 200   ? "can only be a certificate chain and its CertificateVerify"
        : rest < 64 ? "is at most an empty Certificate"
                      : "does not settle it");
}

static bool handshake_complete(const struct tb_tls *t)
{
    const struct tb_session *s = t->s;

    if (s->tls13) {
        /* The server's flight and the client's Finished were seen. */
        return t->server_flight_started && t->client_flight_started;
    }
    return t->d[TB_DIR_C2S].saw_finished && t->d[TB_DIR_S2C].saw_finished;
}

/* What a server that checks after the handshake would refuse, visible in the clear. */
static bool client_credentials_visibly_bad(const struct tb_session *s)
{
    const struct tb_chain *c = &s->chain[TB_DIR_C2S];
    const struct tb_chain_report *r = &c->report;

    if (s->cr.seen && s->client_sent_certificate == TB_TRI_NO) {
        return true;
    }
    if (!c->analyzed || c->count == 0) {
        return false;
    }
    return r->expired_index >= 0 || r->not_yet_valid_index >= 0 || r->trusted == TB_TRI_NO ||
           r->issuer_in_ca_list == TB_TRI_NO || r->leaf_self_signed || !r->leaf_eku_ok ||
           r->any_parse_error;
}

static bool gap_during_handshake(const struct tb_session *s)
{
    for (size_t i = 0; i < s->event_count; i++) {
        const struct tb_event *e = &s->events[i];
        if (e->kind == TB_EV_APPDATA) {
            return false;
        }
        if (e->kind == TB_EV_GAP) {
            return true;
        }
    }
    return false;
}

/* What a client that checks after the handshake would refuse, visible in the clear. */
static bool server_credentials_visibly_bad(const struct tb_session *s)
{
    const struct tb_chain *c = &s->chain[TB_DIR_S2C];
    const struct tb_chain_report *r = &c->report;

    if (!c->analyzed || c->count == 0) {
        return false;
    }
    return r->expired_index >= 0 || r->not_yet_valid_index >= 0 || r->trusted == TB_TRI_NO ||
           r->leaf_self_signed || !r->leaf_eku_ok || r->name_matches_sni == TB_TRI_NO ||
           r->any_parse_error;
}

/* The handshake completed and the client closed first without sending any data. */
static bool client_left_at_once(const struct tb_session *s)
{
    const struct tb_dir_stats *c = &s->dir[TB_DIR_C2S], *v = &s->dir[TB_DIR_S2C];
    uint64_t client_close = tb_session_close_frame(s, TB_DIR_C2S);
    uint64_t server_close = tb_session_close_frame(s, TB_DIR_S2C);

    if (c->appdata_records > 0 || client_close == 0) {
        return false;
    }
    if (server_close != 0 && server_close < client_close) {
        return false;
    }
    /* TLS 1.3 servers send tickets after the client's Finished; real answers are more. */
    return v->appdata_records <= (s->tls13 ? 2u : 0u);
}

/* mTLS handshake complete, then the server closed first before any data either way. */
static bool server_left_at_once(const struct tb_session *s)
{
    uint64_t client_close = tb_session_close_frame(s, TB_DIR_C2S);
    uint64_t server_close = tb_session_close_frame(s, TB_DIR_S2C);

    if (!(s->cr.seen || s->client_sent_certificate == TB_TRI_YES) || server_close == 0) {
        return false;
    }
    if (client_close != 0 && client_close < server_close) {
        return false;
    }
    /* TLS 1.3 servers may send tickets first; an answer would be more. */
    return s->dir[TB_DIR_C2S].appdata_records == 0 &&
           s->dir[TB_DIR_S2C].appdata_records <= (s->tls13 ? 2u : 0u);
}

static void decide_outcome(struct tb_tls *t, bool capture_end)
{
    struct tb_session *s = t->s;
    const struct tb_alert *fatal = tb_session_first_fatal(s);
    bool closed = s->dir[0].fin_frame || s->dir[0].rst_frame || s->dir[1].fin_frame ||
                  s->dir[1].rst_frame;
    bool gap = (s->anomalies & (TB_ANOM_GAP_C2S | TB_ANOM_GAP_S2C)) != 0;
    bool complete = handshake_complete(t);

    if (gap_during_handshake(s)) {
        /* INTERFACE.md: packets missing mid-handshake make it incomplete, even when
         * both Finished or an alert went by: what was in the hole cannot be vouched
         * for, and the message a side rejected may be the one the capture lost. */
        s->outcome = TB_OUTCOME_INCOMPLETE;
        return;
    }
    if (fatal != NULL) {
        s->outcome = TB_OUTCOME_FAILED;
        return;
    }
    if (complete && server_left_at_once(s)) {
        /* slapd (GnuTLS) and other servers check the client certificate after the
         * handshake and just close: no data, no alert. */
        s->outcome = TB_OUTCOME_FAILED;
        return;
    }
    if (complete && client_left_at_once(s) && server_credentials_visibly_bad(s)) {
        /* Node.js, .NET on Linux and curl check the server certificate (or its
         * name) after the handshake and just close: no data, no alert. Browsers
         * do the same with speculative connections they end up not using, so it
         * takes a visible defect in the server chain to call it a rejection. */
        s->outcome = TB_OUTCOME_FAILED;
        return;
    }
    if (complete) {
        s->outcome = TB_OUTCOME_SUCCESS;
        /* Authenticated, then refused: the server answers a request briefly and closes. */
        bool server_closed_first =
            (s->dir[TB_DIR_S2C].fin_frame != 0 || s->dir[TB_DIR_S2C].rst_frame != 0) &&
            (s->dir[TB_DIR_C2S].fin_frame == 0 ||
             s->dir[TB_DIR_S2C].fin_frame < s->dir[TB_DIR_C2S].fin_frame);
        bool mtls = s->cr.seen || s->client_sent_certificate == TB_TRI_YES;
        /* "Briefly": an error page (nginx's 400 is one record of ~700 bytes), not content. */
        bool brief = mtls && server_closed_first && t->client_sent_appdata &&
                     t->server_app_records_after_client_data <= 3 &&
                     t->server_app_bytes_after_client_data <= 4096 &&
                     s->dir[TB_DIR_C2S].appdata_records <= 3;
        /*
         * Many servers answer one request and close: that alone is no refusal. It
         * is one when the answer says so (decrypted HTTP status), or when the
         * client's credentials visibly fail a check the server makes after the
         * handshake (nginx ssl_verify_client: HTTP 400 for a bad or missing cert).
         */
        int status = tb_http_status(s->app_first_line[TB_DIR_S2C]);
        if (status >= 400 || s->app_refusal != NULL ||
            (status < 0 && brief && client_credentials_visibly_bad(s))) {
            s->outcome = TB_OUTCOME_FAILED;
        }
        return;
    }
    if (!s->ch.seen && !s->sh.seen) {
        s->outcome = TB_OUTCOME_UNKNOWN;
        return;
    }
    if (gap) {
        s->outcome = TB_OUTCOME_INCOMPLETE;
        return;
    }
    if (closed || (s->anomalies & (TB_ANOM_NOT_TLS_C2S | TB_ANOM_NOT_TLS_S2C)) != 0) {
        s->outcome = TB_OUTCOME_FAILED;
        return;
    }
    s->outcome = capture_end ? TB_OUTCOME_INCOMPLETE : TB_OUTCOME_UNKNOWN;
}

static void analyze_chains(struct tb_tls *t, const struct tb_trust *trust)
{
    struct tb_session *s = t->s;

    for (int dir = 0; dir < TB_DIR_COUNT; dir++) {
        struct tb_chain *c = &s->chain[dir];
        if (!c->seen) {
            continue;
        }
        const struct tb_u16_list *algs = NULL;
        struct tb_chain_input in = {
            .certs = c->certs,
            .count = c->count,
            .sender = (enum tb_dir)dir,
            .at = c->ts_us / 1000000,
            .sni = dir == TB_DIR_S2C ? s->ch.sni : NULL,
            .tls13 = s->tls13,
            .trust = trust,
        };
        if (dir == TB_DIR_C2S && s->cr.seen) {
            in.have_cert_request = true;
            in.ca_names_der = s->cr.ca_der;
            in.ca_names_len = s->cr.ca_len;
            in.ca_names_count = s->cr.ca_count;
            in.cert_types = s->cr.cert_types;
            in.cert_types_count = s->cr.cert_types_count;
            algs = s->cr.sig_algs_cert.count > 0 ? &s->cr.sig_algs_cert : &s->cr.sig_algs;
        } else if (dir == TB_DIR_S2C) {
            algs = s->ch.sig_algs_cert.count > 0 ? &s->ch.sig_algs_cert : &s->ch.sig_algs;
        }
        if (algs != NULL) {
            in.sig_algs = algs->v;
            in.sig_algs_count = algs->count;
        }
        tb_chain_analyze(&in, &c->report);
        c->analyzed = true;
    }
}

static void check_signatures(struct tb_tls *t)
{
    struct tb_session *s = t->s;
    char why[256] = "";

    if (s->tls13) {
        if (tb_tls_dec_check_signatures(t)) {
            return; /* decrypt: checked over the decrypted transcript */
        }
        if (s->cv.seen && s->cv.valid == TB_TRI_UNKNOWN && s->cv.why == NULL) {
            s->cv.why = "TLS 1.3: the signature covers the encrypted transcript (needs a key log)";
        }
        return;
    }
    if (s->cv.seen && s->chain[TB_DIR_C2S].count > 0) {
        if (t->transcript_over_cap) {
            s->cv.why = "handshake transcript over the size cap";
        } else if (s->cv.transcript_len > t->transcript.len) {
            s->cv.why = "handshake transcript incomplete";
        } else {
            s->cv.valid = tb_cv_verify_tls12(s->chain[TB_DIR_C2S].certs[0], s->version,
                                             s->cv.sig_alg, s->cv.sig, s->cv.sig_len,
                                             t->transcript.bytes, s->cv.transcript_len, why,
                                             sizeof why);
            if (why[0] != '\0') {
                s->cv.why = tb_arena_strdup(&s->arena, why);
            }
        }
    }
    /*
     * The ServerKeyExchange signature matters only to a client that refused the
     * server's flight (rule client-rejects-server-key-exchange-signature). A
     * client that sent its ChangeCipherSpec had checked it and gone on, so the
     * session failed for another reason: skip the ECDSA/RSA verification, the
     * costliest step per failed TLS 1.2 handshake (ske_valid stays unknown).
     */
    if (t->ske_sig != NULL && t->ske_params != NULL && s->chain[TB_DIR_S2C].count > 0 &&
        !s->dir[TB_DIR_C2S].saw_ccs) {
        why[0] = '\0';
        s->ske_valid = tb_ske_verify(s->chain[TB_DIR_S2C].certs[0], s->version, s->ske_sig_alg,
                                     s->ch.random, s->sh.random, t->ske_params, t->ske_params_len,
                                     t->ske_sig, t->ske_sig_len, why, sizeof why);
    }
}

void tb_tls_finish(struct tb_tls *t, bool capture_end, const struct tb_trust *trust)
{
    struct tb_session *s = t->s;

    if (!s->is_tls) {
        return;
    }
    promote_encrypted_alerts(t);
    estimate_client_certificate(t);
    if (s->cr.seen && s->client_sent_certificate == TB_TRI_UNKNOWN && !s->tls13 &&
        t->d[TB_DIR_C2S].saw_finished) {
        /* TLS 1.2: a CertificateRequest answered without a Certificate message (SSLv3 style). */
        s->client_sent_certificate = TB_TRI_NO;
    }
    bool open = !(s->dir[0].fin_frame || s->dir[0].rst_frame || s->dir[1].fin_frame ||
                  s->dir[1].rst_frame);
    if (capture_end && open && !handshake_complete(t)) {
        s->anomalies |= TB_ANOM_CAPTURE_END;
    }
    analyze_chains(t, trust);
    decide_outcome(t, capture_end);
    /* Signatures are checked where a verdict may need them, not for every success. */
    if (s->outcome != TB_OUTCOME_SUCCESS) {
        check_signatures(t);
    } else if (tb_tls_dec_check_signatures(t)) {
        /* decrypt: with a key log the user asked for everything; only decrypted sessions pay */
    }
}

bool tb_tls_decided_success(const struct tb_tls *t)
{
    const struct tb_session *s = t->s;

    /* Both sides moved application data after a complete handshake: nothing later
     * changes the handshake's outcome, so live mode can report it now. */
    return s->is_tls && handshake_complete(t) && tb_session_first_fatal(s) == NULL &&
           s->dir[TB_DIR_C2S].appdata_records > 0 && s->dir[TB_DIR_S2C].appdata_records > 1;
}
