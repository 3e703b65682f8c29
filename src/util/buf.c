/*
 * buf.c - growable buffer with a hard maximum (the cap is set by whoever owns
 * the buffer, from limits.h), so input can never grow it without bound.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tlsblame/buf.h"

void tb_buf_init(struct tb_buf *b, size_t max)
{
    b->bytes = NULL;
    b->len = 0;
    b->alloc = 0;
    b->max = max;
}

enum tb_err tb_buf_append(struct tb_buf *b, const void *p, size_t n)
{
    if (n == 0) {
        return TB_OK;
    }
    if (n > b->max - b->len || b->len > b->max) {
        return TB_ERR_CAP;
    }
    if (n > b->alloc - b->len) {
        size_t want = b->alloc == 0 ? 256 : b->alloc;
        while (want - b->len < n) {
            want = want > b->max / 2 ? b->max : want * 2;
        }
        uint8_t *nb = realloc(b->bytes, want);
        if (nb == NULL) {
            return TB_ERR_NOMEM;
        }
        b->bytes = nb;
        b->alloc = want;
    }
    memcpy(b->bytes + b->len, p, n);
    b->len += n;
    return TB_OK;
}

enum tb_err tb_buf_append_str(struct tb_buf *b, const char *s)
{
    return tb_buf_append(b, s, strlen(s));
}

enum tb_err tb_buf_printf(struct tb_buf *b, const char *fmt, ...)
{
    char small[512];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        return TB_ERR_VALUE;
    }
    if ((size_t)n < sizeof small) {
        return tb_buf_append(b, small, (size_t)n);
    }
    char *big = malloc((size_t)n + 1);
    if (big == NULL) {
        return TB_ERR_NOMEM;
    }
    va_start(ap, fmt);
    (void)vsnprintf(big, (size_t)n + 1, fmt, ap); /* sized above */
    va_end(ap);
    enum tb_err err = tb_buf_append(b, big, (size_t)n);
    free(big);
    return err;
}

void tb_buf_consume(struct tb_buf *b, size_t n)
{
    if (n >= b->len) {
        b->len = 0;
        return;
    }
    memmove(b->bytes, b->bytes + n, b->len - n);
    b->len -= n;
}

void tb_buf_clear(struct tb_buf *b)
{
    b->len = 0;
}

void tb_buf_fini(struct tb_buf *b)
{
    free(b->bytes);
    b->bytes = NULL;
    b->len = 0;
    b->alloc = 0;
}
