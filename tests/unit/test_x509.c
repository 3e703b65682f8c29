/*
 * test_x509.c - certificate facts from the fixtures made by certs/gen.sh,
 * the DN/host/PEM helpers, the cert cache and the trust store, and hostile
 * DER (every truncation, every byte flipped, junk) under the sanitizers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tlsblame/arena.h"
#include "tlsblame/x509.h"
#include "x509_int.h"

struct file {
    uint8_t *bytes;
    size_t len;
};

static struct file load(const char *name)
{
    const char *dir = getenv("TB_SRC_DIR");
    char path[1024];
    struct file f = {NULL, 0};

    (void)snprintf(path, sizeof path, "%s/tests/unit/certs/%s", dir != NULL ? dir : ".", name);
    FILE *fp = fopen(path, "rb");
    if (fp == NULL) {
        fail_msg("cannot open %s", path);
    }
    f.bytes = malloc(1 << 20);
    assert_non_null(f.bytes);
    f.len = fread(f.bytes, 1, 1 << 20, fp);
    fclose(fp);
    return f;
}

static char *path_of(const char *name, char *out, size_t out_len)
{
    const char *dir = getenv("TB_SRC_DIR");

    (void)snprintf(out, out_len, "%s/tests/unit/certs/%s", dir != NULL ? dir : ".", name);
    return out;
}

/* A cert from a fixture, held in the test's cache. */
static struct tb_certcache *cache;

static const struct tb_cert *get(const char *name)
{
    struct file f = load(name);
    const struct tb_cert *c = tb_certcache_get(cache, f.bytes, f.len);
    free(f.bytes);
    assert_non_null(c);
    return c;
}

static int setup(void **state)
{
    (void)state;
    cache = tb_certcache_new(64);
    return cache == NULL;
}

static int teardown(void **state)
{
    (void)state;
    tb_certcache_free(cache);
    cache = NULL;
    return 0;
}

static bool has_san(const struct tb_cert *c, const char *want)
{
    for (size_t i = 0; i < c->san_count; i++) {
        if (strcmp(c->san[i], want) == 0) {
            return true;
        }
    }
    return false;
}

static void test_client_rsa(void **state)
{
    (void)state;
    const struct tb_cert *c = get("client.der");
    const struct tb_cert *inter = get("inter.der");

    assert_true(c->parsed);
    assert_null(c->parse_error);
    assert_int_equal(c->version, 3);
    assert_string_equal(c->subject, "CN=alice,O=Example");
    assert_string_equal(c->issuer, "CN=Example Team CA,O=Example");
    assert_string_equal(c->subject_cn, "alice");
    assert_string_equal(c->issuer_cn, "Example Team CA");
    assert_string_equal(c->serial_hex, "1121a875c4f05d0a");
    assert_string_equal(c->sha256_hex,
                        "40734cb3ee5977b997e8af217cd37ec646bfea86b95b96914c31dc127ea23478");
    /* Nov 23 15:01:18 2026 GMT .. Feb 25 15:01:18 2029 GMT */
    assert_int_equal(c->not_before, 1795446078);
    assert_int_equal(c->not_after, 1866726078);
    assert_int_equal(c->key_type, TB_KEY_RSA);
    assert_int_equal(c->key_bits, 2048);
    assert_null(c->curve);
    assert_string_equal(c->key_desc, "RSA 2048");
    assert_string_equal(c->sig_alg, "sha256WithRSAEncryption");
    assert_false(c->sig_weak);
    assert_int_equal(c->san_count, 3);
    assert_string_equal(c->san[0], "URI:spiffe://example.org/ns/prod/sa/alice");
    assert_string_equal(c->san[1], "email:alice@example.org");
    assert_string_equal(c->san[2], "DNS:alice.example.org");
    assert_true(c->has_eku);
    assert_int_equal(c->eku, TB_EKU_CLIENT_AUTH);
    assert_int_equal(c->eku_count, 1);
    assert_string_equal(c->eku_names[0], "clientAuth");
    assert_true(c->has_key_usage);
    assert_int_equal(c->key_usage, TB_KU_DIGITAL_SIGNATURE);
    assert_int_equal(c->ku_count, 1);
    assert_string_equal(c->ku_names[0], "digitalSignature");
    assert_true(c->has_basic_constraints);
    assert_false(c->is_ca);
    assert_int_equal(c->path_len, -1);
    assert_non_null(c->ski_hex);
    assert_non_null(c->aki_hex);
    assert_string_equal(c->aki_hex, inter->ski_hex);
    assert_false(c->self_issued);
    assert_false(c->self_signed);
    assert_false(c->unknown_critical_ext);
    assert_non_null(tb_x509_crt(c));
    assert_int_equal(tb_x509_signed_by(c, inter), TB_TRI_YES);
    assert_int_equal(tb_x509_signed_by(inter, c), TB_TRI_NO);
    tb_cert_release(cache, c);
    tb_cert_release(cache, inter);
}

static void test_server_ec_ip_sans(void **state)
{
    (void)state;
    const struct tb_cert *c = get("server.der");

    assert_true(c->parsed);
    assert_int_equal(c->key_type, TB_KEY_EC);
    assert_int_equal(c->key_bits, 256);
    assert_string_equal(c->curve, "P-256");
    assert_string_equal(c->key_desc, "EC P-256");
    assert_int_equal(c->san_count, 4);
    assert_true(has_san(c, "DNS:server.example.com"));
    assert_true(has_san(c, "DNS:*.example.net"));
    assert_true(has_san(c, "IP:10.0.0.1"));
    assert_true(has_san(c, "IP:2001:db8::1"));
    assert_int_equal(c->eku, TB_EKU_SERVER_AUTH);
    tb_cert_release(cache, c);
}

static void test_key_and_sig_variants(void **state)
{
    (void)state;
    const struct tb_cert *c = get("p384.der");
    assert_string_equal(c->key_desc, "EC P-384");
    assert_int_equal(c->key_bits, 384);
    assert_string_equal(c->sig_alg, "sha384WithRSAEncryption");
    assert_int_equal(c->eku, TB_EKU_CLIENT_AUTH | TB_EKU_SERVER_AUTH);
    tb_cert_release(cache, c);

    c = get("rsa1024.der");
    assert_string_equal(c->key_desc, "RSA 1024");
    assert_int_equal(c->key_bits, 1024);
    tb_cert_release(cache, c);

    c = get("sha1.der");
    assert_string_equal(c->sig_alg, "sha1WithRSAEncryption");
    assert_true(c->sig_weak);
    tb_cert_release(cache, c);

    c = get("pss.der");
    assert_true(c->parsed);
    assert_string_equal(c->sig_alg, "rsassaPss");
    assert_false(c->sig_weak); /* SHA-256 in its parameters */
    assert_int_equal(c->version, 1);
    tb_cert_release(cache, c);

    c = get("anyeku.der");
    assert_int_equal(c->eku, TB_EKU_ANY | TB_EKU_OTHER);
    assert_int_equal(c->eku_count, 2);
    assert_string_equal(c->eku_names[0], "anyExtendedKeyUsage");
    assert_string_equal(c->eku_names[1], "1.3.6.1.4.1.99999.1");
    tb_cert_release(cache, c);

    c = get("kuenc.der");
    assert_int_equal(c->key_usage, TB_KU_KEY_ENCIPHERMENT);
    assert_string_equal(c->ku_names[0], "keyEncipherment");
    tb_cert_release(cache, c);

    c = get("inter.der");
    assert_true(c->is_ca);
    assert_int_equal(c->path_len, 0);
    assert_int_equal(c->key_usage, TB_KU_KEY_CERT_SIGN | TB_KU_CRL_SIGN);
    assert_int_equal(c->ku_count, 2);
    tb_cert_release(cache, c);

    c = get("noext.der");
    assert_int_equal(c->version, 1);
    assert_false(c->has_eku);
    assert_false(c->has_key_usage);
    assert_false(c->has_basic_constraints);
    assert_null(c->ski_hex);
    assert_null(c->aki_hex);
    assert_int_equal(c->san_count, 0);
    assert_null(c->san);
    tb_cert_release(cache, c);
}

static void test_self_signed(void **state)
{
    (void)state;
    const struct tb_cert *c = get("root.der");
    assert_true(c->self_issued);
    assert_true(c->self_signed);
    assert_true(c->is_ca);
    assert_null(c->aki_hex);
    tb_cert_release(cache, c);

    c = get("rogue.der");
    assert_true(c->self_signed);
    tb_cert_release(cache, c);
}

/*
 * mbedTLS 2.28 refuses Ed25519 keys and signatures; our own walk still reads
 * the whole certificate, so it is reported as parsed, without a key mbedTLS
 * can use.
 */
static void test_ed25519(void **state)
{
    (void)state;
    const struct tb_cert *c = get("ed25519.der");
    assert_true(c->parsed);
    assert_null(c->parse_error);
    assert_null(tb_x509_crt(c));
    assert_int_equal(c->key_type, TB_KEY_ED25519);
    assert_string_equal(c->key_desc, "Ed25519");
    assert_string_equal(c->sig_alg, "sha256WithRSAEncryption");
    assert_string_equal(c->subject, "CN=ed25519 leaf");
    assert_true(has_san(c, "DNS:ed.example.com"));
    assert_int_equal(c->eku, TB_EKU_CLIENT_AUTH);
    assert_true(c->not_after > c->not_before);
    tb_cert_release(cache, c);

    c = get("edroot.der");
    assert_true(c->parsed);
    assert_string_equal(c->sig_alg, "ED25519");
    assert_true(c->self_issued);
    assert_true(c->self_signed); /* unverifiable: self-issued with no foreign AKI */
    assert_true(c->is_ca);
    tb_cert_release(cache, c);
}

static void test_unknown_critical(void **state)
{
    (void)state;
    const struct tb_cert *c = get("critext.der");
    assert_true(c->parsed);
    assert_non_null(tb_x509_crt(c));
    assert_true(c->unknown_critical_ext);
    assert_string_equal(c->unknown_critical_oid, "1.2.3.4");
    assert_int_equal(c->eku, TB_EKU_CLIENT_AUTH);
    tb_cert_release(cache, c);

    c = get("client.der"); /* critical KU and BC are known */
    assert_false(c->unknown_critical_ext);
    assert_null(c->unknown_critical_oid);
    tb_cert_release(cache, c);
}

static void test_dn_escaping(void **state)
{
    (void)state;
    const struct tb_cert *c = get("dn.der");
    assert_string_equal(c->subject, "CN=Jos\xc3\xa9 #1+UID=jdoe,OU=R\\+D,O=Acme\\, Inc.,C=DE");
    assert_string_equal(c->subject_cn, "Jos\xc3\xa9 #1");
    tb_cert_release(cache, c);
}

/* UTCTime and GeneralizedTime (2051), and the leap day, to the second. */
static void test_dates(void **state)
{
    (void)state;
    const struct tb_cert *c = get("dated.der");
    assert_int_equal(c->not_before, 1582977600); /* 2020-02-29T12:00:00Z */
    assert_int_equal(c->not_after, 2556144000);  /* 2051-01-01T00:00:00Z */
    assert_true(c->has_validity);
    assert_int_equal(tb_x509_mbedtls_time(&tb_x509_crt(c)->valid_from), c->not_before);
    assert_int_equal(tb_x509_mbedtls_time(&tb_x509_crt(c)->valid_to), c->not_after);
    tb_cert_release(cache, c);

    assert_int_equal(tb_x509_unix_time(1970, 1, 1, 0, 0, 0), 0);
    assert_int_equal(tb_x509_unix_time(1969, 12, 31, 23, 59, 59), -1);
    assert_int_equal(tb_x509_unix_time(2000, 3, 1, 0, 0, 0), 951868800);
    assert_int_equal(tb_x509_unix_time(2100, 3, 1, 0, 0, 0), 4107542400);
    assert_int_equal(tb_x509_unix_time(1950, 1, 1, 0, 0, 0), -631152000);
}

/* Our walk and mbedTLS agree on every fixture mbedTLS parses. */
static void test_walk_agrees_with_mbedtls(void **state)
{
    static const char *const names[] = {
        "anyeku.der", "client.der", "cnonly.der",    "critext.der", "dated.der", "dn.der",
        "expired.der", "inter.der", "kuenc.der",     "noext.der",   "notca.der", "notcaleaf.der",
        "p384.der",   "pss.der",    "rogue.der",     "rogueleaf.der", "root.der", "rsa1024.der",
        "server.der", "sha1.der",   "srvauth.der",   "subca.der",   "subleaf.der", "wild.der",
    };
    (void)state;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const struct tb_cert *c = get(names[i]);
        const mbedtls_x509_crt *crt = tb_x509_crt(c);
        assert_true(c->parsed);
        assert_non_null(crt);
        assert_int_equal(c->version, crt->version);
        assert_int_equal(c->not_before, tb_x509_mbedtls_time(&crt->valid_from));
        assert_int_equal(c->not_after, tb_x509_mbedtls_time(&crt->valid_to));
        assert_int_equal(c->subject_raw_len, crt->subject_raw.len);
        assert_memory_equal(c->subject_raw, crt->subject_raw.p, c->subject_raw_len);
        assert_int_equal(c->issuer_raw_len, crt->issuer_raw.len);
        assert_memory_equal(c->issuer_raw, crt->issuer_raw.p, c->issuer_raw_len);
        assert_int_equal(c->key_bits, mbedtls_pk_get_bitlen(&crt->pk));
        assert_int_equal(c->is_ca, crt->ca_istrue != 0);
        tb_cert_release(cache, c);
    }
}

static void test_truncated(void **state)
{
    (void)state;
    const struct tb_cert *c = get("trunc1.der");
    assert_false(c->parsed);
    assert_non_null(c->parse_error);
    assert_non_null(strstr(c->parse_error, "mbedTLS"));
    /* the fields before the cut are still there */
    assert_string_equal(c->subject, "CN=alice,O=Example");
    assert_string_equal(c->issuer, "CN=Example Team CA,O=Example");
    assert_int_equal(c->not_before, 1795446078);
    assert_true(has_san(c, "DNS:alice.example.org"));
    assert_int_equal(tb_cert_matches_host(c, "alice.example.org"), TB_TRI_YES);
    tb_cert_release(cache, c);

    c = get("trunc100.der");
    assert_false(c->parsed);
    assert_non_null(c->parse_error);
    assert_string_equal(c->subject, "");
    assert_null(c->subject_cn);
    assert_false(c->has_validity);
    assert_int_equal(tb_cert_matches_host(c, "alice.example.org"), TB_TRI_UNKNOWN);
    tb_cert_release(cache, c);
}

/* Every prefix, and every byte flipped, of a real certificate. */
static void test_every_truncation_and_flip(void **state)
{
    (void)state;
    struct file f = load("server.der");
    struct tb_certcache *small = tb_certcache_new(4);

    for (size_t n = 0; n < f.len; n++) {
        const struct tb_cert *c = tb_certcache_get(small, f.bytes, n);
        assert_non_null(c);
        assert_false(c->parsed);
        assert_non_null(c->parse_error);
        assert_non_null(c->subject);
        (void)tb_cert_matches_host(c, "server.example.com");
        tb_cert_release(small, c);
    }
    for (size_t i = 0; i < f.len; i++) {
        f.bytes[i] ^= 0xff;
        const struct tb_cert *c = tb_certcache_get(small, f.bytes, f.len);
        assert_non_null(c);
        assert_non_null(c->subject);
        assert_non_null(c->key_desc);
        assert_true(c->parsed || c->parse_error != NULL);
        tb_cert_release(small, c);
        f.bytes[i] ^= 0xff;
    }
    free(f.bytes);
    tb_certcache_free(small);
}

static void test_junk(void **state)
{
    (void)state;
    static uint8_t junk[0xffff];
    uint32_t x = 12345;
    struct tb_certcache *small = tb_certcache_new(4);

    for (size_t i = 0; i < sizeof junk; i++) {
        x = x * 1103515245u + 12345u;
        junk[i] = (uint8_t)(x >> 16);
    }
    const struct tb_cert *c = tb_certcache_get(small, junk, sizeof junk);
    assert_non_null(c);
    assert_false(c->parsed);
    tb_cert_release(small, c);

    c = tb_certcache_get(small, NULL, 0); /* zero-length, twice: a miss then a hit */
    assert_non_null(c);
    tb_cert_release(small, c);
    c = tb_certcache_get(small, junk, 0);
    assert_non_null(c);
    assert_false(c->parsed);
    assert_string_equal(c->subject, "");
    assert_null(tb_cert_pem(c, &(struct tb_arena){.cap = 1024}));
    tb_cert_release(small, c);

    /* a SEQUENCE claiming 4 GiB, and one with an indefinite length */
    static const uint8_t huge[] = {0x30, 0x84, 0xff, 0xff, 0xff, 0xff, 0x30, 0x00};
    static const uint8_t indefinite[] = {0x30, 0x80, 0x30, 0x80, 0x00, 0x00, 0x00, 0x00};
    c = tb_certcache_get(small, huge, sizeof huge);
    assert_false(c->parsed);
    tb_cert_release(small, c);
    c = tb_certcache_get(small, indefinite, sizeof indefinite);
    assert_false(c->parsed);
    tb_cert_release(small, c);

    /* many short garbage inputs that start like a certificate */
    for (int round = 0; round < 2000; round++) {
        uint8_t b[64] = {0x30, 0x3e, 0x30, 0x3c};
        for (size_t i = 4; i < sizeof b; i++) {
            x = x * 1103515245u + 12345u;
            b[i] = (uint8_t)(x >> 16);
        }
        c = tb_certcache_get(small, b, (size_t)(x % sizeof b));
        assert_non_null(c);
        tb_cert_release(small, c);
    }
    tb_certcache_free(small);
}

static void test_matches_host(void **state)
{
    (void)state;
    const struct tb_cert *s = get("server.der");
    assert_int_equal(tb_cert_matches_host(s, "server.example.com"), TB_TRI_YES);
    assert_int_equal(tb_cert_matches_host(s, "SERVER.Example.COM."), TB_TRI_YES);
    assert_int_equal(tb_cert_matches_host(s, "a.example.net"), TB_TRI_YES);
    assert_int_equal(tb_cert_matches_host(s, "example.net"), TB_TRI_NO);
    assert_int_equal(tb_cert_matches_host(s, "a.b.example.net"), TB_TRI_NO);
    assert_int_equal(tb_cert_matches_host(s, ".example.net"), TB_TRI_NO);
    assert_int_equal(tb_cert_matches_host(s, "other.example.com"), TB_TRI_NO);
    assert_int_equal(tb_cert_matches_host(s, "10.0.0.1"), TB_TRI_YES);
    assert_int_equal(tb_cert_matches_host(s, "10.0.0.2"), TB_TRI_NO);
    assert_int_equal(tb_cert_matches_host(s, "2001:db8:0:0::1"), TB_TRI_YES);
    assert_int_equal(tb_cert_matches_host(s, "2001:db8::2"), TB_TRI_NO);
    assert_int_equal(tb_cert_matches_host(s, ""), TB_TRI_UNKNOWN);
    assert_int_equal(tb_cert_matches_host(s, NULL), TB_TRI_UNKNOWN);
    tb_cert_release(cache, s);

    const struct tb_cert *w = get("wild.der");
    assert_int_equal(tb_cert_matches_host(w, "x.wild.example"), TB_TRI_YES);
    assert_int_equal(tb_cert_matches_host(w, "wild.example"), TB_TRI_NO);
    /* "f*" is not a wildcard (RFC 6125 6.4.3 allows only the whole left-most label) */
    assert_int_equal(tb_cert_matches_host(w, "foo.part.example"), TB_TRI_NO);
    assert_int_equal(tb_cert_matches_host(w, "exact.example"), TB_TRI_YES);
    assert_int_equal(tb_cert_matches_host(w, "192.168.1.7"), TB_TRI_YES);
    assert_int_equal(tb_cert_matches_host(w, "wild"), TB_TRI_NO); /* CN ignored: DNS SANs exist */
    tb_cert_release(cache, w);

    const struct tb_cert *cn = get("cnonly.der");
    assert_int_equal(tb_cert_matches_host(cn, "cn.example.com"), TB_TRI_YES);
    assert_int_equal(tb_cert_matches_host(cn, "CN.example.com"), TB_TRI_YES);
    assert_int_equal(tb_cert_matches_host(cn, "x.example.com"), TB_TRI_NO);
    assert_int_equal(tb_cert_matches_host(cn, "127.0.0.1"), TB_TRI_NO);
    tb_cert_release(cache, cn);
}

static void test_dn_helpers(void **state)
{
    (void)state;
    struct tb_arena a;
    tb_arena_init(&a, 1 << 20);
    const struct tb_cert *c = get("client.der");

    assert_string_equal(tb_x509_dn_string(c->subject_raw, c->subject_raw_len, &a),
                        "CN=alice,O=Example");
    assert_string_equal(tb_x509_dn_cn(c->issuer_raw, c->issuer_raw_len, &a), "Example Team CA");
    tb_cert_release(cache, c);

    static const uint8_t empty[] = {0x30, 0x00};
    assert_string_equal(tb_x509_dn_string(empty, sizeof empty, &a), "");
    assert_null(tb_x509_dn_cn(empty, sizeof empty, &a));
    static const uint8_t bad[] = {0x30, 0x05, 0x31, 0x03, 0x30, 0x01};
    assert_string_equal(tb_x509_dn_string(bad, sizeof bad, &a), "<malformed Name>");
    assert_string_equal(tb_x509_dn_string(bad, 0, &a), "<malformed Name>");
    static const uint8_t empty_rdn[] = {0x30, 0x02, 0x31, 0x00};
    assert_string_equal(tb_x509_dn_string(empty_rdn, sizeof empty_rdn, &a), "<malformed Name>");

    /* BMPString "H\u00e9", leading '#', trailing space, a control char, an unknown type */
    static const uint8_t odd[] = {
        0x30, 0x34,                                                    /* Name */
        0x31, 0x0d, 0x30, 0x0b, 0x06, 0x03, 0x55, 0x04, 0x03,          /* CN */
        0x1e, 0x04, 0x00, 0x48, 0x00, 0xe9,                            /* BMP "Hé" */
        0x31, 0x0e, 0x30, 0x0c, 0x06, 0x03, 0x55, 0x04, 0x0a,          /* O */
        0x0c, 0x05, '#', 'a', 0x01, 'b', ' ',                          /* "#a\x01b " */
        0x31, 0x13, 0x30, 0x11, 0x06, 0x03, 0x2a, 0x03, 0x04,          /* 1.2.3.4 */
        0x0c, 0x01, 'x',                                               /* UTF8 "x" */
        0x06, 0x03, 0x55, 0x04, 0x0b, 0x0c, 0x01, 'y', 0x05, 0x00,     /* junk after: bad */
    };
    assert_string_equal(tb_x509_dn_string(odd, sizeof odd, &a), "<malformed Name>");
    static const uint8_t odd_ok[] = {
        0x30, 0x2b,
        0x31, 0x0d, 0x30, 0x0b, 0x06, 0x03, 0x55, 0x04, 0x03,
        0x1e, 0x04, 0x00, 0x48, 0x00, 0xe9,
        0x31, 0x0e, 0x30, 0x0c, 0x06, 0x03, 0x55, 0x04, 0x0a,
        0x0c, 0x05, '#', 'a', 0x01, 'b', ' ',
        0x31, 0x0a, 0x30, 0x08, 0x06, 0x03, 0x2a, 0x03, 0x04,
        0x0c, 0x01, 'x',
    };
    assert_string_equal(tb_x509_dn_string(odd_ok, sizeof odd_ok, &a),
                        "1.2.3.4=#0c0178,O=\\#a\\01b\\ ,CN=H\xc3\xa9");
    assert_string_equal(tb_x509_dn_cn(odd_ok, sizeof odd_ok, &a), "H\xc3\xa9");

    char small[8];
    tb_x509_dn_format(odd_ok, sizeof odd_ok, small, sizeof small);
    assert_string_equal(small, "1.2....");
    tb_arena_reset(&a);
}

static void test_pem(void **state)
{
    (void)state;
    struct tb_arena a;
    tb_arena_init(&a, 1 << 20);
    struct file pem = load("client.pem");
    const struct tb_cert *c = get("client.der");

    char *out = tb_cert_pem(c, &a);
    assert_non_null(out);
    assert_int_equal(strlen(out), pem.len);
    assert_memory_equal(out, pem.bytes, pem.len);
    tb_cert_release(cache, c);
    free(pem.bytes);
    tb_arena_reset(&a);
}

static void test_cache(void **state)
{
    (void)state;
    struct file f1 = load("client.der"), f2 = load("server.der"), f3 = load("root.der");
    struct tb_certcache *cc = tb_certcache_new(2);
    uint64_t hits, misses;
    size_t entries;

    const struct tb_cert *a = tb_certcache_get(cc, f1.bytes, f1.len);
    const struct tb_cert *b = tb_certcache_get(cc, f1.bytes, f1.len);
    assert_ptr_equal(a, b);
    tb_certcache_stats(cc, &hits, &misses, &entries);
    assert_int_equal(hits, 1);
    assert_int_equal(misses, 1);
    assert_int_equal(entries, 1);
    /* same length, different bytes: not a hit */
    f1.bytes[f1.len - 1] ^= 1;
    const struct tb_cert *d = tb_certcache_get(cc, f1.bytes, f1.len);
    assert_ptr_not_equal(a, d);
    f1.bytes[f1.len - 1] ^= 1;
    tb_cert_release(cc, d);

    /* held entries survive past max_entries */
    const struct tb_cert *s = tb_certcache_get(cc, f2.bytes, f2.len);
    const struct tb_cert *r = tb_certcache_get(cc, f3.bytes, f3.len);
    tb_certcache_stats(cc, NULL, NULL, &entries);
    assert_int_equal(entries, 3); /* d was released and evicted; a (x2), s, r held */
    assert_string_equal(s->subject, "CN=server.example.com,O=Example");
    assert_string_equal(r->subject, "CN=Example Root CA,O=Example");
    tb_cert_release(cc, a);
    tb_cert_release(cc, b);
    tb_certcache_stats(cc, NULL, NULL, &entries);
    assert_int_equal(entries, 2); /* a evicted as soon as nobody held it */
    assert_string_equal(s->subject, "CN=server.example.com,O=Example");
    tb_cert_release(cc, s);
    tb_cert_release(cc, r);
    tb_certcache_stats(cc, &hits, &misses, &entries);
    assert_int_equal(entries, 2);
    assert_int_equal(misses, 4);

    /* a hit moves it to the warm end: root stays, server goes */
    r = tb_certcache_get(cc, f3.bytes, f3.len);
    tb_cert_release(cc, r);
    a = tb_certcache_get(cc, f1.bytes, f1.len);
    tb_cert_release(cc, a);
    r = tb_certcache_get(cc, f3.bytes, f3.len);
    tb_cert_release(cc, r);
    tb_certcache_stats(cc, &hits, &misses, &entries);
    assert_int_equal(hits, 3);
    assert_int_equal(misses, 5);
    tb_cert_release(cc, NULL);
    tb_certcache_free(cc);
    tb_certcache_free(NULL);
    free(f1.bytes);
    free(f2.bytes);
    free(f3.bytes);
}

static void test_trust_load(void **state)
{
    (void)state;
    char path[1024];
    struct tb_trust *t = NULL;

    assert_int_equal(tb_trust_load(path_of("root.pem", path, sizeof path), &t), TB_OK);
    assert_int_equal(tb_trust_count(t), 1);
    assert_non_null(tb_trust_crts(t));
    tb_trust_free(t);

    /* the Ed25519 root cannot be used by mbedTLS: loaded with a warning, one anchor */
    assert_int_equal(tb_trust_load(path_of("bundle.pem", path, sizeof path), &t), TB_OK);
    assert_int_equal(tb_trust_count(t), 1);
    tb_trust_free(t);

    t = (struct tb_trust *)1;
    assert_int_equal(tb_trust_load(path_of("no-such-file.pem", path, sizeof path), &t), TB_ERR_IO);
    assert_null(t);
    assert_int_equal(tb_trust_load(path_of("transcript.bin", path, sizeof path), &t),
                     TB_ERR_SYNTAX);
    assert_null(t);
    assert_int_equal(tb_trust_count(NULL), 0);
    tb_trust_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_client_rsa),
        cmocka_unit_test(test_server_ec_ip_sans),
        cmocka_unit_test(test_key_and_sig_variants),
        cmocka_unit_test(test_self_signed),
        cmocka_unit_test(test_ed25519),
        cmocka_unit_test(test_unknown_critical),
        cmocka_unit_test(test_dn_escaping),
        cmocka_unit_test(test_dates),
        cmocka_unit_test(test_walk_agrees_with_mbedtls),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_every_truncation_and_flip),
        cmocka_unit_test(test_junk),
        cmocka_unit_test(test_matches_host),
        cmocka_unit_test(test_dn_helpers),
        cmocka_unit_test(test_pem),
        cmocka_unit_test(test_cache),
        cmocka_unit_test(test_trust_load),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
