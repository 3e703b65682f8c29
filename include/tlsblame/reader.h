#ifndef TLSBLAME_READER_H
#define TLSBLAME_READER_H
/*
 * reader.h - the only way wire bytes are read. A reader is a window [pos, end)
 * over a buffer; reading past the window fails the reader (and every parent),
 * and a failed reader is empty, so loops over wire data always end.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tlsblame/err.h"

struct tb_reader {
    const uint8_t *buf;       /* whole message; offsets relative to it */
    size_t pos, end;          /* window [pos, end) */
    struct tb_reader *parent; /* failure propagates to enclosing vectors */
    enum tb_err err;          /* sticky: first failure wins */
    size_t err_at;
};

struct tb_reader tb_rd_init(const uint8_t *buf, size_t len);
void tb_rd_fail(struct tb_reader *r, enum tb_err e);
uint32_t tb_rd_u24(struct tb_reader *r);
uint16_t tb_rd_peek_u16(const struct tb_reader *r, size_t ahead);

/*
 * The per-packet readers are inline: every decoded header goes through them
 * (bulk captures read ~20 fields a packet). Same rules as the rest: check
 * "n > end - pos", fail the reader (and its parents) instead of reading past.
 */
static inline size_t tb_rd_left(const struct tb_reader *r)
{
    return r->end - r->pos;
}

static inline bool tb_rd_ok(const struct tb_reader *r)
{
    return r->err == TB_OK;
}

/* Pointer to the next n bytes (consumed), or NULL and failure. */
static inline const uint8_t *tb_rd_bytes(struct tb_reader *r, size_t n)
{
    if (n > r->end - r->pos) {
        tb_rd_fail(r, TB_ERR_TRUNCATED);
        return NULL;
    }
    const uint8_t *p = r->buf + r->pos;
    r->pos += n;
    return p;
}

static inline uint8_t tb_rd_u8(struct tb_reader *r)
{
    const uint8_t *p = tb_rd_bytes(r, 1);
    return p != NULL ? p[0] : 0;
}

static inline uint16_t tb_rd_u16(struct tb_reader *r)
{
    const uint8_t *p = tb_rd_bytes(r, 2);
    return p != NULL ? (uint16_t)((unsigned)p[0] << 8 | p[1]) : 0;
}

static inline uint32_t tb_rd_u32(struct tb_reader *r)
{
    const uint8_t *p = tb_rd_bytes(r, 4);
    return p != NULL ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]
                     : 0;
}

/* Big-endian peek without consuming; 0 and no failure if not enough bytes. */
static inline uint8_t tb_rd_peek_u8(const struct tb_reader *r, size_t ahead)
{
    if (ahead >= r->end - r->pos) {
        return 0;
    }
    return r->buf[r->pos + ahead];
}
/* Copy n bytes into out (consumed); zero-filled on failure. */
void tb_rd_copy(struct tb_reader *r, void *out, size_t n);
void tb_rd_skip(struct tb_reader *r, size_t n);
/* A child reader over the next n bytes (consumed from r). */
struct tb_reader tb_rd_sub(struct tb_reader *r, size_t n);
/* opaque x<min..max> with a 1/2/3-byte length: a child reader over exactly x. */
struct tb_reader tb_rd_vec(struct tb_reader *r, unsigned width, size_t min, size_t max);
/* TB_ERR_TRAILING if bytes remain, else the sticky error. */
enum tb_err tb_rd_done(struct tb_reader *r);
/* Absolute offset of the read position within buf. */
size_t tb_rd_offset(const struct tb_reader *r);

/* Length of the printable ASCII prefix of p (at most max bytes): a line shown as evidence
 * ends at CR, LF or the first byte that is not printable (binary protocols). */
size_t tb_printable_len(const uint8_t *p, size_t n, size_t max);

#endif
