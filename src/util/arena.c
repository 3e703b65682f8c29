/*
 * arena.c - capped bump allocator for per-session strings. Chunks are
 * malloc'd on demand (a session with no certificates costs almost nothing);
 * the cap bounds what one hostile session can make us hold.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tlsblame/arena.h"

#define ARENA_CHUNK_MIN 4096

struct tb_arena_chunk {
    struct tb_arena_chunk *next;
    size_t size, used;
    max_align_t align[]; /* payload */
};

void tb_arena_init(struct tb_arena *a, size_t cap)
{
    a->head = NULL;
    a->used_total = 0;
    a->cap = cap;
    a->over_cap = 0;
}

void *tb_arena_alloc(struct tb_arena *a, size_t n)
{
    const size_t align = sizeof(max_align_t);
    size_t want = (n + align - 1) / align * align;
    struct tb_arena_chunk *c = a->head;

    if (want < n || want > a->cap - a->used_total || a->used_total > a->cap) {
        a->over_cap = 1;
        return NULL;
    }
    if (c == NULL || c->size - c->used < want) {
        size_t size = want > ARENA_CHUNK_MIN ? want : ARENA_CHUNK_MIN;
        c = malloc(sizeof *c + size);
        if (c == NULL) {
            return NULL;
        }
        c->size = size;
        c->used = 0;
        c->next = a->head;
        a->head = c;
    }
    void *p = (char *)c->align + c->used;
    c->used += want;
    a->used_total += want;
    memset(p, 0, n);
    return p;
}

void *tb_arena_memdup(struct tb_arena *a, const void *p, size_t n)
{
    void *q = tb_arena_alloc(a, n == 0 ? 1 : n);

    if (q != NULL && n > 0) {
        memcpy(q, p, n);
    }
    return q;
}

char *tb_arena_strndup(struct tb_arena *a, const char *s, size_t n)
{
    char *q;

    if (s == NULL) {
        return NULL;
    }
    q = tb_arena_alloc(a, n + 1);
    if (q == NULL) {
        return NULL;
    }
    memcpy(q, s, n);
    q[n] = '\0';
    return q;
}

char *tb_arena_strdup(struct tb_arena *a, const char *s)
{
    return s == NULL ? NULL : tb_arena_strndup(a, s, strlen(s));
}

char *tb_arena_vprintf(struct tb_arena *a, const char *fmt, va_list ap)
{
    va_list ap2;
    int n;
    char *q;

    va_copy(ap2, ap);
    n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0) {
        return NULL;
    }
    q = tb_arena_alloc(a, (size_t)n + 1);
    if (q == NULL) {
        return NULL;
    }
    (void)vsnprintf(q, (size_t)n + 1, fmt, ap); /* length measured above */
    return q;
}

char *tb_arena_printf(struct tb_arena *a, const char *fmt, ...)
{
    va_list ap;
    char *q;

    va_start(ap, fmt);
    q = tb_arena_vprintf(a, fmt, ap);
    va_end(ap);
    return q;
}

void tb_arena_reset(struct tb_arena *a)
{
    struct tb_arena_chunk *c = a->head;

    while (c != NULL) {
        struct tb_arena_chunk *next = c->next;
        free(c);
        c = next;
    }
    a->head = NULL;
    a->used_total = 0;
    a->over_cap = 0;
}
