/*
 * decrypt.c - TLS record decryption with key-log secrets, on mbedTLS's
 * primitives (HKDF, HMAC, AES-GCM, AES-CCM, ChaCha20-Poly1305, AES/3DES-CBC);
 * never its TLS stack. Record bytes are read through tb_reader; only our
 * own key, nonce and plaintext buffers are indexed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/ccm.h>
#include <mbedtls/chachapoly.h>
#include <mbedtls/cipher.h>
#include <mbedtls/gcm.h>
#include <mbedtls/hkdf.h>
#include <mbedtls/md.h>

#include "tlsblame/decrypt.h"
#include "tlsblame/limits.h"
#include "tlsblame/reader.h"

enum kind { K_GCM, K_CCM, K_CCM8, K_CHACHA, K_CBC_AES, K_CBC_3DES };

struct suite {
    uint16_t id;
    enum kind kind;
    uint8_t key_len;
    uint8_t mac_len;  /* CBC: HMAC key and output bytes (20 SHA-1, 32 SHA-256, 48 SHA-384) */
    uint8_t hash_len; /* PRF (TLS 1.2) / HKDF and transcript (TLS 1.3): 32 or 48 */
    bool tls13;
};

/* The suites current stacks negotiate (IANA TLS Cipher Suites registry). */
static const struct suite suites[] = {
    /* TLS 1.3, RFC 8446 B.4 */
    {0x1301, K_GCM, 16, 0, 32, true},   /* TLS_AES_128_GCM_SHA256 */
    {0x1302, K_GCM, 32, 0, 48, true},   /* TLS_AES_256_GCM_SHA384 */
    {0x1303, K_CHACHA, 32, 0, 32, true}, /* TLS_CHACHA20_POLY1305_SHA256 */
    {0x1304, K_CCM, 16, 0, 32, true},   /* TLS_AES_128_CCM_SHA256 */
    {0x1305, K_CCM8, 16, 0, 32, true},  /* TLS_AES_128_CCM_8_SHA256 */
    /* TLS 1.2 AES-GCM, RFC 5288 / 5289 / 5487 / 8442 */
    {0x009c, K_GCM, 16, 0, 32, false},
    {0x009d, K_GCM, 32, 0, 48, false},
    {0x009e, K_GCM, 16, 0, 32, false},
    {0x009f, K_GCM, 32, 0, 48, false},
    {0x00a2, K_GCM, 16, 0, 32, false},
    {0x00a3, K_GCM, 32, 0, 48, false},
    {0x00a8, K_GCM, 16, 0, 32, false},
    {0x00a9, K_GCM, 32, 0, 48, false},
    {0x00aa, K_GCM, 16, 0, 32, false},
    {0x00ab, K_GCM, 32, 0, 48, false},
    {0x00ac, K_GCM, 16, 0, 32, false},
    {0x00ad, K_GCM, 32, 0, 48, false},
    {0xc02b, K_GCM, 16, 0, 32, false},
    {0xc02c, K_GCM, 32, 0, 48, false},
    {0xc02d, K_GCM, 16, 0, 32, false},
    {0xc02e, K_GCM, 32, 0, 48, false},
    {0xc02f, K_GCM, 16, 0, 32, false},
    {0xc030, K_GCM, 32, 0, 48, false},
    {0xc031, K_GCM, 16, 0, 32, false},
    {0xc032, K_GCM, 32, 0, 48, false},
    {0xd001, K_GCM, 16, 0, 32, false},
    {0xd002, K_GCM, 32, 0, 48, false},
    /* TLS 1.2 ChaCha20-Poly1305, RFC 7905 */
    {0xcca8, K_CHACHA, 32, 0, 32, false},
    {0xcca9, K_CHACHA, 32, 0, 32, false},
    {0xccaa, K_CHACHA, 32, 0, 32, false},
    {0xccab, K_CHACHA, 32, 0, 32, false},
    {0xccac, K_CHACHA, 32, 0, 32, false},
    {0xccad, K_CHACHA, 32, 0, 32, false},
    {0xccae, K_CHACHA, 32, 0, 32, false},
    /* TLS 1.2 AES-CCM, RFC 6655 / 7251 */
    {0xc09c, K_CCM, 16, 0, 32, false},
    {0xc09d, K_CCM, 32, 0, 32, false},
    {0xc09e, K_CCM, 16, 0, 32, false},
    {0xc09f, K_CCM, 32, 0, 32, false},
    {0xc0a0, K_CCM8, 16, 0, 32, false},
    {0xc0a1, K_CCM8, 32, 0, 32, false},
    {0xc0a2, K_CCM8, 16, 0, 32, false},
    {0xc0a3, K_CCM8, 32, 0, 32, false},
    {0xc0ac, K_CCM, 16, 0, 32, false},
    {0xc0ad, K_CCM, 32, 0, 32, false},
    {0xc0ae, K_CCM8, 16, 0, 32, false},
    {0xc0af, K_CCM8, 32, 0, 32, false},
    /* CBC with HMAC, RFC 5246 A.5 / RFC 4492 / RFC 5289 */
    {0x000a, K_CBC_3DES, 24, 20, 32, false}, /* RSA_WITH_3DES_EDE_CBC_SHA */
    {0x0016, K_CBC_3DES, 24, 20, 32, false},
    {0xc008, K_CBC_3DES, 24, 20, 32, false},
    {0xc012, K_CBC_3DES, 24, 20, 32, false},
    {0x002f, K_CBC_AES, 16, 20, 32, false}, /* RSA_WITH_AES_128_CBC_SHA */
    {0x0032, K_CBC_AES, 16, 20, 32, false},
    {0x0033, K_CBC_AES, 16, 20, 32, false},
    {0x0035, K_CBC_AES, 32, 20, 32, false},
    {0x0038, K_CBC_AES, 32, 20, 32, false},
    {0x0039, K_CBC_AES, 32, 20, 32, false},
    {0x003c, K_CBC_AES, 16, 32, 32, false}, /* RSA_WITH_AES_128_CBC_SHA256 */
    {0x003d, K_CBC_AES, 32, 32, 32, false},
    {0x0040, K_CBC_AES, 16, 32, 32, false},
    {0x0067, K_CBC_AES, 16, 32, 32, false},
    {0x006a, K_CBC_AES, 32, 32, 32, false},
    {0x006b, K_CBC_AES, 32, 32, 32, false},
    {0x008c, K_CBC_AES, 16, 20, 32, false}, /* PSK_WITH_AES_128_CBC_SHA */
    {0x008d, K_CBC_AES, 32, 20, 32, false},
    {0x00ae, K_CBC_AES, 16, 32, 32, false},
    {0x00af, K_CBC_AES, 32, 48, 48, false},
    {0xc004, K_CBC_AES, 16, 20, 32, false},
    {0xc005, K_CBC_AES, 32, 20, 32, false},
    {0xc009, K_CBC_AES, 16, 20, 32, false}, /* ECDHE_ECDSA_WITH_AES_128_CBC_SHA */
    {0xc00a, K_CBC_AES, 32, 20, 32, false},
    {0xc00e, K_CBC_AES, 16, 20, 32, false},
    {0xc00f, K_CBC_AES, 32, 20, 32, false},
    {0xc013, K_CBC_AES, 16, 20, 32, false}, /* ECDHE_RSA_WITH_AES_128_CBC_SHA */
    {0xc014, K_CBC_AES, 32, 20, 32, false},
    {0xc023, K_CBC_AES, 16, 32, 32, false},
    {0xc024, K_CBC_AES, 32, 48, 48, false},
    {0xc025, K_CBC_AES, 16, 32, 32, false},
    {0xc026, K_CBC_AES, 32, 48, 48, false},
    {0xc027, K_CBC_AES, 16, 32, 32, false},
    {0xc028, K_CBC_AES, 32, 48, 48, false},
    {0xc029, K_CBC_AES, 16, 32, 32, false},
    {0xc02a, K_CBC_AES, 32, 48, 48, false},
    {0xc035, K_CBC_AES, 16, 20, 32, false},
    {0xc036, K_CBC_AES, 32, 20, 32, false},
    {0xc037, K_CBC_AES, 16, 32, 32, false},
    {0xc038, K_CBC_AES, 32, 48, 48, false},
};

#define TAG_LEN 16
#define AEAD_IV_LEN 12
#define EXPLICIT_NONCE_LEN 8
#define MAX_KEY_BLOCK (2 * 48 + 2 * 32 + 2 * 16)

struct dir_keys {
    bool ready;           /* keys installed for the current epoch */
    bool stopped;
    uint64_t seq;
    uint64_t ok_count;
    uint8_t iv[16];       /* TLS 1.3 / ChaCha: 12-byte iv; GCM/CCM 1.2: 4-byte salt;
                             TLS 1.0 CBC: the chained IV */
    uint8_t mac_key[48];
    uint8_t secret[TB_KEYLOG_SECRET_MAX]; /* TLS 1.3 current traffic secret (KeyUpdate) */
    uint8_t next_secret[TB_KEYLOG_SECRET_MAX]; /* *_TRAFFIC_SECRET_0 */
    size_t next_secret_len;
    mbedtls_gcm_context gcm;
    mbedtls_ccm_context ccm;
    mbedtls_chachapoly_context chachapoly;
    mbedtls_cipher_context_t cbc;
    bool cbc_setup;
};

struct tb_decrypt {
    const struct suite *suite;
    uint16_t version;
    bool encrypt_then_mac;
    struct dir_keys k[TB_DIR_COUNT];
    uint8_t plain[TB_MAX_RECORD_LEN];
};

static const struct suite *find_suite(uint16_t id)
{
    for (size_t i = 0; i < sizeof suites / sizeof suites[0]; i++) {
        if (suites[i].id == id) {
            return &suites[i];
        }
    }
    return NULL;
}

static const mbedtls_md_info_t *md_for(size_t hash_len)
{
    return mbedtls_md_info_from_type(hash_len == 48 ? MBEDTLS_MD_SHA384 : MBEDTLS_MD_SHA256);
}

size_t tb_decrypt_hash_len(uint16_t cipher)
{
    const struct suite *s = find_suite(cipher);
    return s != NULL ? s->hash_len : 0;
}

enum tb_err tb_decrypt_hkdf_expand_label(size_t hash_len, const uint8_t *secret, const char *label,
                                         const uint8_t *context, size_t context_len, uint8_t *out,
                                         size_t out_len)
{
    /* struct { uint16 length; opaque label<7..255> = "tls13 " + Label; opaque context<0..255>; } */
    uint8_t info[2 + 1 + 255 + 1 + 255];
    size_t label_len = strlen(label);
    size_t n = 0;

    if (label_len > 255 - 6 || context_len > 255 || out_len > 0xffff ||
        (hash_len != 32 && hash_len != 48)) {
        return TB_ERR_LENGTH;
    }
    info[n++] = (uint8_t)(out_len >> 8);
    info[n++] = (uint8_t)out_len;
    info[n++] = (uint8_t)(6 + label_len);
    memcpy(info + n, "tls13 ", 6);
    n += 6;
    memcpy(info + n, label, label_len);
    n += label_len;
    info[n++] = (uint8_t)context_len;
    if (context_len > 0) {
        memcpy(info + n, context, context_len);
        n += context_len;
    }
    if (mbedtls_hkdf_expand(md_for(hash_len), secret, hash_len, info, n, out, out_len) != 0) {
        return TB_ERR_CRYPTO;
    }
    return TB_OK;
}

/* RFC 5246 5: P_hash(secret, seed) = HMAC(secret, A(1) + seed) + HMAC(secret, A(2) + seed) ... */
static enum tb_err p_hash(mbedtls_md_type_t type, const uint8_t *secret, size_t secret_len,
                          const uint8_t *seed, size_t seed_len, uint8_t *out, size_t out_len)
{
    const mbedtls_md_info_t *info = mbedtls_md_info_from_type(type);
    mbedtls_md_context_t ctx;
    uint8_t a[MBEDTLS_MD_MAX_SIZE], block[MBEDTLS_MD_MAX_SIZE];
    enum tb_err err = TB_ERR_CRYPTO;
    size_t done = 0;

    mbedtls_md_init(&ctx);
    if (info == NULL || mbedtls_md_setup(&ctx, info, 1) != 0) {
        goto out;
    }
    size_t h = mbedtls_md_get_size(info);
    /* A(1) = HMAC(secret, seed) */
    if (mbedtls_md_hmac(info, secret, secret_len, seed, seed_len, a) != 0) {
        goto out;
    }
    while (done < out_len) {
        if (mbedtls_md_hmac_starts(&ctx, secret, secret_len) != 0 ||
            mbedtls_md_hmac_update(&ctx, a, h) != 0 ||
            mbedtls_md_hmac_update(&ctx, seed, seed_len) != 0 ||
            mbedtls_md_hmac_finish(&ctx, block) != 0) {
            goto out;
        }
        size_t n = out_len - done < h ? out_len - done : h;
        memcpy(out + done, block, n);
        done += n;
        if (mbedtls_md_hmac(info, secret, secret_len, a, h, a) != 0) {
            goto out;
        }
    }
    err = TB_OK;
out:
    mbedtls_md_free(&ctx);
    return err;
}

enum tb_err tb_decrypt_prf(uint16_t version, size_t hash_len, const uint8_t *secret,
                           size_t secret_len, const char *label, const uint8_t *seed,
                           size_t seed_len, uint8_t *out, size_t out_len)
{
    uint8_t label_seed[64 + 128];
    size_t label_len = strlen(label);

    if (label_len + seed_len > sizeof label_seed || out_len > MAX_KEY_BLOCK) {
        return TB_ERR_LENGTH;
    }
    memcpy(label_seed, label, label_len);
    memcpy(label_seed + label_len, seed, seed_len);
    size_t ls_len = label_len + seed_len;
    if (version >= 0x0303) {
        return p_hash(hash_len == 48 ? MBEDTLS_MD_SHA384 : MBEDTLS_MD_SHA256, secret, secret_len,
                      label_seed, ls_len, out, out_len);
    }
    /* RFC 2246 5: S1 and S2 are the halves of the secret, sharing a middle byte if odd. */
    uint8_t sha1_out[MAX_KEY_BLOCK];
    size_t half = (secret_len + 1) / 2;
    enum tb_err err = p_hash(MBEDTLS_MD_MD5, secret, half, label_seed, ls_len, out, out_len);
    if (err != TB_OK) {
        return err;
    }
    err = p_hash(MBEDTLS_MD_SHA1, secret + (secret_len - half), half, label_seed, ls_len, sha1_out,
                 out_len);
    for (size_t i = 0; err == TB_OK && i < out_len; i++) {
        out[i] ^= sha1_out[i];
    }
    return err;
}

enum tb_err tb_decrypt_transcript_hash(uint16_t cipher, bool after_hrr, const uint8_t *msgs,
                                       size_t len, uint8_t out[48], size_t *out_len)
{
    size_t hash_len = tb_decrypt_hash_len(cipher);
    struct tb_reader r = tb_rd_init(msgs, len);
    mbedtls_md_context_t ctx;
    enum tb_err err = TB_ERR_CRYPTO;

    *out_len = 0;
    if (hash_len == 0) {
        return TB_ERR_VALUE;
    }
    mbedtls_md_init(&ctx);
    if (mbedtls_md_setup(&ctx, md_for(hash_len), 0) != 0 || mbedtls_md_starts(&ctx) != 0) {
        goto out;
    }
    if (after_hrr) {
        /* RFC 8446 4.4.1: ClientHello1 becomes message_hash || 00 00 Hash.length || Hash(CH1). */
        uint8_t type = tb_rd_peek_u8(&r, 0);
        struct tb_reader hdr = r;
        hdr.parent = NULL;
        tb_rd_skip(&hdr, 1);
        uint32_t ch1_len = tb_rd_u24(&hdr);
        if (type != 1 || !tb_rd_ok(&hdr) || ch1_len > tb_rd_left(&hdr)) {
            err = TB_ERR_TRUNCATED;
            goto out;
        }
        const uint8_t *ch1 = tb_rd_bytes(&r, 4 + (size_t)ch1_len);
        uint8_t message_hash[4 + 48] = {254, 0, 0, (uint8_t)hash_len};
        if (ch1 == NULL ||
            mbedtls_md(md_for(hash_len), ch1, 4 + (size_t)ch1_len, message_hash + 4) != 0 ||
            mbedtls_md_update(&ctx, message_hash, 4 + hash_len) != 0) {
            goto out;
        }
    }
    size_t rest = tb_rd_left(&r);
    const uint8_t *p = tb_rd_bytes(&r, rest);
    if ((rest > 0 && (p == NULL || mbedtls_md_update(&ctx, p, rest) != 0)) ||
        mbedtls_md_finish(&ctx, out) != 0) {
        goto out;
    }
    *out_len = hash_len;
    err = TB_OK;
out:
    mbedtls_md_free(&ctx);
    return err;
}

static bool install_key(struct tb_decrypt *d, struct dir_keys *k, const uint8_t *key)
{
    unsigned bits = (unsigned)d->suite->key_len * 8;
    int rc = -1;

    switch (d->suite->kind) {
    case K_GCM:
        rc = mbedtls_gcm_setkey(&k->gcm, MBEDTLS_CIPHER_ID_AES, key, bits);
        break;
    case K_CCM:
    case K_CCM8:
        rc = mbedtls_ccm_setkey(&k->ccm, MBEDTLS_CIPHER_ID_AES, key, bits);
        break;
    case K_CHACHA:
        rc = mbedtls_chachapoly_setkey(&k->chachapoly, key);
        break;
    case K_CBC_AES:
    case K_CBC_3DES: {
        mbedtls_cipher_type_t type = d->suite->kind == K_CBC_3DES ? MBEDTLS_CIPHER_DES_EDE3_CBC
                                     : d->suite->key_len == 32   ? MBEDTLS_CIPHER_AES_256_CBC
                                                                  : MBEDTLS_CIPHER_AES_128_CBC;
        if (k->cbc_setup) {
            mbedtls_cipher_free(&k->cbc);
            mbedtls_cipher_init(&k->cbc);
        }
        k->cbc_setup = true;
        rc = mbedtls_cipher_setup(&k->cbc, mbedtls_cipher_info_from_type(type));
        if (rc == 0) {
            rc = mbedtls_cipher_setkey(&k->cbc, key, (int)bits, MBEDTLS_DECRYPT);
        }
        if (rc == 0) {
            rc = mbedtls_cipher_set_padding_mode(&k->cbc, MBEDTLS_PADDING_NONE);
        }
        break;
    }
    default:
        break;
    }
    k->ready = rc == 0;
    k->seq = 0;
    return k->ready;
}

/* RFC 8446 7.3: [sender]_write_key and _iv from a traffic secret. */
static bool install_secret13(struct tb_decrypt *d, struct dir_keys *k, const uint8_t *secret)
{
    uint8_t key[32];
    size_t h = d->suite->hash_len;

    if (tb_decrypt_hkdf_expand_label(h, secret, "key", NULL, 0, key, d->suite->key_len) != TB_OK ||
        tb_decrypt_hkdf_expand_label(h, secret, "iv", NULL, 0, k->iv, AEAD_IV_LEN) != TB_OK) {
        k->ready = false;
        return false;
    }
    memcpy(k->secret, secret, h);
    bool ok = install_key(d, k, key);
    memset(key, 0, sizeof key);
    return ok;
}

static void init_dir(struct dir_keys *k)
{
    memset(k, 0, sizeof *k);
    mbedtls_gcm_init(&k->gcm);
    mbedtls_ccm_init(&k->ccm);
    mbedtls_chachapoly_init(&k->chachapoly);
    mbedtls_cipher_init(&k->cbc);
}

static void fini_dir(struct dir_keys *k)
{
    mbedtls_gcm_free(&k->gcm);
    mbedtls_ccm_free(&k->ccm);
    mbedtls_chachapoly_free(&k->chachapoly);
    mbedtls_cipher_free(&k->cbc);
    memset(k->mac_key, 0, sizeof k->mac_key);
    memset(k->secret, 0, sizeof k->secret);
    memset(k->next_secret, 0, sizeof k->next_secret);
}

void tb_decrypt_free(struct tb_decrypt *d)
{
    if (d == NULL) {
        return;
    }
    for (int i = 0; i < TB_DIR_COUNT; i++) {
        fini_dir(&d->k[i]);
    }
    free(d);
}

static bool setup13(struct tb_decrypt *d, const struct tb_keylog_entry *e, char *why,
                    size_t why_len)
{
    static const enum tb_keylog_secret hs[TB_DIR_COUNT] = {TB_KEYLOG_CLIENT_HS_TRAFFIC,
                                                           TB_KEYLOG_SERVER_HS_TRAFFIC};
    static const enum tb_keylog_secret ap[TB_DIR_COUNT] = {TB_KEYLOG_CLIENT_TRAFFIC_0,
                                                           TB_KEYLOG_SERVER_TRAFFIC_0};
    size_t h = d->suite->hash_len;
    bool any = false;

    for (int dir = 0; dir < TB_DIR_COUNT; dir++) {
        struct dir_keys *k = &d->k[dir];
        if (e->secret_len[ap[dir]] == h) {
            memcpy(k->next_secret, e->secret[ap[dir]], h);
            k->next_secret_len = h;
        }
        if (e->secret_len[hs[dir]] == h) {
            any = install_secret13(d, k, e->secret[hs[dir]]) || any;
        } else if (e->secret_len[hs[dir]] != 0) {
            snprintf(why, why_len, "%s is %u bytes; the cipher suite's hash is %zu",
                     tb_keylog_label(hs[dir]), e->secret_len[hs[dir]], h);
        } else {
            k->stopped = k->next_secret_len == 0;
        }
    }
    if (!any && why[0] == '\0') {
        snprintf(why, why_len, "the key log has no %s or %s for this client random",
                 tb_keylog_label(hs[0]), tb_keylog_label(hs[1]));
    }
    return any;
}

/* RFC 5246 6.3 key_block: MAC keys, write keys, IVs; client's first. */
static bool setup12(struct tb_decrypt *d, const struct tb_decrypt_params *p,
                    const struct tb_keylog_entry *e, char *why, size_t why_len)
{
    const struct suite *s = d->suite;
    uint8_t seed[64];
    uint8_t block[MAX_KEY_BLOCK];
    size_t iv_len;

    if (e->secret_len[TB_KEYLOG_MASTER_SECRET] != 48) {
        snprintf(why, why_len, "the key log has no CLIENT_RANDOM line for this client random");
        return false;
    }
    switch (s->kind) {
    case K_GCM:
    case K_CCM:
    case K_CCM8:
        iv_len = 4; /* RFC 5288 3: salt; the rest of the nonce is explicit */
        break;
    case K_CHACHA:
        iv_len = AEAD_IV_LEN;
        break;
    case K_CBC_3DES:
        iv_len = 8;
        break;
    case K_CBC_AES:
    default:
        iv_len = 16;
        break;
    }
    size_t need = 2 * (size_t)s->mac_len + 2 * (size_t)s->key_len + 2 * iv_len;
    memcpy(seed, p->server_random, 32);
    memcpy(seed + 32, p->client_random, 32);
    if (tb_decrypt_prf(d->version, s->hash_len, e->secret[TB_KEYLOG_MASTER_SECRET], 48,
                       "key expansion", seed, sizeof seed, block, need) != TB_OK) {
        snprintf(why, why_len, "key block derivation failed");
        return false;
    }
    struct tb_reader r = tb_rd_init(block, need);
    const uint8_t *mac[2], *key[2], *iv[2];
    mac[0] = tb_rd_bytes(&r, s->mac_len);
    mac[1] = tb_rd_bytes(&r, s->mac_len);
    key[0] = tb_rd_bytes(&r, s->key_len);
    key[1] = tb_rd_bytes(&r, s->key_len);
    iv[0] = tb_rd_bytes(&r, iv_len);
    iv[1] = tb_rd_bytes(&r, iv_len);
    bool ok = tb_rd_ok(&r);
    for (int dir = 0; ok && dir < TB_DIR_COUNT; dir++) {
        struct dir_keys *k = &d->k[dir];
        if (s->mac_len > 0) {
            memcpy(k->mac_key, mac[dir], s->mac_len);
        }
        memcpy(k->iv, iv[dir], iv_len);
        ok = install_key(d, k, key[dir]);
    }
    memset(block, 0, sizeof block);
    if (!ok) {
        snprintf(why, why_len, "cannot install the record keys");
    }
    return ok;
}

struct tb_decrypt *tb_decrypt_new(const struct tb_decrypt_params *p, char *why, size_t why_len)
{
    const struct suite *s = find_suite(p->cipher);
    struct tb_decrypt *d;

    why[0] = '\0';
    if (s == NULL) {
        snprintf(why, why_len, "cipher suite 0x%04x is not supported for decryption", p->cipher);
        return NULL;
    }
    bool tls13 = p->version == 0x0304;
    if (s->tls13 != tls13 || p->version < 0x0301 || p->version > 0x0304 ||
        (s->mac_len == 0 && !tls13 && p->version < 0x0303)) {
        snprintf(why, why_len, "cipher suite 0x%04x with version 0x%04x is not decrypted",
                 p->cipher, p->version);
        return NULL;
    }
    d = calloc(1, sizeof *d);
    if (d == NULL) {
        snprintf(why, why_len, "out of memory");
        return NULL;
    }
    d->suite = s;
    d->version = p->version;
    d->encrypt_then_mac = p->encrypt_then_mac && s->mac_len > 0;
    for (int i = 0; i < TB_DIR_COUNT; i++) {
        init_dir(&d->k[i]);
    }
    bool ok = tls13 ? setup13(d, p->keys, why, why_len) : setup12(d, p, p->keys, why, why_len);
    if (!ok) {
        tb_decrypt_free(d);
        return NULL;
    }
    return d;
}

bool tb_decrypt_ready(const struct tb_decrypt *d, enum tb_dir dir)
{
    return d != NULL && d->k[dir].ready && !d->k[dir].stopped;
}

uint64_t tb_decrypt_ok_count(const struct tb_decrypt *d, enum tb_dir dir)
{
    return d != NULL ? d->k[dir].ok_count : 0;
}

void tb_decrypt_stop(struct tb_decrypt *d, enum tb_dir dir)
{
    if (d != NULL) {
        d->k[dir].stopped = true;
    }
}

bool tb_decrypt_next_epoch(struct tb_decrypt *d, enum tb_dir dir)
{
    struct dir_keys *k = &d->k[dir];

    if (!d->suite->tls13 || k->stopped) {
        return false;
    }
    if (k->next_secret_len == 0 || !install_secret13(d, k, k->next_secret)) {
        k->ready = false;
        k->stopped = true;
        return false;
    }
    k->next_secret_len = 0;
    return true;
}

bool tb_decrypt_key_update(struct tb_decrypt *d, enum tb_dir dir)
{
    struct dir_keys *k = &d->k[dir];
    uint8_t next[TB_KEYLOG_SECRET_MAX];
    size_t h = d->suite->hash_len;

    if (!d->suite->tls13 || !tb_decrypt_ready(d, dir)) {
        return false;
    }
    /* RFC 8446 7.2: application_traffic_secret_N+1 = HKDF-Expand-Label(secret_N, "traffic upd", "", Hash.length) */
    if (tb_decrypt_hkdf_expand_label(h, k->secret, "traffic upd", NULL, 0, next, h) != TB_OK ||
        !install_secret13(d, k, next)) {
        k->stopped = true;
        return false;
    }
    return true;
}

static void seq_bytes(uint64_t seq, uint8_t out[8])
{
    for (int i = 7; i >= 0; i--) {
        out[i] = (uint8_t)seq;
        seq >>= 8;
    }
}

/* RFC 8446 5.3 / RFC 7905 2: the 64-bit sequence number, padded left, XORed with the iv. */
static void xor_nonce(const uint8_t iv[AEAD_IV_LEN], uint64_t seq, uint8_t nonce[AEAD_IV_LEN])
{
    uint8_t s[8];

    seq_bytes(seq, s);
    memcpy(nonce, iv, AEAD_IV_LEN);
    for (int i = 0; i < 8; i++) {
        nonce[AEAD_IV_LEN - 8 + i] ^= s[i];
    }
}

static int aead_open(struct tb_decrypt *d, struct dir_keys *k, const uint8_t *nonce,
                     size_t nonce_len, const uint8_t *aad, size_t aad_len, const uint8_t *in,
                     size_t n, const uint8_t *tag, size_t tag_len)
{
    switch (d->suite->kind) {
    case K_GCM:
        return mbedtls_gcm_auth_decrypt(&k->gcm, n, nonce, nonce_len, aad, aad_len, tag, tag_len,
                                        in, d->plain);
    case K_CCM:
    case K_CCM8:
        return mbedtls_ccm_auth_decrypt(&k->ccm, n, nonce, nonce_len, aad, aad_len, in, d->plain,
                                        tag, tag_len);
    case K_CHACHA:
        return mbedtls_chachapoly_auth_decrypt(&k->chachapoly, n, nonce, aad, aad_len, tag, in,
                                               d->plain);
    case K_CBC_AES:
    case K_CBC_3DES:
    default:
        return -1;
    }
}

static size_t tag_len_of(const struct suite *s)
{
    return s->kind == K_CCM8 ? 8 : TAG_LEN;
}

/* RFC 8446 5.2: TLSInnerPlaintext = content || ContentType type || zeros. */
static enum tb_err open13(struct tb_decrypt *d, struct dir_keys *k, uint8_t type,
                          uint16_t version, struct tb_reader *body, uint8_t *content_type,
                          size_t *plain_len)
{
    size_t len = tb_rd_left(body);
    size_t tag_len = tag_len_of(d->suite);
    uint8_t aad[5] = {type, (uint8_t)(version >> 8), (uint8_t)version, (uint8_t)(len >> 8),
                      (uint8_t)len};
    uint8_t nonce[AEAD_IV_LEN];

    if (len < tag_len + 1) {
        return TB_ERR_LENGTH;
    }
    const uint8_t *ct = tb_rd_bytes(body, len - tag_len);
    const uint8_t *tag = tb_rd_bytes(body, tag_len);
    xor_nonce(k->iv, k->seq, nonce);
    if (ct == NULL || tag == NULL ||
        aead_open(d, k, nonce, sizeof nonce, aad, sizeof aad, ct, len - tag_len, tag, tag_len) != 0) {
        return TB_ERR_CRYPTO;
    }
    k->seq++;
    struct tb_reader p = tb_rd_init(d->plain, len - tag_len);
    size_t n = len - tag_len;
    while (n > 0 && tb_rd_peek_u8(&p, n - 1) == 0) {
        n--;
    }
    if (n == 0) {
        return TB_ERR_VALUE; /* RFC 8446 5.4: all zeros is an unexpected_message */
    }
    *content_type = tb_rd_peek_u8(&p, n - 1);
    *plain_len = n - 1;
    return TB_OK;
}

/* TLS 1.2 additional_data = seq_num + TLSCompressed.type + version + length (RFC 5246 6.2.3.3). */
static void aad12(uint64_t seq, uint8_t type, uint16_t version, size_t len, uint8_t aad[13])
{
    seq_bytes(seq, aad);
    aad[8] = type;
    aad[9] = (uint8_t)(version >> 8);
    aad[10] = (uint8_t)version;
    aad[11] = (uint8_t)(len >> 8);
    aad[12] = (uint8_t)len;
}

static enum tb_err open12_aead(struct tb_decrypt *d, struct dir_keys *k, uint8_t type,
                               uint16_t version, struct tb_reader *body, size_t *plain_len)
{
    size_t len = tb_rd_left(body);
    size_t tag_len = tag_len_of(d->suite);
    uint8_t nonce[AEAD_IV_LEN];
    uint8_t aad[13];
    size_t n;

    if (d->suite->kind == K_CHACHA) {
        if (len < tag_len) {
            return TB_ERR_LENGTH;
        }
        xor_nonce(k->iv, k->seq, nonce);
        n = len - tag_len;
    } else {
        /* RFC 5288 3 / RFC 6655 3: nonce = salt (4) || explicit nonce (8, in the record). */
        if (len < EXPLICIT_NONCE_LEN + tag_len) {
            return TB_ERR_LENGTH;
        }
        memcpy(nonce, k->iv, 4);
        tb_rd_copy(body, nonce + 4, EXPLICIT_NONCE_LEN);
        n = len - EXPLICIT_NONCE_LEN - tag_len;
    }
    const uint8_t *ct = tb_rd_bytes(body, n);
    const uint8_t *tag = tb_rd_bytes(body, tag_len);
    aad12(k->seq, type, version, n, aad);
    if (ct == NULL || tag == NULL ||
        aead_open(d, k, nonce, sizeof nonce, aad, sizeof aad, ct, n, tag, tag_len) != 0) {
        return TB_ERR_CRYPTO;
    }
    k->seq++;
    *plain_len = n;
    return TB_OK;
}

static bool hmac_record(const struct tb_decrypt *d, const struct dir_keys *k, uint8_t type,
                        uint16_t version, const uint8_t *p1, size_t n1, const uint8_t *p2,
                        size_t n2, uint8_t *out)
{
    const mbedtls_md_info_t *info = mbedtls_md_info_from_type(
        d->suite->mac_len == 20 ? MBEDTLS_MD_SHA1
        : d->suite->mac_len == 48 ? MBEDTLS_MD_SHA384
                                   : MBEDTLS_MD_SHA256);
    mbedtls_md_context_t ctx;
    uint8_t hdr[13];
    bool ok;

    aad12(k->seq, type, version, n1 + n2, hdr);
    mbedtls_md_init(&ctx);
    ok = info != NULL && mbedtls_md_setup(&ctx, info, 1) == 0 &&
         mbedtls_md_hmac_starts(&ctx, k->mac_key, d->suite->mac_len) == 0 &&
         mbedtls_md_hmac_update(&ctx, hdr, sizeof hdr) == 0 &&
         (n1 == 0 || mbedtls_md_hmac_update(&ctx, p1, n1) == 0) &&
         (n2 == 0 || mbedtls_md_hmac_update(&ctx, p2, n2) == 0) &&
         mbedtls_md_hmac_finish(&ctx, out) == 0;
    mbedtls_md_free(&ctx);
    return ok;
}

/* RFC 5246 6.2.3.2 (and RFC 2246 for TLS 1.0's chained IV), RFC 7366 encrypt_then_mac. */
static enum tb_err open12_cbc(struct tb_decrypt *d, struct dir_keys *k, uint8_t type,
                              uint16_t version, struct tb_reader *body, size_t *plain_len)
{
    size_t bs = d->suite->kind == K_CBC_3DES ? 8 : 16;
    size_t mac_len = d->suite->mac_len;
    size_t len = tb_rd_left(body);
    bool explicit_iv = d->version >= 0x0302;
    uint8_t mac[48];
    uint8_t iv[16];
    struct tb_reader inner = *body;

    inner.parent = NULL;
    if (d->encrypt_then_mac) {
        /* RFC 7366 3: the MAC covers IV and ciphertext, and is checked first. */
        if (len < mac_len) {
            return TB_ERR_LENGTH;
        }
        const uint8_t *covered = tb_rd_bytes(&inner, len - mac_len);
        const uint8_t *sent = tb_rd_bytes(&inner, mac_len);
        if (covered == NULL || sent == NULL ||
            !hmac_record(d, k, type, version, covered, len - mac_len, NULL, 0, mac)) {
            return TB_ERR_LENGTH;
        }
        if (memcmp(mac, sent, mac_len) != 0) {
            return TB_ERR_CRYPTO;
        }
        len -= mac_len;
        inner = tb_rd_init(covered, len);
    }
    if (explicit_iv) {
        if (len < bs) {
            return TB_ERR_LENGTH;
        }
        tb_rd_copy(&inner, iv, bs);
        len -= bs;
    } else {
        memcpy(iv, k->iv, bs);
    }
    size_t min = d->encrypt_then_mac ? bs : ((mac_len + 1 + bs - 1) / bs) * bs;
    if (len < min || len % bs != 0 || len > sizeof d->plain) {
        return TB_ERR_LENGTH;
    }
    const uint8_t *ct = tb_rd_bytes(&inner, len);
    size_t out_len = 0;
    if (ct == NULL || mbedtls_cipher_crypt(&k->cbc, iv, bs, ct, len, d->plain, &out_len) != 0 ||
        out_len != len) {
        return TB_ERR_CRYPTO;
    }
    struct tb_reader p = tb_rd_init(d->plain, len);
    uint8_t pad = tb_rd_peek_u8(&p, len - 1);
    size_t trailer = (size_t)pad + 1 + (d->encrypt_then_mac ? 0 : mac_len);
    if (trailer > len) {
        return TB_ERR_CRYPTO; /* bad padding: the same verdict as a bad MAC */
    }
    for (size_t i = len - (size_t)pad - 1; i < len; i++) {
        if (tb_rd_peek_u8(&p, i) != pad) {
            return TB_ERR_CRYPTO;
        }
    }
    size_t content_len = len - trailer;
    if (!d->encrypt_then_mac) {
        if (!hmac_record(d, k, type, version, d->plain, content_len, NULL, 0, mac)) {
            return TB_ERR_CRYPTO;
        }
        struct tb_reader m = tb_rd_init(d->plain, len);
        tb_rd_skip(&m, content_len);
        const uint8_t *sent = tb_rd_bytes(&m, mac_len);
        if (sent == NULL || memcmp(mac, sent, mac_len) != 0) {
            return TB_ERR_CRYPTO;
        }
    }
    if (!explicit_iv) {
        /* TLS 1.0: the next record's IV is this record's last ciphertext block. */
        struct tb_reader last = tb_rd_init(ct, len);
        tb_rd_skip(&last, len - bs);
        tb_rd_copy(&last, k->iv, bs);
    }
    k->seq++;
    *plain_len = content_len;
    return TB_OK;
}

enum tb_err tb_decrypt_record(struct tb_decrypt *d, enum tb_dir dir, uint8_t type,
                              uint16_t version, const uint8_t *body, size_t len,
                              uint8_t *content_type, const uint8_t **plain, size_t *plain_len)
{
    struct dir_keys *k = &d->k[dir];
    struct tb_reader r = tb_rd_init(body, len);
    enum tb_err err;

    *plain = NULL;
    *plain_len = 0;
    *content_type = type;
    if (!tb_decrypt_ready(d, dir)) {
        return TB_ERR_VALUE;
    }
    if (len > sizeof d->plain) {
        return TB_ERR_LENGTH;
    }
    if (d->suite->tls13) {
        err = open13(d, k, type, version, &r, content_type, plain_len);
    } else if (d->suite->mac_len > 0) {
        err = open12_cbc(d, k, type, version, &r, plain_len);
    } else {
        err = open12_aead(d, k, type, version, &r, plain_len);
    }
    if (err != TB_OK) {
        *plain_len = 0;
        return err;
    }
    k->ok_count++;
    *plain = d->plain;
    return TB_OK;
}
