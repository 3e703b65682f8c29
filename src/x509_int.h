#ifndef TLSBLAME_X509_INT_H
#define TLSBLAME_X509_INT_H
/*
 * x509_int.h - what x509.c shares with certcache.c, chain.c and cv.c: the
 * mbedTLS objects behind struct tb_cert and struct tb_trust. Only those four
 * files include it (mbedTLS is confined to them).
 */
#include <mbedtls/x509_crt.h>

#include "tlsblame/common.h"
#include "tlsblame/err.h"
#include "tlsblame/x509.h"

/*
 * Fill caller storage from a DER certificate (copied). TB_ERR_NOMEM is the only
 * failure: a DER that mbedTLS refuses still yields a cert with parsed == false
 * and whatever could be read safely. SHA-256 of the DER is computed here.
 */
enum tb_err tb_x509_cert_init(struct tb_cert *cert, const uint8_t *der, size_t len) TB_MUST_USE;
void tb_x509_cert_fini(struct tb_cert *cert);

/* mbedTLS's object, or NULL when mbedTLS did not parse it (Ed25519 key, refused DER). */
const mbedtls_x509_crt *tb_x509_crt(const struct tb_cert *cert);
/*
 * Append cert to an mbedTLS chain without copying (the chain must not outlive
 * the cert); mbedTLS's return code, nonzero when mbedTLS cannot use it.
 */
int tb_x509_parse_into(mbedtls_x509_crt *chain, const struct tb_cert *cert);
/* Does issuer's key verify child's signature: UNKNOWN when either is not checkable. */
enum tb_tri tb_x509_signed_by(const struct tb_cert *child, const struct tb_cert *issuer);
/* Unix seconds of a calendar date in UTC, independent of TZ. */
int64_t tb_x509_unix_time(int year, int mon, int day, int hour, int min, int sec);
int64_t tb_x509_mbedtls_time(const mbedtls_x509_time *t);
/* RFC 4514 string of a Name into out (truncated with "..." when it does not fit). */
void tb_x509_dn_format(const uint8_t *der, size_t len, char *out, size_t out_len);

/* The trust anchors as one mbedTLS list (read-only after tb_trust_load). */
const mbedtls_x509_crt *tb_trust_crts(const struct tb_trust *trust);

#endif
