#ifndef TLSBLAME_REPORT_INT_H
#define TLSBLAME_REPORT_INT_H
/*
 * report_int.h - shared by the report module's files (json.c,
 * report_json.c, report_text.c, summary.c): a streaming JSON writer that
 * places the commas, and small formatting helpers. Not part of any other
 * module's contract.
 */
#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "tlsblame/common.h"
#include "tlsblame/limits.h"
#include "tlsblame/session.h"

/*
 * Streaming JSON writer. Nesting is bounded by TB_MAX_DEPTH (our own
 * output, never the input's choice); deeper calls are a programming error
 * and are caught by assert().
 *
 * Output is gathered in buf and reaches the FILE in one fwrite when the
 * top-level value is complete (or when buf fills up): a session object is
 * ~6 KB made of hundreds of tiny pieces, and a stdio call per piece was the
 * largest cost of a JSON run. Nothing else may write to out while a
 * top-level value is open.
 */
#define TB_JSON_BUF 16384
struct tb_json_writer {
    FILE *out;
    size_t len;      /* bytes pending in buf */
    unsigned depth;
    bool after_key;
    bool end_line;   /* write '\n' after the top-level value */
    uint32_t flushes; /* times buf went out: bytes in it since are still there */
    uint32_t items[TB_MAX_DEPTH + 1]; /* values written at each depth */
    char buf[TB_JSON_BUF];
};

void tb_json_writer_init(struct tb_json_writer *w, FILE *out);
void tb_json_writer_flush(struct tb_json_writer *w); /* automatic at the end of a top-level value */
void tb_json_obj_begin(struct tb_json_writer *w);
void tb_json_obj_end(struct tb_json_writer *w);
void tb_json_arr_begin(struct tb_json_writer *w);
void tb_json_arr_end(struct tb_json_writer *w);
void tb_json_key(struct tb_json_writer *w, const char *key);
/*
 * A key known at compile time that needs no escaping (a string literal of
 * plain ASCII identifier characters): written as is, no scan, no strlen.
 */
void tb_json_key_raw_slow(struct tb_json_writer *w, const char *quoted_colon, size_t n);
/* A literal key ("\"name\":"): inline while the buffer has room, as most keys are. */
static inline void tb_json_key_raw(struct tb_json_writer *w, const char *quoted_colon, size_t n)
{
    assert(!w->after_key);
    if (n + 1 > sizeof w->buf - w->len) {
        tb_json_key_raw_slow(w, quoted_colon, n);
        return;
    }
    if (w->items[w->depth]++ > 0) {
        w->buf[w->len++] = ',';
    }
    memcpy(w->buf + w->len, quoted_colon, n);
    w->len += n;
    w->after_key = true;
}
#define TB_JSON_KEY(w, lit) tb_json_key_raw((w), "\"" lit "\":", sizeof("\"" lit "\":") - 1)
void tb_json_str(struct tb_json_writer *w, const char *s);           /* NULL -> null */
void tb_json_str_n(struct tb_json_writer *w, const char *s, size_t n); /* NULL -> null */
void tb_json_u64(struct tb_json_writer *w, uint64_t v);
void tb_json_i64(struct tb_json_writer *w, int64_t v);
void tb_json_bool(struct tb_json_writer *w, bool v);
void tb_json_tri(struct tb_json_writer *w, enum tb_tri v);           /* UNKNOWN -> null */
void tb_json_null(struct tb_json_writer *w);
/*
 * Taking back what was just written (to keep it and write it again later):
 * marks of places in the output, and the bytes between two of them while
 * they are still in the writer's buffer (NULL once it went out).
 */
struct tb_json_mark {
    uint32_t flushes;
    size_t at;
};
struct tb_json_mark tb_json_mark_here(const struct tb_json_writer *w);
/* Where the next value will start: after the comma that may come first. */
struct tb_json_mark tb_json_mark_value(const struct tb_json_writer *w);
const char *tb_json_between(const struct tb_json_writer *w, struct tb_json_mark from,
                            struct tb_json_mark to, size_t *n);
/* One value rendered earlier, given as raw bytes between begin and end. */
void tb_json_raw_begin(struct tb_json_writer *w);
void tb_json_raw(struct tb_json_writer *w, const char *bytes, size_t n);
void tb_json_raw_end(struct tb_json_writer *w);
void tb_json_num(struct tb_json_writer *w, double v);                /* non-finite -> null */
void tb_json_time_us(struct tb_json_writer *w, int64_t ts_us);
void tb_json_time_s(struct tb_json_writer *w, int64_t ts_s);


#endif
