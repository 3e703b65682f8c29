#ifndef TLSBLAME_DECRYPT_H
#define TLSBLAME_DECRYPT_H
/*
 * decrypt.h - record protection undone with key-log secrets (mbedTLS
 * primitives in decrypt.c only; never its TLS stack). TLS 1.3: handshake
 * and application traffic keys from HKDF-Expand-Label (RFC 8446 7.1, 7.3),
 * AEAD with nonce = iv XOR sequence number (5.3), inner content type (5.2).
 * TLS 1.0-1.2: key block from the master secret (RFC 5246 6.3), AES-GCM,
 * AES-CCM, ChaCha20-Poly1305 (RFC 7905) and CBC + HMAC (with RFC 7366
 * encrypt_then_mac). One state per session; one key and sequence number per
 * direction.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tlsblame/common.h"
#include "tlsblame/err.h"
#include "tlsblame/keylog.h"

struct tb_decrypt;

struct tb_decrypt_params {
    uint16_t version;                   /* negotiated: 0x0301 .. 0x0304 */
    uint16_t cipher;                    /* IANA cipher suite from the ServerHello */
    bool encrypt_then_mac;              /* RFC 7366 negotiated (CBC suites only) */
    const uint8_t *client_random;       /* 32 bytes */
    const uint8_t *server_random;       /* 32 bytes */
    const struct tb_keylog_entry *keys; /* borrowed for the call only */
};

/*
 * NULL (why says why) when the version or cipher suite is not supported, or
 * the key log holds no secret this version needs.
 */
struct tb_decrypt *tb_decrypt_new(const struct tb_decrypt_params *p, char *why, size_t why_len);
void tb_decrypt_free(struct tb_decrypt *d);

/* Keys are installed for this direction's current epoch and it has not been stopped. */
bool tb_decrypt_ready(const struct tb_decrypt *d, enum tb_dir dir);
/*
 * One protected record: its header (type, version) and body. TB_OK: the
 * plaintext (in d, valid until the next call) and its content type (TLS
 * 1.3: the inner type, padding removed). TB_ERR_CRYPTO: authentication
 * (tag, MAC or padding) failed; TB_ERR_LENGTH: too short for this suite;
 * TB_ERR_VALUE: TLS 1.3 plaintext without a content type. On failure the
 * sequence number does not move.
 */
enum tb_err tb_decrypt_record(struct tb_decrypt *d, enum tb_dir dir, uint8_t type,
                              uint16_t version, const uint8_t *body, size_t len,
                              uint8_t *content_type, const uint8_t **plain,
                              size_t *plain_len) TB_MUST_USE;
/* TLS 1.3: this direction's Finished went by; switch to its *_TRAFFIC_SECRET_0.
 * False (direction stopped) when the key log lacks that secret. */
bool tb_decrypt_next_epoch(struct tb_decrypt *d, enum tb_dir dir);
/* RFC 8446 4.6.3 KeyUpdate: the next traffic secret for this direction. */
bool tb_decrypt_key_update(struct tb_decrypt *d, enum tb_dir dir);
/* Stop decrypting this direction (a capture gap, a failed record, a renegotiation). */
void tb_decrypt_stop(struct tb_decrypt *d, enum tb_dir dir);
/* Records of this direction that authenticated. */
uint64_t tb_decrypt_ok_count(const struct tb_decrypt *d, enum tb_dir dir);

/* TLS 1.3 suite's hash length (32 or 48); 0 when the suite is unknown. */
size_t tb_decrypt_hash_len(uint16_t cipher);
/*
 * RFC 8446 4.4.1 Transcript-Hash over handshake messages (each with its
 * 4-byte header). after_hrr: the first message is ClientHello1 and is
 * replaced by message_hash(254) || 00 00 Hash.length || Hash(ClientHello1).
 */
enum tb_err tb_decrypt_transcript_hash(uint16_t cipher, bool after_hrr, const uint8_t *msgs,
                                       size_t len, uint8_t out[48], size_t *out_len) TB_MUST_USE;

/* RFC 8446 7.1 HKDF-Expand-Label, SHA-256 (hash_len 32) or SHA-384 (48); secret is hash_len. */
enum tb_err tb_decrypt_hkdf_expand_label(size_t hash_len, const uint8_t *secret, const char *label,
                                         const uint8_t *context, size_t context_len, uint8_t *out,
                                         size_t out_len) TB_MUST_USE;
/*
 * PRF(secret, label, seed): RFC 5246 5 for TLS 1.2 (P_SHA256, or P_SHA384
 * when hash_len is 48), RFC 2246 5 for TLS 1.0/1.1 (P_MD5 xor P_SHA1).
 */
enum tb_err tb_decrypt_prf(uint16_t version, size_t hash_len, const uint8_t *secret,
                           size_t secret_len, const char *label, const uint8_t *seed,
                           size_t seed_len, uint8_t *out, size_t out_len) TB_MUST_USE;

#endif
