/*
 * test_tls.c - the record and handshake dissector on byte-exact streams cut
 * from real captures (tls_vectors.h, generated from samples/), delivered
 * whole, one byte at a time, in odd-sized pieces and coalesced: every
 * fragmentation must give the same timeline and facts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "tls_vectors.h"
#include "tlsblame/session.h"
#include "tlsblame/tls.h"

enum split { SPLIT_WHOLE, SPLIT_BYTES, SPLIT_ODD, SPLIT_COALESCE };

struct run {
    struct tb_session s;
    struct tb_certcache *cache;
};

static void feed(struct tb_tls *t, const struct vec_chunk *c, size_t n, enum split how)
{
    for (size_t i = 0; i < n; i++) {
        enum tb_dir dir = c[i].dir == 0 ? TB_DIR_C2S : TB_DIR_S2C;
        uint64_t frame = i + 1;
        switch (how) {
        case SPLIT_WHOLE:
        case SPLIT_COALESCE:
            tb_tls_data(t, dir, c[i].bytes, c[i].len, frame, (int64_t)frame);
            break;
        case SPLIT_BYTES:
            for (size_t k = 0; k < c[i].len; k++) {
                tb_tls_data(t, dir, c[i].bytes + k, 1, frame, (int64_t)frame);
            }
            break;
        case SPLIT_ODD:
            for (size_t k = 0; k < c[i].len; k += 7) {
                size_t m = c[i].len - k < 7 ? c[i].len - k : 7;
                tb_tls_data(t, dir, c[i].bytes + k, m, frame, (int64_t)frame);
            }
            break;
        default:
            fail();
        }
    }
}

/* Coalesce consecutive same-direction chunks into one delivery (several
 * segments' records in one read), frame of the last one. */
static void feed_coalesced(struct tb_tls *t, const struct vec_chunk *c, size_t n)
{
    static uint8_t joined[65536];
    size_t i = 0;

    while (i < n) {
        size_t len = 0, j = i;
        while (j < n && c[j].dir == c[i].dir && len + c[j].len <= sizeof joined) {
            memcpy(joined + len, c[j].bytes, c[j].len);
            len += c[j].len;
            j++;
        }
        tb_tls_data(t, c[i].dir == 0 ? TB_DIR_C2S : TB_DIR_S2C, joined, len, j, (int64_t)j);
        i = j;
    }
}

static void run_vec(struct run *r, const struct vec_chunk *c, size_t n, enum split how)
{
    memset(r, 0, sizeof *r);
    r->cache = tb_certcache_new(64);
    assert_non_null(r->cache);
    tb_session_init(&r->s, 1, "test");
    struct tb_tls *t = tb_tls_new(&r->s, r->cache);
    assert_non_null(t);
    if (how == SPLIT_COALESCE) {
        feed_coalesced(t, c, n);
    } else {
        feed(t, c, n, how);
    }
    tb_tls_close(t, TB_DIR_S2C, false, n + 1, (int64_t)n + 1);
    tb_tls_close(t, TB_DIR_C2S, false, n + 2, (int64_t)n + 2);
    tb_tls_finish(t, false, NULL);
    tb_tls_free(t);
}

static void run_done(struct run *r)
{
    tb_session_fini(&r->s, r->cache);
    tb_certcache_free(r->cache);
}

/* The kinds and handshake types in order: what fragmentation must not change. */
static size_t shape(const struct tb_session *s, char *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < s->event_count && n + 8 < cap; i++) {
        const struct tb_event *e = &s->events[i];
        n += (size_t)snprintf(out + n, cap - n, "%d%c%u.", (int)e->kind,
                              e->dir == TB_DIR_C2S ? 'c' : 's',
                              e->kind == TB_EV_HANDSHAKE ? e->hs_type : e->alert_desc);
    }
    return n;
}

static void check_all_splits_agree(const struct vec_chunk *c, size_t n)
{
    static char base[4096], other[4096];
    struct run r;
    static const enum split splits[] = {SPLIT_BYTES, SPLIT_ODD, SPLIT_COALESCE};

    run_vec(&r, c, n, SPLIT_WHOLE);
    shape(&r.s, base, sizeof base);
    enum tb_outcome outcome = r.s.outcome;
    size_t chains[2] = {r.s.chain[0].total, r.s.chain[1].total};
    run_done(&r);
    for (size_t k = 0; k < sizeof splits / sizeof splits[0]; k++) {
        run_vec(&r, c, n, splits[k]);
        shape(&r.s, other, sizeof other);
        assert_string_equal(base, other);
        assert_int_equal(r.s.outcome, outcome);
        assert_int_equal(r.s.chain[0].total, chains[0]);
        assert_int_equal(r.s.chain[1].total, chains[1]);
        assert_null(r.s.dir[0].parse_error);
        assert_null(r.s.dir[1].parse_error);
        run_done(&r);
    }
}

static bool has_hs(const struct tb_session *s, enum tb_dir dir, uint8_t type)
{
    for (size_t i = 0; i < s->event_count; i++) {
        if (s->events[i].kind == TB_EV_HANDSHAKE && s->events[i].dir == dir &&
            s->events[i].hs_type == type) {
            return true;
        }
    }
    return false;
}

#define N(v) (sizeof(v) / sizeof((v)[0]))

static void test_openssl_tls12_untrusted_client(void **state)
{
    struct run r;
    (void)state;
    run_vec(&r, openssl_untrusted_tls12, N(openssl_untrusted_tls12), SPLIT_WHOLE);
    const struct tb_session *s = &r.s;
    assert_true(s->is_tls);
    assert_true(s->ch.seen);
    assert_string_equal(s->ch.sni, "server.test");
    assert_true(s->ch.cipher_suites.count > 10);
    assert_true(s->ch.sig_algs.count > 5);
    assert_int_equal(s->version, 0x0303);
    assert_false(s->tls13);
    assert_true(has_hs(s, TB_DIR_S2C, TB_HS_SERVER_KEY_EXCHANGE));
    assert_true(has_hs(s, TB_DIR_S2C, TB_HS_SERVER_HELLO_DONE));
    assert_true(has_hs(s, TB_DIR_C2S, TB_HS_CLIENT_KEY_EXCHANGE));
    assert_int_equal(s->chain[TB_DIR_S2C].total, 2);
    assert_true(s->cr.seen);
    assert_true(s->cr.ca_count >= 1);
    assert_true(s->cr.sig_algs.count >= 1);
    assert_true(s->cr.cert_types_count >= 1);
    assert_true(s->chain[TB_DIR_C2S].total >= 1);
    assert_int_equal(s->client_sent_certificate, TB_TRI_YES);
    assert_true(s->cv.seen);
    assert_int_not_equal(s->cv.sig_alg, 0);
    assert_true(s->cv.sig_len > 64);
    const struct tb_alert *a = tb_session_first_fatal(s);
    assert_non_null(a);
    assert_int_equal(a->dir, TB_DIR_S2C);
    assert_int_equal(a->level, 2);
    assert_int_equal(a->desc, 48); /* unknown_ca, what OpenSSL sends */
    assert_false(a->encrypted);
    assert_int_equal(s->outcome, TB_OUTCOME_FAILED);
    /* The client's CertificateVerify was checked (the session failed after it). */
    assert_int_equal(s->cv.valid, TB_TRI_YES);
    run_done(&r);
}

static void test_openssl_tls13_no_client_cert(void **state)
{
    struct run r;
    (void)state;
    run_vec(&r, openssl_no_client_cert_tls13, N(openssl_no_client_cert_tls13), SPLIT_WHOLE);
    const struct tb_session *s = &r.s;
    assert_true(s->tls13);
    assert_int_equal(s->version, 0x0304);
    assert_true(s->dir[TB_DIR_S2C].encrypted_hs_records >= 1);
    /* Without keys: the empty Certificate is estimated from the flight's size. */
    assert_int_equal(s->client_sent_certificate, TB_TRI_NO);
    assert_non_null(s->client_cert_estimate);
    const struct tb_alert *a = tb_session_first_fatal(s);
    assert_non_null(a);
    assert_int_equal(a->dir, TB_DIR_S2C);
    assert_true(a->encrypted);
    assert_int_equal(s->outcome, TB_OUTCOME_FAILED);
    run_done(&r);
}

static void test_java_seed_certificate_unknown(void **state)
{
    struct run r;
    (void)state;
    run_vec(&r, java_certificate_unknown_tls12, N(java_certificate_unknown_tls12), SPLIT_WHOLE);
    const struct tb_session *s = &r.s;
    const struct tb_alert *a = tb_session_first_fatal(s);
    assert_non_null(a);
    assert_int_equal(a->dir, TB_DIR_S2C);
    assert_int_equal(a->desc, 46); /* certificate_unknown: JSSE for every trust failure */
    assert_true(s->dir[TB_DIR_C2S].saw_ccs);
    assert_true(s->dir[TB_DIR_C2S].saw_finished); /* after the client's Finished, as in the seed */
    assert_false(s->dir[TB_DIR_S2C].saw_ccs);
    run_done(&r);
}

static void test_fragmentation_tls12(void **state)
{
    (void)state;
    check_all_splits_agree(openssl_untrusted_tls12, N(openssl_untrusted_tls12));
    check_all_splits_agree(java_certificate_unknown_tls12, N(java_certificate_unknown_tls12));
}

static void test_fragmentation_tls13(void **state)
{
    (void)state;
    check_all_splits_agree(openssl_no_client_cert_tls13, N(openssl_no_client_cert_tls13));
}

/* A gap inside the server's flight: no message is invented, the session is incomplete. */
static void test_gap_in_server_flight(void **state)
{
    struct run r;
    (void)state;
    memset(&r, 0, sizeof r);
    r.cache = tb_certcache_new(16);
    tb_session_init(&r.s, 1, "test");
    struct tb_tls *t = tb_tls_new(&r.s, r.cache);
    const struct vec_chunk *c = openssl_untrusted_tls12;
    tb_tls_data(t, TB_DIR_C2S, c[0].bytes, c[0].len, 1, 1);
    /* The server's first chunk with 100 bytes missing in the middle. */
    assert_true(c[1].dir == 1 && c[1].len > 300);
    tb_tls_data(t, TB_DIR_S2C, c[1].bytes, 150, 2, 2);
    tb_tls_gap(t, TB_DIR_S2C, 100, 2, 2);
    tb_tls_data(t, TB_DIR_S2C, c[1].bytes + 250, c[1].len - 250, 3, 3);
    tb_tls_finish(t, true, NULL);
    assert_true((r.s.anomalies & TB_ANOM_GAP_S2C) != 0);
    assert_false(r.s.chain[TB_DIR_S2C].seen); /* the Certificate was in the hole */
    assert_int_equal(r.s.outcome, TB_OUTCOME_INCOMPLETE);
    tb_tls_free(t);
    run_done(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_openssl_tls12_untrusted_client),
        cmocka_unit_test(test_openssl_tls13_no_client_cert),
        cmocka_unit_test(test_java_seed_certificate_unknown),
        cmocka_unit_test(test_fragmentation_tls12),
        cmocka_unit_test(test_fragmentation_tls13),
        cmocka_unit_test(test_gap_in_server_flight),
    };
    return cmocka_run_group_tests_name("tls", tests, NULL, NULL);
}
