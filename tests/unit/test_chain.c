/*
 * test_chain.c - chain analysis over the certs/gen.sh PKI: order, links,
 * validity at capture time, EKU/KU/CA/pathlen, weak keys and signatures,
 * SNI, the CertificateRequest, and verification against a trust store
 * judged at capture time rather than now.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tlsblame/chain.h"
#include "tlsblame/x509.h"

#define DAY 86400

static struct tb_certcache *cache;
static struct tb_trust *trust_root;
static struct tb_trust *trust_rogue;
static struct tb_trust *trust_time;

static const char *src_dir(void)
{
    const char *dir = getenv("TB_SRC_DIR");
    return dir != NULL ? dir : ".";
}

static const struct tb_cert *get(const char *name)
{
    char path[1024];
    static uint8_t bytes[1 << 20];

    (void)snprintf(path, sizeof path, "%s/tests/unit/certs/%s", src_dir(), name);
    FILE *fp = fopen(path, "rb");
    if (fp == NULL) {
        fail_msg("cannot open %s", path);
    }
    size_t len = fread(bytes, 1, sizeof bytes, fp);
    fclose(fp);
    const struct tb_cert *c = tb_certcache_get(cache, bytes, len);
    assert_non_null(c);
    return c;
}

static int setup(void **state)
{
    char path[1024];

    (void)state;
    cache = tb_certcache_new(64);
    (void)snprintf(path, sizeof path, "%s/tests/unit/certs/root.pem", src_dir());
    if (tb_trust_load(path, &trust_root) != TB_OK) {
        return 1;
    }
    (void)snprintf(path, sizeof path, "%s/tests/unit/certs/rogue.pem", src_dir());
    if (tb_trust_load(path, &trust_rogue) != TB_OK) {
        return 1;
    }
    (void)snprintf(path, sizeof path, "%s/tests/unit/certs/timeroot.pem", src_dir());
    if (tb_trust_load(path, &trust_time) != TB_OK) {
        return 1;
    }
    return cache == NULL;
}

static int teardown(void **state)
{
    (void)state;
    tb_certcache_free(cache);
    tb_trust_free(trust_root);
    tb_trust_free(trust_rogue);
    tb_trust_free(trust_time);
    return 0;
}

/* A chain of fixtures, with references released by chain_free. */
struct chain {
    const struct tb_cert *certs[8];
    size_t count;
    struct tb_chain_input in;
    struct tb_chain_report out;
};

static void chain_make(struct chain *ch, enum tb_dir sender, ...)
{
    va_list ap;
    const char *name;

    memset(ch, 0, sizeof *ch);
    va_start(ap, sender);
    while ((name = va_arg(ap, const char *)) != NULL) {
        ch->certs[ch->count++] = get(name);
    }
    va_end(ap);
    ch->in.certs = ch->certs;
    ch->in.count = ch->count;
    ch->in.sender = sender;
    /* a day after the leaf became valid: everything in the fixtures is valid then */
    ch->in.at = ch->count > 0 ? ch->certs[0]->not_before + DAY : 0;
}

static void chain_free(struct chain *ch)
{
    for (size_t i = 0; i < ch->count; i++) {
        tb_cert_release(cache, ch->certs[i]);
    }
}

static struct tb_chain_report *analyze(struct chain *ch)
{
    tb_chain_analyze(&ch->in, &ch->out);
    return &ch->out;
}

static void test_good_client_chain(void **state)
{
    (void)state;
    struct chain ch;
    chain_make(&ch, TB_DIR_C2S, "client.der", "inter.der", NULL);
    ch.in.trust = trust_root;
    struct tb_chain_report *r = analyze(&ch);

    assert_false(r->empty);
    assert_false(r->any_parse_error);
    assert_int_equal(r->parse_error_index, -1);
    assert_true(r->order_ok);
    assert_int_equal(r->first_break, -1);
    assert_false(r->has_duplicates);
    assert_false(r->has_unrelated);
    assert_false(r->root_included);
    assert_false(r->leaf_self_signed);
    assert_false(r->missing_intermediate); /* the root is an anchor */
    assert_null(r->missing_issuer);
    assert_int_equal(r->expired_index, -1);
    assert_int_equal(r->not_yet_valid_index, -1);
    assert_true(r->leaf_eku_ok);
    assert_true(r->leaf_ku_ok);
    assert_true(r->intermediates_are_ca);
    assert_true(r->path_len_ok);
    assert_int_equal(r->weak_key_index, -1);
    assert_int_equal(r->weak_signature_index, -1);
    assert_int_equal(r->name_matches_sni, TB_TRI_UNKNOWN);
    assert_int_equal(r->issuer_in_ca_list, TB_TRI_UNKNOWN);
    assert_int_equal(r->key_type_allowed, TB_TRI_UNKNOWN);
    assert_int_equal(r->leaf_sig_alg_offered, TB_TRI_UNKNOWN);
    assert_int_equal(r->trusted, TB_TRI_YES);
    assert_string_equal(r->verify_error, "");

    /* without a trust store: the root was not sent, and nothing says it is known */
    ch.in.trust = NULL;
    r = analyze(&ch);
    assert_true(r->missing_intermediate);
    assert_string_equal(r->missing_issuer, "CN=Example Root CA,O=Example");
    assert_int_equal(r->trusted, TB_TRI_UNKNOWN);
    chain_free(&ch);
}

/* mbedTLS compares with the wall clock; we judge at `at`, years away from now. */
static void test_trust_is_judged_at_capture_time(void **state)
{
    (void)state;
    struct chain ch;
    chain_make(&ch, TB_DIR_C2S, "client.der", "inter.der", NULL);
    ch.in.trust = trust_root;

    ch.in.at = ch.certs[0]->not_after + 30 * DAY;
    struct tb_chain_report *r = analyze(&ch);
    assert_int_equal(r->expired_index, 0);
    assert_int_equal(r->expired_for, 30 * DAY);
    assert_int_equal(r->trusted, TB_TRI_NO);
    assert_string_equal(r->verify_error,
                        "certificate 0 (CN=alice) expired 30 days before the capture");

    ch.in.at = ch.certs[0]->not_before - 2 * DAY;
    r = analyze(&ch);
    assert_int_equal(r->expired_index, -1);
    assert_int_equal(r->not_yet_valid_index, 0);
    assert_int_equal(r->not_yet_valid_for, 2 * DAY);
    assert_int_equal(r->trusted, TB_TRI_NO);
    assert_string_equal(r->verify_error,
                        "certificate 0 (CN=alice) is not valid until 2 days after the capture");

    ch.in.at = ch.certs[0]->not_after; /* the last valid second */
    r = analyze(&ch);
    assert_int_equal(r->expired_index, -1);
    assert_int_equal(r->trusted, TB_TRI_YES);
    ch.in.at = ch.certs[0]->not_after + 1;
    r = analyze(&ch);
    assert_int_equal(r->expired_index, 0);
    assert_int_equal(r->expired_for, 1);
    assert_string_equal(r->verify_error,
                        "certificate 0 (CN=alice) expired 1 second before the capture");
    chain_free(&ch);

    chain_make(&ch, TB_DIR_C2S, "expired.der", "inter.der", NULL);
    ch.in.trust = trust_root;
    ch.in.at = ch.certs[0]->not_after + 3 * 3600;
    r = analyze(&ch);
    assert_int_equal(r->expired_index, 0);
    assert_string_equal(r->verify_error,
                        "certificate 0 (CN=expired) expired 3 hours before the capture");
    chain_free(&ch);
}

/*
 * oldleaf (2005..2010) is expired by any wall clock, futureleaf (2090..2095)
 * not yet valid: at capture time inside their validity both are trusted, so
 * mbedTLS's wall-clock flags must have been discarded.
 */
static void test_wall_clock_does_not_matter(void **state)
{
    (void)state;
    struct chain ch;
    struct tb_chain_report *r;

    chain_make(&ch, TB_DIR_C2S, "oldleaf.der", NULL);
    ch.in.trust = trust_time;
    ch.in.at = 1230768000; /* 2009-01-01 */
    r = analyze(&ch);
    assert_int_equal(r->expired_index, -1);
    assert_false(r->missing_intermediate);
    assert_int_equal(r->trusted, TB_TRI_YES);
    assert_string_equal(r->verify_error, "");
    ch.in.at = 1262304000 + 400 * DAY; /* 2010-01-01 + 400 days */
    r = analyze(&ch);
    assert_int_equal(r->trusted, TB_TRI_NO);
    assert_string_equal(r->verify_error,
                        "certificate 0 (CN=oldleaf) expired 400 days before the capture");
    chain_free(&ch);

    chain_make(&ch, TB_DIR_C2S, "futureleaf.der", NULL);
    ch.in.trust = trust_time;
    ch.in.at = 3786912000; /* 2090-01-01 */
    r = analyze(&ch);
    assert_int_equal(r->not_yet_valid_index, -1);
    assert_int_equal(r->trusted, TB_TRI_YES);
    ch.in.at = 3786912000 - 1;
    r = analyze(&ch);
    assert_int_equal(r->not_yet_valid_index, 0);
    assert_int_equal(r->trusted, TB_TRI_NO);
    assert_string_equal(r->verify_error,
                        "certificate 0 (CN=futureleaf) is not valid until 1 second after the "
                        "capture");
    /* the anchor itself is judged at capture time too (it ends 2099-12-31) */
    ch.in.at = 4102444800 + 10 * DAY; /* 2100-01-11 */
    r = analyze(&ch);
    assert_int_equal(r->expired_index, 0);
    assert_int_equal(r->trusted, TB_TRI_NO);
    chain_free(&ch);
}

static void test_untrusted(void **state)
{
    (void)state;
    struct chain ch;
    chain_make(&ch, TB_DIR_C2S, "rogueleaf.der", NULL);
    ch.in.trust = trust_root;
    struct tb_chain_report *r = analyze(&ch);
    assert_int_equal(r->trusted, TB_TRI_NO);
    assert_string_equal(r->verify_error,
                        "no path to a trust anchor: issuer CN=Rogue Root is not in the trust "
                        "store");
    assert_true(r->missing_intermediate);
    assert_string_equal(r->missing_issuer, "CN=Rogue Root");
    chain_free(&ch);

    chain_make(&ch, TB_DIR_C2S, "rogueleaf.der", "rogue.der", NULL);
    ch.in.trust = trust_root;
    r = analyze(&ch);
    assert_true(r->root_included);
    assert_false(r->missing_intermediate);
    assert_int_equal(r->trusted, TB_TRI_NO);
    assert_string_equal(r->verify_error,
                        "no path to a trust anchor: self-signed certificate 1 (CN=Rogue Root) is "
                        "not in the trust store");
    ch.in.trust = trust_rogue; /* the same chain against its own root */
    r = analyze(&ch);
    assert_int_equal(r->trusted, TB_TRI_YES);
    chain_free(&ch);

    /* the intermediate was not sent */
    chain_make(&ch, TB_DIR_C2S, "client.der", NULL);
    ch.in.trust = trust_root;
    r = analyze(&ch);
    assert_true(r->missing_intermediate);
    assert_string_equal(r->missing_issuer, "CN=Example Team CA,O=Example");
    assert_int_equal(r->trusted, TB_TRI_NO);
    assert_string_equal(r->verify_error, "no path to a trust anchor: issuer CN=Example Team "
                                         "CA,O=Example is not in the trust store");
    chain_free(&ch);

    /* a self-signed leaf */
    chain_make(&ch, TB_DIR_S2C, "root.der", NULL);
    r = analyze(&ch);
    assert_true(r->leaf_self_signed);
    assert_false(r->root_included);
    assert_false(r->missing_intermediate);
    assert_int_equal(r->trusted, TB_TRI_UNKNOWN);
    ch.in.trust = trust_rogue;
    r = analyze(&ch);
    assert_int_equal(r->trusted, TB_TRI_NO);
    assert_string_equal(r->verify_error, "no path to a trust anchor: self-signed certificate 0 "
                                         "(CN=Example Root CA) is not in the trust store");
    chain_free(&ch);
}

static void test_shapes(void **state)
{
    (void)state;
    struct chain ch;
    struct tb_chain_report *r;

    chain_make(&ch, TB_DIR_C2S, "client.der", "inter.der", "root.der", NULL);
    ch.in.trust = trust_root;
    r = analyze(&ch);
    assert_true(r->order_ok);
    assert_true(r->root_included);
    assert_false(r->missing_intermediate);
    assert_int_equal(r->trusted, TB_TRI_YES);
    chain_free(&ch);

    chain_make(&ch, TB_DIR_C2S, "client.der", "root.der", "inter.der", NULL);
    ch.in.trust = trust_root;
    r = analyze(&ch);
    assert_false(r->order_ok);
    assert_int_equal(r->first_break, 0);
    assert_true(r->root_included); /* the path still links, out of order */
    assert_false(r->has_unrelated);
    assert_int_equal(r->trusted, TB_TRI_YES);
    chain_free(&ch);

    chain_make(&ch, TB_DIR_C2S, "client.der", "inter.der", "server.der", NULL);
    r = analyze(&ch);
    assert_false(r->order_ok);
    assert_int_equal(r->first_break, 1);
    assert_true(r->has_unrelated);
    chain_free(&ch);

    chain_make(&ch, TB_DIR_C2S, "client.der", "inter.der", "inter.der", NULL);
    r = analyze(&ch);
    assert_true(r->has_duplicates);
    assert_false(r->has_unrelated);
    chain_free(&ch);

    chain_make(&ch, TB_DIR_C2S, NULL);
    r = analyze(&ch);
    assert_true(r->empty);
    assert_int_equal(r->trusted, TB_TRI_UNKNOWN);
    chain_free(&ch);
}

static void test_eku_ku(void **state)
{
    (void)state;
    struct chain ch;

    chain_make(&ch, TB_DIR_C2S, "srvauth.der", "inter.der", NULL);
    assert_false(analyze(&ch)->leaf_eku_ok);
    ch.in.sender = TB_DIR_S2C;
    assert_true(analyze(&ch)->leaf_eku_ok);
    chain_free(&ch);

    chain_make(&ch, TB_DIR_S2C, "client.der", "inter.der", NULL);
    assert_false(analyze(&ch)->leaf_eku_ok);
    chain_free(&ch);

    chain_make(&ch, TB_DIR_C2S, "anyeku.der", "inter.der", NULL);
    assert_true(analyze(&ch)->leaf_eku_ok);
    chain_free(&ch);

    chain_make(&ch, TB_DIR_C2S, "noext.der", "inter.der", NULL);
    assert_true(analyze(&ch)->leaf_eku_ok);
    assert_true(ch.out.leaf_ku_ok);
    chain_free(&ch);

    chain_make(&ch, TB_DIR_C2S, "kuenc.der", "inter.der", NULL);
    assert_false(analyze(&ch)->leaf_ku_ok);
    assert_true(ch.out.leaf_eku_ok);
    chain_free(&ch);
}

static void test_ca_and_pathlen(void **state)
{
    (void)state;
    struct chain ch;
    struct tb_chain_report *r;

    chain_make(&ch, TB_DIR_C2S, "notcaleaf.der", "notca.der", "root.der", NULL);
    ch.in.trust = trust_root;
    r = analyze(&ch);
    assert_true(r->order_ok);
    assert_false(r->intermediates_are_ca);
    assert_true(r->path_len_ok);
    assert_int_equal(r->trusted, TB_TRI_NO);
    assert_string_equal(r->verify_error, "certificate 1 (CN=Not A CA) is not a CA "
                                         "(basicConstraints) but issued certificate 0");
    chain_free(&ch);

    /* inter has pathlen:0, and issued another CA */
    chain_make(&ch, TB_DIR_C2S, "subleaf.der", "subca.der", "inter.der", "root.der", NULL);
    ch.in.trust = trust_root;
    r = analyze(&ch);
    assert_true(r->order_ok);
    assert_true(r->intermediates_are_ca);
    assert_false(r->path_len_ok);
    assert_int_equal(r->trusted, TB_TRI_NO);
    chain_free(&ch);
}

static void test_weak(void **state)
{
    (void)state;
    struct chain ch;

    chain_make(&ch, TB_DIR_C2S, "rsa1024.der", "inter.der", NULL);
    assert_int_equal(analyze(&ch)->weak_key_index, 0);
    assert_int_equal(ch.out.weak_signature_index, -1);
    chain_free(&ch);

    chain_make(&ch, TB_DIR_C2S, "sha1.der", "inter.der", NULL);
    ch.in.trust = trust_root;
    assert_int_equal(analyze(&ch)->weak_signature_index, 0);
    assert_int_equal(ch.out.weak_key_index, -1);
    assert_int_equal(ch.out.trusted, TB_TRI_YES); /* weakness is its own fact */
    chain_free(&ch);

    chain_make(&ch, TB_DIR_C2S, "p384.der", "inter.der", NULL);
    assert_int_equal(analyze(&ch)->weak_key_index, -1);
    chain_free(&ch);
}

static void test_sni(void **state)
{
    (void)state;
    struct chain ch;

    chain_make(&ch, TB_DIR_S2C, "server.der", "inter.der", NULL);
    ch.in.sni = "server.example.com";
    assert_int_equal(analyze(&ch)->name_matches_sni, TB_TRI_YES);
    ch.in.sni = "api.example.net";
    assert_int_equal(analyze(&ch)->name_matches_sni, TB_TRI_YES);
    ch.in.sni = "evil.example.com";
    assert_int_equal(analyze(&ch)->name_matches_sni, TB_TRI_NO);
    ch.in.sni = NULL;
    assert_int_equal(analyze(&ch)->name_matches_sni, TB_TRI_UNKNOWN);
    ch.in.sni = "server.example.com";
    ch.in.sender = TB_DIR_C2S;
    assert_int_equal(analyze(&ch)->name_matches_sni, TB_TRI_UNKNOWN);
    chain_free(&ch);
}

static void test_cert_request(void **state)
{
    (void)state;
    struct chain ch;
    const struct tb_cert *root = get("root.der");
    const struct tb_cert *rogue = get("rogue.der");
    const uint8_t *names[2] = {rogue->subject_raw, root->subject_raw};
    size_t lens[2] = {rogue->subject_raw_len, root->subject_raw_len};

    chain_make(&ch, TB_DIR_C2S, "client.der", "inter.der", NULL);
    assert_int_equal(analyze(&ch)->issuer_in_ca_list, TB_TRI_UNKNOWN);
    ch.in.have_cert_request = true;
    assert_int_equal(analyze(&ch)->issuer_in_ca_list, TB_TRI_UNKNOWN); /* empty CA list */
    ch.in.ca_names_der = names;
    ch.in.ca_names_len = lens;
    ch.in.ca_names_count = 1;
    assert_int_equal(analyze(&ch)->issuer_in_ca_list, TB_TRI_NO);
    ch.in.ca_names_count = 2;
    assert_int_equal(analyze(&ch)->issuer_in_ca_list, TB_TRI_YES);
    assert_false(ch.out.missing_intermediate); /* the server names the root */

    static const uint8_t ecdsa_only[] = {64};
    static const uint8_t rsa_and_ecdsa[] = {1, 64};
    ch.in.cert_types = ecdsa_only;
    ch.in.cert_types_count = 1;
    assert_int_equal(analyze(&ch)->key_type_allowed, TB_TRI_NO);
    ch.in.cert_types = rsa_and_ecdsa;
    ch.in.cert_types_count = 2;
    assert_int_equal(analyze(&ch)->key_type_allowed, TB_TRI_YES);
    ch.in.tls13 = true;
    assert_int_equal(analyze(&ch)->key_type_allowed, TB_TRI_UNKNOWN);
    ch.in.tls13 = false;

    static const uint16_t ecdsa_pss[] = {0x0403, 0x0804};
    static const uint16_t pkcs1[] = {0x0403, 0x0401};
    ch.in.sig_algs = ecdsa_pss;
    ch.in.sig_algs_count = 2;
    assert_int_equal(analyze(&ch)->leaf_sig_alg_offered, TB_TRI_NO);
    ch.in.sig_algs = pkcs1;
    assert_int_equal(analyze(&ch)->leaf_sig_alg_offered, TB_TRI_YES);
    chain_free(&ch);

    chain_make(&ch, TB_DIR_C2S, "server.der", NULL); /* an EC leaf */
    ch.in.have_cert_request = true;
    ch.in.cert_types = ecdsa_only;
    ch.in.cert_types_count = 1;
    assert_int_equal(analyze(&ch)->key_type_allowed, TB_TRI_YES);
    ch.in.cert_types = rsa_and_ecdsa;
    ch.in.cert_types_count = 1; /* rsa_sign only */
    assert_int_equal(analyze(&ch)->key_type_allowed, TB_TRI_NO);
    chain_free(&ch);

    chain_make(&ch, TB_DIR_C2S, "pss.der", NULL);
    ch.in.sig_algs = ecdsa_pss;
    ch.in.sig_algs_count = 2;
    assert_int_equal(analyze(&ch)->leaf_sig_alg_offered, TB_TRI_YES);
    ch.in.sig_algs = pkcs1;
    assert_int_equal(analyze(&ch)->leaf_sig_alg_offered, TB_TRI_NO);
    chain_free(&ch);

    tb_cert_release(cache, root);
    tb_cert_release(cache, rogue);
}

static void test_unparsed_and_ed25519(void **state)
{
    (void)state;
    struct chain ch;
    struct tb_chain_report *r;

    chain_make(&ch, TB_DIR_C2S, "trunc100.der", "inter.der", NULL);
    ch.in.trust = trust_root;
    ch.in.at = 1800000000;
    r = analyze(&ch);
    assert_true(r->any_parse_error);
    assert_int_equal(r->parse_error_index, 0);
    assert_int_equal(r->expired_index, -1); /* no validity read: not "expired in 1970" */
    assert_int_equal(r->trusted, TB_TRI_UNKNOWN);
    chain_free(&ch);

    /* a broken copy of the leaf: readable enough to know it is not the missing issuer */
    chain_make(&ch, TB_DIR_C2S, "client.der", "trunc1.der", NULL);
    ch.in.trust = trust_root;
    r = analyze(&ch);
    assert_true(r->any_parse_error);
    assert_int_equal(r->parse_error_index, 1);
    assert_true(r->has_unrelated);
    assert_int_equal(r->trusted, TB_TRI_NO);
    assert_string_equal(r->verify_error, "no path to a trust anchor: issuer CN=Example Team "
                                         "CA,O=Example is not in the trust store");
    chain_free(&ch);

    /* an unreadable cert might have been the issuer: no verdict */
    chain_make(&ch, TB_DIR_C2S, "client.der", "trunc100.der", NULL);
    ch.in.trust = trust_root;
    r = analyze(&ch);
    assert_int_equal(r->parse_error_index, 1);
    assert_int_equal(r->trusted, TB_TRI_UNKNOWN);
    chain_free(&ch);

    /* a broken intermediate on the path: mbedTLS cannot check the link */
    chain_make(&ch, TB_DIR_C2S, "client.der", "inter.der", "trunc100.der", NULL);
    ch.in.trust = trust_root;
    r = analyze(&ch);
    assert_int_equal(r->trusted, TB_TRI_YES); /* the path does not need the broken cert */
    chain_free(&ch);

    chain_make(&ch, TB_DIR_C2S, "ed25519.der", "inter.der", NULL);
    ch.in.trust = trust_root;
    r = analyze(&ch);
    assert_false(r->any_parse_error);
    assert_true(r->order_ok);
    assert_int_equal(r->trusted, TB_TRI_UNKNOWN); /* mbedTLS cannot check the leaf */
    assert_string_equal(r->verify_error, "");
    chain_free(&ch);

    chain_make(&ch, TB_DIR_C2S, "critext.der", "inter.der", NULL);
    ch.in.trust = trust_root;
    r = analyze(&ch);
    assert_int_equal(r->trusted, TB_TRI_YES); /* the unknown extension is its own fact */
    chain_free(&ch);
}

/* All fixtures in every order of two: nothing crashes, indices stay in range. */
static void test_pairs(void **state)
{
    static const char *const names[] = {
        "client.der", "inter.der",  "root.der", "ed25519.der", "edroot.der",
        "trunc1.der", "trunc100.der", "rogue.der", "notca.der", "pss.der",
    };
    const size_t n = sizeof names / sizeof names[0];
    (void)state;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < n; j++) {
            struct chain ch;
            chain_make(&ch, j % 2 ? TB_DIR_C2S : TB_DIR_S2C, names[i], names[j], NULL);
            ch.in.trust = i % 2 ? trust_root : NULL;
            ch.in.sni = "server.example.com";
            struct tb_chain_report *r = analyze(&ch);
            assert_true(r->first_break >= -1 && r->first_break < 2);
            assert_true(r->expired_index >= -1 && r->expired_index < 2);
            assert_true(strlen(r->verify_error) < sizeof r->verify_error);
            chain_free(&ch);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_client_chain),
        cmocka_unit_test(test_trust_is_judged_at_capture_time),
        cmocka_unit_test(test_wall_clock_does_not_matter),
        cmocka_unit_test(test_untrusted),
        cmocka_unit_test(test_shapes),
        cmocka_unit_test(test_eku_ku),
        cmocka_unit_test(test_ca_and_pathlen),
        cmocka_unit_test(test_weak),
        cmocka_unit_test(test_sni),
        cmocka_unit_test(test_cert_request),
        cmocka_unit_test(test_unparsed_and_ed25519),
        cmocka_unit_test(test_pairs),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
