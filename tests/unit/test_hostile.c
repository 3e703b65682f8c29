/*
 * test_hostile.c - hostile input through the whole TLS layer (tb_tls_data on
 * per-direction byte streams), as issue 4 lists it: a record header over the
 * length cap, a Certificate whose inner lengths disagree, 10,000 zero-length
 * certificate_list entries, extensions nested past their enclosing length, a
 * 2^24-1 byte handshake message announced but never sent, and a real
 * ClientHello cut at every byte and one byte too long. Each case asserts the
 * parse error and anomaly for that direction, bounded memory, and that the
 * other direction is still analysed afterwards.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tls_int.h" /* white box: the per-direction buffers, to check memory stays bounded */
#include "tlsblame/err.h"
#include "tlsblame/limits.h"
#include "tlsblame/reader.h"
#include "tlsblame/session.h"
#include "tlsblame/tls.h"
#include "tlsblame/x509.h"

/*
 * Byte-exact ClientHello and ServerHello (handshake header included) from
 * samples/gnutls-success-tls12.pcap (GnuTLS client, OpenSSL server, TLS 1.2).
 */
static const uint8_t client_hello_msg[] = {
    0x01, 0x00, 0x00, 0xd5, 0x03, 0x03, 0xeb, 0x50, 0xd0, 0x25, 0x3d, 0x34,
    0x3d, 0x7c, 0x93, 0x4d, 0x72, 0x8c, 0xf3, 0xd1, 0x1f, 0x0c, 0x9b, 0x04,
    0x32, 0xd5, 0x40, 0x25, 0x20, 0xce, 0x2e, 0x7e, 0x95, 0x88, 0x29, 0x17,
    0xe9, 0x4f, 0x00, 0x00, 0x32, 0xc0, 0x2c, 0xcc, 0xa9, 0xc0, 0xad, 0xc0,
    0x0a, 0xc0, 0x2b, 0xc0, 0xac, 0xc0, 0x09, 0xc0, 0x30, 0xcc, 0xa8, 0xc0,
    0x14, 0xc0, 0x2f, 0xc0, 0x13, 0x00, 0x9d, 0xc0, 0x9d, 0x00, 0x35, 0x00,
    0x9c, 0xc0, 0x9c, 0x00, 0x2f, 0x00, 0x9f, 0xcc, 0xaa, 0xc0, 0x9f, 0x00,
    0x39, 0x00, 0x9e, 0xc0, 0x9e, 0x00, 0x33, 0x01, 0x00, 0x00, 0x7a, 0x00,
    0x05, 0x00, 0x05, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x16,
    0x00, 0x14, 0x00, 0x17, 0x00, 0x18, 0x00, 0x19, 0x00, 0x1d, 0x00, 0x1e,
    0x01, 0x00, 0x01, 0x01, 0x01, 0x02, 0x01, 0x03, 0x01, 0x04, 0x00, 0x0b,
    0x00, 0x02, 0x01, 0x00, 0x00, 0x0d, 0x00, 0x22, 0x00, 0x20, 0x04, 0x01,
    0x08, 0x09, 0x08, 0x04, 0x04, 0x03, 0x08, 0x07, 0x05, 0x01, 0x08, 0x0a,
    0x08, 0x05, 0x05, 0x03, 0x08, 0x08, 0x06, 0x01, 0x08, 0x0b, 0x08, 0x06,
    0x06, 0x03, 0x02, 0x01, 0x02, 0x03, 0x00, 0x16, 0x00, 0x00, 0x00, 0x17,
    0x00, 0x00, 0x00, 0x23, 0x00, 0x00, 0xff, 0x01, 0x00, 0x01, 0x00, 0x00,
    0x00, 0x00, 0x10, 0x00, 0x0e, 0x00, 0x00, 0x0b, 0x73, 0x65, 0x72, 0x76,
    0x65, 0x72, 0x2e, 0x74, 0x65, 0x73, 0x74, 0x00, 0x1c, 0x00, 0x02, 0x40,
    0x00,
};
static const uint8_t server_hello_msg[] = {
    0x02, 0x00, 0x00, 0x61, 0x03, 0x03, 0xe8, 0xed, 0xa8, 0x6a, 0xdf, 0x70,
    0xcc, 0x24, 0xf7, 0x23, 0xeb, 0x19, 0x82, 0x42, 0x5c, 0x98, 0x1a, 0x1c,
    0x95, 0x56, 0x65, 0x63, 0xf2, 0xb3, 0x28, 0x7a, 0x06, 0x97, 0x2c, 0x15,
    0x1f, 0x87, 0x20, 0x74, 0xb3, 0x34, 0x56, 0xad, 0x7f, 0x3a, 0xc2, 0x97,
    0xa7, 0x43, 0xe8, 0x59, 0x39, 0x9d, 0x75, 0xa4, 0xf3, 0x9e, 0x9e, 0x4a,
    0xd9, 0x94, 0x43, 0x42, 0x76, 0x43, 0xb8, 0x7e, 0xb7, 0x6a, 0x26, 0xc0,
    0x30, 0x00, 0x00, 0x19, 0x00, 0x0b, 0x00, 0x02, 0x01, 0x00, 0x00, 0x17,
    0x00, 0x00, 0x00, 0x23, 0x00, 0x00, 0xff, 0x01, 0x00, 0x01, 0x00, 0x00,
    0x1c, 0x00, 0x02, 0x40, 0x00,
};

struct fx {
    struct tb_certcache *cache;
    struct tb_session s;
    struct tb_tls *t;
    uint64_t frame;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);

    assert_non_null(f);
    f->cache = tb_certcache_new(64);
    assert_non_null(f->cache);
    tb_session_init(&f->s, 1, "test");
    f->t = tb_tls_new(&f->s, f->cache);
    assert_non_null(f->t);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;

    tb_tls_free(f->t);
    tb_session_fini(&f->s, f->cache);
    tb_certcache_free(f->cache);
    free(f);
    return 0;
}

static void feed(struct fx *f, enum tb_dir dir, const uint8_t *bytes, size_t len)
{
    f->frame++;
    tb_tls_data(f->t, dir, bytes, len, f->frame, (int64_t)f->frame * 1000);
}

/* One TLS record (type, version 0x0303) around body; the caller frees. */
static uint8_t *record(uint8_t type, const uint8_t *body, size_t len, size_t *out_len)
{
    uint8_t *r = malloc(5 + len);

    assert_non_null(r);
    assert_true(len <= 0xffff);
    r[0] = type;
    r[1] = 3;
    r[2] = 3;
    r[3] = (uint8_t)(len >> 8);
    r[4] = (uint8_t)len;
    if (len > 0) {
        memcpy(r + 5, body, len);
    }
    *out_len = 5 + len;
    return r;
}

/* One record fed whole; nothing stays allocated if an assertion fails later. */
static void feed_record(struct fx *f, enum tb_dir dir, uint8_t type, const uint8_t *body,
                        size_t len)
{
    size_t rlen;
    uint8_t *r = record(type, body, len, &rlen);

    feed(f, dir, r, rlen);
    free(r);
}

/* A handshake message (header + body) cut into records of at most 2^14 bytes, fed one by one. */
static void feed_handshake_msg(struct fx *f, enum tb_dir dir, const uint8_t *msg, size_t len)
{
    for (size_t off = 0; off < len;) {
        size_t n = len - off > 16384 ? 16384 : len - off;
        size_t rlen;
        uint8_t *r = record(TB_CT_HANDSHAKE, msg + off, n, &rlen);
        feed(f, dir, r, rlen);
        free(r);
        off += n;
    }
}

/* A handshake message of the given type around body (24-bit length = body_len). */
static void feed_handshake(struct fx *f, enum tb_dir dir, uint8_t type, const uint8_t *body,
                           size_t body_len)
{
    uint8_t *m = malloc(4 + body_len);

    assert_non_null(m);
    m[0] = type;
    m[1] = (uint8_t)(body_len >> 16);
    m[2] = (uint8_t)(body_len >> 8);
    m[3] = (uint8_t)body_len;
    if (body_len > 0) {
        memcpy(m + 4, body, body_len);
    }
    feed_handshake_msg(f, dir, m, 4 + body_len);
    free(m);
}

static size_t count_hs(const struct tb_session *s, enum tb_dir dir, uint8_t type)
{
    size_t n = 0;
    for (size_t i = 0; i < s->event_count; i++) {
        const struct tb_event *e = &s->events[i];
        n += e->kind == TB_EV_HANDSHAKE && e->dir == dir && e->hs_type == type;
    }
    return n;
}

static size_t count_kind(const struct tb_session *s, enum tb_dir dir, enum tb_event_kind kind)
{
    size_t n = 0;
    for (size_t i = 0; i < s->event_count; i++) {
        n += s->events[i].kind == kind && s->events[i].dir == dir;
    }
    return n;
}

static uint32_t parse_bit(enum tb_dir dir)
{
    return dir == TB_DIR_C2S ? TB_ANOM_PARSE_C2S : TB_ANOM_PARSE_S2C;
}

/* The direction has a parse error naming err, and the flag is set. */
static void assert_parse_error(const struct tb_session *s, enum tb_dir dir, enum tb_err err)
{
    assert_true((s->anomalies & parse_bit(dir)) != 0);
    assert_non_null(s->dir[dir].parse_error);
    assert_non_null(strstr(s->dir[dir].parse_error, tb_strerror(err)));
}

static void assert_no_parse_error(const struct tb_session *s, enum tb_dir dir)
{
    assert_true((s->anomalies & parse_bit(dir)) == 0);
    assert_null(s->dir[dir].parse_error);
}

/* The per-direction buffers never hold more than the caps, and the arena stays small. */
static void assert_bounded(const struct fx *f)
{
    for (int d = 0; d < TB_DIR_COUNT; d++) {
        assert_true(f->t->d[d].hs.alloc <= TB_MAX_HS_MSG + 4);
        assert_true(f->t->d[d].rec.alloc <= TB_MAX_RECORD_LEN);
    }
    assert_true(f->s.arena.used_total < 256u * 1024u);
}

static void feed_client_hello(struct fx *f)
{
    feed_handshake_msg(f, TB_DIR_C2S, client_hello_msg, sizeof client_hello_msg);
    assert_true(f->s.ch.seen);
    assert_no_parse_error(&f->s, TB_DIR_C2S);
}

/* The server's side is analysed whatever the client sent: a valid ServerHello is parsed. */
static void assert_server_hello_parsed(struct fx *f)
{
    feed_handshake_msg(f, TB_DIR_S2C, server_hello_msg, sizeof server_hello_msg);
    assert_true(f->s.sh.seen);
    assert_int_equal(f->s.sh.version, 0x0303);
    assert_int_equal(f->s.sh.cipher, 0xc030);
    assert_int_equal(count_hs(&f->s, TB_DIR_S2C, TB_HS_SERVER_HELLO), 1);
    assert_no_parse_error(&f->s, TB_DIR_S2C);
    assert_true(tb_tls_wants_bytes(f->t, TB_DIR_S2C));
}

/* The client's side is analysed whatever the server sent: an empty Certificate is parsed. */
static void assert_client_certificate_parsed(struct fx *f)
{
    static const uint8_t empty_list[] = {0x00, 0x00, 0x00};

    feed_handshake(f, TB_DIR_C2S, TB_HS_CERTIFICATE, empty_list, sizeof empty_list);
    assert_true(f->s.chain[TB_DIR_C2S].seen);
    assert_int_equal(f->s.chain[TB_DIR_C2S].total, 0);
    assert_int_equal(f->s.client_sent_certificate, TB_TRI_NO);
    assert_no_parse_error(&f->s, TB_DIR_C2S);
}

/* Finish, as at the end of a capture: nothing crashes on what the stream left behind. */
static void finish(struct fx *f)
{
    tb_tls_finish(f->t, true, NULL);
}

/* ---- 1. a record header claiming far more than a record may hold ---- */

/*
 * The record length field is 16 bits, so "16 MiB" cannot be said in it; the
 * largest claim, 65535, is already far over 2^14 + 2048 (RFC 5246 6.2.3).
 * After a valid record: this direction is not TLS from there on.
 */
static void test_record_length_over_cap_after_valid(void **state)
{
    struct fx *f = *state;
    uint8_t junk[5 + 1000];

    feed_client_hello(f);
    memset(junk, 0x41, sizeof junk);
    junk[0] = TB_CT_HANDSHAKE;
    junk[1] = 3;
    junk[2] = 3;
    junk[3] = 0xff;
    junk[4] = 0xff;
    feed(f, TB_DIR_C2S, junk, sizeof junk);
    assert_parse_error(&f->s, TB_DIR_C2S, TB_ERR_NOT_TLS);
    assert_true((f->s.anomalies & TB_ANOM_NOT_TLS_C2S) != 0);
    assert_int_equal(count_kind(&f->s, TB_DIR_C2S, TB_EV_NOT_TLS), 1);
    assert_false(tb_tls_wants_bytes(f->t, TB_DIR_C2S));
    /* Nothing after it is parsed, not even a well-formed ClientHello. */
    feed_record(f, TB_DIR_C2S, TB_CT_HANDSHAKE, client_hello_msg, sizeof client_hello_msg);
    assert_int_equal(count_hs(&f->s, TB_DIR_C2S, TB_HS_CLIENT_HELLO), 1);
    assert_server_hello_parsed(f);
    assert_bounded(f);
    finish(f);
}

/* The same header as the very first bytes of the stream: not a preamble, a bad record. */
static void test_record_length_over_cap_first(void **state)
{
    struct fx *f = *state;
    uint8_t junk[5 + 64];

    memset(junk, 0, sizeof junk);
    junk[0] = TB_CT_HANDSHAKE;
    junk[1] = 3;
    junk[2] = 1;
    junk[3] = 0xff;
    junk[4] = 0xff;
    junk[5] = TB_HS_CLIENT_HELLO;
    feed(f, TB_DIR_C2S, junk, sizeof junk);
    assert_parse_error(&f->s, TB_DIR_C2S, TB_ERR_NOT_TLS);
    assert_true((f->s.anomalies & TB_ANOM_NOT_TLS_C2S) != 0);
    assert_int_equal(count_kind(&f->s, TB_DIR_C2S, TB_EV_PREAMBLE), 0);
    feed_record(f, TB_DIR_C2S, TB_CT_HANDSHAKE, client_hello_msg, sizeof client_hello_msg);
    assert_false(f->s.ch.seen);
    assert_server_hello_parsed(f);
    assert_bounded(f);
    finish(f);
}

/*
 * A first segment too short to classify is held (record.c, SNIFF_MIN). Bytes
 * held before a capture gap must not be joined to the bytes after it: here
 * they would make up exactly the ClientHello record the hole interrupted.
 */
static void test_held_first_bytes_not_joined_across_gap(void **state)
{
    struct fx *f = *state;
    size_t rlen;
    uint8_t *r = record(TB_CT_HANDSHAKE, client_hello_msg, sizeof client_hello_msg, &rlen);

    feed(f, TB_DIR_C2S, r, 4);
    f->frame++;
    tb_tls_gap(f->t, TB_DIR_C2S, 50, f->frame, (int64_t)f->frame * 1000);
    feed(f, TB_DIR_C2S, r + 4, rlen - 4);
    free(r);
    assert_false(f->s.ch.seen);
    assert_int_equal(count_hs(&f->s, TB_DIR_C2S, TB_HS_CLIENT_HELLO), 0);
    assert_true((f->s.anomalies & TB_ANOM_GAP_C2S) != 0);
    assert_server_hello_parsed(f);
    finish(f);
}

/* ---- 2. a Certificate message whose inner lengths disagree ---- */

static void test_certificate_inner_lengths_disagree(void **state)
{
    struct fx *f = *state;
    /* certificate_list says 10 bytes; its first ASN.1Cert says 256. */
    static const uint8_t body[] = {0x00, 0x00, 0x0a, 0x00, 0x01, 0x00, 0x30, 0x82,
                                   0x00, 0xfc, 0x30, 0x82, 0x00};

    feed_client_hello(f);
    assert_server_hello_parsed(f);
    feed_handshake(f, TB_DIR_S2C, TB_HS_CERTIFICATE, body, sizeof body);
    assert_parse_error(&f->s, TB_DIR_S2C, TB_ERR_TRUNCATED);
    assert_non_null(strstr(f->s.dir[TB_DIR_S2C].parse_error, "ertificate"));
    assert_int_equal(count_hs(&f->s, TB_DIR_S2C, TB_HS_CERTIFICATE), 1);
    assert_true(f->s.chain[TB_DIR_S2C].seen);
    assert_int_equal(f->s.chain[TB_DIR_S2C].count, 0);
    assert_int_equal(f->s.chain[TB_DIR_S2C].total, 0);
    assert_client_certificate_parsed(f);
    assert_bounded(f);
    finish(f);
}

/* The message is longer than its certificate_list: bytes left after the last field. */
static void test_certificate_list_shorter_than_message(void **state)
{
    struct fx *f = *state;
    static const uint8_t body[] = {0x00, 0x00, 0x04, 0x00, 0x00, 0x01, 0x30, 0xde, 0xad};

    feed_client_hello(f);
    assert_server_hello_parsed(f);
    feed_handshake(f, TB_DIR_S2C, TB_HS_CERTIFICATE, body, sizeof body);
    assert_parse_error(&f->s, TB_DIR_S2C, TB_ERR_TRAILING);
    assert_client_certificate_parsed(f);
    finish(f);
}

/* ---- 3. a certificate_list of 10,000 entries ---- */

#define MANY_ENTRIES 10000

/* Zero-length entries break ASN.1Cert<1..2^24-1> (RFC 5246 7.4.2) at the first one. */
static void test_certificate_list_zero_length_entries(void **state)
{
    struct fx *f = *state;
    size_t list_len = 3 * (size_t)MANY_ENTRIES;
    uint8_t *body = calloc(1, 3 + list_len);

    assert_non_null(body);
    body[0] = (uint8_t)(list_len >> 16);
    body[1] = (uint8_t)(list_len >> 8);
    body[2] = (uint8_t)list_len;
    feed_client_hello(f);
    assert_server_hello_parsed(f);
    feed_handshake(f, TB_DIR_S2C, TB_HS_CERTIFICATE, body, 3 + list_len);
    free(body);
    assert_parse_error(&f->s, TB_DIR_S2C, TB_ERR_LENGTH);
    assert_true(f->s.chain[TB_DIR_S2C].count <= TB_MAX_CERTS);
    assert_int_equal(f->s.chain[TB_DIR_S2C].total, 0);
    assert_int_equal(count_hs(&f->s, TB_DIR_S2C, TB_HS_CERTIFICATE), 1);
    assert_client_certificate_parsed(f);
    assert_bounded(f);
    finish(f);
}

/* One-byte entries are well-formed: all are counted, at most TB_MAX_CERTS are kept. */
static void test_certificate_list_many_entries_capped(void **state)
{
    struct fx *f = *state;
    size_t list_len = 4 * (size_t)MANY_ENTRIES;
    uint8_t *body = calloc(1, 3 + list_len);

    assert_non_null(body);
    body[0] = (uint8_t)(list_len >> 16);
    body[1] = (uint8_t)(list_len >> 8);
    body[2] = (uint8_t)list_len;
    for (size_t i = 0; i < MANY_ENTRIES; i++) {
        body[3 + 4 * i + 2] = 1;    /* length 1 */
        body[3 + 4 * i + 3] = 0x30; /* a lone SEQUENCE tag: not a certificate */
    }
    feed_client_hello(f);
    assert_server_hello_parsed(f);
    feed_handshake(f, TB_DIR_S2C, TB_HS_CERTIFICATE, body, 3 + list_len);
    free(body);
    assert_no_parse_error(&f->s, TB_DIR_S2C);
    assert_int_equal(f->s.chain[TB_DIR_S2C].total, MANY_ENTRIES);
    assert_true(f->s.chain[TB_DIR_S2C].count <= TB_MAX_CERTS);
    assert_int_equal(count_hs(&f->s, TB_DIR_S2C, TB_HS_CERTIFICATE), 1);
    assert_client_certificate_parsed(f);
    assert_bounded(f);
    finish(f);
}

/* ---- 4. extensions nested past their enclosing length ---- */

/* A minimal TLS 1.2 ClientHello body with the given extensions block (2-byte length included). */
static size_t client_hello_with(uint8_t *out, size_t cap, const uint8_t *exts, size_t exts_len)
{
    static const uint8_t head[] = {0x03, 0x03};
    size_t n = 0;

    assert_true(cap >= 2 + 32 + 1 + 4 + 2 + exts_len);
    memcpy(out + n, head, 2);
    n += 2;
    memset(out + n, 0x5a, 32); /* random */
    n += 32;
    out[n++] = 0;              /* legacy_session_id */
    out[n++] = 0;              /* cipher_suites: TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 */
    out[n++] = 2;
    out[n++] = 0xc0;
    out[n++] = 0x30;
    out[n++] = 1;              /* compression_methods: null */
    out[n++] = 0;
    memcpy(out + n, exts, exts_len);
    return n + exts_len;
}

static void run_bad_extensions(struct fx *f, const uint8_t *exts, size_t exts_len,
                               enum tb_err want)
{
    uint8_t body[256];
    size_t len = client_hello_with(body, sizeof body, exts, exts_len);

    feed_handshake(f, TB_DIR_C2S, TB_HS_CLIENT_HELLO, body, len);
    assert_int_equal(count_hs(&f->s, TB_DIR_C2S, TB_HS_CLIENT_HELLO), 1);
    assert_parse_error(&f->s, TB_DIR_C2S, want);
    assert_non_null(strstr(f->s.dir[TB_DIR_C2S].parse_error, "client_hello"));
    assert_true(tb_tls_wants_bytes(f->t, TB_DIR_C2S)); /* a bad message, not a bad stream */
    assert_server_hello_parsed(f);
    assert_bounded(f);
    finish(f);
}

/* server_name: the extension holds 5 bytes, the server_name_list inside claims 16. */
static void test_extension_inner_list_past_extension(void **state)
{
    static const uint8_t exts[] = {0x00, 0x09,             /* extensions: 9 bytes */
                                   0x00, 0x00, 0x00, 0x05, /* server_name, 5 bytes */
                                   0x00, 0x10,             /* server_name_list: 16 */
                                   0x00, 0x00, 0x01};
    run_bad_extensions(*state, exts, sizeof exts, TB_ERR_TRUNCATED);
    assert_null(((struct fx *)*state)->s.ch.sni);
}

/* signature_algorithms claims 32 bytes inside an extensions block of 8. */
static void test_extension_past_extensions_block(void **state)
{
    static const uint8_t exts[] = {0x00, 0x08, 0x00, 0x0d, 0x00, 0x20,
                                   0x00, 0x1e, 0x04, 0x03};
    run_bad_extensions(*state, exts, sizeof exts, TB_ERR_TRUNCATED);
}

/* The extensions block claims more than the message holds. */
static void test_extensions_block_past_message(void **state)
{
    static const uint8_t exts[] = {0x01, 0x00, 0x00, 0x17, 0x00, 0x00};
    run_bad_extensions(*state, exts, sizeof exts, TB_ERR_TRUNCATED);
}

/* supported_versions: the inner list is shorter than the extension (bytes left inside it). */
static void test_extension_longer_than_content(void **state)
{
    static const uint8_t exts[] = {0x00, 0x09, 0x00, 0x2b, 0x00, 0x05,
                                   0x02, 0x03, 0x04, 0x03, 0x03};
    run_bad_extensions(*state, exts, sizeof exts, TB_ERR_TRAILING);
}

/* A key_share entry nested three deep runs past the client_shares vector. */
static void test_key_share_entry_past_client_shares(void **state)
{
    static const uint8_t exts[] = {0x00, 0x0c, 0x00, 0x33, 0x00, 0x08, 0x00, 0x06,
                                   0x00, 0x1d, 0x00, 0x20, 0xaa, 0xbb, 0xcc, 0xdd};
    run_bad_extensions(*state, exts, sizeof exts, TB_ERR_TRUNCATED);
}

/* ---- 5. a handshake message of 2^24-1 bytes announced but never sent ---- */

static void test_handshake_2_24_announced_never_sent(void **state)
{
    struct fx *f = *state;
    uint8_t msg[4 + 512];
    uint8_t junk[16384];

    memset(msg, 0x42, sizeof msg);
    msg[0] = TB_HS_CERTIFICATE;
    msg[1] = 0xff;
    msg[2] = 0xff;
    msg[3] = 0xff;
    feed_client_hello(f);
    feed_handshake_msg(f, TB_DIR_C2S, msg, sizeof msg);
    assert_parse_error(&f->s, TB_DIR_C2S, TB_ERR_CAP);
    assert_true((f->s.anomalies & TB_ANOM_NOT_TLS_C2S) != 0);
    assert_false(tb_tls_wants_bytes(f->t, TB_DIR_C2S));
    /* What follows is neither buffered nor parsed: memory does not grow with it. */
    memset(junk, 0x43, sizeof junk);
    for (int i = 0; i < 64; i++) {
        feed_handshake_msg(f, TB_DIR_C2S, junk, sizeof junk);
    }
    assert_int_equal(f->t->d[TB_DIR_C2S].hs.len, 0);
    assert_int_equal(count_hs(&f->s, TB_DIR_C2S, TB_HS_CERTIFICATE), 0);
    assert_server_hello_parsed(f);
    assert_bounded(f);
    finish(f);
}

/* Under the 2^24-1 header but over TB_MAX_HS_MSG: the cap, not the wire, bounds the buffer. */
static void test_handshake_over_cap_announced(void **state)
{
    struct fx *f = *state;
    uint8_t msg[4 + 100];
    uint32_t len = TB_MAX_HS_MSG + 1;

    memset(msg, 0, sizeof msg);
    msg[0] = TB_HS_CERTIFICATE;
    msg[1] = (uint8_t)(len >> 16);
    msg[2] = (uint8_t)(len >> 8);
    msg[3] = (uint8_t)len;
    feed_client_hello(f);
    feed_handshake_msg(f, TB_DIR_C2S, msg, sizeof msg);
    assert_parse_error(&f->s, TB_DIR_C2S, TB_ERR_CAP);
    assert_server_hello_parsed(f);
    assert_bounded(f);
    finish(f);
}

/* ---- 6. a real ClientHello cut at every byte, and one byte too long ---- */

/* Body length at which the message ends right after compression_methods (no extensions). */
static size_t client_hello_end_of_compression(void)
{
    struct tb_reader r = tb_rd_init(client_hello_msg, sizeof client_hello_msg);

    tb_rd_skip(&r, 4 + 2 + 32);
    struct tb_reader sid = tb_rd_vec(&r, 1, 0, 32);
    struct tb_reader suites = tb_rd_vec(&r, 2, 2, 0xfffe);
    struct tb_reader comp = tb_rd_vec(&r, 1, 1, 0xff);
    (void)sid;
    (void)suites;
    (void)comp;
    assert_true(tb_rd_ok(&r));
    return tb_rd_offset(&r) - 4;
}

static void test_client_hello_truncated_everywhere(void **state)
{
    const uint8_t *body = client_hello_msg + 4;
    size_t full = sizeof client_hello_msg - 4;
    size_t no_extensions = client_hello_end_of_compression();

    (void)state;
    for (size_t cut = 0; cut < full; cut++) {
        struct fx *f;
        assert_int_equal(setup((void **)&f), 0);
        /* The handshake header says "cut" bytes: every field in turn ends early. */
        feed_handshake(f, TB_DIR_C2S, TB_HS_CLIENT_HELLO, body, cut);
        assert_int_equal(count_hs(&f->s, TB_DIR_C2S, TB_HS_CLIENT_HELLO), 1);
        if (cut == no_extensions) {
            /* RFC 5246 7.4.1.2: a ClientHello may end after compression_methods. */
            assert_no_parse_error(&f->s, TB_DIR_C2S);
        } else {
            assert_true((f->s.anomalies & TB_ANOM_PARSE_C2S) != 0);
            assert_non_null(f->s.dir[TB_DIR_C2S].parse_error);
        }
        assert_server_hello_parsed(f);
        finish(f);
        assert_int_equal(teardown((void **)&f), 0);
    }
}

static void test_client_hello_one_byte_too_long(void **state)
{
    struct fx *f = *state;
    size_t full = sizeof client_hello_msg - 4;
    uint8_t body[sizeof client_hello_msg - 4 + 1];

    memcpy(body, client_hello_msg + 4, full);
    body[full] = 0;
    feed_handshake(f, TB_DIR_C2S, TB_HS_CLIENT_HELLO, body, full + 1);
    assert_true(f->s.ch.seen);
    assert_parse_error(&f->s, TB_DIR_C2S, TB_ERR_TRAILING);
    assert_server_hello_parsed(f);
    finish(f);
}

/* The same ClientHello complete and whole parses without error (the tests above can fail). */
static void test_client_hello_intact(void **state)
{
    struct fx *f = *state;

    feed_client_hello(f);
    assert_non_null(f->s.ch.sni);
    assert_string_equal(f->s.ch.sni, "server.test");
    assert_int_equal(f->s.ch.cipher_suites.count, 25);
    assert_server_hello_parsed(f);
    finish(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_client_hello_intact, setup, teardown),
        cmocka_unit_test_setup_teardown(test_record_length_over_cap_after_valid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_record_length_over_cap_first, setup, teardown),
        cmocka_unit_test_setup_teardown(test_held_first_bytes_not_joined_across_gap, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_certificate_inner_lengths_disagree, setup, teardown),
        cmocka_unit_test_setup_teardown(test_certificate_list_shorter_than_message, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_certificate_list_zero_length_entries, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_certificate_list_many_entries_capped, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_extension_inner_list_past_extension, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_extension_past_extensions_block, setup, teardown),
        cmocka_unit_test_setup_teardown(test_extensions_block_past_message, setup, teardown),
        cmocka_unit_test_setup_teardown(test_extension_longer_than_content, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_share_entry_past_client_shares, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_handshake_2_24_announced_never_sent, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_handshake_over_cap_announced, setup, teardown),
        cmocka_unit_test(test_client_hello_truncated_everywhere),
        cmocka_unit_test_setup_teardown(test_client_hello_one_byte_too_long, setup, teardown),
    };
    return cmocka_run_group_tests_name("hostile", tests, NULL, NULL);
}
