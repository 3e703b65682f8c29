/* test_flow.c - the flow table's ends: by the capture clock (timestamps that
 * run backwards do not end flows), earliest deadline first, with the keys
 * that let -j workers be merged into one order; held bytes flushed at the
 * flow's own last frame. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tlsblame/flow.h"

struct ended {
    int who;
    enum tb_flow_end why;
    struct tb_end_key key;
};

struct rec {
    struct tb_flowtab *ft;
    int opened;
    struct ended ends[16];
    int n_ends;
    uint64_t deliver_frames[16];
    int n_delivers;
};

static int ids[64];

static void *r_open(void *ctx, struct tb_flow *f, const struct tb_pkt *pkt, uint64_t frame,
                    int64_t ts_us)
{
    struct rec *r = ctx;
    (void)f;
    (void)pkt;
    (void)frame;
    (void)ts_us;
    ids[r->opened] = r->opened;
    return &ids[r->opened++];
}

static void r_packet(void *ctx, void *owner, enum tb_dir dir, const struct tb_pkt *pkt,
                     uint64_t frame, int64_t ts_us)
{
    (void)ctx, (void)owner, (void)dir, (void)pkt, (void)frame, (void)ts_us;
}

static void r_deliver(void *ctx, void *owner, enum tb_dir dir, const uint8_t *bytes, size_t len,
                      uint64_t frame, int64_t ts_us)
{
    struct rec *r = ctx;
    (void)owner, (void)dir, (void)bytes, (void)len, (void)ts_us;
    if (r->n_delivers < 16) {
        r->deliver_frames[r->n_delivers++] = frame;
    }
}

static void r_gap(void *ctx, void *owner, enum tb_dir dir, uint64_t missing, uint64_t frame,
                  int64_t ts_us)
{
    (void)ctx, (void)owner, (void)dir, (void)missing, (void)frame, (void)ts_us;
}

static void r_conflict(void *ctx, void *owner, enum tb_dir dir, uint64_t frame)
{
    (void)ctx, (void)owner, (void)dir, (void)frame;
}

static void r_close(void *ctx, void *owner, enum tb_dir dir, bool rst, uint64_t frame,
                    int64_t ts_us)
{
    (void)ctx, (void)owner, (void)dir, (void)rst, (void)frame, (void)ts_us;
}

static bool r_wants(void *ctx, void *owner, enum tb_dir dir)
{
    (void)ctx, (void)owner, (void)dir;
    return true;
}

static void r_end(void *ctx, void *owner, enum tb_flow_end why, uint64_t frame, int64_t ts_us)
{
    struct rec *r = ctx;
    (void)frame, (void)ts_us;
    if (r->n_ends < 16) {
        struct ended *e = &r->ends[r->n_ends++];
        e->who = *(int *)owner;
        e->why = why;
        tb_flowtab_end_key(r->ft, &e->key);
    }
}

static int r_first(void *ctx, const uint8_t *bytes, size_t len)
{
    (void)ctx, (void)bytes, (void)len;
    return 1;
}

static const struct tb_flow_ops ops = {r_open,  r_packet, r_deliver, r_gap, r_conflict,
                                       r_close, r_wants,  r_end,     r_first};

static struct tb_pkt seg(uint16_t client_port, bool from_client, uint8_t flags, uint32_t seq,
                         const char *payload)
{
    static const uint8_t c[16] = {10, 0, 0, 2}, s[16] = {10, 0, 0, 1};
    struct tb_pkt p;

    memset(&p, 0, sizeof p);
    p.ip_version = 4;
    memcpy(p.src, from_client ? c : s, 16);
    memcpy(p.dst, from_client ? s : c, 16);
    p.sport = from_client ? client_port : 443;
    p.dport = from_client ? 443 : client_port;
    p.tcp_flags = flags;
    p.seq = seq;
    p.payload = (const uint8_t *)payload;
    p.payload_len = payload != NULL ? strlen(payload) : 0;
    return p;
}

static struct tb_flowtab *table(struct rec *r, int64_t idle_s)
{
    struct tb_flow_limits lim = {.max_flows = 64, .max_ooo_total = 1 << 20,
                                 .idle_timeout_us = idle_s * 1000000};
    memset(r, 0, sizeof *r);
    r->ft = tb_flowtab_new(&lim, &ops, r);
    return r->ft;
}

#define S 1000000LL

/* A timestamp far in the past (suricata bug-1450-04 has one in a SYN-ACK) must not
 * make the next packet look two decades idle. */
static void test_clock_never_runs_backwards(void **state)
{
    struct rec r;
    struct tb_flowtab *ft = table(&r, 120);
    struct tb_pkt p;

    (void)state;
    p = seg(50000, true, TB_TCP_SYN, 100, NULL);
    tb_flowtab_packet(ft, &p, 1, 1429518024 * S);
    p = seg(50000, false, TB_TCP_SYN | TB_TCP_ACK, 900, NULL);
    tb_flowtab_packet(ft, &p, 2, 761195582 * S);
    p = seg(50000, true, TB_TCP_ACK, 101, "hello");
    tb_flowtab_packet(ft, &p, 3, 1429518024 * S + 40);
    assert_int_equal(r.opened, 1);
    assert_int_equal(r.n_ends, 0);
    tb_flowtab_free(ft, 3, 1429518024 * S + 40);
    assert_int_equal(r.n_ends, 1);
    assert_int_equal(r.ends[0].why, TB_FLOW_END_CAPTURE);
    assert_int_equal(r.ends[0].key.phase, TB_END_AT_CAPTURE_END);
}

/* Linger (1 s after both FINs) and idle deadlines end in deadline order, whatever
 * list they sit in, keyed by the deadline; ends at a packet keyed by its clock. */
static void test_deadlines_in_order_with_keys(void **state)
{
    struct rec r;
    struct tb_flowtab *ft = table(&r, 2);
    struct tb_pkt p;

    (void)state;
    /* Flow 0: data at 10 s, then idle: due at 12 s. */
    p = seg(40000, true, TB_TCP_SYN, 1, NULL);
    tb_flowtab_packet(ft, &p, 1, 10 * S);
    p = seg(40000, true, TB_TCP_ACK, 2, "a");
    tb_flowtab_packet(ft, &p, 2, 10 * S);
    /* Flow 1: FIN both ways at 10.5 s with a byte unacknowledged: lingers, due at 11.5 s. */
    p = seg(40001, true, TB_TCP_SYN, 1, NULL);
    tb_flowtab_packet(ft, &p, 3, 10 * S + 500000);
    p = seg(40001, true, TB_TCP_ACK | TB_TCP_FIN, 2, "b");
    tb_flowtab_packet(ft, &p, 4, 10 * S + 500000);
    p = seg(40001, false, TB_TCP_FIN, 7, NULL);
    tb_flowtab_packet(ft, &p, 5, 10 * S + 500000);
    /* Flow 2 at 11.9 s: ends nothing yet... */
    p = seg(40002, true, TB_TCP_SYN, 1, NULL);
    tb_flowtab_packet(ft, &p, 6, 11 * S + 900000);
    assert_int_equal(r.n_ends, 1);
    assert_int_equal(r.ends[0].who, 1); /* the lingering flow, due 11.5 s */
    assert_int_equal(r.ends[0].key.phase, TB_END_AT_DEADLINE);
    assert_int_equal(r.ends[0].key.time_us, 11 * S + 500000);
    assert_int_equal(r.ends[0].key.frame, 5);
    /* ...the clock passing 12 s ends the idle flow 0, keyed by its deadline. */
    tb_flowtab_expire(ft, 7, 12 * S + 1);
    assert_int_equal(r.n_ends, 2);
    assert_int_equal(r.ends[1].who, 0);
    assert_int_equal(r.ends[1].why, TB_FLOW_END_IDLE);
    assert_int_equal(r.ends[1].key.time_us, 12 * S);
    assert_int_equal(r.ends[1].key.sub, 1);
    assert_true(tb_end_key_cmp(&r.ends[0].key, &r.ends[1].key) < 0);
    /* A reset: flow 2 lingers 1 s for in-flight data, then ends, keyed by that deadline. */
    p = seg(40002, true, TB_TCP_RST | TB_TCP_ACK, 2, NULL);
    tb_flowtab_packet(ft, &p, 8, 12 * S + 2);
    tb_flowtab_expire(ft, 9, 14 * S);
    assert_int_equal(r.n_ends, 3);
    assert_int_equal(r.ends[2].who, 2);
    assert_int_equal(r.ends[2].key.time_us, 12 * S + 1000002);
    assert_true(tb_end_key_cmp(&r.ends[1].key, &r.ends[2].key) < 0);
    tb_flowtab_free(ft, 9, 14 * S);
}

/* Held out-of-order bytes are delivered at the end under the flow's own last
 * frame, not under the unrelated packet whose clock ended the flow. */
static void test_flush_at_own_last_frame(void **state)
{
    struct rec r;
    struct tb_flowtab *ft = table(&r, 1);
    struct tb_pkt p;

    (void)state;
    p = seg(40000, true, TB_TCP_SYN, 1, NULL);
    tb_flowtab_packet(ft, &p, 1, 1 * S);
    p = seg(40000, true, TB_TCP_ACK, 5, "later"); /* bytes 2-4 missing: held */
    tb_flowtab_packet(ft, &p, 2, 1 * S);
    assert_int_equal(r.n_delivers, 0);
    p = seg(40009, true, TB_TCP_SYN, 1, NULL); /* another flow, much later */
    tb_flowtab_packet(ft, &p, 99, 5 * S);
    assert_int_equal(r.n_ends, 1);
    assert_int_equal(r.n_delivers, 1);
    assert_int_equal(r.deliver_frames[0], 2);
    tb_flowtab_free(ft, 99, 5 * S);
}

/* The hash is the same both ways (the -j reader shards by it). */
static void test_hash_symmetric(void **state)
{
    struct tb_pkt a = seg(50123, true, TB_TCP_ACK, 1, NULL);
    struct tb_pkt b = seg(50123, false, TB_TCP_ACK, 1, NULL);
    struct tb_pkt c = seg(50124, true, TB_TCP_ACK, 1, NULL);

    (void)state;
    assert_int_equal(tb_flow_hash(&a), tb_flow_hash(&b));
    assert_int_not_equal(tb_flow_hash(&a), tb_flow_hash(&c));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clock_never_runs_backwards),
        cmocka_unit_test(test_deadlines_in_order_with_keys),
        cmocka_unit_test(test_flush_at_own_last_frame),
        cmocka_unit_test(test_hash_symmetric),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
