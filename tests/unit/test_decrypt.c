/*
 * test_decrypt.c - key derivation and record decryption against published
 * and captured vectors: HKDF-Expand-Label against RFC 8448 section 3
 * ("Simple 1-RTT Handshake"), the TLS 1.2 PRF against the P_SHA256 vector
 * circulated on the IETF TLS list, the RFC 8448 server CertificateVerify
 * over our transcript hash, and records taken from real captures (bytes
 * extracted with tshark -x at test-writing time; their sources are named
 * at each array): AES-256-GCM (TLS 1.3), ChaCha20-Poly1305 and AES-128-CCM_8
 * (TLS 1.3), AES-128-CBC-SHA (TLS 1.2). Negatives: a flipped tag byte, a
 * short record, a suite or a secret that is not there.
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
#include "tlsblame/decrypt.h"
#include "tlsblame/hash.h"
#include "tlsblame/keylog.h"
#include "tlsblame/x509.h"

/* Hex text to bytes; the test's own constants, so a bad digit is a test bug. */
static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = strlen(hex) / 2;

    assert_true(n <= cap);
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
        out[i] = (uint8_t)v;
    }
    return n;
}

static void assert_hex(const uint8_t *got, size_t len, const char *want_hex)
{
    uint8_t want[512];
    size_t n = unhex(want_hex, want, sizeof want);

    assert_int_equal(len, n);
    assert_memory_equal(got, want, n);
}

/* RFC 8448 3: traffic secrets and the write key / iv derived from each. */
static void test_hkdf_expand_label_rfc8448(void **state)
{
    static const struct {
        const char *secret, *key, *iv;
    } v[] = {
        /* server handshake traffic */
        {"b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38",
         "3fce516009c21727d0f2e4e86ee403bc", "5d313eb2671276ee13000b30"},
        /* client handshake traffic */
        {"b3eddb126e067f35a780b3abf45e2d8f3b1a950738f52e9600746a0e27a55a21",
         "dbfaa693d1762c5b666af5d950258d01", "5bd3c71b836e0b76bb73265f"},
        /* server application traffic 0 */
        {"a11af9f05531f856ad47116b45a950328204b4f44bfb6b3a4b4f1f3fcb631643",
         "9f02283b6c9c07efc26bb9f2ac92e356", "cf782b88dd83549aadf1e984"},
        /* client application traffic 0 */
        {"9e40646ce79a7f9dc05af8889bce6552875afa0b06df0087f792ebb7c17504a5",
         "17422dda596ed5d9acd890e3c63f5051", "5b78923dee08579033e523d9"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        uint8_t secret[32], key[16], iv[12];
        unhex(v[i].secret, secret, sizeof secret);
        assert_int_equal(tb_decrypt_hkdf_expand_label(32, secret, "key", NULL, 0, key, 16), TB_OK);
        assert_int_equal(tb_decrypt_hkdf_expand_label(32, secret, "iv", NULL, 0, iv, 12), TB_OK);
        assert_hex(key, sizeof key, v[i].key);
        assert_hex(iv, sizeof iv, v[i].iv);
    }
    /* RFC 8448 3: finished_key = HKDF-Expand-Label(server hs secret, "finished", "", 32). */
    uint8_t secret[32], finished_key[32];
    unhex(v[0].secret, secret, sizeof secret);
    assert_int_equal(tb_decrypt_hkdf_expand_label(32, secret, "finished", NULL, 0, finished_key, 32),
                     TB_OK);
    assert_hex(finished_key, 32, "008d3b66f816ea559f96b537e885c31fc068bf492c652f01f288a1d8cdc19fc8");
    /* Out of range: a label past 255 bytes with the prefix, an unknown hash length. */
    char long_label[260];
    memset(long_label, 'a', sizeof long_label - 1);
    long_label[sizeof long_label - 1] = '\0';
    assert_int_equal(tb_decrypt_hkdf_expand_label(32, secret, long_label, NULL, 0, finished_key, 32),
                     TB_ERR_LENGTH);
    assert_int_equal(tb_decrypt_hkdf_expand_label(20, secret, "key", NULL, 0, finished_key, 16),
                     TB_ERR_LENGTH);
}

/* TLS 1.2 PRF (P_SHA256), the vector posted to the IETF TLS list (2009) and used by many stacks. */
static void test_prf12(void **state)
{
    uint8_t secret[16], seed[16], out[100];

    (void)state;
    unhex("9bbe436ba940f017b17652849a71db35", secret, sizeof secret);
    unhex("a0ba9f936cda311827a6f796ffd5198c", seed, sizeof seed);
    assert_int_equal(tb_decrypt_prf(0x0303, 32, secret, sizeof secret, "test label", seed,
                                    sizeof seed, out, sizeof out),
                     TB_OK);
    assert_hex(out, sizeof out,
               "e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a6b301791e90d35c9"
               "c9a46b4e14baf9af0fa022f7077def17abfd3797c0564bab4fbc91666e9def9b97fce34f796789ba"
               "a48082d122ee42c5a72e5a5110fff70187347b66");
}

/* RFC 8448 3 messages (as corrected by its errata, so that the secrets above follow). */
static const char *rfc8448_ch =
    "010000c00303cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece7000006130113031302"
    "010000910000000b0009000006736572766572ff01000100000a00140012001d001700180019010001010102010301"
    "0400230000003300260024001d002099381de560e4bd43d23d8e435a7dbafeb3c06e51c13cae4d5413691e529aaf2c"
    "002b0003020304000d0020001e040305030603020308040805080604010501060102010402050206020202002d0002"
    "0101001c00024001";
static const char *rfc8448_sh =
    "020000560303a6af06a4121860dc5e6e60249cd34c95930c8ac5cb1434dac155772ed3e2692800130100002e003300"
    "24001d0020c9828876112095fe66762bdbf7c672e156d6cc253b833df1dd69b1b04e751f0f002b00020304";
static const char *rfc8448_ee =
    "080000240022000a00140012001d00170018001901000101010201030104001c0002400100000000";
static const char *rfc8448_cert_msg =
    "0b0001b9000001b50001b0308201ac30820115a003020102020102300d06092a864886f70d01010b0500300e310c30"
    "0a06035504031303727361301e170d3136303733303031323335395a170d3236303733303031323335395a300e310c"
    "300a0603550403130372736130819f300d06092a864886f70d010101050003818d0030818902818100b4bb498f8279"
    "303d980836399b36c6988c0c68de55e1bdb826d3901a2461eafd2de49a91d015abbc9a95137ace6c1af19eaa6af98c"
    "7ced43120998e187a80ee0ccb0524b1b018c3e0b63264d449a6d38e22a5fda430846748030530ef0461c8ca9d9efbf"
    "ae8ea6d1d03e2bd193eff0ab9a8002c47428a6d35a8d88d79f7f1e3f0203010001a31a301830090603551d13040230"
    "00300b0603551d0f0404030205a0300d06092a864886f70d01010b05000381810085aad2a0e5b9276b908c65f73a72"
    "67170618a54c5f8a7b337d2df7a594365417f2eae8f8a58c8f8172f9319cf36b7fd6c55b80f21a03015156726096fd"
    "335e5e67f2dbf102702e608ccae6bec1fc63a42a99be5c3eb7107c3c54e9b9eb2bd5203b1c3b84e0a8b2f759409ba3"
    "eac9d91d402dcc0cc8f8961229ac9187b42b4de10000";
/* The CertificateVerify's signature (rsa_pss_rsae_sha256), after its 8-byte header. */
static const char *rfc8448_cv_sig =
    "5a747c5d88fa9bd2e55ab085a61015b7211f824cd484145ab3ff52f1fda8477b0b7abc90db78e2d33a5c141a078653"
    "fa6bef780c5ea248eeaaa785c4f394cab6d30bbe8d4859ee511f602957b15411ac027671459e46445c9ea58c181e81"
    "8e95b8c3fb0bf3278409d3be152a3da5043e063dda65cdf5aea20d53dfacd42f74f3";

/* The transcript hash (CH..Certificate) verifies RFC 8448's server CertificateVerify. */
static void test_transcript_and_cv_rfc8448(void **state)
{
    static uint8_t transcript[2048];
    uint8_t sig[128], hash[48];
    size_t n = 0, hash_len = 0;
    char why[256];

    (void)state;
    n += unhex(rfc8448_ch, transcript + n, sizeof transcript - n);
    n += unhex(rfc8448_sh, transcript + n, sizeof transcript - n);
    /* RFC 8448: Transcript-Hash(CH, SH) before the handshake secrets. */
    assert_int_equal(tb_decrypt_transcript_hash(0x1301, false, transcript, n, hash, &hash_len),
                     TB_OK);
    assert_hex(hash, hash_len, "860c06edc07858ee8e78f0e7428c58edd6b43f2ca3e6e95f02ed063cf0e1cad8");
    n += unhex(rfc8448_ee, transcript + n, sizeof transcript - n);
    size_t cert_at = n;
    n += unhex(rfc8448_cert_msg, transcript + n, sizeof transcript - n);
    assert_int_equal(tb_decrypt_transcript_hash(0x1301, false, transcript, n, hash, &hash_len),
                     TB_OK);
    assert_int_equal(hash_len, 32);

    /* The DER starts after type(1) len(3) context(1) list(3) cert_len(3); 0x1b0 bytes. */
    struct tb_certcache *cache = tb_certcache_new(4);
    assert_non_null(cache);
    const struct tb_cert *leaf = tb_certcache_get(cache, transcript + cert_at + 11, 0x1b0);
    assert_non_null(leaf);
    size_t sig_len = unhex(rfc8448_cv_sig, sig, sizeof sig);
    assert_int_equal(tb_cv_verify_tls13(leaf, true, 0x0804, sig, sig_len, hash, hash_len, why,
                                        sizeof why),
                     TB_TRI_YES);
    /* The client's context string, or one transcript byte changed: no longer valid. */
    assert_int_equal(tb_cv_verify_tls13(leaf, false, 0x0804, sig, sig_len, hash, hash_len, why,
                                        sizeof why),
                     TB_TRI_NO);
    transcript[40] ^= 1;
    assert_int_equal(tb_decrypt_transcript_hash(0x1301, false, transcript, n, hash, &hash_len),
                     TB_OK);
    assert_int_equal(tb_cv_verify_tls13(leaf, true, 0x0804, sig, sig_len, hash, hash_len, why,
                                        sizeof why),
                     TB_TRI_NO);
    tb_cert_release(cache, leaf);
    tb_certcache_free(cache);
}

/* RFC 8446 4.4.1: after a HelloRetryRequest, ClientHello1 is replaced by message_hash. */
static void test_transcript_hrr(void **state)
{
    static const uint8_t msgs[] = {
        1, 0, 0, 3, 'c', 'h', '1',         /* ClientHello1 */
        2, 0, 0, 3, 'h', 'r', 'r',         /* HelloRetryRequest */
        1, 0, 0, 3, 'c', 'h', '2',         /* ClientHello2 */
    };
    uint8_t ch1_hash[TB_SHA256_LEN], want[TB_SHA256_LEN], got[48];
    uint8_t rewritten[4 + TB_SHA256_LEN + 14];
    size_t got_len = 0;

    (void)state;
    assert_int_equal(tb_hash_sha256(msgs, 7, ch1_hash), TB_OK);
    rewritten[0] = 254;
    rewritten[1] = 0;
    rewritten[2] = 0;
    rewritten[3] = TB_SHA256_LEN;
    memcpy(rewritten + 4, ch1_hash, TB_SHA256_LEN);
    memcpy(rewritten + 4 + TB_SHA256_LEN, msgs + 7, 14);
    assert_int_equal(tb_hash_sha256(rewritten, sizeof rewritten, want), TB_OK);
    assert_int_equal(tb_decrypt_transcript_hash(0x1303, true, msgs, sizeof msgs, got, &got_len),
                     TB_OK);
    assert_int_equal(got_len, TB_SHA256_LEN);
    assert_memory_equal(got, want, TB_SHA256_LEN);
    /* Not a ClientHello first, or cut inside it: refused, not guessed. */
    assert_int_not_equal(tb_decrypt_transcript_hash(0x1301, true, msgs + 7, 14, got, &got_len),
                         TB_OK);
    assert_int_not_equal(tb_decrypt_transcript_hash(0x1301, true, msgs, 5, got, &got_len), TB_OK);
    assert_int_equal(tb_decrypt_transcript_hash(0x00ff, false, msgs, 7, got, &got_len),
                     TB_ERR_VALUE);
}

/* A key log entry holding one secret. */
static void entry_with(struct tb_keylog_entry *e, enum tb_keylog_secret which, const char *hex)
{
    memset(e, 0, sizeof *e);
    e->secret_len[which] = (uint8_t)unhex(hex, e->secret[which], TB_KEYLOG_SECRET_MAX);
}

struct record_case {
    const char *source;
    uint16_t version, cipher;
    enum tb_keylog_secret which;
    const char *secret;
    enum tb_dir dir;
    uint8_t type;
    const char *body;
    uint8_t want_type;
    const char *want_plain;
    const char *client_random, *server_random; /* TLS 1.2 */
};

static const struct record_case records[] = {
    {
        /* illustrated-tls13/captures/capture.pcap frame 7, the server's first protected record
         * (EncryptedExtensions), SERVER_HANDSHAKE_TRAFFIC_SECRET from its keylog.txt. */
        "TLS 1.3 AES-256-GCM, server", 0x0304, 0x1302, TB_KEYLOG_SERVER_HS_TRAFFIC,
        "23323da031634b241dd37d61032b62a4f450584d1f7f47983ba2f7cc0cdcc39a68f481f2b019f9403a3051908a"
        "5d1622",
        TB_DIR_S2C, 23, "6be02f9da7c2dc9ddef56f2468b90adfa25101ab0344ae", 22, "080000020000", NULL,
        NULL,
    },
    {
        /* illustrated-tls13 frame 9: the client's Finished (48-byte verify_data, SHA-384). */
        "TLS 1.3 AES-256-GCM, client", 0x0304, 0x1302, TB_KEYLOG_CLIENT_HS_TRAFFIC,
        "db89d2d6df0e84fed74a2288f8fd4d0959f790ff23946cdf4c26d85e51bebd42ae184501972f8d30c4a3e4a369"
        "3d0ef0",
        TB_DIR_C2S, 23,
        "9ff9b063175177322a46dd9896f3c3bb820ab51743ebc25fdadd53454b73deb54cc7248d411a18bccf657a9608"
        "24e9a19364837c350a69a88d4bf635c85eb874aebc9dfde8",
        22,
        "14000030bff56a671b6c659d0a7c5dd18428f58bdd38b184a3ce342d9fde95cbd5056f7da7918ee320eab7a93a"
        "bd8f1c02454d27",
        NULL, NULL,
    },
    {
        /* tests/keylog/captures/tls13-chacha20.pcap frame 6 (OpenSSL 3.0, gen.sh): the server's
         * EncryptedExtensions with ALPN http/1.1. */
        "TLS 1.3 ChaCha20-Poly1305", 0x0304, 0x1303, TB_KEYLOG_SERVER_HS_TRAFFIC,
        "2efa141b5807adb3426183c8ac8fa2067b47559a7bf8f10c72a55c4811dd5442", TB_DIR_S2C, 23,
        "5bc75582faef9a3a45eb0eb257630022299a455e45f61b518a1364dda9bd09149daea09774df", 22,
        "08000011000f0010000b000908687474702f312e31", NULL, NULL,
    },
    {
        /* tests/keylog/captures/tls13-aes128-ccm8.pcap frame 6: EncryptedExtensions, 8-byte tag. */
        "TLS 1.3 AES-128-CCM_8", 0x0304, 0x1305, TB_KEYLOG_SERVER_HS_TRAFFIC,
        "2e9cc35e11c92f38091f0f8b32ed123223ee63d8b92078cf5abf9a4fcd568ca8", TB_DIR_S2C, 23,
        "08f2cda7f85a58bbbe2e261f66e31a", 22, "080000020000", NULL, NULL,
    },
    {
        /* illustrated-tls12/captures/capture.pcap frame 9: the client's Finished,
         * TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, explicit IV 40..4f, CLIENT_RANDOM from keylog.txt. */
        "TLS 1.2 AES-128-CBC-SHA", 0x0303, 0xc013, TB_KEYLOG_MASTER_SECRET,
        "916abf9da55973e13614ae0a3f5d3f37b023ba129aee02cc9134338127cd7049781c8e19fc1eb2a7387ac06ae2"
        "37344c",
        TB_DIR_C2S, 22,
        "404142434445464748494a4b4c4d4e4f227bc9ba81ef30f2a8a78ff1df50844d5804b7eeb2e214c32b6892aca3"
        "db7b78077fdd90067c516bacb3ba90dedf720f",
        22, "1400000ccf919626f1360c536aaad73a",
        "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
        "707172737475767778797a7b7c7d7e7f808182838485868788898a8b8c8d8e8f",
    },
};

static struct tb_decrypt *state_for(const struct record_case *c, struct tb_keylog_entry *e,
                                    char *why, size_t why_len)
{
    uint8_t cr[32] = {0}, sr[32] = {0};
    struct tb_decrypt_params p = {
        .version = c->version,
        .cipher = c->cipher,
        .client_random = cr,
        .server_random = sr,
        .keys = e,
    };

    entry_with(e, c->which, c->secret);
    if (c->client_random != NULL) {
        unhex(c->client_random, cr, sizeof cr);
        unhex(c->server_random, sr, sizeof sr);
    }
    return tb_decrypt_new(&p, why, why_len);
}

static void test_records(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof records / sizeof records[0]; i++) {
        const struct record_case *c = &records[i];
        struct tb_keylog_entry e;
        char why[160];
        uint8_t body[256];
        uint8_t type = 0;
        const uint8_t *plain = NULL;
        size_t plain_len = 0;

        print_message("# %s\n", c->source);
        struct tb_decrypt *d = state_for(c, &e, why, sizeof why);
        assert_non_null(d);
        assert_true(tb_decrypt_ready(d, c->dir));
        size_t n = unhex(c->body, body, sizeof body);

        /* A flipped tag (or MAC) byte fails authentication and does not move the sequence. */
        body[n - 1] ^= 0x80;
        assert_int_equal(tb_decrypt_record(d, c->dir, c->type, 0x0303, body, n, &type, &plain,
                                           &plain_len),
                         TB_ERR_CRYPTO);
        assert_null(plain);
        body[n - 1] ^= 0x80;
        /* The wrong header (AAD) fails too. */
        assert_int_equal(tb_decrypt_record(d, c->dir, c->type, 0x0301, body, n, &type, &plain,
                                           &plain_len),
                         TB_ERR_CRYPTO);

        assert_int_equal(tb_decrypt_record(d, c->dir, c->type, 0x0303, body, n, &type, &plain,
                                           &plain_len),
                         TB_OK);
        assert_int_equal(type, c->want_type);
        assert_hex(plain, plain_len, c->want_plain);
        assert_int_equal(tb_decrypt_ok_count(d, c->dir), 1);
        /* The same bytes again are record 1 now: they do not authenticate. */
        assert_int_equal(tb_decrypt_record(d, c->dir, c->type, 0x0303, body, n, &type, &plain,
                                           &plain_len),
                         TB_ERR_CRYPTO);
        /* Too short to hold a tag: a length error, not a crash. */
        assert_int_equal(tb_decrypt_record(d, c->dir, c->type, 0x0303, body, 3, &type, &plain,
                                           &plain_len),
                         TB_ERR_LENGTH);
        tb_decrypt_stop(d, c->dir);
        assert_false(tb_decrypt_ready(d, c->dir));
        tb_decrypt_free(d);
    }
}

/* TLS 1.3 epochs: handshake key, then *_TRAFFIC_SECRET_0; missing secrets stop a direction. */
static void test_epochs_and_missing_secrets(void **state)
{
    struct tb_keylog_entry e;
    uint8_t cr[32] = {0}, sr[32] = {0};
    struct tb_decrypt_params p = {0x0304, 0x1301, false, cr, sr, &e};
    char why[160];

    (void)state;
    /* Only the server's handshake secret: the client side is not ready, the server's is. */
    entry_with(&e, TB_KEYLOG_SERVER_HS_TRAFFIC,
               "b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38");
    struct tb_decrypt *d = tb_decrypt_new(&p, why, sizeof why);
    assert_non_null(d);
    assert_true(tb_decrypt_ready(d, TB_DIR_S2C));
    assert_false(tb_decrypt_ready(d, TB_DIR_C2S));
    /* No SERVER_TRAFFIC_SECRET_0: after the Finished the server side stops. */
    assert_false(tb_decrypt_next_epoch(d, TB_DIR_S2C));
    assert_false(tb_decrypt_ready(d, TB_DIR_S2C));
    tb_decrypt_free(d);

    /* With it, the switch works and KeyUpdate derives the next one. */
    unhex("a11af9f05531f856ad47116b45a950328204b4f44bfb6b3a4b4f1f3fcb631643",
          e.secret[TB_KEYLOG_SERVER_TRAFFIC_0], TB_KEYLOG_SECRET_MAX);
    e.secret_len[TB_KEYLOG_SERVER_TRAFFIC_0] = 32;
    d = tb_decrypt_new(&p, why, sizeof why);
    assert_non_null(d);
    assert_true(tb_decrypt_next_epoch(d, TB_DIR_S2C));
    assert_true(tb_decrypt_ready(d, TB_DIR_S2C));
    assert_true(tb_decrypt_key_update(d, TB_DIR_S2C));
    assert_true(tb_decrypt_ready(d, TB_DIR_S2C));
    tb_decrypt_free(d);

    /* A secret of the wrong hash length for the suite, or none at all: NULL and a reason. */
    entry_with(&e, TB_KEYLOG_SERVER_HS_TRAFFIC,
               "23323da031634b241dd37d61032b62a4f450584d1f7f47983ba2f7cc0cdcc39a68f481f2b019f9403a"
               "3051908a5d1622");
    assert_null(tb_decrypt_new(&p, why, sizeof why));
    assert_non_null(strstr(why, "48 bytes"));
    memset(&e, 0, sizeof e);
    assert_null(tb_decrypt_new(&p, why, sizeof why));
    assert_non_null(strstr(why, "no CLIENT_HANDSHAKE_TRAFFIC_SECRET"));
    p.version = 0x0303;
    p.cipher = 0xc02f;
    assert_null(tb_decrypt_new(&p, why, sizeof why));
    assert_non_null(strstr(why, "CLIENT_RANDOM"));
    /* Unknown suite; a TLS 1.3 suite under TLS 1.2; SSL 3.0. */
    p.cipher = 0x0005; /* RSA_WITH_RC4_128_SHA */
    assert_null(tb_decrypt_new(&p, why, sizeof why));
    assert_non_null(strstr(why, "not supported"));
    p.cipher = 0x1301;
    assert_null(tb_decrypt_new(&p, why, sizeof why));
    p.version = 0x0300;
    p.cipher = 0x002f;
    assert_null(tb_decrypt_new(&p, why, sizeof why));
    assert_int_equal(tb_decrypt_hash_len(0x1302), 48);
    assert_int_equal(tb_decrypt_hash_len(0x1303), 32);
    assert_int_equal(tb_decrypt_hash_len(0x0005), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hkdf_expand_label_rfc8448),
        cmocka_unit_test(test_prf12),
        cmocka_unit_test(test_transcript_and_cv_rfc8448),
        cmocka_unit_test(test_transcript_hrr),
        cmocka_unit_test(test_records),
        cmocka_unit_test(test_epochs_and_missing_secrets),
    };
    return cmocka_run_group_tests_name("decrypt", tests, NULL, NULL);
}
