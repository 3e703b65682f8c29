/*
 * fuzz_tls.c - the record/handshake parser (record.c, hs.c) on arbitrary
 * per-direction byte streams. The input is a sequence of deliveries to one
 * tb_tls session, each introduced by a 3-byte header:
 *
 *   op      bit 0: direction (0 client->server, 1 server->client)
 *           bits 1-3: 0..4 data, 5 decrypted handshake message, 6 gap,
 *           7 close; bit 4: RST instead of FIN
 *   len     2 bytes big-endian: bytes that follow (cut at the end of the
 *           input), or the bytes a gap says are missing
 *
 * A close has no length. A decrypted handshake message is one type byte and
 * its body, handed to tb_tls_handshake_message() the way tls_decrypt.c hands
 * over what it decrypted: it reaches the TLS 1.3 parsers (EncryptedExtensions,
 * CertificateRequest, Certificate with request context) that plaintext
 * records cannot reach once a 1.3 ServerHello switched the server to
 * encrypted records. The session is then finished as at the end of a
 * capture, and everything is freed: LSan checks the teardown. Seeds are
 * real client and server streams cut from captures (tests/fuzz/corpus/tls).
 */
#include <stddef.h>
#include <stdint.h>

#include "tlsblame/limits.h"
#include "tlsblame/reader.h"
#include "tlsblame/session.h"
#include "tlsblame/tls.h"
#include "tlsblame/x509.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define OP_DIR 0x01u
#define OP_KIND_SHIFT 1
#define OP_KIND_MASK 0x07u
#define OP_KIND_HS_MSG 5u
#define OP_KIND_GAP 6u
#define OP_KIND_CLOSE 7u
#define OP_RST 0x10u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tb_certcache *cache = tb_certcache_new(TB_MAX_CERTS * 2);
    struct tb_session s;
    struct tb_tls *t;
    struct tb_reader in = tb_rd_init(data, size);
    uint64_t frame = 0;
    int64_t ts_us = 1700000000000000;

    if (cache == NULL) {
        return 0;
    }
    tb_session_init(&s, 1, "fuzz");
    t = tb_tls_new(&s, cache);
    if (t == NULL) {
        tb_session_fini(&s, cache);
        tb_certcache_free(cache);
        return 0;
    }
    while (tb_rd_left(&in) > 0) {
        uint8_t op = tb_rd_u8(&in);
        enum tb_dir dir = (op & OP_DIR) != 0 ? TB_DIR_S2C : TB_DIR_C2S;
        unsigned kind = (op >> OP_KIND_SHIFT) & OP_KIND_MASK;

        frame++;
        ts_us += 1000;
        if (kind == OP_KIND_CLOSE) {
            tb_tls_close(t, dir, (op & OP_RST) != 0, frame, ts_us);
            continue;
        }
        uint16_t len = tb_rd_u16(&in);
        if (!tb_rd_ok(&in)) {
            break;
        }
        if (kind == OP_KIND_GAP) {
            tb_tls_gap(t, dir, len, frame, ts_us);
            continue;
        }
        size_t n = tb_rd_left(&in) < len ? tb_rd_left(&in) : len;
        struct tb_reader chunk = tb_rd_sub(&in, n);
        chunk.parent = NULL; /* an empty message ends this delivery, not the input */
        if (kind == OP_KIND_HS_MSG) {
            uint8_t type = tb_rd_u8(&chunk);
            size_t body_len = tb_rd_left(&chunk);
            const uint8_t *body = tb_rd_bytes(&chunk, body_len);
            if (body != NULL) {
                tb_tls_handshake_message(t, dir, type, body, body_len, frame, ts_us, true);
            }
            continue;
        }
        const uint8_t *p = tb_rd_bytes(&chunk, n);
        /* The pipeline stops delivering once the TLS layer says so; do the same. */
        if (p != NULL && n > 0 && tb_tls_wants_bytes(t, dir)) {
            tb_tls_data(t, dir, p, n, frame, ts_us);
        }
    }
    tb_tls_finish(t, true, NULL);
    tb_tls_free(t);
    tb_session_fini(&s, cache);
    tb_certcache_free(cache);
    return 0;
}
