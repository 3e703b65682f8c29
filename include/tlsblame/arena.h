#ifndef TLSBLAME_ARENA_H
#define TLSBLAME_ARENA_H
/*
 * arena.h - a capped bump allocator: each session keeps every derived string
 * (DN, SNI, ALPN, evidence) in one, freed whole once the session is reported.
 */
#include <stdarg.h>
#include <stddef.h>

#include "tlsblame/err.h"

struct tb_arena_chunk;
struct tb_arena {
    struct tb_arena_chunk *head;
    size_t used_total; /* bytes handed out, for the cap */
    size_t cap;
    int over_cap;      /* set once an allocation was refused */
};

void tb_arena_init(struct tb_arena *a, size_t cap);
void *tb_arena_alloc(struct tb_arena *a, size_t n);    /* zeroed; NULL past the cap */
void *tb_arena_memdup(struct tb_arena *a, const void *p, size_t n);
char *tb_arena_strdup(struct tb_arena *a, const char *s);
char *tb_arena_strndup(struct tb_arena *a, const char *s, size_t n);
char *tb_arena_printf(struct tb_arena *a, const char *fmt, ...) TB_PRINTF(2, 3);
char *tb_arena_vprintf(struct tb_arena *a, const char *fmt, va_list ap) TB_PRINTF(2, 0);
void tb_arena_reset(struct tb_arena *a);               /* frees every chunk */
#define tb_arena_fini tb_arena_reset

#endif
