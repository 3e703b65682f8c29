#ifndef TLSBLAME_TLS_H
#define TLSBLAME_TLS_H
/*
 * tls.h - the TLS layer: per-direction record framing (record.c) and
 * handshake message parsing (hs.c) into the session model. It receives
 * in-order bytes from reassembly and writes events and facts to the session.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tlsblame/common.h"
#include "tlsblame/session.h"
#include "tlsblame/x509.h"

struct tb_tls;

struct tb_tls *tb_tls_new(struct tb_session *s, struct tb_certcache *cache);
void tb_tls_free(struct tb_tls *t);
void tb_tls_data(struct tb_tls *t, enum tb_dir dir, const uint8_t *bytes, size_t len,
                 uint64_t frame, int64_t ts_us);
void tb_tls_gap(struct tb_tls *t, enum tb_dir dir, uint64_t missing, uint64_t frame,
                int64_t ts_us);
void tb_tls_close(struct tb_tls *t, enum tb_dir dir, bool rst, uint64_t frame, int64_t ts_us);
/* False once the handshake is decided: reassembly may stop copying this direction. */
bool tb_tls_wants_bytes(const struct tb_tls *t, enum tb_dir dir);
/*
 * The connection is over (or the capture ended: capture_end). Derive the
 * outcome and the TLS 1.3 estimates; analyze chains (judged at capture time,
 * against trust if given); check CertificateVerify/ServerKeyExchange
 * signatures where a verdict may need them.
 */
void tb_tls_finish(struct tb_tls *t, bool capture_end, const struct tb_trust *trust);

/* Live mode: the handshake succeeded and data flows both ways; report it now. */
bool tb_tls_decided_success(const struct tb_tls *t);

/* What do the first bytes of a stream look like? */
enum tb_tls_sniff { TB_SNIFF_NOT_TLS, TB_SNIFF_CLIENT_HELLO, TB_SNIFF_SERVER_HELLO, TB_SNIFF_TLS };
enum tb_tls_sniff tb_tls_sniff(const uint8_t *bytes, size_t len);

/* decrypt: begin */
struct tb_keylog;
/*
 * Secrets to decrypt this session with (keylog.h), both borrowed for the
 * session's life: the run's key logs, and the capture file's own pcapng
 * secrets (looked up first). Either may be NULL.
 */
void tb_tls_set_keylog(struct tb_tls *t, const struct tb_keylog *run,
                       const struct tb_keylog *capture);
/* decrypt: end */

/* Parse one complete handshake message body (type, body) into the session (tests, decrypt). */
void tb_tls_handshake_message(struct tb_tls *t, enum tb_dir dir, uint8_t type, const uint8_t *body,
                              size_t len, uint64_t frame, int64_t ts_us, bool decrypted);

#endif
