#ifndef TLSBLAME_KEYLOG_H
#define TLSBLAME_KEYLOG_H
/*
 * keylog.h - NSS key log files (the SSLKEYLOGFILE format that OpenSSL,
 * GnuTLS, NSS, Go, Java agents, curl and browsers write, and Wireshark
 * reads), and the same text embedded in a pcapng Decryption Secrets Block.
 * Secrets are looked up by the ClientHello random. A malformed line is
 * reported as "tlsblame: FILE:LINE: why" and skipped; the rest still loads.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "tlsblame/err.h"

/* The secrets a session can use, one per key log label. */
enum tb_keylog_secret {
    TB_KEYLOG_MASTER_SECRET,     /* CLIENT_RANDOM: TLS <= 1.2 master secret, 48 bytes */
    TB_KEYLOG_CLIENT_HS_TRAFFIC, /* CLIENT_HANDSHAKE_TRAFFIC_SECRET */
    TB_KEYLOG_SERVER_HS_TRAFFIC, /* SERVER_HANDSHAKE_TRAFFIC_SECRET */
    TB_KEYLOG_CLIENT_TRAFFIC_0,  /* CLIENT_TRAFFIC_SECRET_0 */
    TB_KEYLOG_SERVER_TRAFFIC_0,  /* SERVER_TRAFFIC_SECRET_0 */
    TB_KEYLOG_SECRET_COUNT
};
/* TLS 1.3 secrets are Hash.length: 32 (SHA-256) or 48 (SHA-384) bytes. */
#define TB_KEYLOG_SECRET_MAX 48

struct tb_keylog_entry {
    uint8_t client_random[32];
    uint8_t secret[TB_KEYLOG_SECRET_COUNT][TB_KEYLOG_SECRET_MAX];
    uint8_t secret_len[TB_KEYLOG_SECRET_COUNT]; /* 0: not in the log */
};

struct tb_keylog_stats {
    size_t lines;                 /* lines read, over every load */
    size_t secrets;               /* lines whose secret was kept */
    size_t ignored;               /* blank, comment, EXPORTER/EARLY/RSA/ECH lines */
    size_t malformed;             /* reported and skipped */
    size_t entries;               /* distinct client randoms */
    size_t first_malformed_line;  /* 1-based; 0 when none */
    char first_malformed_why[128];
    bool entries_capped;          /* TB_MAX_KEYLOG_ENTRIES was reached */
};

struct tb_keylog;

struct tb_keylog *tb_keylog_new(void);
void tb_keylog_free(struct tb_keylog *kl);
/* No messages on stderr (fuzzing, unit tests); the stats still count. */
void tb_keylog_set_quiet(struct tb_keylog *kl, bool quiet);

/* TB_ERR_IO (reported) when the file cannot be read; malformed lines do not fail a load. */
enum tb_err tb_keylog_load_file(struct tb_keylog *kl, const char *path) TB_MUST_USE;
/* Key log text in memory; name is the "FILE" of messages. */
enum tb_err tb_keylog_load_mem(struct tb_keylog *kl, const char *name, const uint8_t *text,
                               size_t len) TB_MUST_USE;
/*
 * Secrets from the pcapng Decryption Secrets Blocks (type 0x0000000A, secrets
 * type "TLSK") ahead of the first packet of a pcapng file; libpcap skips those
 * blocks. TB_ERR_FORMAT (silent) when the file is not pcapng, TB_ERR_IO when
 * it cannot be opened. dsb_count: blocks whose text was loaded.
 */
enum tb_err tb_keylog_load_pcapng(struct tb_keylog *kl, const char *path,
                                  size_t *dsb_count) TB_MUST_USE;
enum tb_err tb_keylog_load_pcapng_stream(struct tb_keylog *kl, const char *name, FILE *fp,
                                         size_t *dsb_count) TB_MUST_USE;

/* The secrets logged for this client random, or NULL. The entry lives as long as kl. */
const struct tb_keylog_entry *tb_keylog_find(const struct tb_keylog *kl,
                                             const uint8_t client_random[32]);
void tb_keylog_stats(const struct tb_keylog *kl, struct tb_keylog_stats *out);
/* The label as written in key logs ("CLIENT_RANDOM", ...). */
const char *tb_keylog_label(enum tb_keylog_secret which);

#endif
