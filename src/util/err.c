/*
 * err.c - error strings and diagnostics. Every message is one line on stderr,
 * prefixed "tlsblame: " and the location, so a user can grep a batch log.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "tlsblame/err.h"

static const char *const err_text[] = {
#define TB_ERR_TEXT(id, msg) msg,
    TB_ERRORS(TB_ERR_TEXT)
#undef TB_ERR_TEXT
};

static int verbosity_level;

const char *tb_strerror(enum tb_err e)
{
    if ((unsigned)e >= (unsigned)TB_ERR__COUNT) {
        return "unknown error";
    }
    return err_text[e];
}

void tb_where_format(const struct tb_where *w, char *out, size_t out_len)
{
    size_t used = 0;
    int n;

    if (out_len == 0) {
        return;
    }
    out[0] = '\0';
    if (w == NULL) {
        return;
    }
    if (w->file != NULL) {
        n = snprintf(out + used, out_len - used, "%s: ", w->file);
        used += (n > 0 && (size_t)n < out_len - used) ? (size_t)n : 0;
    }
    if (w->frame > 0) {
        n = snprintf(out + used, out_len - used, "frame %llu: ", (unsigned long long)w->frame);
        used += (n > 0 && (size_t)n < out_len - used) ? (size_t)n : 0;
    }
    if (w->stage != NULL) {
        n = snprintf(out + used, out_len - used, "%s: ", w->stage);
        used += (n > 0 && (size_t)n < out_len - used) ? (size_t)n : 0;
    }
    if (w->offset >= 0 && w->stage != NULL) {
        n = snprintf(out + used, out_len - used, "byte %lld: ", (long long)w->offset);
        used += (n > 0 && (size_t)n < out_len - used) ? (size_t)n : 0;
    }
    (void)used; /* the last append may have been cut; snprintf already terminated */
}

void tb_diag(const struct tb_where *w, const char *fmt, ...)
{
    char where[512];
    va_list ap;

    tb_where_format(w, where, sizeof where);
    fprintf(stderr, "tlsblame: %s", where);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

void tb_diag_errno(const char *path, const char *what)
{
    fprintf(stderr, "tlsblame: %s: %s: %s\n", path, what, strerror(errno));
}

void tb_set_verbosity(int level)
{
    verbosity_level = level;
}

int tb_verbosity(void)
{
    return verbosity_level;
}

void tb_trace(const char *fmt, ...)
{
    va_list ap;

    if (verbosity_level < 3) {
        return;
    }
    fputs("tlsblame: trace: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}
