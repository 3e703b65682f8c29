#ifndef TLSBLAME_RING_H
#define TLSBLAME_RING_H
/*
 * ring.h - a single-producer, single-consumer ring of variable-sized
 * entries, for -j on one capture: the reader thread hands each worker its
 * flows' packets. Entries are contiguous (never split at the wrap) and
 * 8-byte aligned. Both sides block, without spinning long, when the ring
 * is full or empty: there may be more threads than cores.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tb_ring;

/* capacity: bytes; an entry may not exceed a quarter of it. */
struct tb_ring *tb_ring_new(size_t capacity);
void tb_ring_free(struct tb_ring *r);
size_t tb_ring_max_entry(const struct tb_ring *r);

/*
 * Producer: room for len > 0 bytes (waits while full, after publishing what
 * it holds); commit the entry written there. Committed entries are published
 * in batches: tb_ring_flush publishes them now.
 */
void *tb_ring_reserve(struct tb_ring *r, size_t len);
/* Would tb_ring_reserve(r, len) return without waiting? */
bool tb_ring_has_room(struct tb_ring *r, size_t len);
void tb_ring_commit(struct tb_ring *r);
void tb_ring_flush(struct tb_ring *r);
/* Entries published so far (the consumer's tb_ring_consumed catches up with it). */
uint64_t tb_ring_committed(struct tb_ring *r);

/* Consumer: the next entry and its length (waits while empty); then release it. */
const void *tb_ring_next(struct tb_ring *r, size_t *len);
/* Consumer, between entries: would tb_ring_next wait? */
bool tb_ring_empty(struct tb_ring *r);
void tb_ring_release(struct tb_ring *r);
/* Entries the consumer has released (finished with). */
uint64_t tb_ring_consumed(struct tb_ring *r);

#endif
