/* test_ring.c - the reader-to-worker ring of -j: order, contents across the
 * wrap, and two threads that keep blocking on a small ring. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "tlsblame/ring.h"

/* Entry i: its number, then bytes derived from it; sizes vary so the wrap falls anywhere. */
static size_t entry_len(uint32_t i)
{
    return 8 + (i * 2654435761u >> 7) % 3000;
}

static void fill(uint8_t *p, uint32_t i, size_t len)
{
    memcpy(p, &i, 4);
    for (size_t k = 4; k < len; k++) {
        p[k] = (uint8_t)(i + k * 7);
    }
}

static int check(const uint8_t *p, uint32_t i, size_t len)
{
    uint32_t got;

    memcpy(&got, p, 4);
    if (got != i || len != entry_len(i)) {
        return 0;
    }
    for (size_t k = 4; k < len; k++) {
        if (p[k] != (uint8_t)(i + k * 7)) {
            return 0;
        }
    }
    return 1;
}

static void test_one_thread_wraps(void **state)
{
    struct tb_ring *r = tb_ring_new(64 * 1024);
    uint32_t next_in = 0, next_out = 0;

    (void)state;
    assert_non_null(r);
    /* Fill a little, drain a little, many times over: every offset of the wrap. */
    for (int round = 0; round < 2000; round++) {
        for (int k = 0; k < 3; k++) {
            size_t len = entry_len(next_in);
            if (!tb_ring_has_room(r, len)) {
                break;
            }
            fill(tb_ring_reserve(r, len), next_in, len);
            tb_ring_commit(r);
            next_in++;
        }
        tb_ring_flush(r);
        for (int k = 0; k < 2 && next_out < next_in; k++) {
            size_t len;
            const uint8_t *p = tb_ring_next(r, &len);
            assert_true(check(p, next_out, len));
            tb_ring_release(r);
            next_out++;
        }
    }
    assert_true(next_in > 3000);
    assert_int_equal(tb_ring_committed(r), next_in);
    assert_int_equal(tb_ring_consumed(r), next_out);
    tb_ring_free(r);
}

#define MANY 200000u

static void *producer(void *arg)
{
    struct tb_ring *r = arg;

    for (uint32_t i = 0; i < MANY; i++) {
        size_t len = entry_len(i);
        fill(tb_ring_reserve(r, len), i, len);
        tb_ring_commit(r);
    }
    tb_ring_flush(r);
    return NULL;
}

static void test_two_threads_block_and_wake(void **state)
{
    struct tb_ring *r = tb_ring_new(16 * 1024); /* a few entries: both sides wait often */
    pthread_t tid;
    uint32_t bad = 0;

    (void)state;
    assert_non_null(r);
    alarm(60); /* a lost wake-up would hang here: fail instead */
    assert_int_equal(pthread_create(&tid, NULL, producer, r), 0);
    for (uint32_t i = 0; i < MANY; i++) {
        size_t len;
        const uint8_t *p = tb_ring_next(r, &len);
        bad += check(p, i, len) ? 0 : 1;
        tb_ring_release(r);
    }
    pthread_join(tid, NULL);
    alarm(0);
    assert_int_equal(bad, 0);
    assert_int_equal(tb_ring_consumed(r), MANY);
    tb_ring_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_thread_wraps),
        cmocka_unit_test(test_two_threads_block_and_wake),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
