/*
 * cv.c - checks of handshake signatures with the sender's leaf key, so the
 * report can say "the CertificateVerify was bad" (key does not match the
 * certificate, wrong transcript) apart from "it was good and the peer still
 * refused it". The capture has everything a TLS <= 1.2 verifier has: the
 * clear transcript and the certificate. TLS 1.3 needs the decrypted
 * transcript hash.
 *
 * The mapping SignatureScheme -> (hash, key, padding) is ours, not
 * names.c's: it decides what is verified, and stays next to the code that
 * uses it. mbedTLS 2.28 has no EdDSA and no DSA: those are "unknown", never
 * "bad".
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <mbedtls/error.h>
#include <mbedtls/md.h>
#include <mbedtls/pk.h>

#include "tlsblame/cv.h"
#include "x509_int.h"

enum cv_sig {
    CV_RSA_PKCS1,
    CV_RSA_PSS_RSAE, /* RSASSA-PSS with an rsaEncryption key */
    CV_RSA_PSS_PSS,  /* RSASSA-PSS with an id-RSASSA-PSS key */
    CV_ECDSA,
    CV_ED25519,
    CV_ED448,
    CV_DSA,
};

struct scheme {
    uint16_t code;
    const char *name;
    mbedtls_md_type_t md;
    enum cv_sig sig;
    const char *tls13_curve; /* TLS 1.3 binds ECDSA schemes to one curve; NULL otherwise */
    bool tls13_ok;           /* RFC 8446 4.4.3: may appear in a TLS 1.3 CertificateVerify */
};

/* RFC 8446 4.2.3 and RFC 5246 7.4.1.4.1 (hash << 8 | signature). */
static const struct scheme schemes[] = {
    {0x0401, "rsa_pkcs1_sha256", MBEDTLS_MD_SHA256, CV_RSA_PKCS1, NULL, false},
    {0x0501, "rsa_pkcs1_sha384", MBEDTLS_MD_SHA384, CV_RSA_PKCS1, NULL, false},
    {0x0601, "rsa_pkcs1_sha512", MBEDTLS_MD_SHA512, CV_RSA_PKCS1, NULL, false},
    {0x0201, "rsa_pkcs1_sha1", MBEDTLS_MD_SHA1, CV_RSA_PKCS1, NULL, false},
    {0x0301, "rsa_pkcs1_sha224", MBEDTLS_MD_SHA224, CV_RSA_PKCS1, NULL, false},
    {0x0101, "rsa_pkcs1_md5", MBEDTLS_MD_MD5, CV_RSA_PKCS1, NULL, false},
    {0x0403, "ecdsa_secp256r1_sha256", MBEDTLS_MD_SHA256, CV_ECDSA, "P-256", true},
    {0x0503, "ecdsa_secp384r1_sha384", MBEDTLS_MD_SHA384, CV_ECDSA, "P-384", true},
    {0x0603, "ecdsa_secp521r1_sha512", MBEDTLS_MD_SHA512, CV_ECDSA, "P-521", true},
    {0x0203, "ecdsa_sha1", MBEDTLS_MD_SHA1, CV_ECDSA, NULL, false},
    {0x0303, "ecdsa_sha224", MBEDTLS_MD_SHA224, CV_ECDSA, NULL, false},
    {0x0804, "rsa_pss_rsae_sha256", MBEDTLS_MD_SHA256, CV_RSA_PSS_RSAE, NULL, true},
    {0x0805, "rsa_pss_rsae_sha384", MBEDTLS_MD_SHA384, CV_RSA_PSS_RSAE, NULL, true},
    {0x0806, "rsa_pss_rsae_sha512", MBEDTLS_MD_SHA512, CV_RSA_PSS_RSAE, NULL, true},
    {0x0809, "rsa_pss_pss_sha256", MBEDTLS_MD_SHA256, CV_RSA_PSS_PSS, NULL, true},
    {0x080a, "rsa_pss_pss_sha384", MBEDTLS_MD_SHA384, CV_RSA_PSS_PSS, NULL, true},
    {0x080b, "rsa_pss_pss_sha512", MBEDTLS_MD_SHA512, CV_RSA_PSS_PSS, NULL, true},
    {0x0807, "ed25519", MBEDTLS_MD_NONE, CV_ED25519, NULL, true},
    {0x0808, "ed448", MBEDTLS_MD_NONE, CV_ED448, NULL, true},
    {0x081a, "ecdsa_brainpoolP256r1tls13_sha256", MBEDTLS_MD_SHA256, CV_ECDSA, "brainpoolP256r1",
     true},
    {0x081b, "ecdsa_brainpoolP384r1tls13_sha384", MBEDTLS_MD_SHA384, CV_ECDSA, "brainpoolP384r1",
     true},
    {0x081c, "ecdsa_brainpoolP512r1tls13_sha512", MBEDTLS_MD_SHA512, CV_ECDSA, "brainpoolP512r1",
     true},
    {0x0202, "dsa_sha1", MBEDTLS_MD_SHA1, CV_DSA, NULL, false},
    {0x0302, "dsa_sha224", MBEDTLS_MD_SHA224, CV_DSA, NULL, false},
    {0x0402, "dsa_sha256", MBEDTLS_MD_SHA256, CV_DSA, NULL, false},
    {0x0502, "dsa_sha384", MBEDTLS_MD_SHA384, CV_DSA, NULL, false},
    {0x0602, "dsa_sha512", MBEDTLS_MD_SHA512, CV_DSA, NULL, false},
};

/* TLS 1.0/1.1: no SignatureScheme; RSA signs MD5 || SHA-1, ECDSA and DSA sign SHA-1. */
static const struct scheme legacy_rsa = {0, "rsa (TLS 1.0/1.1 MD5+SHA-1)", MBEDTLS_MD_NONE,
                                         CV_RSA_PKCS1, NULL, false};
static const struct scheme legacy_ecdsa = {0, "ecdsa (TLS 1.0/1.1 SHA-1)", MBEDTLS_MD_SHA1,
                                           CV_ECDSA, NULL, false};
static const struct scheme legacy_dsa = {0, "dsa (TLS 1.0/1.1 SHA-1)", MBEDTLS_MD_SHA1, CV_DSA,
                                         NULL, false};

static const struct scheme *scheme_find(uint16_t code)
{
    for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++) {
        if (schemes[i].code == code) {
            return &schemes[i];
        }
    }
    return NULL;
}

static const struct scheme *legacy_scheme(const struct tb_cert *leaf)
{
    switch (leaf->key_type) {
    case TB_KEY_EC:
        return &legacy_ecdsa;
    case TB_KEY_DSA:
        return &legacy_dsa;
    case TB_KEY_RSA:
    case TB_KEY_RSA_PSS:
    case TB_KEY_ED25519:
    case TB_KEY_ED448:
    case TB_KEY_UNKNOWN:
    default:
        return &legacy_rsa;
    }
}

static bool key_fits(const struct scheme *s, const struct tb_cert *leaf)
{
    switch (s->sig) {
    case CV_RSA_PKCS1:
    case CV_RSA_PSS_RSAE:
        return leaf->key_type == TB_KEY_RSA;
    case CV_RSA_PSS_PSS:
        return leaf->key_type == TB_KEY_RSA_PSS;
    case CV_ECDSA:
        return leaf->key_type == TB_KEY_EC;
    case CV_ED25519:
        return leaf->key_type == TB_KEY_ED25519;
    case CV_ED448:
        return leaf->key_type == TB_KEY_ED448;
    case CV_DSA:
        return leaf->key_type == TB_KEY_DSA;
    default:
        return false;
    }
}

bool tb_sigalg_fits_key(uint16_t sig_alg, const struct tb_cert *leaf)
{
    if (leaf == NULL) {
        return false;
    }
    if (sig_alg == 0) {
        return leaf->key_type == TB_KEY_RSA || leaf->key_type == TB_KEY_EC ||
               leaf->key_type == TB_KEY_DSA;
    }
    const struct scheme *s = scheme_find(sig_alg);
    return s != NULL && key_fits(s, leaf);
}

static void say(char *why, size_t why_len, const char *fmt, ...) TB_PRINTF(3, 4);
static void say(char *why, size_t why_len, const char *fmt, ...)
{
    va_list ap;

    if (why == NULL || why_len == 0) {
        return;
    }
    va_start(ap, fmt);
    (void)vsnprintf(why, why_len, fmt, ap); /* a cut message is still a message */
    va_end(ap);
}

static const char *leaf_name(const struct tb_cert *leaf)
{
    return leaf->subject_cn != NULL ? leaf->subject_cn : leaf->subject;
}

struct part {
    const uint8_t *p;
    size_t len;
};

static int hash_parts(mbedtls_md_type_t type, const struct part *parts, size_t n, uint8_t *out)
{
    mbedtls_md_context_t ctx;
    const mbedtls_md_info_t *info = mbedtls_md_info_from_type(type);
    int ret;

    if (info == NULL) {
        return MBEDTLS_ERR_MD_FEATURE_UNAVAILABLE;
    }
    mbedtls_md_init(&ctx);
    ret = mbedtls_md_setup(&ctx, info, 0);
    if (ret == 0) {
        ret = mbedtls_md_starts(&ctx);
    }
    for (size_t i = 0; ret == 0 && i < n; i++) {
        ret = mbedtls_md_update(&ctx, parts[i].p, parts[i].len);
    }
    if (ret == 0) {
        ret = mbedtls_md_finish(&ctx, out);
    }
    mbedtls_md_free(&ctx);
    return ret;
}

/* The whole check, once the scheme is known: key fit, hash, verify. */
static enum tb_tri verify_parts(const struct tb_cert *leaf, const struct scheme *s, bool md5sha1,
                                const struct part *parts, size_t n, const uint8_t *sig,
                                size_t sig_len, char *why, size_t why_len)
{
    uint8_t hash[MBEDTLS_MD_MAX_SIZE + 20];
    size_t hash_len;
    char err[160];

    if (leaf == NULL) {
        say(why, why_len, "no leaf certificate to take the key from");
        return TB_TRI_UNKNOWN;
    }
    if (!key_fits(s, leaf)) {
        say(why, why_len, "%s cannot be made with the %s key of certificate %s", s->name,
            leaf->key_desc[0] != '\0' ? leaf->key_desc : "unknown", leaf_name(leaf));
        return leaf->key_type == TB_KEY_UNKNOWN ? TB_TRI_UNKNOWN : TB_TRI_NO;
    }
    if (s->sig == CV_ED25519 || s->sig == CV_ED448) {
        say(why, why_len, "mbedTLS 2.28 has no %s", s->sig == CV_ED25519 ? "Ed25519" : "Ed448");
        return TB_TRI_UNKNOWN;
    }
    if (s->sig == CV_DSA) {
        say(why, why_len, "mbedTLS 2.28 has no DSA");
        return TB_TRI_UNKNOWN;
    }
    const mbedtls_x509_crt *crt = tb_x509_crt(leaf);
    if (crt == NULL) {
        say(why, why_len, "the key of certificate %s cannot be used: %s", leaf_name(leaf),
            leaf->parse_error != NULL ? leaf->parse_error : "mbedTLS 2.28 does not support it");
        return TB_TRI_UNKNOWN;
    }
    int ret;
    if (md5sha1) {
        ret = hash_parts(MBEDTLS_MD_MD5, parts, n, hash);
        if (ret == 0) {
            ret = hash_parts(MBEDTLS_MD_SHA1, parts, n, hash + 16);
        }
        hash_len = 36;
    } else {
        ret = hash_parts(s->md, parts, n, hash);
        hash_len = mbedtls_md_get_size(mbedtls_md_info_from_type(s->md));
    }
    if (ret != 0) {
        mbedtls_strerror(ret, err, sizeof err);
        say(why, why_len, "cannot hash for %s: mbedTLS: %s", s->name, err);
        return TB_TRI_UNKNOWN;
    }
    /* mbedTLS takes a non-const key; verification does not modify it beyond its own caches. */
    mbedtls_pk_context *pk = (mbedtls_pk_context *)(uintptr_t)&crt->pk;
    if (s->sig == CV_RSA_PSS_RSAE || s->sig == CV_RSA_PSS_PSS) {
        /* RFC 8446 4.2.3: MGF1 with the same hash, salt as long as the hash. */
        mbedtls_pk_rsassa_pss_options opts = {.mgf1_hash_id = s->md,
                                              .expected_salt_len = (int)hash_len};
        ret = mbedtls_pk_verify_ext(MBEDTLS_PK_RSASSA_PSS, &opts, pk, s->md, hash, hash_len, sig,
                                    sig_len);
    } else {
        ret = mbedtls_pk_verify(pk, md5sha1 ? MBEDTLS_MD_NONE : s->md, hash, hash_len, sig,
                                sig_len);
    }
    if (ret != 0) {
        mbedtls_strerror(ret, err, sizeof err);
        say(why, why_len,
            "%s signature does not verify with the %s key of certificate %s (wrong key or "
            "different transcript): mbedTLS: %s",
            s->name, leaf->key_desc, leaf_name(leaf), err);
        return TB_TRI_NO;
    }
    say(why, why_len, "%s signature verifies with the %s key of certificate %s", s->name,
        leaf->key_desc, leaf_name(leaf));
    return TB_TRI_YES;
}

/* The scheme for a TLS <= 1.2 signature, or NULL (why is set). */
static const struct scheme *scheme_12(const struct tb_cert *leaf, uint16_t version,
                                      uint16_t sig_alg, bool *md5sha1, char *why, size_t why_len)
{
    *md5sha1 = false;
    if (leaf == NULL) {
        say(why, why_len, "no leaf certificate to take the key from");
        return NULL;
    }
    if (version < 0x0303 || sig_alg == 0) {
        const struct scheme *s = legacy_scheme(leaf);
        *md5sha1 = s == &legacy_rsa;
        return s;
    }
    const struct scheme *s = scheme_find(sig_alg);
    if (s == NULL) {
        say(why, why_len, "signature algorithm 0x%04x is not one tlsblame can check", sig_alg);
    }
    return s;
}

enum tb_tri tb_cv_verify_tls12(const struct tb_cert *leaf, uint16_t version, uint16_t sig_alg,
                               const uint8_t *sig, size_t sig_len, const uint8_t *transcript,
                               size_t transcript_len, char *why, size_t why_len)
{
    bool md5sha1;
    struct part parts[1] = {{transcript, transcript_len}};

    say(why, why_len, "%s", "");
    if (version == 0x0300) {
        /* RFC 6101 5.6.8: SSL 3.0 hashes the transcript with the master secret, which we lack. */
        say(why, why_len, "SSL 3.0 CertificateVerify depends on the master secret");
        return TB_TRI_UNKNOWN;
    }
    const struct scheme *s = scheme_12(leaf, version, sig_alg, &md5sha1, why, why_len);
    if (s == NULL) {
        return TB_TRI_UNKNOWN;
    }
    return verify_parts(leaf, s, md5sha1, parts, 1, sig, sig_len, why, why_len);
}

enum tb_tri tb_cv_verify_tls13(const struct tb_cert *leaf, bool from_server, uint16_t sig_alg,
                               const uint8_t *sig, size_t sig_len, const uint8_t *transcript_hash,
                               size_t hash_len, char *why, size_t why_len)
{
    static const uint8_t spaces[64] = {
        ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ',
        ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ',
        ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ',
        ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ',
    };
    static const char server_ctx[] = "TLS 1.3, server CertificateVerify";
    static const char client_ctx[] = "TLS 1.3, client CertificateVerify";
    static const uint8_t zero = 0;
    const char *context = from_server ? server_ctx : client_ctx;

    say(why, why_len, "%s", "");
    const struct scheme *s = scheme_find(sig_alg);
    if (s == NULL) {
        say(why, why_len, "signature algorithm 0x%04x is not one tlsblame can check", sig_alg);
        return TB_TRI_UNKNOWN;
    }
    if (!s->tls13_ok) {
        say(why, why_len,
            "%s is not allowed in a TLS 1.3 CertificateVerify (RFC 8446 4.4.3: RSA must use "
            "PSS, no SHA-1)",
            s->name);
        return TB_TRI_NO;
    }
    if (hash_len == 0 || hash_len > MBEDTLS_MD_MAX_SIZE) {
        say(why, why_len, "transcript hash of %zu bytes", hash_len);
        return TB_TRI_UNKNOWN;
    }
    if (leaf != NULL && s->tls13_curve != NULL && leaf->key_type == TB_KEY_EC &&
        (leaf->curve == NULL || strcmp(leaf->curve, s->tls13_curve) != 0)) {
        say(why, why_len, "%s needs a %s key in TLS 1.3; certificate %s has %s", s->name,
            s->tls13_curve, leaf_name(leaf), leaf->key_desc);
        return TB_TRI_NO;
    }
    struct part parts[4] = {
        {spaces, sizeof spaces},
        {(const uint8_t *)context, strlen(context)},
        {&zero, 1},
        {transcript_hash, hash_len},
    };
    return verify_parts(leaf, s, false, parts, 4, sig, sig_len, why, why_len);
}

enum tb_tri tb_ske_verify(const struct tb_cert *leaf, uint16_t version, uint16_t sig_alg,
                          const uint8_t client_random[32], const uint8_t server_random[32],
                          const uint8_t *params, size_t params_len, const uint8_t *sig,
                          size_t sig_len, char *why, size_t why_len)
{
    bool md5sha1;
    struct part parts[3] = {{client_random, 32}, {server_random, 32}, {params, params_len}};

    say(why, why_len, "%s", "");
    /* SSL 3.0 signs the same MD5 || SHA-1 of randoms and params as TLS 1.0 (RFC 6101 5.6.4). */
    const struct scheme *s = scheme_12(leaf, version, sig_alg, &md5sha1, why, why_len);
    if (s == NULL) {
        return TB_TRI_UNKNOWN;
    }
    return verify_parts(leaf, s, md5sha1, parts, 3, sig, sig_len, why, why_len);
}
