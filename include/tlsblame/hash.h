#ifndef TLSBLAME_HASH_H
#define TLSBLAME_HASH_H
/*
 * hash.h - message digests for fingerprints (JA3 is MD5, JA4 is SHA-256).
 * A thin wrapper so that mbedTLS stays confined to the crypto files:
 * hash.c counts as one of them.
 */
#include <stddef.h>
#include <stdint.h>

#include "tlsblame/err.h"

#define TB_SHA256_LEN 32
#define TB_MD5_LEN 16

/* TB_ERR_CRYPTO if mbedTLS fails (out is then zeroed). */
enum tb_err tb_hash_sha256(const void *p, size_t n, uint8_t out[TB_SHA256_LEN]) TB_MUST_USE;
enum tb_err tb_hash_md5(const void *p, size_t n, uint8_t out[TB_MD5_LEN]) TB_MUST_USE;

/* FNV-1a (64-bit) of n bytes: not cryptographic, for picking a hash table slot. */
uint64_t tb_hash_fnv1a(const void *p, size_t n);

/* Lower-case hex of the first n bytes of digest into out (2n+1 bytes, NUL-terminated). */
void tb_hash_hex(const uint8_t *digest, size_t n, char *out);

#endif
