#ifndef TLSBLAME_X509_H
#define TLSBLAME_X509_H
/*
 * x509.h - certificate facts, parsed once per distinct DER (mbedTLS inside
 * x509.c/certcache.c; no mbedTLS type crosses this header).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tlsblame/arena.h"
#include "tlsblame/common.h"
#include "tlsblame/err.h"

enum tb_key_type {
    TB_KEY_UNKNOWN = 0,
    TB_KEY_RSA,
    TB_KEY_RSA_PSS,
    TB_KEY_EC,
    TB_KEY_ED25519,
    TB_KEY_ED448,
    TB_KEY_DSA,
};

/* KeyUsage bits as in RFC 5280 4.2.1.3 (bit 0 = digitalSignature). */
#define TB_KU_DIGITAL_SIGNATURE (1u << 0)
#define TB_KU_NON_REPUDIATION (1u << 1)
#define TB_KU_KEY_ENCIPHERMENT (1u << 2)
#define TB_KU_DATA_ENCIPHERMENT (1u << 3)
#define TB_KU_KEY_AGREEMENT (1u << 4)
#define TB_KU_KEY_CERT_SIGN (1u << 5)
#define TB_KU_CRL_SIGN (1u << 6)
#define TB_KU_ENCIPHER_ONLY (1u << 7)
#define TB_KU_DECIPHER_ONLY (1u << 8)

#define TB_EKU_SERVER_AUTH (1u << 0)
#define TB_EKU_CLIENT_AUTH (1u << 1)
#define TB_EKU_CODE_SIGNING (1u << 2)
#define TB_EKU_EMAIL (1u << 3)
#define TB_EKU_TIME_STAMPING (1u << 4)
#define TB_EKU_OCSP_SIGNING (1u << 5)
#define TB_EKU_ANY (1u << 6)
#define TB_EKU_OTHER (1u << 7)

/*
 * One certificate. Immutable once made; shared by every session that saw the
 * same DER (refcounted by the cache). All strings are owned by the cert and
 * NUL-terminated; wire strings are kept as they were (escaping is the
 * reporter's job), except that DNs are RFC 4514 strings.
 */
struct tb_cert {
    uint8_t sha256[32];
    char sha256_hex[65];
    const uint8_t *der; /* owned copy */
    size_t der_len;

    bool parsed;             /* false: mbedTLS refused it; see parse_error */
    const char *parse_error; /* mbedTLS's error text, NULL when parsed */

    int version;             /* 1..3 */
    const char *subject;     /* RFC 4514, e.g. "CN=alice,O=Example" ("" if unreadable) */
    const char *issuer;
    const char *subject_cn;  /* NULL if none */
    const char *issuer_cn;
    const uint8_t *subject_raw; /* DER of the Name, into der */
    size_t subject_raw_len;
    const uint8_t *issuer_raw;
    size_t issuer_raw_len;
    const char *serial_hex;  /* lowercase hex, no separators */
    int64_t not_before;      /* Unix seconds, UTC */
    int64_t not_after;
    bool has_validity;       /* not_before/not_after were read (false: DER cut before them) */

    enum tb_key_type key_type;
    unsigned key_bits;       /* RSA modulus bits, EC field bits */
    const char *curve;       /* "P-256", ... or NULL */
    const char *key_desc;    /* "RSA 2048", "EC P-256", "Ed25519" */
    const char *sig_alg;     /* "sha256WithRSAEncryption", "ecdsa-with-SHA256", "ED25519" */
    bool sig_weak;           /* MD2/MD4/MD5/SHA-1 */

    const char **san;        /* "DNS:a.example", "IP:10.0.0.1", "URI:spiffe://..", "email:.." */
    size_t san_count;
    bool has_eku;
    unsigned eku;            /* TB_EKU_* */
    const char **eku_names;  /* "serverAuth", "clientAuth", or dotted OIDs */
    size_t eku_count;
    bool has_key_usage;
    unsigned key_usage;      /* TB_KU_* */
    const char **ku_names;   /* "digitalSignature", ... */
    size_t ku_count;
    bool has_basic_constraints;
    bool is_ca;
    int path_len;            /* -1: no limit */
    const char *ski_hex;     /* NULL if absent */
    const char *aki_hex;     /* keyIdentifier of AKI, NULL if absent */
    bool self_issued;        /* subject == issuer */
    bool self_signed;        /* self-issued and its signature verifies with its own key */
    bool unknown_critical_ext;
    const char *unknown_critical_oid; /* dotted, NULL if none */

    void *impl;              /* x509.c private (parsed mbedTLS object) */
    struct tb_cert_rendered *rendered; /* the cache's: report_json.c keeps its JSON here */
};

/*
 * A certificate's JSON object is the same in every session but for
 * valid_at_capture: kept as the bytes before that value and after it.
 */
struct tb_cert_rendered {
    char *json;              /* head then tail, NULL until first written */
    size_t head_len, tail_len;
};

struct tb_certcache;

struct tb_certcache *tb_certcache_new(size_t max_entries);
void tb_certcache_free(struct tb_certcache *cache);
/*
 * The cert for this DER: parsed on first sight, then shared. The hit path
 * does not hash the whole DER with SHA-256. Returns NULL only when out of
 * memory; a DER mbedTLS refuses still yields a cert with parsed == false.
 * The caller holds one reference until tb_cert_release().
 */
const struct tb_cert *tb_certcache_get(struct tb_certcache *cache, const uint8_t *der, size_t len);
void tb_cert_release(struct tb_certcache *cache, const struct tb_cert *cert);
/* Counters for -v and the benchmark. */
void tb_certcache_stats(const struct tb_certcache *cache, uint64_t *hits, uint64_t *misses,
                        size_t *entries);

/* RFC 4514 string of a DER-encoded Name (e.g. from a CertificateRequest). */
char *tb_x509_dn_string(const uint8_t *der, size_t len, struct tb_arena *a);
/* "CN" of a DER Name, or NULL. */
char *tb_x509_dn_cn(const uint8_t *der, size_t len, struct tb_arena *a);
/* Does a SAN (or the CN where there is no DNS SAN) match host, RFC 6125 wildcards. */
enum tb_tri tb_cert_matches_host(const struct tb_cert *cert, const char *host);
/* PEM of the cert into a (for --export-certs). */
char *tb_cert_pem(const struct tb_cert *cert, struct tb_arena *a);

/* "mbed TLS 2.28.3" (for --version). */
const char *tb_x509_lib_version(void);

/* Trust anchors from a PEM bundle (--ca-file). */
struct tb_trust;
enum tb_err tb_trust_load(const char *pem_path, struct tb_trust **out) TB_MUST_USE;
void tb_trust_free(struct tb_trust *trust);
size_t tb_trust_count(const struct tb_trust *trust);

#endif
