/*
 * chain.c - what is wrong with one certificate chain as it was sent, judged
 * the way the receiving side would judge it, at the moment the capture saw
 * it. Time is always the capture time `at`: a capture analysed a year later
 * must not call a then-valid certificate expired. mbedTLS's verifier only
 * knows the wall clock, so its time flags are discarded and validity is
 * re-judged here, for every certificate of the path including the anchor.
 *
 * Links are by name (raw DER of issuer == raw DER of subject, as OpenSSL's
 * canonical comparison does for well-formed names) and, when both sides
 * carry them, AKI keyIdentifier == SKI.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <mbedtls/x509_crt.h>

#include "tlsblame/chain.h"
#include "tlsblame/limits.h"
#include "x509_int.h"

/* Longer chains are analysed on their first CHAIN_MAX certs (TB_MAX_CERTS is the wire cap). */
#define CHAIN_MAX (TB_MAX_CERTS * 4)

/* TLS 1.2 ClientCertificateType (RFC 5246 7.4.4, RFC 8422 5.5). */
enum tb_cert_type {
    TB_CERT_TYPE_RSA_SIGN = 1,
    TB_CERT_TYPE_DSS_SIGN = 2,
    TB_CERT_TYPE_ECDSA_SIGN = 64,
    TB_CERT_TYPE_ECDSA_FIXED_ECDH = 66,
};

/* Messages are cut to their buffer: a long DN in a message is still a message. */
static void msgf(char *out, size_t out_len, const char *fmt, ...) TB_PRINTF(3, 4);
static void msgf(char *out, size_t out_len, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    (void)vsnprintf(out, out_len, fmt, ap); /* truncation is intended */
    va_end(ap);
}

static bool same_bytes(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    return a != NULL && b != NULL && alen == blen && memcmp(a, b, alen) == 0;
}

static bool issued_by(const struct tb_cert *child, const struct tb_cert *parent)
{
    if (child == NULL || parent == NULL ||
        !same_bytes(child->issuer_raw, child->issuer_raw_len, parent->subject_raw,
                    parent->subject_raw_len)) {
        return false;
    }
    /* RFC 5280 4.2.1.1: the AKI names the issuer's key; a re-keyed CA keeps its name. */
    return child->aki_hex == NULL || parent->ski_hex == NULL ||
           strcmp(child->aki_hex, parent->ski_hex) == 0;
}

/* "CN=alice" when there is a CN, else the whole subject. */
static void cert_label(const struct tb_cert *c, char *out, size_t out_len)
{
    if (c->subject_cn != NULL) {
        msgf(out, out_len, "CN=%s", c->subject_cn);
    } else {
        msgf(out, out_len, "%s", c->subject[0] != '\0' ? c->subject : "no subject");
    }
}

static void duration(int64_t s, char *out, size_t out_len)
{
    if (s >= 86400) {
        int64_t d = s / 86400;
        msgf(out, out_len, "%lld day%s", (long long)d, d == 1 ? "" : "s");
    } else if (s >= 3600) {
        int64_t h = s / 3600;
        msgf(out, out_len, "%lld hour%s", (long long)h, h == 1 ? "" : "s");
    } else if (s >= 60) {
        int64_t m = s / 60;
        msgf(out, out_len, "%lld minute%s", (long long)m, m == 1 ? "" : "s");
    } else {
        msgf(out, out_len, "%lld second%s", (long long)s, s == 1 ? "" : "s");
    }
}

static bool weak_key(const struct tb_cert *c)
{
    switch (c->key_type) {
    case TB_KEY_RSA:
    case TB_KEY_RSA_PSS:
    case TB_KEY_DSA:
        return c->key_bits > 0 && c->key_bits < 2048;
    case TB_KEY_EC:
        return c->key_bits > 0 && c->key_bits < 224;
    case TB_KEY_ED25519:
    case TB_KEY_ED448:
    case TB_KEY_UNKNOWN:
    default:
        return false;
    }
}

/* Which TLS 1.2 ClientCertificateType a key needs (RFC 8422 5.5: ecdsa_sign covers EdDSA). */
static enum tb_tri key_type_allowed(const struct tb_cert *leaf, const uint8_t *types, size_t n)
{
    bool ok = false;

    if (leaf->key_type == TB_KEY_UNKNOWN) {
        return TB_TRI_UNKNOWN;
    }
    for (size_t i = 0; i < n; i++) {
        switch (leaf->key_type) {
        case TB_KEY_RSA:
        case TB_KEY_RSA_PSS:
            ok |= types[i] == TB_CERT_TYPE_RSA_SIGN;
            break;
        case TB_KEY_DSA:
            ok |= types[i] == TB_CERT_TYPE_DSS_SIGN;
            break;
        case TB_KEY_EC:
            ok |= types[i] == TB_CERT_TYPE_ECDSA_SIGN || types[i] == TB_CERT_TYPE_ECDSA_FIXED_ECDH;
            break;
        case TB_KEY_ED25519:
        case TB_KEY_ED448:
            ok |= types[i] == TB_CERT_TYPE_ECDSA_SIGN;
            break;
        case TB_KEY_UNKNOWN:
        default:
            break;
        }
    }
    return tb_tri_from_bool(ok);
}

struct sig_scheme_map {
    const char *sig_alg;   /* as x509.c names it */
    uint16_t scheme[2];    /* SignatureSchemes that name the same algorithm; 0 = none */
};

/* RFC 5246 7.4.1.4.1 (hash << 8 | sig) and RFC 8446 4.2.3 code points. */
static const struct sig_scheme_map sig_scheme_maps[] = {
    {"md5WithRSAEncryption", {0x0101, 0}},    {"sha1WithRSAEncryption", {0x0201, 0}},
    {"sha1WithRSA", {0x0201, 0}},             {"sha224WithRSAEncryption", {0x0301, 0}},
    {"sha256WithRSAEncryption", {0x0401, 0}}, {"sha384WithRSAEncryption", {0x0501, 0}},
    {"sha512WithRSAEncryption", {0x0601, 0}}, {"dsaWithSHA1", {0x0202, 0}},
    {"dsa_with_SHA224", {0x0302, 0}},         {"dsa_with_SHA256", {0x0402, 0}},
    {"ecdsa-with-SHA1", {0x0203, 0}},         {"ecdsa-with-SHA224", {0x0303, 0}},
    {"ecdsa-with-SHA256", {0x0403, 0}},       {"ecdsa-with-SHA384", {0x0503, 0}},
    {"ecdsa-with-SHA512", {0x0603, 0}},       {"ED25519", {0x0807, 0}},
    {"ED448", {0x0808, 0}},
};

static bool offered(uint16_t scheme, const uint16_t *algs, size_t n)
{
    for (size_t i = 0; scheme != 0 && i < n; i++) {
        if (algs[i] == scheme) {
            return true;
        }
    }
    return false;
}

/* Is the algorithm the leaf was signed with among the signature schemes the peer offered. */
static enum tb_tri leaf_sig_alg_offered(const struct tb_cert *leaf, const uint16_t *algs, size_t n)
{
    if (strcmp(leaf->sig_alg, "rsassaPss") == 0) {
        const mbedtls_x509_crt *crt = tb_x509_crt(leaf);
        mbedtls_md_type_t md = crt != NULL ? crt->sig_md : MBEDTLS_MD_NONE;
        for (uint16_t s = 0x0804; s <= 0x0806; s++) { /* rsa_pss_rsae_*, then rsa_pss_pss_* */
            bool hash_fits = md == MBEDTLS_MD_NONE || (s == 0x0804 && md == MBEDTLS_MD_SHA256) ||
                             (s == 0x0805 && md == MBEDTLS_MD_SHA384) ||
                             (s == 0x0806 && md == MBEDTLS_MD_SHA512);
            if (hash_fits && (offered(s, algs, n) || offered((uint16_t)(s + 5), algs, n))) {
                return TB_TRI_YES;
            }
        }
        return TB_TRI_NO;
    }
    for (size_t i = 0; i < sizeof sig_scheme_maps / sizeof sig_scheme_maps[0]; i++) {
        if (strcmp(leaf->sig_alg, sig_scheme_maps[i].sig_alg) == 0) {
            return tb_tri_from_bool(offered(sig_scheme_maps[i].scheme[0], algs, n) ||
                                    offered(sig_scheme_maps[i].scheme[1], algs, n));
        }
    }
    return TB_TRI_UNKNOWN;
}

static bool in_ca_list(const uint8_t *name, size_t len, const struct tb_chain_input *in)
{
    for (size_t i = 0; i < in->ca_names_count; i++) {
        if (same_bytes(name, len, in->ca_names_der[i], in->ca_names_len[i])) {
            return true;
        }
    }
    return false;
}

enum { ANCHOR_NONE = 0, ANCHOR_ROOT = 1, ANCHOR_INTERMEDIATE = 2 };

/* Is name the subject of a certificate in the store, and is that one a root? */
static int anchor_kind(const struct tb_trust *trust, const uint8_t *name, size_t len)
{
    int kind = ANCHOR_NONE;

    for (const mbedtls_x509_crt *a = tb_trust_crts(trust); a != NULL && a->version != 0;
         a = a->next) {
        if (same_bytes(name, len, a->subject_raw.p, a->subject_raw.len)) {
            if (same_bytes(a->subject_raw.p, a->subject_raw.len, a->issuer_raw.p,
                           a->issuer_raw.len)) {
                return ANCHOR_ROOT;
            }
            kind = ANCHOR_INTERMEDIATE;
        }
    }
    return kind;
}

/* ------------------------------------------------------ trust store */

struct verify_ctx {
    int64_t at;
    const struct tb_chain_input *in;
    size_t n;
    bool time_bad; /* an anchor (not a sent cert) is outside its validity at `at` */
    char time_msg[200];
};

static int sent_index(const struct verify_ctx *v, const mbedtls_x509_crt *crt)
{
    for (size_t i = 0; i < v->n; i++) {
        const struct tb_cert *c = v->in->certs[i];
        if (c != NULL && same_bytes(c->der, c->der_len, crt->raw.p, crt->raw.len)) {
            return (int)i;
        }
    }
    return -1;
}

/*
 * Called by mbedTLS for each certificate of the path it built. Its
 * EXPIRED/FUTURE flags compare against the wall clock: drop them, and judge
 * the anchors (which the sent-chain checks do not cover) at capture time.
 */
static int verify_cb(void *p, mbedtls_x509_crt *crt, int depth, uint32_t *flags)
{
    struct verify_ctx *v = p;

    (void)depth;
    *flags &= ~(uint32_t)(MBEDTLS_X509_BADCERT_EXPIRED | MBEDTLS_X509_BADCERT_FUTURE);
    if (sent_index(v, crt) >= 0 || v->time_bad) {
        return 0;
    }
    int64_t nb = tb_x509_mbedtls_time(&crt->valid_from);
    int64_t na = tb_x509_mbedtls_time(&crt->valid_to);
    char name[160], d[32];
    tb_x509_dn_format(crt->subject_raw.p, crt->subject_raw.len, name, sizeof name);
    if (v->at > na) {
        duration(v->at - na, d, sizeof d);
        msgf(v->time_msg, sizeof v->time_msg,
                       "trust anchor %s expired %s before the capture", name, d);
        v->time_bad = true;
    } else if (v->at < nb) {
        duration(nb - v->at, d, sizeof d);
        msgf(v->time_msg, sizeof v->time_msg,
                       "trust anchor %s is not valid until %s after the capture", name,
                       d);
        v->time_bad = true;
    }
    return 0;
}

static void time_message(const struct tb_chain_input *in, const struct tb_chain_report *out,
                         char *msg, size_t msg_len)
{
    char label[160], d[32];

    if (out->expired_index >= 0) {
        cert_label(in->certs[out->expired_index], label, sizeof label);
        duration(out->expired_for, d, sizeof d);
        msgf(msg, msg_len, "certificate %d (%s) expired %s before the capture",
                       out->expired_index, label, d);
    } else if (out->not_yet_valid_index >= 0) {
        cert_label(in->certs[out->not_yet_valid_index], label, sizeof label);
        duration(out->not_yet_valid_for, d, sizeof d);
        msgf(msg, msg_len,
                       "certificate %d (%s) is not valid until %s after the capture",
                       out->not_yet_valid_index, label, d);
    }
}

/* Why mbedTLS found no path, in the words of the chain we analysed. */
static void path_message(const struct tb_chain_input *in, const size_t *path, size_t path_count,
                         char *msg, size_t msg_len)
{
    char label[160];

    for (size_t k = 0; k + 1 < path_count; k++) {
        const struct tb_cert *child = in->certs[path[k]];
        const struct tb_cert *parent = in->certs[path[k + 1]];
        cert_label(parent, label, sizeof label);
        if (!parent->is_ca) {
            msgf(msg, msg_len,
                           "certificate %zu (%s) is not a CA (basicConstraints) but issued "
                           "certificate %zu",
                           path[k + 1], label, path[k]);
            return;
        }
        if (tb_x509_signed_by(child, parent) == TB_TRI_NO) {
            msgf(msg, msg_len,
                           "the signature on certificate %zu does not verify with the key of "
                           "certificate %zu (%s)",
                           path[k], path[k + 1], label);
            return;
        }
    }
    const struct tb_cert *top = in->certs[path[path_count - 1]];
    cert_label(top, label, sizeof label);
    if (top->self_signed) {
        msgf(msg, msg_len,
                       "no path to a trust anchor: self-signed certificate %zu (%s) is not in "
                       "the trust store",
                       path[path_count - 1], label);
    } else if ((anchor_kind(in->trust, top->issuer_raw, top->issuer_raw_len) != ANCHOR_NONE)) {
        msgf(msg, msg_len,
                       "no path to a trust anchor: the trust store has a %s, but its key does "
                       "not verify certificate %zu (%s)",
                       top->issuer, path[path_count - 1], label);
    } else {
        msgf(msg, msg_len, "no path to a trust anchor: issuer %s is not in the trust store",
                       top->issuer[0] != '\0' ? top->issuer : "(unreadable)");
    }
}

static enum tb_tri verify_with_trust(const struct tb_chain_input *in, size_t n,
                                     struct tb_chain_report *out, const size_t *path,
                                     size_t path_count)
{
    static const mbedtls_x509_crt_profile permissive = {
        .allowed_mds = 0xffffffffu, /* weak hashes and keys are reported by their own facts */
        .allowed_pks = 0xffffffffu,
        .allowed_curves = 0xffffffffu,
        .rsa_min_bitlen = 0,
    };
    mbedtls_x509_crt chain;
    struct verify_ctx v = {.at = in->at, .in = in, .n = n};
    uint32_t flags = 0;
    enum tb_tri result = TB_TRI_UNKNOWN;

    mbedtls_x509_crt_init(&chain);
    /* Every cert on the path to the top must be checkable, or mbedTLS's "no" means nothing. */
    for (size_t k = 0; k < path_count; k++) {
        if (tb_x509_crt(in->certs[path[k]]) == NULL) {
            goto out;
        }
    }
    /* A sent cert we could not even name might be the issuer the path is missing. */
    const struct tb_cert *top = in->certs[path[path_count - 1]];
    if (!top->self_signed && !(anchor_kind(in->trust, top->issuer_raw, top->issuer_raw_len) != ANCHOR_NONE)) {
        for (size_t i = 0; i < n; i++) {
            if (in->certs[i]->subject_raw == NULL) {
                goto out;
            }
        }
    }
    for (size_t i = 0; i < n; i++) {
        /* One cert mbedTLS cannot use is left out; the path may not need it. */
        (void)tb_x509_parse_into(&chain, in->certs[i]);
    }
    /* mbedTLS takes non-const pointers; verification does not modify the anchors. */
    mbedtls_x509_crt *anchors = (mbedtls_x509_crt *)(uintptr_t)tb_trust_crts(in->trust);
    int ret = mbedtls_x509_crt_verify_with_profile(&chain, anchors, NULL, &permissive, NULL,
                                                   &flags, verify_cb, &v);
    if (ret != 0 && flags == 0) { /* not a verdict on the chain: a fatal internal error */
        goto out;
    }
    if (flags & MBEDTLS_X509_BADCERT_NOT_TRUSTED) {
        path_message(in, path, path_count, out->verify_error, sizeof out->verify_error);
        result = TB_TRI_NO;
        goto out;
    }
    if (flags != 0) {
        char info[512];
        int len = mbedtls_x509_crt_verify_info(info, sizeof info, "", flags);
        for (int i = 0; i < len; i++) {
            info[i] = info[i] == '\n' ? ';' : info[i];
        }
        msgf(out->verify_error, sizeof out->verify_error, "mbedTLS: %s",
                       len > 0 ? info : "verification failed");
        result = TB_TRI_NO;
        goto out;
    }
    if (out->expired_index >= 0 || out->not_yet_valid_index >= 0) {
        time_message(in, out, out->verify_error, sizeof out->verify_error);
        result = TB_TRI_NO;
        goto out;
    }
    if (v.time_bad) {
        msgf(out->verify_error, sizeof out->verify_error, "%s", v.time_msg);
        result = TB_TRI_NO;
        goto out;
    }
    result = TB_TRI_YES;
out:
    mbedtls_x509_crt_free(&chain);
    return result;
}

/* ----------------------------------------------------------- analysis */

static void report_init(struct tb_chain_report *out)
{
    memset(out, 0, sizeof *out);
    out->parse_error_index = -1;
    out->order_ok = true;
    out->first_break = -1;
    out->expired_index = -1;
    out->not_yet_valid_index = -1;
    out->leaf_eku_ok = true;
    out->leaf_ku_ok = true;
    out->intermediates_are_ca = true;
    out->path_len_ok = true;
    out->weak_key_index = -1;
    out->weak_signature_index = -1;
    out->name_matches_sni = TB_TRI_UNKNOWN;
    out->issuer_in_ca_list = TB_TRI_UNKNOWN;
    out->key_type_allowed = TB_TRI_UNKNOWN;
    out->leaf_sig_alg_offered = TB_TRI_UNKNOWN;
    out->trusted = TB_TRI_UNKNOWN;
}

/*
 * The path from the leaf upwards, preferring the next cert as sent, then any
 * other unvisited cert that issued the current one (a misordered chain still
 * links); ends at a self-signed cert or where no issuer was sent.
 */
static size_t build_path(const struct tb_chain_input *in, size_t n, size_t *path)
{
    bool used[CHAIN_MAX] = {false};
    size_t count = 1;

    path[0] = 0;
    used[0] = true;
    while (count < n && !in->certs[path[count - 1]]->self_signed) {
        size_t cur = path[count - 1];
        size_t next = n;
        if (cur + 1 < n && !used[cur + 1] && issued_by(in->certs[cur], in->certs[cur + 1])) {
            next = cur + 1;
        }
        for (size_t j = 0; next == n && j < n; j++) {
            if (!used[j] && issued_by(in->certs[cur], in->certs[j])) {
                next = j;
            }
        }
        if (next == n) {
            break;
        }
        used[next] = true;
        path[count++] = next;
    }
    return count;
}

void tb_chain_analyze(const struct tb_chain_input *in, struct tb_chain_report *out)
{
    size_t n = in->count < CHAIN_MAX ? in->count : CHAIN_MAX;
    size_t path[CHAIN_MAX];

    report_init(out);
    if (n == 0 || in->certs == NULL) {
        out->empty = true;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (in->certs[i] == NULL) { /* the cache ran out of memory: nothing to say */
            out->any_parse_error = true;
            out->parse_error_index = (int)i;
            return;
        }
    }
    const struct tb_cert *const *certs = in->certs;
    const struct tb_cert *leaf = certs[0];

    for (size_t i = 0; i < n; i++) {
        const struct tb_cert *c = certs[i];
        if (!c->parsed && !out->any_parse_error) {
            out->any_parse_error = true;
            out->parse_error_index = (int)i;
        }
        if (i + 1 < n && out->order_ok && !issued_by(c, certs[i + 1])) {
            out->order_ok = false;
            out->first_break = (int)i;
        }
        for (size_t j = i + 1; j < n; j++) {
            if (same_bytes(c->der, c->der_len, certs[j]->der, certs[j]->der_len)) {
                out->has_duplicates = true;
            }
        }
        if (i > 0) {
            bool issues_something = false;
            for (size_t j = 0; j < n; j++) {
                issues_something |= j != i && issued_by(certs[j], c);
            }
            out->has_unrelated |= !issues_something;
        }
        if (c->has_validity) {
            if (in->at > c->not_after && out->expired_index < 0) {
                out->expired_index = (int)i;
                out->expired_for = in->at - c->not_after;
            }
            if (in->at < c->not_before && out->not_yet_valid_index < 0) {
                out->not_yet_valid_index = (int)i;
                out->not_yet_valid_for = c->not_before - in->at;
            }
        }
        if (weak_key(c) && out->weak_key_index < 0) {
            out->weak_key_index = (int)i;
        }
        /* A root's own signature is never checked by anyone: not a weakness. */
        if (c->sig_weak && !c->self_signed && out->weak_signature_index < 0) {
            out->weak_signature_index = (int)i;
        }
    }

    size_t path_count = build_path(in, n, path);
    const struct tb_cert *top = certs[path[path_count - 1]];
    out->leaf_self_signed = leaf->self_signed;
    out->root_included = path_count > 1 && top->self_signed;
    /*
     * The path stops below a root: its issuer was not sent. That is what a
     * missing intermediate looks like, and also a chain that correctly omits
     * its root; the trust store or the CertificateRequest CA list tells them
     * apart, and without either the rules must weigh it with the alert.
     */
    int issuer_in_store =
        in->trust != NULL ? anchor_kind(in->trust, top->issuer_raw, top->issuer_raw_len) : -1;
    if (!top->self_signed && top->parsed && issuer_in_store != ANCHOR_ROOT &&
        !(in->have_cert_request && in_ca_list(top->issuer_raw, top->issuer_raw_len, in))) {
        out->missing_intermediate = true;
        out->missing_issuer = top->issuer;
        /*
         * With a trust store the two readings separate: the missing issuer is in
         * the store but is itself issued by someone (an intermediate the peer had
         * to send), or the store does not know it at all (an untrusted CA; the
         * chain itself may be complete).
         */
        out->missing_issuer_in_store = issuer_in_store == ANCHOR_INTERMEDIATE ? TB_TRI_YES
                                       : issuer_in_store == ANCHOR_NONE       ? TB_TRI_NO
                                                                              : TB_TRI_UNKNOWN;
    }

    /* RFC 5280 4.2.1.12 / RFC 5246 7.4.6: the leaf's EKU must allow its role. */
    if (leaf->has_eku) {
        unsigned need = in->sender == TB_DIR_C2S ? TB_EKU_CLIENT_AUTH : TB_EKU_SERVER_AUTH;
        out->leaf_eku_ok = (leaf->eku & (need | TB_EKU_ANY)) != 0;
    }
    if (leaf->has_key_usage) {
        out->leaf_ku_ok = (leaf->key_usage & TB_KU_DIGITAL_SIGNATURE) != 0;
    }
    /* RFC 5280 6.1.4 (k), (l), (m) along the path. */
    for (size_t k = 1; k < path_count; k++) {
        const struct tb_cert *c = certs[path[k]];
        bool v1_root = c->version < 3 && c->self_signed;
        if (!c->is_ca && !v1_root) {
            out->intermediates_are_ca = false;
        }
        if (c->is_ca && c->path_len >= 0) {
            int below = 0;
            for (size_t m = 1; m < k; m++) {
                below += certs[path[m]]->self_issued ? 0 : 1;
            }
            if (below > c->path_len) {
                out->path_len_ok = false;
            }
        }
    }

    if (in->sender == TB_DIR_S2C && in->sni != NULL && in->sni[0] != '\0') {
        out->name_matches_sni = tb_cert_matches_host(leaf, in->sni);
    }
    if (in->have_cert_request && in->ca_names_count > 0) {
        bool found = false;
        for (size_t i = 0; i < n && !found; i++) {
            found = in_ca_list(certs[i]->issuer_raw, certs[i]->issuer_raw_len, in) ||
                    in_ca_list(certs[i]->subject_raw, certs[i]->subject_raw_len, in);
        }
        out->issuer_in_ca_list = tb_tri_from_bool(found);
    }
    if (in->have_cert_request && !in->tls13 && in->cert_types_count > 0) {
        out->key_type_allowed = key_type_allowed(leaf, in->cert_types, in->cert_types_count);
    }
    if (in->sig_algs_count > 0 && leaf->sig_alg[0] != '\0') {
        out->leaf_sig_alg_offered = leaf_sig_alg_offered(leaf, in->sig_algs, in->sig_algs_count);
    }
    if (in->trust != NULL && tb_trust_count(in->trust) > 0) {
        out->trusted = verify_with_trust(in, n, out, path, path_count);
    }
}
