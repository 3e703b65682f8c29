/*
 * memo.c - per-thread memo tables (memo.h). A table is an array of slots,
 * each [key length][value length][key_max bytes][value_max bytes], hanging
 * off a thread-local pointer; a pthread key frees them when the thread
 * ends (the main thread's live until the process exits).
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "tlsblame/hash.h"
#include "tlsblame/memo.h"

struct slot_head {
    uint32_t key_len; /* 0: empty */
    uint32_t value_len;
};

struct memo_tables {
    unsigned char *t[TB_MEMO_TABLES];
};

static _Thread_local struct memo_tables *mine;
static pthread_key_t memo_key;
static pthread_once_t memo_once = PTHREAD_ONCE_INIT;
static bool memo_key_ok;

static void memo_free(void *p)
{
    struct memo_tables *m = p;

    for (int i = 0; i < TB_MEMO_TABLES; i++) {
        free(m->t[i]);
    }
    free(m);
}

static void memo_key_init(void)
{
    memo_key_ok = pthread_key_create(&memo_key, memo_free) == 0;
}

static size_t slot_size(const struct tb_memo_shape *t)
{
    return sizeof(struct slot_head) + t->key_max + t->value_max;
}

/* The slot for key in the calling thread's table (made on first use), or NULL. */
static unsigned char *slot_for(const struct tb_memo_shape *t, const void *key, size_t key_len)
{
    if (key_len == 0 || key_len > t->key_max) {
        return NULL;
    }
    if (mine == NULL) {
        (void)pthread_once(&memo_once, memo_key_init);
        if (!memo_key_ok) {
            return NULL;
        }
        mine = calloc(1, sizeof *mine);
        if (mine == NULL || pthread_setspecific(memo_key, mine) != 0) {
            free(mine);
            mine = NULL;
            return NULL;
        }
    }
    if (mine->t[t->which] == NULL) {
        mine->t[t->which] = calloc(t->slots, slot_size(t));
        if (mine->t[t->which] == NULL) {
            return NULL;
        }
    }
    return mine->t[t->which] + (tb_hash_fnv1a(key, key_len) % t->slots) * slot_size(t);
}

const void *tb_memo_get(const struct tb_memo_shape *t, const void *key, size_t key_len,
                        size_t *value_len)
{
    unsigned char *slot = slot_for(t, key, key_len);
    struct slot_head h;

    if (slot == NULL) {
        return NULL;
    }
    memcpy(&h, slot, sizeof h);
    if (h.key_len != key_len || memcmp(slot + sizeof h, key, key_len) != 0) {
        return NULL;
    }
    *value_len = h.value_len;
    return slot + sizeof h + t->key_max;
}

void tb_memo_put(const struct tb_memo_shape *t, const void *key, size_t key_len, const void *value,
                 size_t value_len)
{
    unsigned char *slot = value_len <= t->value_max ? slot_for(t, key, key_len) : NULL;
    struct slot_head h = {(uint32_t)key_len, (uint32_t)value_len};

    if (slot != NULL) {
        memcpy(slot, &h, sizeof h);
        memcpy(slot + sizeof h, key, key_len);
        memcpy(slot + sizeof h + t->key_max, value, value_len);
    }
}
