/* test_reasm.c - TCP reassembly with hand-built segments. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tlsblame/reasm.h"

struct sink {
    uint8_t bytes[8192];
    size_t len;
    uint64_t gaps, gap_bytes, conflicts;
    uint64_t last_frame;
};

static void sink_deliver(void *ctx, enum tb_dir dir, const uint8_t *bytes, size_t len,
                         uint64_t frame, int64_t ts_us)
{
    struct sink *s = ctx;
    (void)dir;
    (void)ts_us;
    if (s->len + len <= sizeof s->bytes) {
        memcpy(s->bytes + s->len, bytes, len);
    }
    s->len += len;
    s->last_frame = frame;
}

static void sink_gap(void *ctx, enum tb_dir dir, uint64_t missing, uint64_t frame, int64_t ts_us)
{
    struct sink *s = ctx;
    (void)dir;
    (void)frame;
    (void)ts_us;
    s->gaps++;
    s->gap_bytes += missing;
}

static void sink_conflict(void *ctx, enum tb_dir dir, uint64_t frame)
{
    struct sink *s = ctx;
    (void)dir;
    (void)frame;
    s->conflicts++;
}

static const struct tb_reasm_ops ops = {sink_deliver, sink_gap, sink_conflict};

struct fixture {
    struct sink sink;
    struct tb_reasm_dir d;
    size_t total;
    struct tb_reasm_ctx rc;
};

static void setup_fixture(struct fixture *f)
{
    memset(f, 0, sizeof *f);
    tb_reasm_init(&f->d);
    f->rc.ops = &ops;
    f->rc.ctx = &f->sink;
    f->rc.ooo_total = &f->total;
    f->rc.ooo_total_max = 1u << 30;
}

static const uint8_t text[] = "abcdefghijklmnopqrstuvwxyz0123456789";

static void add(struct fixture *f, uint32_t seq, size_t off, size_t len, uint64_t frame)
{
    tb_reasm_add(&f->d, TB_DIR_C2S, seq, text + off, len, 0, frame, 0, &f->rc);
}

static void test_in_order(void **state)
{
    struct fixture f;
    (void)state;
    setup_fixture(&f);
    tb_reasm_syn(&f.d, 999);
    add(&f, 1000, 0, 10, 1);
    add(&f, 1010, 10, 10, 2);
    add(&f, 1020, 20, 16, 3);
    assert_int_equal(f.sink.len, 36);
    assert_memory_equal(f.sink.bytes, text, 36);
    assert_int_equal(f.sink.gaps, 0);
    tb_reasm_fini(&f.d, &f.rc);
}

/* Every permutation of four segments delivers the same bytes once. */
static void test_permutations(void **state)
{
    static const int perms[][4] = {{0, 1, 2, 3}, {3, 2, 1, 0}, {1, 0, 3, 2}, {2, 0, 3, 1},
                                   {3, 0, 1, 2}, {1, 3, 0, 2}, {2, 3, 1, 0}, {0, 3, 2, 1}};
    (void)state;
    for (size_t p = 0; p < sizeof perms / sizeof perms[0]; p++) {
        struct fixture f;
        setup_fixture(&f);
        tb_reasm_syn(&f.d, 99);
        for (int i = 0; i < 4; i++) {
            int k = perms[p][i];
            add(&f, 100 + (uint32_t)k * 9, (size_t)k * 9, 9, (uint64_t)i + 1);
        }
        assert_int_equal(f.sink.len, 36);
        assert_memory_equal(f.sink.bytes, text, 36);
        assert_int_equal(f.sink.conflicts, 0);
        assert_int_equal(f.total, 0);
        tb_reasm_fini(&f.d, &f.rc);
    }
}

static void test_retransmission_same_bytes(void **state)
{
    struct fixture f;
    (void)state;
    setup_fixture(&f);
    tb_reasm_syn(&f.d, 0);
    add(&f, 1, 0, 10, 1);
    add(&f, 1, 0, 10, 2);  /* exact copy */
    add(&f, 6, 5, 10, 3);  /* overlaps 5 old, 5 new */
    assert_int_equal(f.sink.len, 15);
    assert_memory_equal(f.sink.bytes, text, 15);
    assert_int_equal(f.sink.conflicts, 0);
    tb_reasm_fini(&f.d, &f.rc);
}

static void test_retransmission_different_bytes(void **state)
{
    struct fixture f;
    uint8_t evil[10];
    (void)state;
    setup_fixture(&f);
    tb_reasm_syn(&f.d, 0);
    add(&f, 1, 0, 10, 1);
    memcpy(evil, text, 10);
    evil[4] = 'X';
    tb_reasm_add(&f.d, TB_DIR_C2S, 1, evil, 10, 0, 2, 0, &f.rc);
    assert_int_equal(f.sink.len, 10);
    assert_memory_equal(f.sink.bytes, text, 10); /* first copy wins */
    assert_int_equal(f.sink.conflicts, 1);
    tb_reasm_fini(&f.d, &f.rc);
}

static void test_held_overlap_conflict(void **state)
{
    struct fixture f;
    uint8_t evil[5] = {'Q', 'Q', 'Q', 'Q', 'Q'};
    (void)state;
    setup_fixture(&f);
    tb_reasm_syn(&f.d, 0);
    add(&f, 11, 10, 5, 1); /* held */
    tb_reasm_add(&f.d, TB_DIR_C2S, 11, evil, 5, 0, 2, 0, &f.rc);
    add(&f, 1, 0, 10, 3);
    assert_int_equal(f.sink.len, 15);
    assert_memory_equal(f.sink.bytes, text, 15);
    assert_int_equal(f.sink.conflicts, 1);
    tb_reasm_fini(&f.d, &f.rc);
}

static void test_wraparound(void **state)
{
    struct fixture f;
    (void)state;
    setup_fixture(&f);
    tb_reasm_syn(&f.d, 0xfffffff0u);
    add(&f, 0xfffffffcu, 11, 10, 2); /* held, crosses 2^32 */
    add(&f, 0xfffffff1u, 0, 10, 1);
    add(&f, 0xfffffffbu, 10, 1, 3);
    assert_int_equal(f.sink.len, 21);
    assert_memory_equal(f.sink.bytes, text, 21);
    tb_reasm_fini(&f.d, &f.rc);
}

static void test_gap_proved_by_ack(void **state)
{
    struct fixture f;
    (void)state;
    setup_fixture(&f);
    tb_reasm_syn(&f.d, 0);
    add(&f, 1, 0, 5, 1);
    add(&f, 11, 10, 5, 3); /* bytes 6..10 never captured */
    assert_int_equal(f.sink.len, 5);
    tb_reasm_ack(&f.d, TB_DIR_C2S, 16, 4, 0, &f.rc);
    assert_int_equal(f.sink.gaps, 1);
    assert_int_equal(f.sink.gap_bytes, 5);
    assert_int_equal(f.sink.len, 10);
    assert_memory_equal(f.sink.bytes + 5, text + 10, 5);
    tb_reasm_fini(&f.d, &f.rc);
}

static void test_gap_at_flush(void **state)
{
    struct fixture f;
    (void)state;
    setup_fixture(&f);
    tb_reasm_syn(&f.d, 0);
    add(&f, 1, 0, 5, 1);
    add(&f, 21, 20, 5, 2);
    tb_reasm_flush(&f.d, TB_DIR_C2S, 3, 0, &f.rc);
    assert_int_equal(f.sink.gaps, 1);
    assert_int_equal(f.sink.gap_bytes, 15);
    assert_int_equal(f.sink.len, 10);
    assert_int_equal(f.total, 0);
    tb_reasm_fini(&f.d, &f.rc);
}

static void test_acked_unseen_tail(void **state)
{
    struct fixture f;
    (void)state;
    setup_fixture(&f);
    tb_reasm_syn(&f.d, 0);
    add(&f, 1, 0, 5, 1);
    tb_reasm_ack(&f.d, TB_DIR_C2S, 31, 2, 0, &f.rc); /* peer got 25 bytes we never saw */
    assert_int_equal(f.sink.gaps, 0);
    tb_reasm_flush(&f.d, TB_DIR_C2S, 3, 0, &f.rc);
    assert_int_equal(f.sink.gap_bytes, 25);
    tb_reasm_fini(&f.d, &f.rc);
}

static void test_fin_not_a_gap(void **state)
{
    struct fixture f;
    (void)state;
    setup_fixture(&f);
    tb_reasm_syn(&f.d, 0);
    add(&f, 1, 0, 5, 1);
    tb_reasm_fin(&f.d, 6);
    tb_reasm_ack(&f.d, TB_DIR_C2S, 7, 2, 0, &f.rc); /* ACK of the FIN */
    tb_reasm_flush(&f.d, TB_DIR_C2S, 3, 0, &f.rc);
    assert_int_equal(f.sink.gaps, 0);
    tb_reasm_fini(&f.d, &f.rc);
}

static void test_snaplen_cut(void **state)
{
    struct fixture f;
    (void)state;
    setup_fixture(&f);
    tb_reasm_syn(&f.d, 0);
    tb_reasm_add(&f.d, TB_DIR_C2S, 1, text, 5, 20, 1, 0, &f.rc); /* 25 sent, 5 captured */
    add(&f, 26, 25, 5, 2);
    assert_int_equal(f.sink.gaps, 1);
    assert_int_equal(f.sink.gap_bytes, 20);
    assert_int_equal(f.sink.len, 10);
    tb_reasm_fini(&f.d, &f.rc);
}

static void test_stop_counts_only(void **state)
{
    struct fixture f;
    (void)state;
    setup_fixture(&f);
    tb_reasm_syn(&f.d, 0);
    add(&f, 1, 0, 5, 1);
    tb_reasm_stop(&f.d, &f.rc);
    add(&f, 20, 19, 5, 2); /* out of order after stop: not held */
    add(&f, 6, 5, 5, 3);
    assert_int_equal(f.sink.len, 5);
    assert_int_equal(f.total, 0);
    tb_reasm_fini(&f.d, &f.rc);
}

static void test_hold_cap(void **state)
{
    struct fixture f;
    static uint8_t big[1400];
    (void)state;
    setup_fixture(&f);
    memset(big, 'z', sizeof big);
    tb_reasm_syn(&f.d, 0);
    /* A hole at byte 1 that never fills, then far more data than the cap. */
    for (uint32_t i = 0; i < 2000; i++) {
        tb_reasm_add(&f.d, TB_DIR_C2S, 1000 + i * 1400u, big, sizeof big, 0, i, 0, &f.rc);
    }
    assert_true(f.d.ooo_bytes <= 1024u * 1024u);
    assert_true(f.sink.gaps >= 1);
    tb_reasm_fini(&f.d, &f.rc);
    assert_int_equal(f.total, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_in_order),
        cmocka_unit_test(test_permutations),
        cmocka_unit_test(test_retransmission_same_bytes),
        cmocka_unit_test(test_retransmission_different_bytes),
        cmocka_unit_test(test_held_overlap_conflict),
        cmocka_unit_test(test_wraparound),
        cmocka_unit_test(test_gap_proved_by_ack),
        cmocka_unit_test(test_gap_at_flush),
        cmocka_unit_test(test_acked_unseen_tail),
        cmocka_unit_test(test_fin_not_a_gap),
        cmocka_unit_test(test_snaplen_cut),
        cmocka_unit_test(test_stop_counts_only),
        cmocka_unit_test(test_hold_cap),
    };
    return cmocka_run_group_tests_name("reasm", tests, NULL, NULL);
}
