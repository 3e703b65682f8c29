/*
 * memo.c - per-thread memo tables (memo.h). The tables hang off a
 * thread-local pointer, and a pthread key frees them when the thread
 * ends; the main thread's live until the process exits.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "tlsblame/hash.h"
#include "tlsblame/memo.h"

struct memo_tables {
    void *t[TB_MEMO_TABLES];
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

void *tb_memo_table(enum tb_memo_table which, size_t bytes)
{
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
    if (mine->t[which] == NULL) {
        mine->t[which] = calloc(1, bytes);
    }
    return mine->t[which];
}

uint32_t tb_memo_hash(const void *p, size_t n)
{
    return (uint32_t)tb_hash_fnv1a(p, n);
}
