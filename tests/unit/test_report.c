/*
 * test_report.c - the report module: JSON string escaping (quotes, control
 * characters, malformed UTF-8), RFC 3339 times, IANA names, the NDJSON
 * session object (parsed back: valid JSON, documented key order, values),
 * the text report and its ladder (width at 80 and 40 columns), and the
 * summary (counts, ordering, merge).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tlsblame/names.h"
#include "tlsblame/report.h"

/* ---- capture helpers ---- */

struct capture {
    FILE *fp;
    char *text;
    size_t len;
};

static FILE *cap_open(struct capture *c)
{
    c->text = NULL;
    c->len = 0;
    c->fp = open_memstream(&c->text, &c->len);
    assert_non_null(c->fp);
    return c->fp;
}

static const char *cap_close(struct capture *c)
{
    assert_int_equal(fclose(c->fp), 0);
    c->fp = NULL;
    return c->text;
}

static char *json_of_string_n(const char *s, size_t n)
{
    struct capture c;
    tb_json_string_n(cap_open(&c), s, n);
    (void)cap_close(&c);
    return c.text;
}

static void expect_json(const char *in, size_t n, const char *want)
{
    char *got = json_of_string_n(in, n);
    assert_string_equal(got, want);
    free(got);
}

static bool starts_with(const char *s, const char *prefix)
{
    if (strncmp(s, prefix, strlen(prefix)) != 0) {
        print_error("expected prefix [%s]\n     got [%.*s]\n", prefix, (int)strlen(prefix), s);
        return false;
    }
    return true;
}

/* ---- a small strict JSON checker: validates a document, records top-level keys ---- */

struct jp {
    const char *s;
    size_t pos, n;
    char keys[64][48];
    size_t key_count;
};

static bool jp_value(struct jp *p, int depth);

static void jp_ws(struct jp *p)
{
    while (p->pos < p->n && strchr(" \t\r\n", p->s[p->pos]) != NULL) {
        p->pos++;
    }
}

/* A string; copies it (escapes left as written) into out when out != NULL. */
static bool jp_string(struct jp *p, char *out, size_t out_len)
{
    size_t w = 0;

    if (p->pos >= p->n || p->s[p->pos] != '"') {
        return false;
    }
    p->pos++;
    while (p->pos < p->n) {
        unsigned char ch = (unsigned char)p->s[p->pos];
        if (ch == '"') {
            p->pos++;
            if (out != NULL) {
                out[w < out_len ? w : out_len - 1] = '\0';
            }
            return true;
        }
        if (ch < 0x20) {
            return false; /* raw control character */
        }
        if (ch == '\\') {
            p->pos++;
            if (p->pos >= p->n || strchr("\"\\/bfnrtu", p->s[p->pos]) == NULL) {
                return false;
            }
            if (p->s[p->pos] == 'u') {
                for (int k = 1; k <= 4; k++) {
                    if (p->pos + (size_t)k >= p->n ||
                        strchr("0123456789abcdefABCDEF", p->s[p->pos + (size_t)k]) == NULL) {
                        return false;
                    }
                }
                p->pos += 4;
            }
        } else if (ch >= 0x80) {
            /* raw UTF-8 must be well formed */
            size_t len = ch >= 0xf0 ? 4 : ch >= 0xe0 ? 3 : ch >= 0xc2 ? 2 : 0;
            if (len == 0 || p->pos + len > p->n) {
                return false;
            }
            for (size_t k = 1; k < len; k++) {
                if (((unsigned char)p->s[p->pos + k] & 0xc0u) != 0x80u) {
                    return false;
                }
            }
            p->pos += len - 1;
        }
        if (out != NULL && w + 1 < out_len) {
            out[w++] = (char)ch;
        }
        p->pos++;
    }
    return false;
}

static bool jp_literal(struct jp *p, const char *lit)
{
    size_t n = strlen(lit);
    if (p->n - p->pos < n || memcmp(p->s + p->pos, lit, n) != 0) {
        return false;
    }
    p->pos += n;
    return true;
}

static bool jp_number(struct jp *p)
{
    size_t start = p->pos;
    if (p->pos < p->n && p->s[p->pos] == '-') {
        p->pos++;
    }
    while (p->pos < p->n && strchr("0123456789.eE+-", p->s[p->pos]) != NULL) {
        p->pos++;
    }
    return p->pos > start;
}

static bool jp_value(struct jp *p, int depth)
{
    if (depth > 32) {
        return false;
    }
    jp_ws(p);
    if (p->pos >= p->n) {
        return false;
    }
    char ch = p->s[p->pos];
    if (ch == '{') {
        p->pos++;
        jp_ws(p);
        if (p->pos < p->n && p->s[p->pos] == '}') {
            p->pos++;
            return true;
        }
        for (;;) {
            char key[48];
            jp_ws(p);
            if (!jp_string(p, key, sizeof key)) {
                return false;
            }
            if (depth == 0 && p->key_count < 64) {
                memcpy(p->keys[p->key_count++], key, sizeof key);
            }
            jp_ws(p);
            if (p->pos >= p->n || p->s[p->pos] != ':') {
                return false;
            }
            p->pos++;
            if (!jp_value(p, depth + 1)) {
                return false;
            }
            jp_ws(p);
            if (p->pos < p->n && p->s[p->pos] == ',') {
                p->pos++;
                continue;
            }
            if (p->pos < p->n && p->s[p->pos] == '}') {
                p->pos++;
                return true;
            }
            return false;
        }
    }
    if (ch == '[') {
        p->pos++;
        jp_ws(p);
        if (p->pos < p->n && p->s[p->pos] == ']') {
            p->pos++;
            return true;
        }
        for (;;) {
            if (!jp_value(p, depth + 1)) {
                return false;
            }
            jp_ws(p);
            if (p->pos < p->n && p->s[p->pos] == ',') {
                p->pos++;
                continue;
            }
            if (p->pos < p->n && p->s[p->pos] == ']') {
                p->pos++;
                return true;
            }
            return false;
        }
    }
    if (ch == '"') {
        return jp_string(p, NULL, 0);
    }
    if (ch == 't') {
        return jp_literal(p, "true");
    }
    if (ch == 'f') {
        return jp_literal(p, "false");
    }
    if (ch == 'n') {
        return jp_literal(p, "null");
    }
    return jp_number(p);
}

/* One NDJSON line: a single valid object followed by exactly one newline. */
static void check_ndjson_line(const char *line, struct jp *p)
{
    size_t n = strlen(line);
    assert_true(n > 1);
    assert_int_equal(line[n - 1], '\n');
    assert_null(memchr(line, '\n', n - 1));
    memset(p, 0, sizeof *p);
    p->s = line;
    p->n = n - 1;
    assert_true(jp_value(p, 0));
    jp_ws(p);
    assert_int_equal(p->pos, p->n);
}

/* ---- a hand-built session: a server rejecting alice's certificate ---- */

static const char *leaf_san[] = {"DNS:api.example.com"};
static const char *server_eku[] = {"serverAuth"};
static const char *client_eku[] = {"clientAuth"};
static const char *ku_ds[] = {"digitalSignature"};

#define T2020 1577836800LL /* 2020-01-01T00:00:00Z */
#define T2030 1893456000LL /* 2030-01-01T00:00:00Z */
#define T2021 1609459200LL /* 2021-01-01T00:00:00Z */
#define CAPTURE_US (1403442062LL * 1000000 + 123456) /* 2014-06-22T13:01:02.123456Z */

static struct tb_cert server_leaf = {
    .sha256_hex = "aa00000000000000000000000000000000000000000000000000000000000001",
    .parsed = true,
    .version = 3,
    .subject = "CN=api.example.com,O=Example",
    .issuer = "CN=Int CA,O=Example",
    .subject_cn = "api.example.com",
    .issuer_cn = "Int CA",
    .serial_hex = "0a1b",
    .not_before = 1388534400LL, /* 2014-01-01 */
    .not_after = T2020,
    .key_type = TB_KEY_RSA,
    .key_bits = 2048,
    .key_desc = "RSA 2048",
    .sig_alg = "sha256WithRSAEncryption",
    .san = leaf_san,
    .san_count = 1,
    .has_eku = true,
    .eku_names = server_eku,
    .eku_count = 1,
    .has_key_usage = true,
    .ku_names = ku_ds,
    .ku_count = 1,
};

static struct tb_cert server_int = {
    .sha256_hex = "aa00000000000000000000000000000000000000000000000000000000000002",
    .parsed = true,
    .version = 3,
    .subject = "CN=Int CA,O=Example",
    .issuer = "CN=Root CA,O=Example",
    .subject_cn = "Int CA",
    .serial_hex = "02",
    .not_before = 1262304000LL, /* 2010 */
    .not_after = T2030,
    .key_desc = "RSA 4096",
    .sig_alg = "sha256WithRSAEncryption",
    .has_basic_constraints = true,
    .is_ca = true,
};

static struct tb_cert client_leaf = {
    .sha256_hex = "bb00000000000000000000000000000000000000000000000000000000000001",
    .parsed = true,
    .version = 3,
    .subject = "CN=alice,O=Example",
    .issuer = "CN=Team CA,O=Example",
    .subject_cn = "alice",
    .serial_hex = "77",
    .not_before = T2021, /* not yet valid in 2014 */
    .not_after = T2030,
    .key_desc = "EC P-256",
    .sig_alg = "ecdsa-with-SHA256",
    .has_eku = true,
    .eku_names = client_eku,
    .eku_count = 1,
};

static struct tb_cert broken_cert = {
    .sha256_hex = "cc00000000000000000000000000000000000000000000000000000000000001",
    .parsed = false,
    .parse_error = "X509 - The CRT/CRL/CSR format is invalid",
    .subject = "",
};

struct fixture {
    struct tb_session s;
    struct tb_event events[TB_MAX_EVENTS];
    struct tb_verdict v;
};

static struct tb_event *add_event(struct fixture *fx, enum tb_event_kind kind, enum tb_dir dir,
                                  uint64_t frame)
{
    struct tb_event *e = &fx->events[fx->s.event_count++];
    e->kind = kind;
    e->dir = dir;
    e->frame = frame;
    e->ts_us = CAPTURE_US + (int64_t)frame * 1000;
    return e;
}

static void add_hs(struct fixture *fx, enum tb_dir dir, uint64_t frame, uint8_t type)
{
    add_event(fx, TB_EV_HANDSHAKE, dir, frame)->hs_type = type;
}

static void chain_set(struct tb_chain *ch, const struct tb_cert *a, const struct tb_cert *b,
                      int64_t ts_us)
{
    ch->seen = true;
    ch->ts_us = ts_us;
    ch->certs[0] = a;
    ch->certs[1] = b;
    ch->count = b != NULL ? 2 : a != NULL ? 1 : 0;
    ch->total = ch->count;
    ch->analyzed = true;
    ch->report.order_ok = true;
    ch->report.first_break = -1;
    ch->report.parse_error_index = -1;
    ch->report.expired_index = -1;
    ch->report.not_yet_valid_index = -1;
    ch->report.weak_key_index = -1;
    ch->report.weak_signature_index = -1;
    ch->report.leaf_eku_ok = true;
    ch->report.leaf_ku_ok = true;
    ch->report.intermediates_are_ca = true;
    ch->report.path_len_ok = true;
}

static void build_failed(struct fixture *fx)
{
    struct tb_session *s = &fx->s;
    static const char *alpn[] = {"h2", "http/1.1"};
    static const char *ca_names[] = {"CN=Example Root CA,O=Example", "CN=Other CA"};

    memset(fx, 0, sizeof *fx);
    s->id = 3;
    s->file = "capture.pcapng";
    s->first_frame = 1;
    s->last_frame = 8;
    s->start_us = CAPTURE_US;
    s->end_us = CAPTURE_US + 8000;
    snprintf(s->client.ip, sizeof s->client.ip, "10.0.0.2");
    s->client.port = 51234;
    snprintf(s->server.ip, sizeof s->server.ip, "10.0.0.1");
    s->server.port = 443;
    s->saw_syn = true;
    s->is_tls = true;
    s->ch.seen = true;
    s->ch.frame = 1;
    s->ch.legacy_version = 0x0303;
    s->ch.sni = "api.example.com";
    s->ch.sni_len = strlen(s->ch.sni);
    s->ch.alpn[0] = alpn[0];
    s->ch.alpn[1] = alpn[1];
    s->ch.alpn_count = 2;
    s->ch.cipher_suites.v[0] = 0x0a0a; /* GREASE, left out */
    s->ch.cipher_suites.v[1] = 0xc02f;
    s->ch.cipher_suites.count = 2;
    s->ch.cipher_suites.total = 2;
    s->sh.seen = true;
    s->sh.version = 0x0303;
    s->sh.cipher = 0xc02f;
    s->version = 0x0303;
    s->cr.seen = true;
    s->cr.frame = 4;
    s->cr.cert_types[0] = 1;
    s->cr.cert_types[1] = 64;
    s->cr.cert_types_count = 2;
    s->cr.sig_algs.v[0] = 0x0401;
    s->cr.sig_algs.v[1] = 0x0403;
    s->cr.sig_algs.count = 2;
    s->cr.ca_names = ca_names;
    s->cr.ca_count = 2;
    s->cr.ca_total = 2;
    s->cv.seen = true;
    s->cv.frame = 5;
    s->cv.dir = TB_DIR_C2S;
    s->cv.sig_alg = 0x0401;
    s->cv.offered = TB_TRI_YES;
    s->cv.valid = TB_TRI_YES;
    s->client_sent_certificate = TB_TRI_YES;
    chain_set(&s->chain[TB_DIR_S2C], &server_leaf, &server_int, CAPTURE_US + 3000);
    chain_set(&s->chain[TB_DIR_C2S], &client_leaf, NULL, CAPTURE_US + 5000);
    s->chain[TB_DIR_C2S].report.issuer_in_ca_list = TB_TRI_NO;
    s->chain[TB_DIR_C2S].report.missing_intermediate = true;
    s->chain[TB_DIR_C2S].report.missing_issuer = "CN=Team CA,O=Example";

    s->events = fx->events;
    add_hs(fx, TB_DIR_C2S, 1, TB_HS_CLIENT_HELLO);
    add_hs(fx, TB_DIR_S2C, 3, TB_HS_SERVER_HELLO);
    add_hs(fx, TB_DIR_S2C, 3, TB_HS_CERTIFICATE);
    fx->events[fx->s.event_count - 1].count = 2;
    add_hs(fx, TB_DIR_S2C, 4, TB_HS_CERTIFICATE_REQUEST);
    add_hs(fx, TB_DIR_S2C, 4, TB_HS_SERVER_HELLO_DONE);
    add_hs(fx, TB_DIR_C2S, 5, TB_HS_CERTIFICATE);
    fx->events[fx->s.event_count - 1].count = 1;
    add_hs(fx, TB_DIR_C2S, 5, TB_HS_CLIENT_KEY_EXCHANGE);
    add_hs(fx, TB_DIR_C2S, 5, TB_HS_CERTIFICATE_VERIFY);
    add_event(fx, TB_EV_CCS, TB_DIR_C2S, 5);
    add_event(fx, TB_EV_ENCRYPTED_HS, TB_DIR_C2S, 5)->records = 1;
    struct tb_event *al = add_event(fx, TB_EV_ALERT, TB_DIR_S2C, 6);
    al->alert_level = 2;
    al->alert_desc = 48;
    add_event(fx, TB_EV_FIN, TB_DIR_S2C, 7);
    add_event(fx, TB_EV_FIN, TB_DIR_C2S, 8);
    s->alerts[0].dir = TB_DIR_S2C;
    s->alerts[0].frame = 6;
    s->alerts[0].level = 2;
    s->alerts[0].desc = 48;
    s->alert_count = 1;
    s->outcome = TB_OUTCOME_FAILED;

    struct tb_verdict *v = &fx->v;
    v->present = true;
    v->confidence = "high";
    v->cand_count = 2;
    v->cand[0] = (struct tb_candidate){
        .rule_id = "server-rejects-untrusted-client-issuer",
        .cause = "unknown_ca",
        .rejected_by = "server",
        .rejected = "client_certificate",
        .score = 0.8,
        .summary = "server 10.0.0.1:443 rejected the client certificate CN=alice: its issuer "
                   "CN=Team CA is not trusted by the server",
        .explanation = "The server asked for a client certificate naming two acceptable CAs. "
                       "The client sent CN=alice, issued by CN=Team CA, which is not among "
                       "them. Right after the client's flight the server sent a fatal "
                       "unknown_ca alert and closed the connection.",
        .evidence = {"fatal alert unknown_ca(48) from the server at frame 6",
                     "issuer CN=Team CA is not in the CertificateRequest list"},
        .evidence_count = 2,
        .likely_log = "SSL routines::certificate verify failed: unable to get local issuer "
                      "certificate",
        .fix = {"Add CN=Team CA to the server's client-CA trust store (ssl_client_certificate "
                "in nginx, SSLCACertificateFile in Apache), or issue alice a certificate from a "
                "CA the server already trusts.",
                "Make the client send its intermediate certificates."},
        .fix_count = 2,
    };
    v->cand[1] = (struct tb_candidate){
        .cause = "missing_intermediate",
        .rejected_by = "server",
        .score = 0.15,
        .summary = "the client did not send the intermediate that issued CN=alice",
        .evidence = {"CN=Team CA was not in the client's Certificate message"},
        .evidence_count = 1,
    };
    v->rules_fired[0] = "server-rejects-untrusted-client-issuer";
    v->rules_fired_count = 1;
}

static const char *render_json(const struct fixture *fx, struct capture *c)
{
    tb_report_json_session(cap_open(c), &fx->s, NULL, &fx->v);
    return cap_close(c);
}

/* ---- JSON strings ---- */

static void test_json_escape(void **state)
{
    (void)state;
    expect_json("plain", 5, "\"plain\"");
    expect_json("a\"b\\c/d", 7, "\"a\\\"b\\\\c/d\"");
    expect_json("\b\f\n\r\t", 5, "\"\\b\\f\\n\\r\\t\"");
    expect_json("\x01\x1f\x7f", 3, "\"\\u0001\\u001f\\u007f\"");
    expect_json("\x1b[31m", 5, "\"\\u001b[31m\"");
    expect_json("a\0b", 3, "\"a\\u0000b\"");
    /* U+2028 LINE SEPARATOR breaks JavaScript consumers */
    expect_json("\xe2\x80\xa8", 3, "\"\\u2028\"");
    /* valid UTF-8 passes through: é, €, U+1F600 */
    expect_json("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9,
                "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"");

    struct capture c;
    tb_json_string(cap_open(&c), NULL);
    assert_string_equal(cap_close(&c), "null");
    free(c.text);
    tb_json_string(cap_open(&c), "");
    assert_string_equal(cap_close(&c), "\"\"");
    free(c.text);
}

static void test_json_invalid_utf8(void **state)
{
    (void)state;
    /* lone continuation byte, and a lead byte that can never start a sequence */
    expect_json("a\x80z", 3, "\"a\\ufffdz\"");
    expect_json("\xff", 1, "\"\\ufffd\"");
    expect_json("\xf5\x80\x80\x80", 4, "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
    /* overlong encodings of '/' and NUL */
    expect_json("\xc0\xaf", 2, "\"\\ufffd\\ufffd\"");
    expect_json("\xc1\xbf", 2, "\"\\ufffd\\ufffd\"");
    expect_json("\xe0\x80\xaf", 3, "\"\\ufffd\\ufffd\\ufffd\"");
    expect_json("\xf0\x80\x80\xaf", 4, "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
    /* UTF-16 surrogates encoded in UTF-8 (CESU) */
    expect_json("\xed\xa0\x80", 3, "\"\\ufffd\\ufffd\\ufffd\"");
    expect_json("\xed\xbf\xbf", 3, "\"\\ufffd\\ufffd\\ufffd\"");
    /* above U+10FFFF */
    expect_json("\xf4\x90\x80\x80", 4, "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
    /* truncated sequences: one replacement for the maximal subpart */
    expect_json("\xe2\x82", 2, "\"\\ufffd\"");
    expect_json("\xe2\x82z", 3, "\"\\ufffdz\"");
    expect_json("\xf0\x9f\x98", 3, "\"\\ufffd\"");
    /* the largest valid code points stay */
    expect_json("\xed\x9f\xbf", 3, "\"\xed\x9f\xbf\"");
    expect_json("\xf4\x8f\xbf\xbf", 4, "\"\xf4\x8f\xbf\xbf\"");
    /* a quote right after a broken sequence is still escaped */
    expect_json("\xc3\"", 2, "\"\\ufffd\\\"\"");
}

static void test_time_format(void **state)
{
    char buf[32];
    (void)state;

    tb_format_time_us(0, buf);
    assert_string_equal(buf, "1970-01-01T00:00:00.000000Z");
    tb_format_time_us(CAPTURE_US, buf);
    assert_string_equal(buf, "2014-06-22T13:01:02.123456Z");
    tb_format_time_us(-1, buf);
    assert_string_equal(buf, "1969-12-31T23:59:59.999999Z");
    tb_format_time_us(951782400LL * 1000000 + 1, buf); /* leap day 2000 */
    assert_string_equal(buf, "2000-02-29T00:00:00.000001Z");
    tb_format_time_s(1403442062LL, buf);
    assert_string_equal(buf, "2014-06-22T13:01:02Z");
    tb_format_time_s(T2030, buf);
    assert_string_equal(buf, "2030-01-01T00:00:00Z");
    /* out-of-range values clamp instead of overflowing the buffer */
    tb_format_time_s(INT64_MAX, buf);
    assert_string_equal(buf, "9999-12-31T23:59:59Z");
    tb_format_time_us(INT64_MIN, buf);
    assert_string_equal(buf, "0000-01-01T00:00:00.000000Z");
}

static void test_text_escape(void **state)
{
    struct tb_arena a;
    const char *clean = "CN=api.example.com";
    (void)state;

    tb_arena_init(&a, 1u << 20);
    assert_ptr_equal(tb_text_escape(clean, &a), clean); /* nothing to do: no copy */
    assert_string_equal(tb_text_escape("a\nb", &a), "a\\x0ab");
    assert_string_equal(tb_text_escape("\x1b[2J", &a), "\\x1b[2J");
    assert_string_equal(tb_text_escape("back\\slash", &a), "back\\x5cslash");
    assert_string_equal(tb_text_escape("M\xc3\xbcller", &a), "M\xc3\xbcller");
    assert_string_equal(tb_text_escape("bad\xff", &a), "bad\\xff");
    assert_string_equal(tb_text_escape("\xc0\xaf", &a), "\\xc0\\xaf");
    /* C1 control and a right-to-left override */
    assert_string_equal(tb_text_escape("\xc2\x9b", &a), "\\xc2\\x9b");
    assert_string_equal(tb_text_escape("x\xe2\x80\xaey", &a), "x\\xe2\\x80\\xaey");
    assert_string_equal(tb_text_escape(NULL, &a), "");
    tb_arena_reset(&a);
}

/* ---- names ---- */

static void test_names(void **state)
{
    struct tb_name_buf nb;
    (void)state;

    assert_string_equal(tb_version_name(0x0300, &nb), "SSL 3.0");
    assert_string_equal(tb_version_name(0x0301, &nb), "TLS 1.0");
    assert_string_equal(tb_version_name(0x0302, &nb), "TLS 1.1");
    assert_string_equal(tb_version_name(0x0303, &nb), "TLS 1.2");
    assert_string_equal(tb_version_name(0x0304, &nb), "TLS 1.3");
    assert_string_equal(tb_version_name(0x7f17, &nb), "TLS 1.3 draft 23");
    assert_string_equal(tb_version_name(0x7a7a, &nb), "GREASE");
    assert_string_equal(tb_version_name(0x1234, &nb), "0x1234");

    assert_string_equal(tb_hs_type_name(1, &nb), "client_hello");
    assert_string_equal(tb_hs_type_name(6, &nb), "hello_retry_request");
    assert_string_equal(tb_hs_type_name(8, &nb), "encrypted_extensions");
    assert_string_equal(tb_hs_type_name(13, &nb), "certificate_request");
    assert_string_equal(tb_hs_type_name(14, &nb), "server_hello_done");
    assert_string_equal(tb_hs_type_name(22, &nb), "certificate_status");
    assert_string_equal(tb_hs_type_name(24, &nb), "key_update");
    assert_string_equal(tb_hs_type_name(99, &nb), "unknown_0x63");

    static const struct {
        uint8_t code;
        const char *name;
    } alerts[] = {
        {0, "close_notify"},
        {10, "unexpected_message"},
        {20, "bad_record_mac"},
        {21, "decryption_failed"},
        {22, "record_overflow"},
        {30, "decompression_failure"},
        {40, "handshake_failure"},
        {41, "no_certificate"},
        {42, "bad_certificate"},
        {43, "unsupported_certificate"},
        {44, "certificate_revoked"},
        {45, "certificate_expired"},
        {46, "certificate_unknown"},
        {47, "illegal_parameter"},
        {48, "unknown_ca"},
        {49, "access_denied"},
        {50, "decode_error"},
        {51, "decrypt_error"},
        {60, "export_restriction"},
        {70, "protocol_version"},
        {71, "insufficient_security"},
        {80, "internal_error"},
        {86, "inappropriate_fallback"},
        {90, "user_canceled"},
        {100, "no_renegotiation"},
        {109, "missing_extension"},
        {110, "unsupported_extension"},
        {111, "certificate_unobtainable"},
        {112, "unrecognized_name"},
        {113, "bad_certificate_status_response"},
        {114, "bad_certificate_hash_value"},
        {115, "unknown_psk_identity"},
        {116, "certificate_required"},
        {120, "no_application_protocol"},
    };
    for (size_t i = 0; i < sizeof alerts / sizeof alerts[0]; i++) {
        assert_string_equal(tb_alert_name(alerts[i].code, &nb), alerts[i].name);
    }
    assert_string_equal(tb_alert_name(200, &nb), "unknown_0xc8");

    assert_string_equal(tb_cipher_name(0x0004, &nb), "TLS_RSA_WITH_RC4_128_MD5");
    assert_string_equal(tb_cipher_name(0x0003, &nb), "TLS_RSA_EXPORT_WITH_RC4_40_MD5");
    assert_string_equal(tb_cipher_name(0x000a, &nb), "TLS_RSA_WITH_3DES_EDE_CBC_SHA");
    assert_string_equal(tb_cipher_name(0x002f, &nb), "TLS_RSA_WITH_AES_128_CBC_SHA");
    assert_string_equal(tb_cipher_name(0x009e, &nb), "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256");
    assert_string_equal(tb_cipher_name(0x00a8, &nb), "TLS_PSK_WITH_AES_128_GCM_SHA256");
    assert_string_equal(tb_cipher_name(0x00ff, &nb), "TLS_EMPTY_RENEGOTIATION_INFO_SCSV");
    assert_string_equal(tb_cipher_name(0x1301, &nb), "TLS_AES_128_GCM_SHA256");
    assert_string_equal(tb_cipher_name(0x1302, &nb), "TLS_AES_256_GCM_SHA384");
    assert_string_equal(tb_cipher_name(0x1303, &nb), "TLS_CHACHA20_POLY1305_SHA256");
    assert_string_equal(tb_cipher_name(0x1304, &nb), "TLS_AES_128_CCM_SHA256");
    assert_string_equal(tb_cipher_name(0x1305, &nb), "TLS_AES_128_CCM_8_SHA256");
    assert_string_equal(tb_cipher_name(0x5600, &nb), "TLS_FALLBACK_SCSV");
    assert_string_equal(tb_cipher_name(0xc013, &nb), "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA");
    assert_string_equal(tb_cipher_name(0xc02b, &nb), "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256");
    assert_string_equal(tb_cipher_name(0xc030, &nb), "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384");
    assert_string_equal(tb_cipher_name(0xc0ac, &nb), "TLS_ECDHE_ECDSA_WITH_AES_128_CCM");
    assert_string_equal(tb_cipher_name(0xcca8, &nb),
                        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256");
    assert_string_equal(tb_cipher_name(0xcca9, &nb),
                        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256");
    assert_string_equal(tb_cipher_name(0xd001, &nb), "TLS_ECDHE_PSK_WITH_AES_128_GCM_SHA256");
    assert_string_equal(tb_cipher_name(0x1234, &nb), "0x1234");
    assert_string_equal(tb_cipher_name(0x0a0a, &nb), "GREASE");

    assert_string_equal(tb_sigalg_name(0x0401, &nb), "rsa_pkcs1_sha256");
    assert_string_equal(tb_sigalg_name(0x0403, &nb), "ecdsa_secp256r1_sha256");
    assert_string_equal(tb_sigalg_name(0x0804, &nb), "rsa_pss_rsae_sha256");
    assert_string_equal(tb_sigalg_name(0x0809, &nb), "rsa_pss_pss_sha256");
    assert_string_equal(tb_sigalg_name(0x0807, &nb), "ed25519");
    assert_string_equal(tb_sigalg_name(0x0808, &nb), "ed448");
    assert_string_equal(tb_sigalg_name(0x0201, &nb), "rsa_pkcs1_sha1");
    assert_string_equal(tb_sigalg_name(0x0203, &nb), "ecdsa_sha1");
    assert_string_equal(tb_sigalg_name(0x0301, &nb), "rsa_pkcs1_sha224");
    assert_string_equal(tb_sigalg_name(0x0202, &nb), "dsa_sha1");
    assert_string_equal(tb_sigalg_name(0x0402, &nb), "dsa_sha256");
    assert_string_equal(tb_sigalg_name(0x0101, &nb), "rsa_pkcs1_md5");
    assert_string_equal(tb_sigalg_name(0x0303, &nb), "ecdsa_sha224");
    assert_string_equal(tb_sigalg_name(0xfe00, &nb), "0xfe00");

    assert_string_equal(tb_group_name(23, &nb), "secp256r1");
    assert_string_equal(tb_group_name(24, &nb), "secp384r1");
    assert_string_equal(tb_group_name(29, &nb), "x25519");
    assert_string_equal(tb_group_name(256, &nb), "ffdhe2048");
    assert_string_equal(tb_group_name(0x11ec, &nb), "X25519MLKEM768");
    assert_string_equal(tb_group_name(0x6399, &nb), "x25519kyber768draft00");
    assert_string_equal(tb_group_name(0x2a2a, &nb), "GREASE");
    assert_string_equal(tb_group_name(0x7777, &nb), "0x7777");

    assert_string_equal(tb_cert_type_name(1, &nb), "rsa_sign");
    assert_string_equal(tb_cert_type_name(2, &nb), "dss_sign");
    assert_string_equal(tb_cert_type_name(3, &nb), "rsa_fixed_dh");
    assert_string_equal(tb_cert_type_name(4, &nb), "dss_fixed_dh");
    assert_string_equal(tb_cert_type_name(64, &nb), "ecdsa_sign");
    assert_string_equal(tb_cert_type_name(65, &nb), "rsa_fixed_ecdh");
    assert_string_equal(tb_cert_type_name(66, &nb), "ecdsa_fixed_ecdh");
    assert_string_equal(tb_cert_type_name(9, &nb), "unknown_0x09");

    assert_true(tb_is_grease(0x0a0a));
    assert_true(tb_is_grease(0xfafa));
    assert_false(tb_is_grease(0x0a1a));
    assert_false(tb_is_grease(0x0303));
}

/* Every named code has its own name (catches a duplicated or misplaced table row). */
static void test_names_unique(void **state)
{
    static char seen[65536][64];
    size_t named = 0;
    (void)state;

    memset(seen, 0, sizeof seen);
    for (uint32_t code = 0; code <= 0xffff; code++) {
        struct tb_name_buf nb;
        const char *n = tb_cipher_name((uint16_t)code, &nb);
        assert_true(strlen(n) < sizeof seen[0]);
        if (strncmp(n, "0x", 2) == 0 || strcmp(n, "GREASE") == 0) {
            continue;
        }
        assert_true(strncmp(n, "TLS_", 4) == 0 || strncmp(n, "SSL_", 4) == 0);
        snprintf(seen[named++], sizeof seen[0], "%s", n);
    }
    assert_true(named > 300);
    for (size_t i = 0; i < named; i++) {
        for (size_t j = i + 1; j < named; j++) {
            assert_string_not_equal(seen[i], seen[j]);
        }
    }
}

/* ---- the session object ---- */

static const char *const documented_keys[] = {
    "schema",       "type",      "file",     "id",          "first_frame",  "last_frame",
    "start",        "end",       "client",   "server",      "version",      "sni",
    "alpn",         "cipher",    "resumed",  "client_auth", "server_chain", "client_chain",
    "handshake",    "alerts",    "outcome",  "verdict",     "ndpi",
};

static void check_key_order(const struct jp *p, bool with_verdict)
{
    size_t k = 0;
    for (size_t i = 0; i < sizeof documented_keys / sizeof documented_keys[0]; i++) {
        if (!with_verdict && strcmp(documented_keys[i], "verdict") == 0) {
            continue;
        }
        assert_true(k < p->key_count);
        assert_string_equal(p->keys[k], documented_keys[i]);
        k++;
    }
    /* extras follow and never repeat a documented key */
    for (; k < p->key_count; k++) {
        for (size_t i = 0; i < sizeof documented_keys / sizeof documented_keys[0]; i++) {
            assert_string_not_equal(p->keys[k], documented_keys[i]);
        }
    }
}

static void test_json_session_failed(void **state)
{
    struct fixture *fx = calloc(1, sizeof *fx);
    struct capture c;
    struct jp p;
    (void)state;

    build_failed(fx);
    const char *line = render_json(fx, &c);
    check_ndjson_line(line, &p);
    check_key_order(&p, true);
    assert_true(starts_with(line, "{\"schema\":1,\"type\":\"session\","
                                  "\"file\":\"capture.pcapng\",\"id\":3,"
                              "\"first_frame\":1,\"last_frame\":8,"
                              "\"start\":\"2014-06-22T13:01:02.123456Z\","));
    assert_non_null(strstr(line, "\"client\":{\"ip\":\"10.0.0.2\",\"port\":51234},"
                                 "\"server\":{\"ip\":\"10.0.0.1\",\"port\":443},"
                                 "\"version\":\"TLS 1.2\",\"sni\":\"api.example.com\","
                                 "\"alpn\":[\"h2\",\"http/1.1\"],"
                                 "\"cipher\":\"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256\","
                                 "\"resumed\":false,"
                                 "\"client_auth\":{\"requested\":true,"
                                 "\"ca_names\":[\"CN=Example Root CA,O=Example\",\"CN=Other CA\"],"
                                 "\"sig_algs\":[\"rsa_pkcs1_sha256\",\"ecdsa_secp256r1_sha256\"],"
                                 "\"client_sent_certificate\":true,"
                                 "\"certificate_verify\":{\"sig_alg\":\"rsa_pkcs1_sha256\","
                                 "\"offered\":true,\"valid\":true"));
    /* CERT: documented keys in order; validity judged at the Certificate's capture time */
    assert_non_null(strstr(line, "\"server_chain\":[{\"subject\":\"CN=api.example.com,O=Example\","
                                 "\"issuer\":\"CN=Int CA,O=Example\",\"serial\":\"0a1b\","
                                 "\"not_before\":\"2014-01-01T00:00:00Z\","
                                 "\"not_after\":\"2020-01-01T00:00:00Z\","
                                 "\"sha256\":\"aa000000000000000000000000000000000000000000000000"
                                 "00000000000001\",\"key\":\"RSA 2048\","
                                 "\"sig_alg\":\"sha256WithRSAEncryption\","
                                 "\"san\":[\"DNS:api.example.com\"],\"eku\":[\"serverAuth\"],"
                                 "\"key_usage\":[\"digitalSignature\"],\"ca\":false,"
                                 "\"self_signed\":false,\"valid_at_capture\":true,"
                                 "\"parse_error\":null"));
    assert_non_null(strstr(line, "\"subject\":\"CN=Int CA,O=Example\""));
    assert_non_null(strstr(line, "\"ca\":true"));
    /* alice's certificate starts in 2021: not valid at a 2014 capture */
    assert_non_null(strstr(line, "\"subject\":\"CN=alice,O=Example\""));
    assert_non_null(strstr(line, "\"eku\":[\"clientAuth\"],\"key_usage\":null,\"ca\":false,"
                                 "\"self_signed\":false,\"valid_at_capture\":false"));
    /* timeline */
    assert_non_null(strstr(line, "\"handshake\":[{\"frame\":1,\"from\":\"client\","
                                 "\"msg\":\"client_hello\"},{\"frame\":3,\"from\":\"server\","
                                 "\"msg\":\"server_hello\"},{\"frame\":3,\"from\":\"server\","
                                 "\"msg\":\"certificate\",\"count\":2},"));
    assert_non_null(strstr(line, "{\"frame\":5,\"from\":\"client\",\"msg\":\"change_cipher_spec\"},"
                                 "{\"frame\":5,\"from\":\"client\",\"msg\":\"encrypted_handshake\","
                                 "\"records\":1,\"bytes\":0},"
                                 "{\"frame\":6,\"from\":\"server\",\"msg\":\"alert\","
                                 "\"level\":\"fatal\",\"description\":\"unknown_ca\",\"code\":48,"
                                 "\"encrypted\":false},"
                                 "{\"frame\":7,\"from\":\"server\",\"msg\":\"fin\"},"
                                 "{\"frame\":8,\"from\":\"client\",\"msg\":\"fin\"}]"));
    assert_non_null(strstr(line, "\"alerts\":[{\"frame\":6,\"from\":\"server\",\"level\":\"fatal\","
                                 "\"description\":\"unknown_ca\",\"code\":48,"
                                 "\"encrypted\":false}],\"outcome\":\"failed\","));
    assert_non_null(strstr(line, "\"verdict\":{\"rejected_by\":\"server\","
                                 "\"rejected\":\"client_certificate\",\"cause\":\"unknown_ca\","
                                 "\"confidence\":\"high\",\"summary\":\"server 10.0.0.1:443"));
    assert_non_null(strstr(line, "\"candidates\":[{\"cause\":\"unknown_ca\",\"score\":0.8,"
                                 "\"evidence\":[\"fatal alert unknown_ca(48) from the server at "
                                 "frame 6\","));
    assert_non_null(strstr(line, "{\"cause\":\"missing_intermediate\",\"score\":0.15,"));
    assert_non_null(strstr(line, "\"likely_log\":\"SSL routines::certificate verify failed"));
    assert_non_null(strstr(line, "\"rules\":[\"server-rejects-untrusted-client-issuer\"]"));
    assert_non_null(strstr(line, "\"ndpi\":null"));
    /* GREASE is not a cipher suite */
    assert_non_null(strstr(line, "\"cipher_suites\":[\"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256\"]"));
    free(c.text);
    free(fx);
}

static void test_json_session_success_and_unknown(void **state)
{
    struct fixture *fx = calloc(1, sizeof *fx);
    struct capture c;
    struct jp p;
    (void)state;

    /* success: no verdict key at all */
    build_failed(fx);
    fx->s.outcome = TB_OUTCOME_SUCCESS;
    fx->s.ndpi_protocol = "TLS";
    fx->s.ja3 = "abc";
    const char *line = render_json(fx, &c);
    check_ndjson_line(line, &p);
    check_key_order(&p, false);
    assert_null(strstr(line, "\"verdict\""));
    assert_non_null(strstr(line, "\"outcome\":\"success\",\"ndpi\":{\"protocol\":\"TLS\","
                                 "\"app\":null,\"ja3\":\"abc\",\"ja3s\":null,\"risks\":[]"));
    free(c.text);

    /* failed, no rule fired: unknown side and cause, low confidence */
    build_failed(fx);
    memset(&fx->v, 0, sizeof fx->v);
    line = render_json(fx, &c);
    check_ndjson_line(line, &p);
    check_key_order(&p, true);
    assert_non_null(strstr(line, "\"verdict\":{\"rejected_by\":\"unknown\","
                                 "\"rejected\":\"unknown\","
                                 "\"cause\":\"unknown\",\"confidence\":\"low\",\"summary\":\""));
    assert_non_null(strstr(line, "\"candidates\":[],\"likely_log\":null,\"fix\":[],\"rules\":[]"));
    free(c.text);

    /* a NULL verdict behaves the same */
    tb_report_json_session(cap_open(&c), &fx->s, NULL, NULL);
    line = cap_close(&c);
    check_ndjson_line(line, &p);
    assert_non_null(strstr(line, "\"cause\":\"unknown\",\"confidence\":\"low\""));
    free(c.text);
    free(fx);
}

static void test_json_client_auth_null_and_hidden(void **state)
{
    struct fixture *fx = calloc(1, sizeof *fx);
    struct capture c;
    struct jp p;
    (void)state;

    /* TLS 1.2, no CertificateRequest: null */
    build_failed(fx);
    memset(&fx->s.cr, 0, sizeof fx->s.cr);
    memset(&fx->s.cv, 0, sizeof fx->s.cv);
    const char *line = render_json(fx, &c);
    check_ndjson_line(line, &p);
    assert_non_null(strstr(line, "\"resumed\":false,\"client_auth\":null,"));
    free(c.text);

    /* TLS 1.3 without keys: the request is encrypted, so the object says null */
    fx->s.tls13 = true;
    fx->s.version = 0x0304;
    memset(&fx->s.chain[TB_DIR_C2S], 0, sizeof fx->s.chain[TB_DIR_C2S]);
    fx->s.client_sent_certificate = TB_TRI_UNKNOWN;
    line = render_json(fx, &c);
    check_ndjson_line(line, &p);
    assert_non_null(strstr(line, "\"version\":\"TLS 1.3\""));
    assert_non_null(strstr(line, "\"client_auth\":{\"requested\":null,\"ca_names\":null,"
                                 "\"sig_algs\":null,\"client_sent_certificate\":null,"
                                 "\"certificate_verify\":null"));
    assert_non_null(strstr(line, "\"client_chain\":[]"));
    free(c.text);

    /* an empty client Certificate: sent false */
    build_failed(fx);
    fx->s.chain[TB_DIR_C2S].count = 0;
    fx->s.chain[TB_DIR_C2S].total = 0;
    line = render_json(fx, &c);
    check_ndjson_line(line, &p);
    assert_non_null(strstr(line, "\"client_sent_certificate\":false"));
    free(c.text);
    free(fx);
}

static void test_json_hostile_strings(void **state)
{
    struct fixture *fx = calloc(1, sizeof *fx);
    static const char sni[] = "evil\"\\\x1b[31m\xc0\xaf\xed\xa0\x80.example";
    struct capture c;
    struct jp p;
    (void)state;

    build_failed(fx);
    fx->s.ch.sni = sni;
    fx->s.ch.sni_len = sizeof sni - 1;
    fx->s.chain[TB_DIR_S2C].certs[1] = &broken_cert;
    fx->v.cand[0].evidence[0] = "line\nbreak";
    const char *line = render_json(fx, &c);
    check_ndjson_line(line, &p);
    assert_non_null(strstr(line, "\"sni\":\"evil\\\"\\\\\\u001b[31m\\ufffd\\ufffd\\ufffd\\ufffd"
                                 "\\ufffd.example\""));
    assert_non_null(strstr(line, "\"line\\nbreak\""));
    /* an unparsable certificate: nulls plus mbedTLS's error */
    assert_non_null(strstr(line, "{\"subject\":null,\"issuer\":null,\"serial\":null,"
                                 "\"not_before\":null,\"not_after\":null,\"sha256\":\"cc0000"));
    assert_non_null(strstr(line, "\"valid_at_capture\":null,"
                                 "\"parse_error\":\"X509 - The CRT/CRL/CSR format is invalid\""));
    free(c.text);
    free(fx);
}

static void test_json_error(void **state)
{
    struct capture c;
    struct jp p;
    (void)state;

    tb_report_json_error(cap_open(&c), "a.pcap", 1842, "truncated \"record\"");
    const char *line = cap_close(&c);
    check_ndjson_line(line, &p);
    assert_string_equal(line, "{\"schema\":1,\"type\":\"error\",\"file\":\"a.pcap\",\"frame\":1842,"
                              "\"message\":\"truncated \\\"record\\\"\"}\n");
    free(c.text);
    tb_report_json_error(cap_open(&c), "b.pcap", 0, "not a capture file");
    line = cap_close(&c);
    assert_string_equal(line, "{\"schema\":1,\"type\":\"error\",\"file\":\"b.pcap\",\"frame\":null,"
                              "\"message\":\"not a capture file\"}\n");
    free(c.text);
}

/* ---- text ---- */

/* Display columns of a line, ANSI colour sequences left out. */
static size_t line_cols(const char *s, size_t n)
{
    size_t cols = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\033') {
            while (i < n && s[i] != 'm') {
                i++;
            }
            continue;
        }
        if (((unsigned char)s[i] & 0xc0u) != 0x80u) {
            cols++;
        }
    }
    return cols;
}

static void check_width(const char *text, size_t width, size_t *lines)
{
    const char *p = text;
    *lines = 0;
    while (*p != '\0') {
        const char *nl = strchr(p, '\n');
        assert_non_null(nl);
        size_t cols = line_cols(p, (size_t)(nl - p));
        if (cols > width) {
            print_error("line wider than %zu: [%.*s]\n", width, (int)(nl - p), p);
        }
        assert_true(cols <= width);
        (*lines)++;
        p = nl + 1;
    }
}

static const char *render_ladder(const struct fixture *fx, unsigned width, bool color,
                                 struct capture *c)
{
    struct tb_text_opts o = {.color = color, .verbosity = 0, .width = width};
    tb_report_ladder(cap_open(c), &fx->s, &fx->v, &o);
    return cap_close(c);
}

static void test_ladder_width(void **state)
{
    struct fixture *fx = calloc(1, sizeof *fx);
    struct capture c;
    size_t lines80, lines40;
    (void)state;

    build_failed(fx);
    const char *text = render_ladder(fx, 80, false, &c);
    check_width(text, 80, &lines80);
    /* the client is on the left, the server on the right */
    assert_non_null(strstr(text, "  client 10.0.0.2:51234"));
    assert_non_null(strstr(text, "server 10.0.0.1:443\n"));
    assert_non_null(strstr(text, "  |-- #1 ClientHello (SNI api.example.com) ---"));
    assert_non_null(
        strstr(text, "  |<-- #3-4 ServerHello (TLS 1.2), Certificate [CN=api.example.com, "));
    assert_non_null(strstr(text, "CertificateRequest (2 CAs)"));
    assert_non_null(strstr(text, "Certificate [CN=alice]"));
    assert_non_null(strstr(text, "CertificateVerify (rsa_pkcs1_sha256, valid)"));
    /* the rejecting alert has its own marked line */
    assert_non_null(strstr(text, "\n>>|<-- #6 Alert fatal unknown_ca (48) ---"));
    assert_null(strstr(text, "(+")); /* no long pauses */
    assert_non_null(strstr(text, "  |<-- #7 FIN ---"));
    assert_non_null(strstr(text, "  |-- #8 FIN ---"));
    assert_null(strstr(text, "\033"));
    free(c.text);

    /* a long pause before a flight is shown: a timeout reads differently from a rejection */
    fx->events[10].ts_us += 30000000;
    fx->events[11].ts_us += 30000000;
    fx->events[12].ts_us += 30000000;
    text = render_ladder(fx, 80, false, &c);
    assert_non_null(strstr(text, ">>|<-- #6 (+30.0 s) Alert fatal unknown_ca (48) ---"));
    assert_non_null(strstr(text, "  |<-- #7 FIN ---"));
    free(c.text);
    for (size_t i = 10; i <= 12; i++) {
        fx->events[i].ts_us -= 30000000;
    }

    text = render_ladder(fx, 40, false, &c);
    check_width(text, 40, &lines40);
    assert_true(lines40 > lines80); /* narrower: wrapped, nothing cut */
    assert_non_null(strstr(text, ">>|<-- #6 Alert fatal unknown_ca"));
    assert_non_null(strstr(text, "ServerHelloDone"));
    assert_non_null(strstr(text, "ClientKeyExchange"));
    free(c.text);

    /* below the minimum the ladder keeps its minimum width rather than break */
    text = render_ladder(fx, 10, false, &c);
    check_width(text, 32, &lines40);
    free(c.text);

    /* colour: the rejecting line is red, widths unchanged */
    text = render_ladder(fx, 80, true, &c);
    check_width(text, 80, &lines40);
    assert_non_null(strstr(text, ">>\033[1;31m|<-- #6 Alert"));
    free(c.text);

    /* a long unbreakable subject is split, never overflows */
    static struct tb_cert longcn;
    longcn = client_leaf;
    longcn.subject_cn = "a-very-long-common-name-without-any-spaces-that-goes-on-and-on-and-on-"
                        "and-on-until-it-is-far-wider-than-the-terminal.example.com";
    fx->s.chain[TB_DIR_C2S].certs[0] = &longcn;
    text = render_ladder(fx, 40, false, &c);
    check_width(text, 40, &lines40);
    free(c.text);
    text = render_ladder(fx, 80, false, &c);
    check_width(text, 80, &lines40);
    free(c.text);
    free(fx);
}

/* The text with each line break and the indentation after it turned into one space. */
static char *squash(const char *text)
{
    char *out = calloc(1, strlen(text) + 1), *w = out;
    for (const char *p = text; *p != '\0'; p++) {
        if (*p == '\n') {
            while (p[1] == ' ') {
                p++;
            }
            *w++ = ' ';
            continue;
        }
        *w++ = *p;
    }
    return out;
}

static const char *render_text(const struct fixture *fx, const struct tb_text_opts *o,
                               struct capture *c)
{
    tb_report_text_session(cap_open(c), &fx->s, NULL, &fx->v, o);
    return cap_close(c);
}

static void test_text_failed(void **state)
{
    struct fixture *fx = calloc(1, sizeof *fx);
    struct tb_text_opts o = {.width = 80};
    struct capture c;
    size_t lines;
    (void)state;

    build_failed(fx);
    const char *text = render_text(fx, &o, &c);
    assert_true(starts_with(text, "server 10.0.0.1:443 (api.example.com) REJECTED the client "
                              "certificate CN=alice \xe2\x80\x94 unknown_ca (high confidence)\n"));
    assert_non_null(strstr(text, "\n  The server asked for a client certificate"));
    assert_non_null(strstr(text, "CertificateVerify rsa_pkcs1_sha256: signature VALID"));
    char *flat = squash(text);
    assert_non_null(strstr(flat, "- client chain: the issuer of its last certificate, CN=Team "
                                 "CA,O=Example, was not sent -"));
    assert_non_null(strstr(flat, "- no issuer in the client chain is among the 2 CA names in the "
                                 "server's CertificateRequest"));
    free(flat);
    assert_non_null(strstr(text, "  Evidence:\n    - fatal alert unknown_ca(48)"));
    assert_non_null(strstr(text, "  Other candidates, most likely first:\n    2. "
                                 "missing_intermediate (score 0.15)"));
    assert_non_null(strstr(text, "  What the server's log probably says:\n    SSL routines::"));
    assert_non_null(strstr(text, "  How to fix:\n    1. Add CN=Team CA"));
    assert_non_null(strstr(text, ">>|<-- #6 Alert fatal unknown_ca (48)"));
    /* everything but the verdict line and the log line respects the width */
    const char *after = strchr(text, '\n') + 1;
    const char *log = strstr(after, "    SSL routines");
    assert_non_null(log);
    const char *log_end = strchr(log, '\n') + 1;
    char *rest = calloc(1, strlen(text) + 1);
    memcpy(rest, after, (size_t)(log - after));
    memcpy(rest + (log - after), log_end, strlen(log_end) + 1);
    check_width(rest, 80, &lines);
    free(rest);
    free(c.text);

    /* at 40 columns too, only the verdict line and the log line may be wider */
    o.width = 40;
    text = render_text(fx, &o, &c);
    after = strchr(text, '\n') + 1;
    log = strstr(after, "    SSL routines");
    assert_non_null(log);
    log_end = strchr(log, '\n') + 1;
    rest = calloc(1, strlen(text) + 1);
    memcpy(rest, after, (size_t)(log - after));
    memcpy(rest + (log - after), log_end, strlen(log_end) + 1);
    check_width(rest, 40, &lines);
    free(rest);
    free(c.text);
    o.width = 80;

    /* -q: the verdict line alone */
    o.verbosity = -1;
    text = render_text(fx, &o, &c);
    assert_int_equal(strchr(text, '\n')[1], '\0');
    free(c.text);

    /* the client rejecting the server */
    o.verbosity = 0;
    fx->v.cand[0].rejected_by = "client";
    fx->v.cand[0].rejected = "server_certificate";
    fx->v.cand[0].cause = "hostname_mismatch";
    fx->s.alerts[0].dir = TB_DIR_C2S;
    fx->events[10].dir = TB_DIR_C2S;
    text = render_text(fx, &o, &c);
    assert_true(starts_with(text, "client 10.0.0.2:51234 REJECTED the server certificate "
                                  "CN=api.example.com \xe2\x80\x94 hostname_mismatch "
                                  "(high confidence)\n"));
    assert_non_null(strstr(text, "What the client's log probably says:"));
    assert_non_null(strstr(text, ">>|-- #6 Alert fatal unknown_ca (48)"));
    free(c.text);

    /* no rule: the side is unknown */
    memset(&fx->v, 0, sizeof fx->v);
    text = render_text(fx, &o, &c);
    assert_true(starts_with(text, "handshake FAILED between 10.0.0.2:51234 and 10.0.0.1:443 "
                              "(api.example.com) \xe2\x80\x94 unknown (low confidence)\n"));
    free(c.text);

    /* incomplete capture */
    fx->s.outcome = TB_OUTCOME_INCOMPLETE;
    fx->s.anomalies |= TB_ANOM_CAPTURE_END;
    text = render_text(fx, &o, &c);
    assert_true(starts_with(text, "INCOMPLETE handshake between 10.0.0.2:51234 and 10.0.0.1:443"));
    assert_non_null(strstr(text, "(capture ends, handshake still open)"));
    free(c.text);
    free(fx);
}

static void test_text_success_and_hostile(void **state)
{
    struct fixture *fx = calloc(1, sizeof *fx);
    struct tb_text_opts o = {.width = 80};
    struct capture c;
    (void)state;

    build_failed(fx);
    fx->s.outcome = TB_OUTCOME_SUCCESS;
    const char *text = render_text(fx, &o, &c);
    assert_string_equal(text, "ok  10.0.0.2:51234 -> 10.0.0.1:443 (api.example.com) TLS 1.2 "
                              "client cert CN=alice\n");
    free(c.text);

    o.only_failures = true;
    text = render_text(fx, &o, &c);
    assert_string_equal(text, "");
    free(c.text);

    /* -v: the success gets its ladder too */
    o.only_failures = false;
    o.verbosity = 1;
    text = render_text(fx, &o, &c);
    assert_non_null(strstr(text, "|-- #1 ClientHello"));
    assert_null(strstr(text, ">>"));
    free(c.text);

    /* wire strings cannot reach the terminal raw */
    o.verbosity = 0;
    o.color = false;
    fx->s.outcome = TB_OUTCOME_FAILED;
    fx->s.ch.sni = "x\x1b]0;owned\x07.example";
    static struct tb_cert evil;
    evil = client_leaf;
    evil.subject_cn = "alice\x1b[2J\r\n";
    fx->s.chain[TB_DIR_C2S].certs[0] = &evil;
    text = render_text(fx, &o, &c);
    assert_null(strchr(text, '\033'));
    assert_null(strchr(text, '\a'));
    assert_null(strchr(text, '\r'));
    assert_non_null(strstr(text, "(x\\x1b]0;owned\\x07.example)"));
    assert_non_null(strstr(text, "CN=alice\\x1b[2J\\x0d\\x0a"));
    free(c.text);
    free(fx);
}

/* ---- summary ---- */

static void summary_add(struct tb_summary *sum, struct fixture *fx, enum tb_outcome outcome,
                        const char *cause, const char *server_ip, const char *file)
{
    fx->s.outcome = outcome;
    fx->v.cand[0].cause = cause;
    fx->v.present = cause != NULL;
    snprintf(fx->s.server.ip, sizeof fx->s.server.ip, "%s", server_ip);
    fx->s.file = file;
    tb_summary_add(sum, &fx->s, NULL, &fx->v);
}

static void test_summary(void **state)
{
    struct fixture *fx = calloc(1, sizeof *fx);
    struct tb_summary *a = tb_summary_new(), *b = tb_summary_new();
    struct tb_text_opts o = {.width = 80};
    struct capture c;
    struct jp p;
    (void)state;

    assert_non_null(a);
    assert_non_null(b);
    build_failed(fx);
    summary_add(a, fx, TB_OUTCOME_FAILED, "expired", "10.0.0.9", "one.pcap");
    summary_add(a, fx, TB_OUTCOME_FAILED, "unknown_ca", "10.0.0.1", "one.pcap");
    summary_add(a, fx, TB_OUTCOME_FAILED, "unknown_ca", "10.0.0.1", "one.pcap");
    summary_add(a, fx, TB_OUTCOME_SUCCESS, NULL, "10.0.0.1", "one.pcap");
    summary_add(a, fx, TB_OUTCOME_INCOMPLETE, "incomplete_capture", "10.0.0.5", "one.pcap");
    summary_add(a, fx, TB_OUTCOME_UNKNOWN, NULL, "10.0.0.5", "one.pcap");
    tb_summary_add_packets(a, 100, 5000);
    tb_summary_add_error(a, "broken.pcap");
    assert_int_equal(tb_summary_sessions(a), 6);
    assert_int_equal(tb_summary_errors(a), 1);

    tb_summary_print_json(cap_open(&c), a);
    const char *line = cap_close(&c);
    check_ndjson_line(line, &p);
    assert_true(starts_with(line, "{\"schema\":1,\"type\":\"summary\",\"sessions\":6,"
                                  "\"successes\":1,"
                              "\"failed\":3,\"incomplete\":1,\"unknown\":1,"));
    assert_non_null(strstr(line, "\"errors\":1,\"packets\":100,\"bytes\":5000,\"drops\":null,"));
    /* most frequent cause first, ties by name */
    assert_non_null(strstr(line, "\"by_cause\":{\"unknown_ca\":2,\"expired\":1,"
                                 "\"incomplete_capture\":1,\"unknown\":1}"));
    /* servers: most failures first, ties by name; the SNI travels with the server */
    assert_non_null(strstr(line, "\"by_server\":[{\"server\":\"10.0.0.1:443\","
                                 "\"sni\":\"api.example.com\",\"sessions\":3,\"failed\":2},"
                                 "{\"server\":\"10.0.0.5:443\",\"sni\":\"api.example.com\","
                                 "\"sessions\":2,\"failed\":2},"
                                 "{\"server\":\"10.0.0.9:443\""));
    assert_non_null(strstr(line, "\"by_client_cert\":[{\"subject\":\"CN=alice,O=Example\","
                                 "\"sessions\":6,\"failed\":5}]"));
    assert_non_null(strstr(line, "\"by_file\":[{\"file\":\"one.pcap\",\"sessions\":6,\"failed\":5,"
                                 "\"errors\":0},{\"file\":\"broken.pcap\",\"sessions\":0,"
                                 "\"failed\":0,\"errors\":1}]"));
    free(c.text);

    tb_summary_print_text(cap_open(&c), a, &o);
    const char *text = cap_close(&c);
    assert_true(starts_with(text, "Summary: 6 TLS sessions: 1 ok, 3 failed, 1 incomplete, "
                                  "1 unknown; "
                              "1 input error\n"));
    const char *causes = strstr(text, "  Failures by cause:\n");
    assert_non_null(causes);
    assert_true(starts_with(causes, "  Failures by cause:\n         2  unknown_ca\n"
                                    "         1  expired\n"));
    assert_non_null(strstr(text, "         2 of 3      10.0.0.1:443 (api.example.com)\n"));
    free(c.text);

    /* merge: a batch worker's summary adds up */
    summary_add(b, fx, TB_OUTCOME_FAILED, "expired", "10.0.0.9", "two.pcap");
    summary_add(b, fx, TB_OUTCOME_FAILED, "expired", "10.0.0.9", "two.pcap");
    tb_summary_set_drops(b, 1000, 7);
    tb_summary_merge(a, b);
    assert_int_equal(tb_summary_sessions(a), 8);
    tb_summary_print_json(cap_open(&c), a);
    line = cap_close(&c);
    check_ndjson_line(line, &p);
    assert_non_null(strstr(line, "\"failed\":5,"));
    assert_non_null(strstr(line, "\"drops\":{\"received\":1000,\"dropped\":7}"));
    assert_non_null(strstr(line, "\"by_cause\":{\"expired\":3,\"unknown_ca\":2,"));
    assert_non_null(strstr(line, "{\"server\":\"10.0.0.9:443\",\"sni\":\"api.example.com\","
                                 "\"sessions\":3,\"failed\":3}"));
    free(c.text);

    tb_summary_free(a);
    tb_summary_free(b);
    tb_summary_free(NULL);
    free(fx);
}

/* The row cap: past it, rows fold into "(other)" and the totals stay right. */
static void test_summary_cap(void **state)
{
    struct fixture *fx = calloc(1, sizeof *fx);
    struct tb_summary *sum = tb_summary_new();
    struct capture c;
    struct jp p;
    (void)state;

    build_failed(fx);
    for (unsigned i = 0; i < 65536 + 10; i++) {
        fx->s.server.port = (uint16_t)(i & 0xffffu);
        snprintf(fx->s.server.ip, sizeof fx->s.server.ip, "10.%u.0.1", i >> 16);
        fx->s.outcome = TB_OUTCOME_SUCCESS;
        tb_summary_add(sum, &fx->s, NULL, &fx->v);
    }
    tb_summary_print_json(cap_open(&c), sum);
    const char *line = cap_close(&c);
    check_ndjson_line(line, &p);
    assert_non_null(strstr(line, "{\"server\":\"(other)\",\"sni\":null,\"sessions\":10,"
                                 "\"failed\":0}"));
    free(c.text);
    tb_summary_free(sum);
    free(fx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_escape),
        cmocka_unit_test(test_json_invalid_utf8),
        cmocka_unit_test(test_time_format),
        cmocka_unit_test(test_text_escape),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_names_unique),
        cmocka_unit_test(test_json_session_failed),
        cmocka_unit_test(test_json_session_success_and_unknown),
        cmocka_unit_test(test_json_client_auth_null_and_hidden),
        cmocka_unit_test(test_json_hostile_strings),
        cmocka_unit_test(test_json_error),
        cmocka_unit_test(test_ladder_width),
        cmocka_unit_test(test_text_failed),
        cmocka_unit_test(test_text_success_and_hostile),
        cmocka_unit_test(test_summary),
        cmocka_unit_test(test_summary_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
