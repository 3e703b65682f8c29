/*
 * hash.c - SHA-256 and MD5 for the JA4/JA3 fingerprints (classify.c).
 * Counts as a crypto file: it is the only reason classify.c needs mbedTLS,
 * and keeping the call here keeps <mbedtls/...> out of the classifier.
 * MD5 is used only because JA3 is defined with it, never for security.
 */
#include <string.h>

#include <mbedtls/md5.h>
#include <mbedtls/sha256.h>

#include "tlsblame/hash.h"

enum tb_err tb_hash_sha256(const void *p, size_t n, uint8_t out[TB_SHA256_LEN])
{
    /* mbedTLS 2.28: is224 = 0 selects SHA-256. */
    if (mbedtls_sha256_ret(p, n, out, 0) != 0) {
        memset(out, 0, TB_SHA256_LEN);
        return TB_ERR_CRYPTO;
    }
    return TB_OK;
}

enum tb_err tb_hash_md5(const void *p, size_t n, uint8_t out[TB_MD5_LEN])
{
    if (mbedtls_md5_ret(p, n, out) != 0) {
        memset(out, 0, TB_MD5_LEN);
        return TB_ERR_CRYPTO;
    }
    return TB_OK;
}

void tb_hash_hex(const uint8_t *digest, size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";
    size_t i;

    for (i = 0; i < n; i++) {
        out[2 * i] = hex[digest[i] >> 4];
        out[2 * i + 1] = hex[digest[i] & 0x0f];
    }
    out[2 * n] = '\0';
}

uint64_t tb_hash_fnv1a(const void *p, size_t n)
{
    const uint8_t *b = p;
    uint64_t h = 0xcbf29ce484222325u;

    for (size_t i = 0; i < n; i++) {
        h = (h ^ b[i]) * 0x100000001b3u;
    }
    return h;
}
