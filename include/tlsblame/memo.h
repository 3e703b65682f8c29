#ifndef TLSBLAME_MEMO_H
#define TLSBLAME_MEMO_H
/*
 * memo.h - small per-thread tables for results that recur from session to
 * session: a capture's clients are a few programs sending the same lists,
 * its servers the same CA names. Direct-mapped (a new entry replaces the
 * slot's old one), each thread its own, so no locking; freed when the
 * thread ends. A hit is a byte-for-byte equal key.
 */
#include <stddef.h>
#include <stdint.h>

enum tb_memo_table {
    TB_MEMO_JA4_SHA,   /* classify.c: JA4's truncated SHA-256 of a list */
    TB_MEMO_JSON_LIST, /* report_json.c: a ClientHello list rendered as JSON */
    TB_MEMO_DN,        /* hs.c: a DER Name as an RFC 4514 string */
    TB_MEMO_TABLES,
};

/* A table's shape: always the same for a given table. Longer keys or values are not kept. */
struct tb_memo_shape {
    enum tb_memo_table which;
    size_t slots, key_max, value_max;
};

/* The value kept for key (its length in *value_len), or NULL. */
const void *tb_memo_get(const struct tb_memo_shape *t, const void *key, size_t key_len,
                        size_t *value_len);
/* Keep value for key in the calling thread's table (silently not, when out of memory). */
void tb_memo_put(const struct tb_memo_shape *t, const void *key, size_t key_len, const void *value,
                 size_t value_len);

#endif
