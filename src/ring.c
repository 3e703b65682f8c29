/*
 * ring.c - the SPSC entry ring of ring.h. Positions are byte counters that
 * only grow (64 bits do not wrap); an entry that would cross the end of the
 * buffer is preceded by a padding entry that takes the rest of it.
 *
 * The two sides share as little as they can: each keeps its index on a
 * cache line of its own and a stale copy of the other's, re-read only when
 * the copy says full or empty; the producer publishes entries in batches
 * (tb_ring_flush, or every PUBLISH_EVERY entries, or before it waits).
 * Waiting spins briefly, then sleeps on a condition variable; a side wakes
 * the other only when that one said it sleeps (a flag per side, sequentially
 * consistent with the indexes, so a wake-up cannot be lost).
 */
#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "tlsblame/ring.h"

#define HDR 8u               /* uint32 length (0: padding to the end) + uint32 size */
#define SPIN 20
#define PUBLISH_EVERY 32

enum { CONSUMER = 0, PRODUCER = 1 };

struct tb_ring {
    uint8_t *buf;
    size_t cap;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    alignas(64) _Atomic bool sleeping[2];
    /* producer's line */
    alignas(64) _Atomic uint64_t head;   /* bytes published */
    _Atomic uint64_t entries_in;         /* entries published */
    uint64_t wpos;                       /* end of the last reserved entry */
    uint64_t unpublished_pos, unpublished_entries;
    uint64_t tail_seen;
    /* consumer's line */
    alignas(64) _Atomic uint64_t tail;   /* bytes released */
    _Atomic uint64_t entries_out;
    uint64_t rpos;                       /* end of the entry handed out */
    uint64_t head_seen;
    uint64_t released;                   /* entries_out, as the consumer counts it */
};

struct tb_ring *tb_ring_new(size_t capacity)
{
    struct tb_ring *r = aligned_alloc(64, (sizeof(struct tb_ring) + 63) & ~(size_t)63);

    if (r == NULL) {
        return NULL;
    }
    memset(r, 0, sizeof *r);
    r->cap = (capacity + 7) & ~(size_t)7;
    r->buf = malloc(r->cap);
    if (r->buf == NULL) {
        free(r);
        return NULL;
    }
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->cond, NULL);
    return r;
}

void tb_ring_free(struct tb_ring *r)
{
    if (r == NULL) {
        return;
    }
    pthread_mutex_destroy(&r->lock);
    pthread_cond_destroy(&r->cond);
    free(r->buf);
    free(r);
}

size_t tb_ring_max_entry(const struct tb_ring *r)
{
    return r->cap / 4 - HDR;
}

static inline void spin_pause(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/* Wait until ready(r) holds; who sleeps under its flag (there may be more threads than cores:
 * spinning long would take the core from the thread it waits for). */
static void wait_for(struct tb_ring *r, bool (*ready)(struct tb_ring *), int who)
{
    for (int i = 0; i < SPIN; i++) {
        if (ready(r)) {
            return;
        }
        spin_pause();
    }
    pthread_mutex_lock(&r->lock);
    while (!ready(r)) {
        atomic_store(&r->sleeping[who], true);
        if (ready(r)) {
            break;
        }
        pthread_cond_wait(&r->cond, &r->lock);
    }
    atomic_store(&r->sleeping[who], false);
    pthread_mutex_unlock(&r->lock);
}

static void wake(struct tb_ring *r, int who)
{
    if (atomic_load(&r->sleeping[who])) {
        pthread_mutex_lock(&r->lock);
        pthread_cond_broadcast(&r->cond);
        pthread_mutex_unlock(&r->lock);
    }
}

/* Sleeping producer: wake it only once a good share is free, not for every entry. */
static bool room_to_wake(struct tb_ring *r)
{
    return r->cap - (atomic_load(&r->head) - atomic_load(&r->tail)) >= r->cap / 4;
}

static bool has_room(struct tb_ring *r)
{
    if (r->wpos - r->tail_seen <= r->cap) {
        return true;
    }
    r->tail_seen = atomic_load(&r->tail);
    return r->wpos - r->tail_seen <= r->cap;
}

static bool has_data(struct tb_ring *r)
{
    if (r->head_seen > r->rpos) {
        return true;
    }
    r->head_seen = atomic_load(&r->head);
    return r->head_seen > r->rpos;
}

void tb_ring_flush(struct tb_ring *r)
{
    if (r->unpublished_entries == 0 && r->unpublished_pos == atomic_load_explicit(&r->head, memory_order_relaxed)) {
        return;
    }
    atomic_fetch_add(&r->entries_in, r->unpublished_entries);
    r->unpublished_entries = 0;
    atomic_store(&r->head, r->unpublished_pos);
    wake(r, CONSUMER);
}

static bool has_room_to_resume(struct tb_ring *r)
{
    return has_room(r) && room_to_wake(r);
}

/* Room up to r->wpos: publish first, so the consumer is not left waiting for what we hold;
 * then wait for a quarter of the ring, so that each wake-up is worth its context switch. */
static void wait_room(struct tb_ring *r)
{
    if (!has_room(r)) {
        tb_ring_flush(r);
        wait_for(r, has_room_to_resume, PRODUCER);
    }
}

bool tb_ring_has_room(struct tb_ring *r, size_t len)
{
    size_t need = HDR + ((len + 7) & ~(size_t)7);
    size_t at = (size_t)(r->unpublished_pos % r->cap);
    uint64_t end = r->unpublished_pos + need + (at + need > r->cap ? r->cap - at : 0);

    if (end - r->tail_seen <= r->cap) {
        return true;
    }
    r->tail_seen = atomic_load(&r->tail);
    return end - r->tail_seen <= r->cap;
}

void *tb_ring_reserve(struct tb_ring *r, size_t len)
{
    size_t need = HDR + ((len + 7) & ~(size_t)7);
    uint64_t start = r->unpublished_pos;
    size_t at = (size_t)(start % r->cap);

    if (at + need > r->cap) {
        /* Pad to the end: the entry starts at the beginning of the buffer. */
        r->wpos = start + (r->cap - at);
        wait_room(r);
        uint32_t pad[2] = {0, (uint32_t)(r->cap - at)};
        memcpy(r->buf + at, pad, sizeof pad);
        r->unpublished_pos = r->wpos;
        start = r->wpos;
        at = 0;
    }
    r->wpos = start + need;
    wait_room(r);
    uint32_t hdr[2] = {(uint32_t)len, (uint32_t)need};
    memcpy(r->buf + at, hdr, sizeof hdr);
    return r->buf + at + HDR;
}

void tb_ring_commit(struct tb_ring *r)
{
    r->unpublished_pos = r->wpos;
    if (++r->unpublished_entries >= PUBLISH_EVERY) {
        tb_ring_flush(r);
    }
}

uint64_t tb_ring_committed(struct tb_ring *r)
{
    return atomic_load(&r->entries_in);
}

const void *tb_ring_next(struct tb_ring *r, size_t *len)
{
    for (;;) {
        uint64_t pos = atomic_load_explicit(&r->tail, memory_order_relaxed);
        r->rpos = pos;
        if (!has_data(r)) {
            wait_for(r, has_data, CONSUMER);
        }
        size_t at = (size_t)(pos % r->cap);
        uint32_t hdr[2];
        memcpy(hdr, r->buf + at, sizeof hdr);
        r->rpos = pos + hdr[1];
        if (hdr[0] == 0 && at + hdr[1] == r->cap) {
            /* Padding: skip to the start of the buffer. */
            atomic_store(&r->tail, r->rpos);
            wake(r, PRODUCER);
            continue;
        }
        *len = hdr[0];
        return r->buf + at + HDR;
    }
}

bool tb_ring_empty(struct tb_ring *r)
{
    return !has_data(r); /* anything past the entry handed out (rpos is its end) */
}

void tb_ring_release(struct tb_ring *r)
{
    atomic_store_explicit(&r->entries_out, ++r->released, memory_order_release);
    atomic_store(&r->tail, r->rpos);
    if (atomic_load(&r->sleeping[PRODUCER]) && room_to_wake(r)) {
        wake(r, PRODUCER);
    }
}

uint64_t tb_ring_consumed(struct tb_ring *r)
{
    return atomic_load(&r->entries_out);
}
