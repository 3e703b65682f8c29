#ifndef TLSBLAME_BUF_H
#define TLSBLAME_BUF_H
/*
 * buf.h - a growable byte buffer with a maximum fixed at init: appending past
 * it returns TB_ERR_CAP and leaves the buffer as it was.
 */
#include <stddef.h>
#include <stdint.h>

#include "tlsblame/err.h"

struct tb_buf {
    uint8_t *bytes;
    size_t len, alloc, max;
};

void tb_buf_init(struct tb_buf *b, size_t max);
enum tb_err tb_buf_append(struct tb_buf *b, const void *p, size_t n) TB_MUST_USE;
enum tb_err tb_buf_append_str(struct tb_buf *b, const char *s) TB_MUST_USE;
enum tb_err tb_buf_printf(struct tb_buf *b, const char *fmt, ...) TB_MUST_USE TB_PRINTF(2, 3);
/* Drop the first n bytes (n <= len). */
void tb_buf_consume(struct tb_buf *b, size_t n);
void tb_buf_clear(struct tb_buf *b);  /* len = 0, keeps memory */
void tb_buf_fini(struct tb_buf *b);   /* frees memory */

#endif
