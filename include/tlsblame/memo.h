#ifndef TLSBLAME_MEMO_H
#define TLSBLAME_MEMO_H
/*
 * memo.h - small per-thread tables for results that recur from session to
 * session: a capture's clients are a few programs sending the same lists,
 * its servers the same CA names. Direct-mapped (a new entry replaces the
 * slot's old one), each thread its own, so no locking; freed when the
 * thread ends. Users compare the whole key before they trust a slot.
 */
#include <stddef.h>
#include <stdint.h>

enum tb_memo_table {
    TB_MEMO_JA4_SHA,   /* classify.c: JA4's truncated SHA-256 of a list */
    TB_MEMO_JSON_LIST, /* report_json.c: a ClientHello list rendered as JSON */
    TB_MEMO_DN,        /* hs.c: a DER Name as an RFC 4514 string */
    TB_MEMO_TABLES,
};

/* The calling thread's table, `bytes` long and zeroed when first asked for; NULL when out of
 * memory (the caller computes without it). Always ask with the same size for a table. */
void *tb_memo_table(enum tb_memo_table which, size_t bytes);
/* FNV-1a of n bytes, to pick a slot. */
uint32_t tb_memo_hash(const void *p, size_t n);

#endif
