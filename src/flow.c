/*
 * flow.c - flow table and TCP connection state, between decode.c and the
 * owner (pipeline.c). One hash lookup per packet. Flows come from a pool
 * capped at max_flows; the least recently seen is evicted when it is full
 * and idle ones are ended by capture time, so memory does not grow with the
 * length of a capture. A flow is created only by a SYN or by payload: a
 * stray ACK after the end of a connection does not resurrect it.
 */
#include <stdlib.h>
#include <string.h>

#include "tlsblame/flow.h"

struct tb_flow {
    struct tb_flow *hnext;
    struct tb_flow *lru_prev, *lru_next;
    uint32_t hash;
    uint8_t ip_version;
    uint8_t addr[TB_DIR_COUNT][16]; /* [C2S] client, [S2C] server */
    uint16_t port[TB_DIR_COUNT];
    bool saw_syn;
    bool client_guessed;            /* no SYN: roles from the first payload or ports */
    bool roles_checked;
    bool fin[TB_DIR_COUNT];
    bool rst;
    bool closing;                   /* RST or FIN both ways: lingering for in-flight data */
    int64_t closing_us;             /* capture clock when it started closing */
    uint64_t closing_frame;
    struct tb_flow *close_prev, *close_next; /* FIFO of closing flows (doubly linked) */
    struct tb_reasm_dir rd[TB_DIR_COUNT];
    void *owner;
    int64_t last_us;                /* capture clock at its last packet */
    uint64_t last_frame;
    int64_t last_ts_us;
};

struct tb_flowtab {
    struct tb_flow **bucket;
    size_t nbuckets;
    size_t count;
    struct tb_flow *lru_head, *lru_tail; /* head: least recently seen */
    struct tb_flow *close_head, *close_tail; /* closing flows, in the order they closed */
    struct tb_flow_limits lim;
    const struct tb_flow_ops *ops;
    void *ctx;
    size_t ooo_total;
    uint64_t evictions;
    struct tb_flow *cur; /* the flow whose reassembly is delivering (callback context) */
    /*
     * The capture clock: the latest timestamp seen (or given to expire), so
     * timeouts never run backwards on a capture whose timestamps do, and a
     * table that sees only some of a capture's flows (-j) ends them as the
     * whole table would, given the same clock.
     */
    int64_t clock_us;
    struct tb_end_key ending; /* the end being reported (tb_flowtab_end_key) */
    uint64_t key_frame;       /* frame and count of the ends at one packet */
    uint32_t key_seq;
};

static uint32_t mix(uint32_t h, uint32_t v)
{
    h ^= v;
    h *= 0x9e3779b1u;
    return h ^ (h >> 15);
}

/* Same hash for both directions: combine endpoints order-independently. */
uint32_t tb_flow_hash(const struct tb_pkt *p)
{
    uint32_t a = 0x811c9dc5u, b = 0x811c9dc5u;
    struct {
        const uint8_t *addr;
        uint16_t port;
        uint32_t *h;
    } side[2] = {{p->src, p->sport, &a}, {p->dst, p->dport, &b}};

    for (int s = 0; s < 2; s++) {
        for (int i = 0; i < 16; i += 4) {
            uint32_t w;
            memcpy(&w, side[s].addr + i, 4);
            *side[s].h = mix(*side[s].h, w);
        }
        *side[s].h = mix(*side[s].h, side[s].port);
    }
    return (a + b) ^ (a * b) ^ p->ip_version;
}

static bool endpoint_eq(const struct tb_flow *f, enum tb_dir side, const uint8_t *addr,
                        uint16_t port)
{
    return f->port[side] == port && memcmp(f->addr[side], addr, 16) == 0;
}

static struct tb_flow *lookup(struct tb_flowtab *ft, const struct tb_pkt *p, uint32_t h,
                              enum tb_dir *dir)
{
    for (struct tb_flow *f = ft->bucket[h % ft->nbuckets]; f != NULL; f = f->hnext) {
        if (f->hash != h || f->ip_version != p->ip_version) {
            continue;
        }
        if (endpoint_eq(f, TB_DIR_C2S, p->src, p->sport) &&
            endpoint_eq(f, TB_DIR_S2C, p->dst, p->dport)) {
            *dir = TB_DIR_C2S;
            return f;
        }
        if (endpoint_eq(f, TB_DIR_S2C, p->src, p->sport) &&
            endpoint_eq(f, TB_DIR_C2S, p->dst, p->dport)) {
            *dir = TB_DIR_S2C;
            return f;
        }
    }
    return NULL;
}

static void lru_unlink(struct tb_flowtab *ft, struct tb_flow *f)
{
    if (f->lru_prev != NULL) {
        f->lru_prev->lru_next = f->lru_next;
    } else {
        ft->lru_head = f->lru_next;
    }
    if (f->lru_next != NULL) {
        f->lru_next->lru_prev = f->lru_prev;
    } else {
        ft->lru_tail = f->lru_prev;
    }
    f->lru_prev = f->lru_next = NULL;
}

static void lru_append(struct tb_flowtab *ft, struct tb_flow *f)
{
    f->lru_prev = ft->lru_tail;
    f->lru_next = NULL;
    if (ft->lru_tail != NULL) {
        ft->lru_tail->lru_next = f;
    } else {
        ft->lru_head = f;
    }
    ft->lru_tail = f;
}

static void reasm_deliver(void *ctx, enum tb_dir dir, const uint8_t *bytes, size_t len,
                          uint64_t frame, int64_t ts_us)
{
    struct tb_flowtab *ft = ctx;
    ft->ops->deliver(ft->ctx, ft->cur->owner, dir, bytes, len, frame, ts_us);
}

static void reasm_gap(void *ctx, enum tb_dir dir, uint64_t missing, uint64_t frame, int64_t ts_us)
{
    struct tb_flowtab *ft = ctx;
    ft->ops->gap(ft->ctx, ft->cur->owner, dir, missing, frame, ts_us);
}

static void reasm_conflict(void *ctx, enum tb_dir dir, uint64_t frame)
{
    struct tb_flowtab *ft = ctx;
    ft->ops->conflict(ft->ctx, ft->cur->owner, dir, frame);
}

static const struct tb_reasm_ops reasm_ops = {reasm_deliver, reasm_gap, reasm_conflict};

static struct tb_reasm_ctx reasm_ctx(struct tb_flowtab *ft, struct tb_flow *f)
{
    struct tb_reasm_ctx rc = {&reasm_ops, ft, &ft->ooo_total, ft->lim.max_ooo_total};
    ft->cur = f;
    return rc;
}

static void flow_end(struct tb_flowtab *ft, struct tb_flow *f, enum tb_flow_end why,
                     uint64_t frame, int64_t ts_us)
{
    struct tb_reasm_ctx rc = reasm_ctx(ft, f);

    /* Deliver what is held and report what never came at the flow's own last
     * packet: whichever packet of the capture noticed the end is no part of it. */
    for (int d = 0; d < TB_DIR_COUNT; d++) {
        tb_reasm_flush(&f->rd[d], (enum tb_dir)d, f->last_frame, f->last_ts_us, &rc);
    }
    ft->ops->end(ft->ctx, f->owner, why, frame, ts_us);
    for (int d = 0; d < TB_DIR_COUNT; d++) {
        tb_reasm_fini(&f->rd[d], &rc);
    }
    struct tb_flow **pp = &ft->bucket[f->hash % ft->nbuckets];
    while (*pp != f) {
        pp = &(*pp)->hnext;
    }
    *pp = f->hnext;
    if (f->closing) {
        /* Doubly linked so that ending any lingering flow, head or not, is O(1)
         * and keeps close_tail valid for the next flow that starts closing. */
        if (f->close_prev != NULL) {
            f->close_prev->close_next = f->close_next;
        } else {
            ft->close_head = f->close_next;
        }
        if (f->close_next != NULL) {
            f->close_next->close_prev = f->close_prev;
        } else {
            ft->close_tail = f->close_prev;
        }
    }
    lru_unlink(ft, f);
    ft->count--;
    free(f);
}

/* An end caused by the packet at frame (a reset, a new SYN, eviction, both FINs ACKed). */
static void end_at_packet(struct tb_flowtab *ft, struct tb_flow *f, enum tb_flow_end why,
                          uint64_t frame, int64_t ts_us)
{
    if (ft->key_frame != frame) {
        ft->key_frame = frame;
        ft->key_seq = 0;
    }
    ft->ending = (struct tb_end_key){ft->clock_us, TB_END_AT_PACKET, 0, frame, ft->key_seq++};
    flow_end(ft, f, why, frame, ts_us);
}

struct tb_flowtab *tb_flowtab_new(const struct tb_flow_limits *lim, const struct tb_flow_ops *ops,
                                  void *ctx)
{
    struct tb_flowtab *ft = calloc(1, sizeof *ft);

    if (ft == NULL) {
        return NULL;
    }
    ft->lim = *lim;
    ft->nbuckets = 1;
    while (ft->nbuckets < lim->max_flows) {
        ft->nbuckets <<= 1;
    }
    ft->bucket = calloc(ft->nbuckets, sizeof *ft->bucket);
    if (ft->bucket == NULL) {
        free(ft);
        return NULL;
    }
    ft->ops = ops;
    ft->ctx = ctx;
    ft->clock_us = -((int64_t)1 << 62); /* below any packet time (capture.c clamps to 2^61) */
    return ft;
}

void tb_flowtab_end_all(struct tb_flowtab *ft, uint64_t frame, int64_t ts_us)
{
    while (ft->lru_head != NULL) {
        ft->ending = (struct tb_end_key){INT64_MAX, TB_END_AT_CAPTURE_END, 0,
                                         ft->lru_head->last_frame, 0};
        flow_end(ft, ft->lru_head, TB_FLOW_END_CAPTURE, frame, ts_us);
    }
}

void tb_flowtab_free(struct tb_flowtab *ft, uint64_t frame, int64_t ts_us)
{
    if (ft == NULL) {
        return;
    }
    tb_flowtab_end_all(ft, frame, ts_us);
    free(ft->bucket);
    free(ft);
}

/* In-flight data still arrives after an RST or the last FIN (the peer's flight crossed it). */
#define CLOSE_LINGER_US 1000000

/*
 * End what the clock has passed, earliest deadline first (a lingering flow
 * before an idle one with the same deadline): the order depends only on the
 * flows and the clock, not on which packet brought the clock past them.
 */
void tb_flowtab_expire(struct tb_flowtab *ft, uint64_t frame, int64_t ts_us)
{
    if (ts_us > ft->clock_us) {
        ft->clock_us = ts_us;
    }
    for (;;) {
        struct tb_flow *c = ft->close_head, *i = ft->lru_head;
        int64_t c_due = c != NULL ? c->closing_us + CLOSE_LINGER_US : INT64_MAX;
        int64_t i_due = i != NULL ? i->last_us + ft->lim.idle_timeout_us : INT64_MAX;

        if (c != NULL && c_due < ft->clock_us && c_due <= i_due) {
            ft->ending = (struct tb_end_key){c_due, TB_END_AT_DEADLINE, 0, c->closing_frame, 0};
            flow_end(ft, c, TB_FLOW_END_CLOSED, frame, ts_us);
        } else if (i != NULL && i_due < ft->clock_us) {
            ft->ending = (struct tb_end_key){i_due, TB_END_AT_DEADLINE, 1, i->last_frame, 0};
            flow_end(ft, i, TB_FLOW_END_IDLE, frame, ts_us);
        } else {
            return;
        }
    }
}

void tb_flowtab_end_key(const struct tb_flowtab *ft, struct tb_end_key *out)
{
    *out = ft->ending;
}

int tb_end_key_cmp(const struct tb_end_key *a, const struct tb_end_key *b)
{
    if (a->time_us != b->time_us) {
        return a->time_us < b->time_us ? -1 : 1;
    }
    if (a->phase != b->phase) {
        return a->phase < b->phase ? -1 : 1;
    }
    if (a->sub != b->sub) {
        return a->sub < b->sub ? -1 : 1;
    }
    if (a->frame != b->frame) {
        return a->frame < b->frame ? -1 : 1;
    }
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

size_t tb_flowtab_count(const struct tb_flowtab *ft)
{
    return ft->count;
}

uint64_t tb_flowtab_evictions(const struct tb_flowtab *ft)
{
    return ft->evictions;
}

void tb_flow_endpoint(const struct tb_flow *f, enum tb_dir side, uint8_t *ip_version,
                      uint8_t addr[16], uint16_t *port)
{
    *ip_version = f->ip_version;
    memcpy(addr, f->addr[side], 16);
    *port = f->port[side];
}

bool tb_flow_saw_syn(const struct tb_flow *f)
{
    return f->saw_syn;
}

bool tb_flow_client_guessed(const struct tb_flow *f)
{
    return f->client_guessed;
}

static struct tb_flow *flow_new(struct tb_flowtab *ft, const struct tb_pkt *p, uint32_t h,
                                bool sender_is_client, uint64_t frame, int64_t ts_us)
{
    if (ft->count >= ft->lim.max_flows && ft->lru_head != NULL) {
        ft->evictions++;
        end_at_packet(ft, ft->lru_head, TB_FLOW_END_EVICTED, frame, ts_us);
    }
    struct tb_flow *f = calloc(1, sizeof *f);
    if (f == NULL) {
        return NULL;
    }
    enum tb_dir src_side = sender_is_client ? TB_DIR_C2S : TB_DIR_S2C;
    f->hash = h;
    f->ip_version = p->ip_version;
    memcpy(f->addr[src_side], p->src, 16);
    memcpy(f->addr[tb_dir_other(src_side)], p->dst, 16);
    f->port[src_side] = p->sport;
    f->port[tb_dir_other(src_side)] = p->dport;
    tb_reasm_init(&f->rd[0]);
    tb_reasm_init(&f->rd[1]);
    f->last_us = ft->clock_us;
    f->last_frame = frame;
    f->last_ts_us = ts_us;
    f->hnext = ft->bucket[h % ft->nbuckets];
    ft->bucket[h % ft->nbuckets] = f;
    lru_append(ft, f);
    ft->count++;
    f->owner = ft->ops->open(ft->ctx, f, p, frame, ts_us);
    return f;
}

/* Swap client and server of a flow before any byte was delivered. */
static void swap_roles(struct tb_flow *f)
{
    uint8_t a[16];
    uint16_t port = f->port[0];
    struct tb_reasm_dir rd = f->rd[0];

    memcpy(a, f->addr[0], 16);
    memcpy(f->addr[0], f->addr[1], 16);
    memcpy(f->addr[1], a, 16);
    f->port[0] = f->port[1];
    f->port[1] = port;
    f->rd[0] = f->rd[1];
    f->rd[1] = rd;
}

void tb_flowtab_packet(struct tb_flowtab *ft, const struct tb_pkt *p, uint64_t frame,
                       int64_t ts_us)
{
    tb_flowtab_packet_at(ft, p, tb_flow_hash(p), frame, ts_us, ts_us);
}

void tb_flowtab_packet_at(struct tb_flowtab *ft, const struct tb_pkt *p, uint32_t h,
                          uint64_t frame, int64_t ts_us, int64_t clock_us)
{
    enum tb_dir dir = TB_DIR_C2S;
    struct tb_flow *f;
    bool syn = (p->tcp_flags & TB_TCP_SYN) != 0, ack = (p->tcp_flags & TB_TCP_ACK) != 0;
    bool fin = (p->tcp_flags & TB_TCP_FIN) != 0, rst = (p->tcp_flags & TB_TCP_RST) != 0;

    tb_flowtab_expire(ft, frame, clock_us); /* before the lookup: it may end this very flow */
    f = lookup(ft, p, h, &dir);
    if (f != NULL && syn && !ack && dir == TB_DIR_C2S && f->rd[TB_DIR_C2S].have_next &&
        p->seq + 1 != f->rd[TB_DIR_C2S].next_seq &&
        (f->fin[0] || f->fin[1] || f->rst || f->rd[TB_DIR_C2S].delivered > 0)) {
        /* A new connection on the same 5-tuple. */
        end_at_packet(ft, f, TB_FLOW_END_REUSED, frame, ts_us);
        f = NULL;
    } else if (f != NULL && syn && !ack && (f->closing || (dir == TB_DIR_S2C && (f->fin[0] || f->fin[1])))) {
        end_at_packet(ft, f, TB_FLOW_END_REUSED, frame, ts_us);
        f = NULL;
    }
    if (f == NULL) {
        if (!syn && p->payload_len == 0 && p->payload_missing == 0) {
            return; /* a stray ACK/FIN/RST of a connection we do not know */
        }
        bool sender_is_client;
        bool guessed = false;
        if (syn) {
            sender_is_client = !ack; /* SYN: client; SYN-ACK: server */
        } else {
            /* Mid-stream: the higher (ephemeral) port is the client until the TLS layer says. */
            sender_is_client = p->sport > p->dport;
            guessed = true;
        }
        f = flow_new(ft, p, h, sender_is_client, frame, ts_us);
        if (f == NULL) {
            return;
        }
        f->client_guessed = guessed;
        dir = sender_is_client ? TB_DIR_C2S : TB_DIR_S2C;
    } else {
        lru_unlink(ft, f);
        lru_append(ft, f);
        f->last_us = ft->clock_us;
        f->last_frame = frame;
        f->last_ts_us = ts_us;
    }
    if (f->owner == NULL) {
        return;
    }
    if (f->client_guessed && !f->roles_checked && p->payload_len > 0) {
        f->roles_checked = true;
        int verdict = ft->ops->first_payload_is_client(ft->ctx, p->payload, p->payload_len);
        if ((verdict > 0 && dir == TB_DIR_S2C) || (verdict < 0 && dir == TB_DIR_C2S)) {
            swap_roles(f);
            dir = tb_dir_other(dir);
        }
    }
    if (syn) {
        f->saw_syn = true;
        f->client_guessed = false;
        tb_reasm_syn(&f->rd[dir], p->seq);
    }
    ft->ops->packet(ft->ctx, f->owner, dir, p, frame, ts_us);

    struct tb_reasm_ctx rc = reasm_ctx(ft, f);
    if (ack) {
        tb_reasm_ack(&f->rd[tb_dir_other(dir)], tb_dir_other(dir), p->ack, frame, ts_us, &rc);
    }
    if (p->payload_len > 0 || p->payload_missing > 0) {
        uint32_t seq = p->seq + (syn ? 1u : 0u);
        if (!f->rd[dir].stopped && !ft->ops->wants(ft->ctx, f->owner, dir)) {
            tb_reasm_stop(&f->rd[dir], &rc);
        }
        tb_reasm_add(&f->rd[dir], dir, seq, p->payload, p->payload_len, p->payload_missing, frame,
                     ts_us, &rc);
    }
    if (fin) {
        tb_reasm_fin(&f->rd[dir], p->seq + (uint32_t)(p->payload_len + p->payload_missing));
        f->fin[dir] = true;
        ft->ops->close(ft->ctx, f->owner, dir, false, frame, ts_us);
    }
    if (rst) {
        f->rst = true;
        ft->ops->close(ft->ctx, f->owner, dir, true, frame, ts_us);
    }
    if (!f->rst && f->fin[0] && f->fin[1] && tb_reasm_complete(&f->rd[0]) &&
        tb_reasm_complete(&f->rd[1])) {
        /*
         * Both FINs ACKed, every byte before each delivered: nothing valid can
         * still arrive, so end it now. Lingering CLOSE_LINGER_US would keep
         * (new connections per second) x 1 s of ~40 KiB sessions alive.
         */
        end_at_packet(ft, f, TB_FLOW_END_CLOSED, frame, ts_us);
        return;
    }
    if (!f->closing && (f->rst || (f->fin[0] && f->fin[1]))) {
        f->closing = true;
        f->closing_us = ft->clock_us;
        f->closing_frame = frame;
        f->close_next = NULL;
        f->close_prev = ft->close_tail;
        if (ft->close_tail != NULL) {
            ft->close_tail->close_next = f;
        } else {
            ft->close_head = f;
        }
        ft->close_tail = f;
    }
}
