/*
 * certcache.c - each distinct certificate DER is parsed once. A capture of a
 * million handshakes against one server carries the same few certificates a
 * million times, so the hit path must be cheap: a 64-bit multiply-xor hash of
 * the DER (no SHA-256; that is computed once, on insert), then length and
 * memcmp to confirm. Entries are refcounted by the sessions holding them and
 * evicted least recently used beyond max_entries, but only when no session
 * holds them: a cert a session still points to is never freed.
 *
 * One cache per worker thread: no locking, and mbedTLS key objects (which
 * cache values on first use) are never shared between threads.
 */
#include <assert.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "tlsblame/reader.h"
#include "x509_int.h"

struct entry {
    struct tb_cert cert; /* first: tb_cert_release() maps a cert back to its entry */
    struct tb_cert_rendered rendered;
    uint64_t hash;
    size_t refs;
    struct entry *chain;       /* next in the bucket */
    struct entry *lru_prev;    /* towards most recently used */
    struct entry *lru_next;    /* towards least recently used */
};

struct tb_certcache {
    struct entry **buckets;
    size_t bucket_count; /* power of two */
    size_t max_entries;
    size_t entries;
    struct entry *mru, *lru;
    uint64_t hits, misses;
};

/* Multiply-xor over 8-byte words with a murmur3 finaliser: not cryptographic, just fast. */
static uint64_t der_hash(const uint8_t *der, size_t len)
{
    const uint64_t k = 0x9e3779b97f4a7c15ull;
    struct tb_reader r = tb_rd_init(der, len);
    uint64_t h = k ^ (uint64_t)len;

    while (tb_rd_left(&r) >= 8) {
        uint64_t w;
        tb_rd_copy(&r, &w, sizeof w);
        h = (h ^ w) * k;
        h ^= h >> 29;
    }
    while (tb_rd_left(&r) > 0) {
        h = (h ^ tb_rd_u8(&r)) * k;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return h;
}

struct tb_certcache *tb_certcache_new(size_t max_entries)
{
    struct tb_certcache *cache = calloc(1, sizeof *cache);
    size_t n = 64;

    if (cache == NULL) {
        return NULL;
    }
    if (max_entries == 0) {
        max_entries = 1;
    }
    while (n < max_entries && n < ((size_t)1 << 24)) {
        n *= 2;
    }
    cache->buckets = calloc(n, sizeof *cache->buckets);
    if (cache->buckets == NULL) {
        free(cache);
        return NULL;
    }
    cache->bucket_count = n;
    cache->max_entries = max_entries;
    return cache;
}

static void lru_unlink(struct tb_certcache *cache, struct entry *e)
{
    if (e->lru_prev != NULL) {
        e->lru_prev->lru_next = e->lru_next;
    } else {
        cache->mru = e->lru_next;
    }
    if (e->lru_next != NULL) {
        e->lru_next->lru_prev = e->lru_prev;
    } else {
        cache->lru = e->lru_prev;
    }
    e->lru_prev = e->lru_next = NULL;
}

static void lru_push_front(struct tb_certcache *cache, struct entry *e)
{
    e->lru_prev = NULL;
    e->lru_next = cache->mru;
    if (cache->mru != NULL) {
        cache->mru->lru_prev = e;
    }
    cache->mru = e;
    if (cache->lru == NULL) {
        cache->lru = e;
    }
}

static void entry_free(struct tb_certcache *cache, struct entry *e)
{
    struct entry **pp = &cache->buckets[e->hash & (cache->bucket_count - 1)];

    while (*pp != e) {
        assert(*pp != NULL);
        pp = &(*pp)->chain;
    }
    *pp = e->chain;
    lru_unlink(cache, e);
    tb_x509_cert_fini(&e->cert);
    free(e->rendered.json);
    free(e);
    cache->entries--;
}

/* Drop unreferenced entries from the cold end until the cache is within its size. */
static void evict(struct tb_certcache *cache)
{
    struct entry *e = cache->lru;

    while (cache->entries > cache->max_entries && e != NULL) {
        struct entry *warmer = e->lru_prev;
        if (e->refs == 0) {
            entry_free(cache, e);
        }
        e = warmer;
    }
}

void tb_certcache_free(struct tb_certcache *cache)
{
    if (cache == NULL) {
        return;
    }
    while (cache->mru != NULL) {
        entry_free(cache, cache->mru);
    }
    free(cache->buckets);
    free(cache);
}

const struct tb_cert *tb_certcache_get(struct tb_certcache *cache, const uint8_t *der, size_t len)
{
    uint64_t h = der_hash(der, len);
    struct entry **bucket = &cache->buckets[h & (cache->bucket_count - 1)];

    for (struct entry *e = *bucket; e != NULL; e = e->chain) {
        if (e->hash == h && e->cert.der_len == len &&
            (len == 0 || memcmp(e->cert.der, der, len) == 0)) {
            cache->hits++;
            e->refs++;
            lru_unlink(cache, e);
            lru_push_front(cache, e);
            return &e->cert;
        }
    }
    cache->misses++;
    struct entry *e = calloc(1, sizeof *e);
    if (e == NULL) {
        return NULL;
    }
    if (tb_x509_cert_init(&e->cert, der, len) != TB_OK) {
        free(e);
        return NULL;
    }
    e->cert.rendered = &e->rendered;
    e->hash = h;
    e->refs = 1;
    e->chain = *bucket;
    *bucket = e;
    lru_push_front(cache, e);
    cache->entries++;
    evict(cache);
    return &e->cert;
}

void tb_cert_release(struct tb_certcache *cache, const struct tb_cert *cert)
{
    if (cert == NULL) {
        return;
    }
    /* cert is the first member of its entry, handed out by tb_certcache_get. */
    struct entry *e = (struct entry *)(uintptr_t)cert;
    assert(e->refs > 0);
    e->refs--;
    if (e->refs == 0) {
        evict(cache);
    }
}

void tb_certcache_stats(const struct tb_certcache *cache, uint64_t *hits, uint64_t *misses,
                        size_t *entries)
{
    if (hits != NULL) {
        *hits = cache->hits;
    }
    if (misses != NULL) {
        *misses = cache->misses;
    }
    if (entries != NULL) {
        *entries = cache->entries;
    }
}
