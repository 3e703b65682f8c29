/*
 * tls_decrypt.c - the TLS layer's side of key-log decryption, between
 * record.c (framing) and decrypt.c (cryptography). Once the ServerHello is
 * known and the key log has the ClientHello random, protected records are
 * buffered (not skipped) and decrypted here; their plaintext takes the same
 * paths as clear records (handshake framing, alerts), marked decrypted. A
 * record that fails authentication is reported, never parsed, and that
 * direction is left alone from then on. Application data: only the first
 * line of the first record per direction is kept (TB_MAX_APP_LINE).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tls_int.h"
#include "tlsblame/cv.h"
#include "tlsblame/decrypt.h"
#include "tlsblame/err.h"
#include "tlsblame/hash.h"
#include "tlsblame/keylog.h"
#include "tlsblame/limits.h"
#include "tlsblame/reader.h"

/* RFC 7366 encrypt_then_mac extension. */
#define EXT_ENCRYPT_THEN_MAC 22

void tb_tls_set_keylog(struct tb_tls *t, const struct tb_keylog *run,
                       const struct tb_keylog *capture)
{
    t->keylog = run;
    t->keylog_file = capture;
}

void tb_tls_dec_free(struct tb_tls *t)
{
    tb_decrypt_free(t->dec);
    t->dec = NULL;
}

static bool u16_list_has(const struct tb_u16_list *l, uint16_t v)
{
    for (size_t i = 0; i < l->count; i++) {
        if (l->v[i] == v) {
            return true;
        }
    }
    return false;
}

static void diag(const struct tb_session *s, uint64_t frame, const char *fmt, ...)
    TB_PRINTF(3, 4);

static void diag(const struct tb_session *s, uint64_t frame, const char *fmt, ...)
{
    char text[256];
    va_list ap;
    struct tb_where where = {s->file, frame, "decrypt", -1};

    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    tb_diag(&where, "session %llu: %s", (unsigned long long)s->id, text);
}

/* Keys for this session, once: the capture's own secrets first, then the run's key logs. */
static void start(struct tb_tls *t)
{
    struct tb_session *s = t->s;
    const struct tb_keylog_entry *e = tb_keylog_find(t->keylog_file, s->ch.random);
    char why[160];

    t->dec_tried = true;
    if (e == NULL) {
        e = tb_keylog_find(t->keylog, s->ch.random);
    }
    if (e == NULL) {
        if (tb_verbosity() >= 3) { /* tb_trace's level: the hex is for it only */
            char hex[2 * 32 + 1];
            tb_hash_hex(s->ch.random, 32, hex);
            tb_trace("session %llu: no key log entry for client random %s",
                     (unsigned long long)s->id, hex);
        }
        return;
    }
    struct tb_decrypt_params p = {
        .version = s->version,
        .cipher = s->sh.cipher,
        .encrypt_then_mac = u16_list_has(&s->sh.extensions, EXT_ENCRYPT_THEN_MAC),
        .client_random = s->ch.random,
        .server_random = s->sh.random,
        .keys = e,
    };
    t->dec = tb_decrypt_new(&p, why, sizeof why);
    if (t->dec == NULL) {
        /* The user gave keys for this session: say why they are not used. */
        diag(s, s->sh.frame, "key log entry found but not used: %s", why);
        return;
    }
    if (why[0] != '\0') {
        diag(s, s->sh.frame, "%s", why);
    }
}

bool tb_tls_dec_wants(struct tb_tls *t, enum tb_dir dir, uint8_t type, bool encrypted_type)
{
    struct tb_session *s = t->s;

    if (type == TB_CT_CHANGE_CIPHER_SPEC && !s->tls13 && s->dir[dir].saw_ccs && t->dec != NULL) {
        /* A second CCS from this side: a renegotiation, under keys the log does not give here. */
        tb_decrypt_stop(t->dec, dir);
        return false;
    }
    if (!encrypted_type || (t->keylog == NULL && t->keylog_file == NULL) || !s->ch.seen ||
        !s->sh.seen || t->d[dir].state != TLS_DIR_RECORDS) {
        return false;
    }
    /* TLS 1.3 protects every record as application_data (RFC 8446 5.2). */
    if (s->tls13 && type != TB_CT_APPLICATION_DATA) {
        return false;
    }
    if (t->dec == NULL && !t->dec_tried) {
        start(t);
    }
    return tb_decrypt_ready(t->dec, dir);
}

void tb_tls_dec_gap(struct tb_tls *t, enum tb_dir dir, uint64_t frame)
{
    struct tls_dir *d = &t->d[dir];

    if (t->dec == NULL || !tb_decrypt_ready(t->dec, dir)) {
        return;
    }
    tb_decrypt_stop(t->dec, dir);
    if (d->rec_decrypt) {
        /* The record in progress goes back to being counted and skipped. */
        d->rec_decrypt = false;
        d->rec_buffered = false;
    }
    diag(t->s, frame, "%s bytes missing from the capture: its records are no longer decrypted",
         tb_dir_side(dir));
}

static void mark_last_event(struct tb_session *s, size_t events_before, const char *note)
{
    if (s->event_count > events_before) {
        struct tb_event *e = &s->events[s->event_count - 1];
        if (note != NULL) {
            e->note = note;
        } else {
            e->decrypted = true;
        }
    }
}

/* Authentication failed: report, then count the record as if there were no keys. */
static void auth_failed(struct tb_tls *t, enum tb_dir dir, enum tb_err err, uint64_t frame,
                        int64_t ts_us)
{
    struct tb_session *s = t->s;
    struct tls_dir *d = &t->d[dir];
    struct tb_dir_stats *ds = &s->dir[dir];
    size_t events_before = s->event_count;
    const char *note = tb_arena_printf(
        &s->arena, "%s record at frame %llu %s: wrong key log or corrupted capture",
        tb_dir_side(dir), (unsigned long long)frame,
        err == TB_ERR_CRYPTO ? "failed authentication" : "is too short for its cipher suite");

    if (note == NULL) {
        note = "record failed authentication: wrong key log or corrupted capture"; /* arena full */
    }

    tb_decrypt_stop(t->dec, dir);
    s->anomalies |= dir == TB_DIR_C2S ? TB_ANOM_PARSE_C2S : TB_ANOM_PARSE_S2C;
    if (ds->parse_error == NULL) {
        ds->parse_error = note;
        ds->parse_error_frame = frame;
    }
    diag(s, frame, "%s; not parsed, and the %s's records are no longer decrypted", note,
         tb_dir_side(dir));
    if (d->rec_type == TB_CT_ALERT) {
        tb_tls_rec_alert(t, dir, 0, 0, true, frame, ts_us);
    } else {
        tb_tls_rec_encrypted(t, dir, d->rec_type, d->rec.len, frame, ts_us);
    }
    mark_last_event(s, events_before, note);
}

/* The flight statistics record.c keeps for encrypted handshake records (TLS 1.3 estimates). */
static void count_handshake_record(struct tb_tls *t, enum tb_dir dir, size_t len)
{
    struct tb_session *s = t->s;
    struct tls_dir *d = &t->d[dir];

    s->dir[dir].encrypted_hs_records++;
    s->dir[dir].encrypted_hs_bytes += len;
    d->appdata_event = -1;
    d->enc_hs_event = -1;
    d->last_rec_maybe_alert = false;
    if (!s->tls13) {
        return;
    }
    if (dir == TB_DIR_S2C) {
        t->server_flight_started = true;
        if (t->client_flight_started) {
            t->d[TB_DIR_C2S].flight_closed = true;
        }
    } else if (!d->flight_closed) {
        t->client_flight_started = true;
        d->flight_bytes += len;
        d->flight_records++;
    }
}

static void decrypted_handshake(struct tb_tls *t, enum tb_dir dir, const uint8_t *p, size_t n,
                                uint64_t frame, int64_t ts_us)
{
    struct tb_session *s = t->s;
    struct tls_dir *d = &t->d[dir];
    bool finished_before = d->saw_finished;

    count_handshake_record(t, dir, d->rec.len);
    tb_tls_rec_handshake(t, dir, p, n, frame, ts_us);
    if (!s->tls13) {
        return;
    }
    /* RFC 8446 7.3: after its Finished a side protects records with its application secret. */
    if (!finished_before && d->saw_finished) {
        if (dir == TB_DIR_C2S) {
            d->flight_closed = true;
        }
        if (!tb_decrypt_next_epoch(t->dec, dir)) {
            tb_trace("session %llu: no %s application traffic secret; stop decrypting",
                     (unsigned long long)s->id, tb_dir_side(dir));
        }
    }
    if (d->dec_key_update) {
        d->dec_key_update = false;
        (void)tb_decrypt_key_update(t->dec, dir); /* false stops the direction */
    }
}

static void decrypted_alert(struct tb_tls *t, enum tb_dir dir, const uint8_t *p, size_t n,
                            uint64_t frame, int64_t ts_us)
{
    struct tb_session *s = t->s;
    struct tls_dir *d = &t->d[dir];
    struct tb_reader r = tb_rd_init(p, n);

    d->appdata_event = -1;
    d->enc_hs_event = -1;
    d->last_rec_maybe_alert = false;
    if (n == 0 || n % 2 != 0) {
        tb_tls_parse_error(t, dir, frame, "decrypted alert", TB_ERR_LENGTH, 0);
    }
    /* RFC 8446 6 / RFC 5246 7.2: struct { AlertLevel level; AlertDescription description; } */
    while (tb_rd_left(&r) >= 2) {
        uint8_t level = tb_rd_u8(&r);
        uint8_t desc = tb_rd_u8(&r);
        size_t events_before = s->event_count;
        size_t alerts_before = s->alert_count;
        tb_tls_rec_alert(t, dir, level, desc, true, frame, ts_us);
        mark_last_event(s, events_before, NULL);
        if (s->alert_count > alerts_before) {
            s->alerts[s->alert_count - 1].decrypted = true;
        }
    }
}

/* The first line of the first decrypted application data, printable ASCII only. */
static void keep_first_line(struct tb_tls *t, enum tb_dir dir, const uint8_t *p, size_t n)
{
    struct tb_session *s = t->s;
    struct tls_dir *d = &t->d[dir];
    size_t keep;

    if (d->dec_app_seen || n == 0) {
        return; /* empty records (CBC 1/n-1 splitting, keep-alives) do not count */
    }
    d->dec_app_seen = true;
    keep = tb_printable_len(p, n, TB_MAX_APP_LINE); /* not of binary ones (HTTP/2 frames) */
    if (keep > 0) {
        s->app_first_line[dir] = tb_arena_strndup(&s->arena, (const char *)p, keep);
    }
}

/* Does the reader's window hold lit at off? */
static bool rd_has(const struct tb_reader *r, size_t off, const char *lit)
{
    for (size_t i = 0; lit[i] != '\0'; i++) {
        if (off + i >= tb_rd_left(r) || tb_rd_peek_u8(r, off + i) != (uint8_t)lit[i]) {
            return false;
        }
    }
    return true;
}

static bool rd_digit(const struct tb_reader *r, size_t off)
{
    uint8_t c = tb_rd_peek_u8(r, off);
    return off < tb_rd_left(r) && c >= '0' && c <= '9';
}

/*
 * Is this line an application's refusal? HTTP 4xx/5xx, an SMTP or FTP 4yz/5yz
 * reply, an IMAP tagged NO/BAD, a POP3 -ERR: what servers
 * answer when TLS let in a client the application then turns away (nginx
 * ssl_verify_client, Postfix smtpd_tls_req_ccert, Dovecot ssl_verify_client_cert).
 */
static bool refusal_line(const struct tb_reader *line)
{
    uint8_t c0 = tb_rd_peek_u8(line, 0), c3 = tb_rd_peek_u8(line, 3);
    size_t sp = 0;

    if (rd_has(line, 0, "HTTP/1.")) {
        return rd_has(line, 8, " 4") || rd_has(line, 8, " 5");
    }
    if ((c0 == '4' || c0 == '5') && rd_digit(line, 1) && rd_digit(line, 2) &&
        (c3 == ' ' || c3 == '-')) {
        return true;
    }
    /* (An IMAP "* BYE" also ends every normal LOGOUT: not a refusal by itself.) */
    if (rd_has(line, 0, "-ERR")) {
        return true;
    }
    /* IMAP: "<tag> NO ..." or "<tag> BAD ..." */
    while (sp < tb_rd_left(line) && sp < 32 && tb_rd_peek_u8(line, sp) != ' ') {
        sp++;
    }
    return sp > 0 && c0 != '*' && (rd_has(line, sp, " NO ") || rd_has(line, sp, " BAD "));
}

/* Look through the server's first decrypted lines (bounded) for a refusal. */
static void scan_refusal(struct tb_tls *t, enum tb_dir dir, const uint8_t *p, size_t n)
{
    struct tb_session *s = t->s;
    struct tls_dir *d = &t->d[dir];
    struct tb_reader r = tb_rd_init(p, n);

    while (dir == TB_DIR_S2C && s->app_refusal == NULL && tb_rd_left(&r) > 0 &&
           d->refusal_scanned < TB_MAX_APP_SCAN) {
        size_t len = 0;
        while (len < tb_rd_left(&r) && tb_rd_peek_u8(&r, len) != '\n') {
            len++;
        }
        struct tb_reader line = tb_rd_sub(&r, len);
        tb_rd_skip(&r, tb_rd_left(&r) > 0 ? 1 : 0); /* the newline */
        d->refusal_scanned += len + 1;
        if (!refusal_line(&line)) {
            continue;
        }
        size_t left = tb_rd_left(&line);
        const uint8_t *text = tb_rd_bytes(&line, left);
        if (text != NULL) {
            s->app_refusal = tb_arena_strndup(&s->arena, (const char *)text,
                                              tb_printable_len(text, left, TB_MAX_APP_LINE));
        }
    }
}

static void decrypted_appdata(struct tb_tls *t, enum tb_dir dir, const uint8_t *p, size_t n,
                              uint64_t frame, int64_t ts_us)
{
    struct tb_session *s = t->s;
    struct tls_dir *d = &t->d[dir];
    size_t events_before = s->event_count;

    keep_first_line(t, dir, p, n);
    scan_refusal(t, dir, p, n);
    if (s->tls13 && dir == TB_DIR_C2S) {
        d->flight_closed = true; /* application data ends the client's handshake flight */
    }
    tb_tls_rec_encrypted(t, dir, TB_CT_APPLICATION_DATA, d->rec.len, frame, ts_us);
    mark_last_event(s, events_before, NULL);
    /* We know what it was: no alert-by-size guess. */
    d->last_rec_maybe_alert = false;
    /* Application data is evidence only at its start: the rest is counted, not decrypted. */
    d->dec_app_records++;
    d->dec_app_bytes += n;
    if (d->dec_app_records >= TB_MAX_DECRYPTED_APP_RECORDS ||
        d->dec_app_bytes >= TB_MAX_DECRYPTED_APP_BYTES) {
        tb_decrypt_stop(t->dec, dir);
    }
}

bool tb_tls_dec_record(struct tb_tls *t, enum tb_dir dir, uint64_t frame, int64_t ts_us)
{
    struct tb_session *s = t->s;
    struct tls_dir *d = &t->d[dir];
    uint8_t content_type = 0;
    const uint8_t *plain = NULL;
    size_t n = 0;

    if (!d->rec_decrypt) {
        return false;
    }
    d->rec_decrypt = false;
    if (!tb_decrypt_ready(t->dec, dir)) {
        return false;
    }
    enum tb_err err = tb_decrypt_record(t->dec, dir, d->rec_type, d->rec_version, d->rec.bytes,
                                        d->rec.len, &content_type, &plain, &n);
    if (err == TB_ERR_CRYPTO || err == TB_ERR_LENGTH) {
        if (dir == TB_DIR_C2S && s->tls13 && s->ch.has_early_data &&
            tb_decrypt_ok_count(t->dec, dir) == 0) {
            /* 0-RTT data under the early traffic secret, which is not used: skip it. */
            return false;
        }
        auth_failed(t, dir, err, frame, ts_us);
        return true;
    }
    if (err != TB_OK) {
        tb_tls_parse_error(t, dir, frame, "decrypted record", err, 0);
        return true;
    }
    s->decrypted = true;
    tb_trace("session %llu frame %llu %s: decrypted %zu bytes of %s", (unsigned long long)s->id,
             (unsigned long long)frame, tb_dir_side(dir), n,
             content_type == TB_CT_HANDSHAKE ? "handshake"
             : content_type == TB_CT_ALERT  ? "alert"
                                            : "other");
    switch (content_type) {
    case TB_CT_HANDSHAKE:
        decrypted_handshake(t, dir, plain, n, frame, ts_us);
        break;
    case TB_CT_ALERT:
        decrypted_alert(t, dir, plain, n, frame, ts_us);
        break;
    case TB_CT_APPLICATION_DATA:
        decrypted_appdata(t, dir, plain, n, frame, ts_us);
        break;
    case TB_CT_HEARTBEAT:
        tb_session_add_event(s, TB_EV_HEARTBEAT, dir, frame, ts_us);
        break;
    case TB_CT_CHANGE_CIPHER_SPEC:
    default: {
        /* RFC 8446 5: a protected ChangeCipherSpec, or an unknown type, is unexpected_message. */
        char *what = tb_arena_printf(&s->arena, "decrypted record of content type %u",
                                     content_type);
        tb_tls_parse_error(t, dir, frame, what != NULL ? what : "decrypted record", TB_ERR_VALUE,
                           0);
        break;
    }
    }
    return true;
}

/* RFC 8446 4.4.3: each side's CertificateVerify over Transcript-Hash(ClientHello .. Certificate). */
static void check_cv13(struct tb_tls *t, struct tb_cert_verify *cv, enum tb_dir dir)
{
    struct tb_session *s = t->s;
    const struct tb_chain *chain = &s->chain[dir];
    uint8_t hash[48];
    size_t hash_len = 0;
    char why[256] = "";

    if (!cv->seen || cv->valid != TB_TRI_UNKNOWN) {
        return;
    }
    if (chain->count == 0 || chain->certs[0] == NULL) {
        cv->why = "no certificate to check it with";
        return;
    }
    if (t->transcript_over_cap) {
        cv->why = "handshake transcript over the size cap";
        return;
    }
    if (cv->transcript_len > t->transcript.len || cv->sig == NULL) {
        cv->why = "handshake transcript incomplete";
        return;
    }
    if (tb_decrypt_transcript_hash(s->sh.cipher, s->sh.hrr_seen, t->transcript.bytes,
                                   cv->transcript_len, hash, &hash_len) != TB_OK) {
        cv->why = "cannot compute the transcript hash";
        return;
    }
    cv->valid = tb_cv_verify_tls13(chain->certs[0], dir == TB_DIR_S2C, cv->sig_alg, cv->sig,
                                   cv->sig_len, hash, hash_len, why, sizeof why);
    if (why[0] != '\0') {
        cv->why = tb_arena_strdup(&s->arena, why);
    }
}

bool tb_tls_dec_check_signatures(struct tb_tls *t)
{
    struct tb_session *s = t->s;

    if (!s->tls13 || !s->decrypted) {
        return false;
    }
    check_cv13(t, &s->scv, TB_DIR_S2C);
    check_cv13(t, &s->cv, TB_DIR_C2S);
    return true;
}
