/*
 * test_cv.c - CertificateVerify and ServerKeyExchange signatures made by
 * OpenSSL at fixture time (certs/gen.sh) over a fixed transcript: each
 * valid one verifies, and each tampered one (signature, transcript, key,
 * context) does not.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tlsblame/cv.h"
#include "tlsblame/x509.h"

#define TLS10 0x0301
#define TLS12 0x0303

struct file {
    uint8_t *bytes;
    size_t len;
};

static struct tb_certcache *cache;
static const struct tb_cert *client; /* RSA 2048 */
static const struct tb_cert *server; /* EC P-256 */
static const struct tb_cert *p384;
static const struct tb_cert *ed25519;
static const struct tb_cert *broken;
static struct file transcript;

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
    f.bytes = malloc(1 << 16);
    if (f.bytes != NULL) {
        f.len = fread(f.bytes, 1, 1 << 16, fp);
    }
    fclose(fp);
    return f;
}

static const struct tb_cert *get(const char *name)
{
    struct file f = load(name);
    const struct tb_cert *c = tb_certcache_get(cache, f.bytes, f.len);
    free(f.bytes);
    return c;
}

static int setup(void **state)
{
    (void)state;
    cache = tb_certcache_new(16);
    client = get("client.der");
    server = get("server.der");
    p384 = get("p384.der");
    ed25519 = get("ed25519.der");
    broken = get("trunc100.der");
    transcript = load("transcript.bin");
    return client == NULL || server == NULL || transcript.len != 300;
}

static int teardown(void **state)
{
    (void)state;
    tb_cert_release(cache, client);
    tb_cert_release(cache, server);
    tb_cert_release(cache, p384);
    tb_cert_release(cache, ed25519);
    tb_cert_release(cache, broken);
    tb_certcache_free(cache);
    free(transcript.bytes);
    return 0;
}

static enum tb_tri cv12(const struct tb_cert *leaf, uint16_t version, uint16_t alg,
                        const struct file *sig, char *why, size_t why_len)
{
    return tb_cv_verify_tls12(leaf, version, alg, sig->bytes, sig->len, transcript.bytes,
                              transcript.len, why, why_len);
}

/* The signature is good; flipping one byte of it, or of the transcript, makes it bad. */
static void check_good_and_tampered(const struct tb_cert *leaf, uint16_t version, uint16_t alg,
                                    const char *sig_name)
{
    struct file sig = load(sig_name);
    char why[256];

    assert_int_equal(cv12(leaf, version, alg, &sig, why, sizeof why), TB_TRI_YES);
    assert_non_null(strstr(why, "verifies"));
    sig.bytes[sig.len / 2] ^= 0x01;
    assert_int_equal(cv12(leaf, version, alg, &sig, why, sizeof why), TB_TRI_NO);
    assert_non_null(strstr(why, "does not verify"));
    sig.bytes[sig.len / 2] ^= 0x01;
    transcript.bytes[7] ^= 0x80;
    assert_int_equal(cv12(leaf, version, alg, &sig, why, sizeof why), TB_TRI_NO);
    transcript.bytes[7] ^= 0x80;
    assert_int_equal(cv12(leaf, version, alg, &sig, NULL, 0), TB_TRI_YES);
    free(sig.bytes);
}

static void test_tls12_rsa_pkcs1(void **state)
{
    (void)state;
    check_good_and_tampered(client, TLS12, 0x0401, "cv_rsa_pkcs1_sha256.sig");
}

static void test_tls12_rsa_pss(void **state)
{
    (void)state;
    check_good_and_tampered(client, TLS12, 0x0804, "cv_rsa_pss_sha256.sig");
}

static void test_tls12_ecdsa(void **state)
{
    (void)state;
    check_good_and_tampered(server, TLS12, 0x0403, "cv_ecdsa_p256_sha256.sig");
}

static void test_tls10(void **state)
{
    (void)state;
    /* RSA over MD5 || SHA-1 without DigestInfo; ECDSA over SHA-1 */
    check_good_and_tampered(client, TLS10, 0, "cv_rsa_md5sha1.sig");
    check_good_and_tampered(server, TLS10, 0, "cv_ecdsa_sha1.sig");
    check_good_and_tampered(client, 0x0302, 0, "cv_rsa_md5sha1.sig");
}

static void test_wrong_scheme_or_key(void **state)
{
    (void)state;
    char why[256];
    struct file pkcs1 = load("cv_rsa_pkcs1_sha256.sig");
    struct file pss = load("cv_rsa_pss_sha256.sig");
    struct file wrong = load("cv_wrongkey2048.sig");
    struct file wrong1024 = load("cv_wrongkey.sig");

    /* the padding the scheme names must be the one used */
    assert_int_equal(cv12(client, TLS12, 0x0804, &pkcs1, why, sizeof why), TB_TRI_NO);
    assert_int_equal(cv12(client, TLS12, 0x0401, &pss, why, sizeof why), TB_TRI_NO);
    assert_int_equal(cv12(client, TLS12, 0x0501, &pkcs1, why, sizeof why), TB_TRI_NO);
    /* a key that does not match the certificate */
    assert_int_equal(cv12(client, TLS12, 0x0401, &wrong, why, sizeof why), TB_TRI_NO);
    assert_non_null(strstr(why, "RSA 2048 key of certificate alice"));
    assert_int_equal(cv12(client, TLS12, 0x0401, &wrong1024, why, sizeof why), TB_TRI_NO);
    /* a scheme the key cannot make */
    assert_int_equal(cv12(client, TLS12, 0x0403, &pkcs1, why, sizeof why), TB_TRI_NO);
    assert_string_equal(why, "ecdsa_secp256r1_sha256 cannot be made with the RSA 2048 key of "
                             "certificate alice");
    assert_int_equal(cv12(server, TLS12, 0x0401, &pkcs1, why, sizeof why), TB_TRI_NO);
    assert_int_equal(cv12(client, TLS12, 0x0809, &pss, why, sizeof why), TB_TRI_NO);
    /* empty and oversized signatures */
    struct file empty = {pkcs1.bytes, 0};
    assert_int_equal(cv12(client, TLS12, 0x0401, &empty, why, sizeof why), TB_TRI_NO);
    assert_int_equal(cv12(server, TLS12, 0x0403, &empty, why, sizeof why), TB_TRI_NO);
    struct file big = {transcript.bytes, transcript.len};
    assert_int_equal(cv12(client, TLS12, 0x0401, &big, why, sizeof why), TB_TRI_NO);
    assert_int_equal(cv12(server, TLS12, 0x0403, &big, why, sizeof why), TB_TRI_NO);
    free(pkcs1.bytes);
    free(pss.bytes);
    free(wrong.bytes);
    free(wrong1024.bytes);
}

static void test_not_checkable(void **state)
{
    (void)state;
    char why[256];
    struct file sig = load("cv_rsa_pkcs1_sha256.sig");

    assert_int_equal(cv12(ed25519, TLS12, 0x0807, &sig, why, sizeof why), TB_TRI_UNKNOWN);
    assert_string_equal(why, "mbedTLS 2.28 has no Ed25519");
    assert_int_equal(cv12(broken, TLS12, 0x0401, &sig, why, sizeof why), TB_TRI_UNKNOWN);
    assert_int_equal(cv12(client, TLS12, 0xfefe, &sig, why, sizeof why), TB_TRI_UNKNOWN);
    assert_string_equal(why, "signature algorithm 0xfefe is not one tlsblame can check");
    assert_int_equal(cv12(client, 0x0300, 0, &sig, why, sizeof why), TB_TRI_UNKNOWN);
    assert_int_equal(cv12(NULL, TLS12, 0x0401, &sig, why, sizeof why), TB_TRI_UNKNOWN);
    assert_int_equal(cv12(client, TLS12, 0x0402, &sig, why, sizeof why), TB_TRI_NO); /* DSA */
    free(sig.bytes);
}

static void test_tls13(void **state)
{
    (void)state;
    char why[256];
    struct file th = load("th.bin");
    struct file csig = load("cv13_client_rsa_pss_sha256.sig");
    struct file ssig = load("cv13_server_ecdsa_p256_sha256.sig");
    struct file pkcs1 = load("cv_rsa_pkcs1_sha256.sig");

    assert_int_equal(th.len, 32);
    assert_int_equal(tb_cv_verify_tls13(client, false, 0x0804, csig.bytes, csig.len, th.bytes,
                                        th.len, why, sizeof why),
                     TB_TRI_YES);
    /* the server's context string on a client signature */
    assert_int_equal(tb_cv_verify_tls13(client, true, 0x0804, csig.bytes, csig.len, th.bytes,
                                        th.len, why, sizeof why),
                     TB_TRI_NO);
    assert_int_equal(tb_cv_verify_tls13(server, true, 0x0403, ssig.bytes, ssig.len, th.bytes,
                                        th.len, why, sizeof why),
                     TB_TRI_YES);
    th.bytes[0] ^= 1;
    assert_int_equal(tb_cv_verify_tls13(server, true, 0x0403, ssig.bytes, ssig.len, th.bytes,
                                        th.len, why, sizeof why),
                     TB_TRI_NO);
    th.bytes[0] ^= 1;
    /* RFC 8446 4.4.3: no PKCS#1 v1.5 in TLS 1.3 */
    assert_int_equal(tb_cv_verify_tls13(client, false, 0x0401, pkcs1.bytes, pkcs1.len, th.bytes,
                                        th.len, why, sizeof why),
                     TB_TRI_NO);
    assert_non_null(strstr(why, "rsa_pkcs1_sha256 is not allowed in a TLS 1.3"));
    /* ecdsa_secp256r1_sha256 needs a P-256 key in TLS 1.3 */
    assert_int_equal(tb_cv_verify_tls13(p384, false, 0x0403, ssig.bytes, ssig.len, th.bytes,
                                        th.len, why, sizeof why),
                     TB_TRI_NO);
    assert_string_equal(why, "ecdsa_secp256r1_sha256 needs a P-256 key in TLS 1.3; certificate "
                             "p384 leaf has EC P-384");
    assert_int_equal(tb_cv_verify_tls13(client, false, 0x0804, csig.bytes, csig.len, th.bytes, 0,
                                        why, sizeof why),
                     TB_TRI_UNKNOWN);
    assert_int_equal(tb_cv_verify_tls13(ed25519, false, 0x0807, csig.bytes, csig.len, th.bytes,
                                        th.len, why, sizeof why),
                     TB_TRI_UNKNOWN);
    free(th.bytes);
    free(csig.bytes);
    free(ssig.bytes);
    free(pkcs1.bytes);
}

static void test_ske(void **state)
{
    (void)state;
    char why[256];
    struct file cr = load("ske_client_random.bin");
    struct file sr = load("ske_server_random.bin");
    struct file params = load("ske_params.bin");
    struct file esig = load("ske_ecdsa_sha256.sig");
    struct file rsig = load("ske_rsa_sha256.sig");

    assert_int_equal(cr.len, 32);
    assert_int_equal(tb_ske_verify(server, TLS12, 0x0403, cr.bytes, sr.bytes, params.bytes,
                                   params.len, esig.bytes, esig.len, why, sizeof why),
                     TB_TRI_YES);
    assert_int_equal(tb_ske_verify(client, TLS12, 0x0401, cr.bytes, sr.bytes, params.bytes,
                                   params.len, rsig.bytes, rsig.len, why, sizeof why),
                     TB_TRI_YES);
    /* randoms swapped, params changed */
    assert_int_equal(tb_ske_verify(server, TLS12, 0x0403, sr.bytes, cr.bytes, params.bytes,
                                   params.len, esig.bytes, esig.len, why, sizeof why),
                     TB_TRI_NO);
    params.bytes[params.len - 1] ^= 1;
    assert_int_equal(tb_ske_verify(client, TLS12, 0x0401, cr.bytes, sr.bytes, params.bytes,
                                   params.len, rsig.bytes, rsig.len, why, sizeof why),
                     TB_TRI_NO);
    free(cr.bytes);
    free(sr.bytes);
    free(params.bytes);
    free(esig.bytes);
    free(rsig.bytes);
}

static void test_sigalg_fits_key(void **state)
{
    (void)state;
    assert_true(tb_sigalg_fits_key(0x0401, client));
    assert_true(tb_sigalg_fits_key(0x0804, client));
    assert_true(tb_sigalg_fits_key(0x0201, client));
    assert_false(tb_sigalg_fits_key(0x0809, client)); /* needs an RSASSA-PSS key */
    assert_false(tb_sigalg_fits_key(0x0403, client));
    assert_true(tb_sigalg_fits_key(0x0403, server));
    assert_true(tb_sigalg_fits_key(0x0503, server)); /* TLS 1.2: any curve */
    assert_false(tb_sigalg_fits_key(0x0804, server));
    assert_true(tb_sigalg_fits_key(0x0807, ed25519));
    assert_false(tb_sigalg_fits_key(0x0808, ed25519));
    assert_false(tb_sigalg_fits_key(0x0403, ed25519));
    assert_true(tb_sigalg_fits_key(0, client));
    assert_true(tb_sigalg_fits_key(0, server));
    assert_false(tb_sigalg_fits_key(0, ed25519));
    assert_false(tb_sigalg_fits_key(0x0401, broken));
    assert_false(tb_sigalg_fits_key(0xfefe, client));
    assert_false(tb_sigalg_fits_key(0x0401, NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tls12_rsa_pkcs1),   cmocka_unit_test(test_tls12_rsa_pss),
        cmocka_unit_test(test_tls12_ecdsa),       cmocka_unit_test(test_tls10),
        cmocka_unit_test(test_wrong_scheme_or_key), cmocka_unit_test(test_not_checkable),
        cmocka_unit_test(test_tls13),             cmocka_unit_test(test_ske),
        cmocka_unit_test(test_sigalg_fits_key),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
