/*
 * reader.c - bounds-checked big-endian reads over untrusted bytes. The only
 * file that indexes wire buffers directly. Every check is written as
 * "n > end - pos", never "pos + n > end", so it cannot overflow.
 */
#include <string.h>

#include "tlsblame/reader.h"

struct tb_reader tb_rd_init(const uint8_t *buf, size_t len)
{
    struct tb_reader r = {.buf = buf, .pos = 0, .end = len, .parent = NULL, .err = TB_OK};
    return r;
}

size_t tb_rd_offset(const struct tb_reader *r)
{
    return r->pos;
}

void tb_rd_fail(struct tb_reader *r, enum tb_err e)
{
    size_t at = r->pos;

    for (; r != NULL; r = r->parent) {
        if (r->err == TB_OK) {
            r->err = e;
            r->err_at = at;
        }
        r->pos = r->end; /* a failed reader is empty: loops end */
    }
}

static bool need(struct tb_reader *r, size_t n)
{
    if (n > r->end - r->pos) {
        tb_rd_fail(r, TB_ERR_TRUNCATED);
        return false;
    }
    return true;
}

uint32_t tb_rd_u24(struct tb_reader *r)
{
    if (!need(r, 3)) {
        return 0;
    }
    const uint8_t *p = r->buf + r->pos;
    r->pos += 3;
    return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

uint16_t tb_rd_peek_u16(const struct tb_reader *r, size_t ahead)
{
    if (r->end - r->pos < 2 || ahead > r->end - r->pos - 2) {
        return 0;
    }
    const uint8_t *p = r->buf + r->pos + ahead;
    return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

void tb_rd_copy(struct tb_reader *r, void *out, size_t n)
{
    const uint8_t *p = tb_rd_bytes(r, n);

    if (p == NULL) {
        memset(out, 0, n);
        return;
    }
    memcpy(out, p, n);
}

void tb_rd_skip(struct tb_reader *r, size_t n)
{
    (void)tb_rd_bytes(r, n); /* failure is recorded in r */
}

struct tb_reader tb_rd_sub(struct tb_reader *r, size_t n)
{
    struct tb_reader child = {.buf = r->buf, .pos = r->pos, .end = r->pos, .parent = r};

    if (!need(r, n)) {
        child.err = TB_ERR_TRUNCATED;
        return child;
    }
    child.end = r->pos + n;
    r->pos += n;
    return child;
}

struct tb_reader tb_rd_vec(struct tb_reader *r, unsigned width, size_t min, size_t max)
{
    size_t n;

    switch (width) {
    case 1:
        n = tb_rd_u8(r);
        break;
    case 2:
        n = tb_rd_u16(r);
        break;
    case 3:
        n = tb_rd_u24(r);
        break;
    default:
        n = 0;
        tb_rd_fail(r, TB_ERR_VALUE);
        break;
    }
    if (r->err == TB_OK && (n < min || n > max)) {
        tb_rd_fail(r, TB_ERR_LENGTH);
    }
    if (r->err != TB_OK) {
        struct tb_reader empty = {.buf = r->buf, .pos = r->end, .end = r->end, .parent = r};
        empty.err = r->err;
        return empty;
    }
    return tb_rd_sub(r, n);
}

enum tb_err tb_rd_done(struct tb_reader *r)
{
    if (r->err != TB_OK) {
        return r->err;
    }
    if (r->pos != r->end) {
        tb_rd_fail(r, TB_ERR_TRAILING);
        return TB_ERR_TRAILING;
    }
    return TB_OK;
}

size_t tb_printable_len(const uint8_t *p, size_t n, size_t max)
{
    size_t len = 0;

    while (len < n && len < max && p[len] >= 0x20 && p[len] <= 0x7e) {
        len++;
    }
    return len;
}
