#ifndef TLSBLAME_CV_H
#define TLSBLAME_CV_H
/*
 * cv.h - checks of handshake signatures with the sender's leaf public key:
 * CertificateVerify (TLS <= 1.2 over the clear transcript; TLS 1.3 over the
 * transcript hash once decrypted) and ServerKeyExchange.
 */
#include "tlsblame/common.h"
#include "tlsblame/x509.h"

/*
 * TLS 1.0/1.1 (sig_alg == 0: MD5+SHA-1 for RSA, SHA-1 for ECDSA) and 1.2
 * CertificateVerify over the concatenated handshake messages that preceded
 * it. YES: verifies; NO: does not (why says so); UNKNOWN: cannot be checked
 * (unsupported algorithm, unparsed key), why says why.
 */
enum tb_tri tb_cv_verify_tls12(const struct tb_cert *leaf, uint16_t version, uint16_t sig_alg,
                               const uint8_t *sig, size_t sig_len, const uint8_t *transcript,
                               size_t transcript_len, char *why, size_t why_len);

/* RFC 8446 4.4.3: signature over 64 spaces || context || 0 || Transcript-Hash. */
enum tb_tri tb_cv_verify_tls13(const struct tb_cert *leaf, bool from_server, uint16_t sig_alg,
                               const uint8_t *sig, size_t sig_len, const uint8_t *transcript_hash,
                               size_t hash_len, char *why, size_t why_len);

/* RFC 5246 7.4.3 / RFC 8422 5.4: ServerKeyExchange signature. */
enum tb_tri tb_ske_verify(const struct tb_cert *leaf, uint16_t version, uint16_t sig_alg,
                          const uint8_t client_random[32], const uint8_t server_random[32],
                          const uint8_t *params, size_t params_len, const uint8_t *sig,
                          size_t sig_len, char *why, size_t why_len);

/* Would this leaf's key type be able to make a signature with sig_alg at all. */
bool tb_sigalg_fits_key(uint16_t sig_alg, const struct tb_cert *leaf);

#endif
