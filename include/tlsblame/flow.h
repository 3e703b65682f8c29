#ifndef TLSBLAME_FLOW_H
#define TLSBLAME_FLOW_H
/*
 * flow.h - the flow table: one flow per TCP connection, both directions,
 * keyed by the 5-tuple; who is the client; SYN/FIN/RST per side; idle and
 * capacity eviction by capture time. It drives reassembly and hands ordered
 * bytes, gaps and closes to the owner through callbacks.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tlsblame/common.h"
#include "tlsblame/decode.h"
#include "tlsblame/reasm.h"

struct tb_flow;

enum tb_flow_end {
    TB_FLOW_END_CLOSED,   /* RST, or FIN both ways */
    TB_FLOW_END_IDLE,     /* idle past the timeout */
    TB_FLOW_END_EVICTED,  /* table full: least recently seen */
    TB_FLOW_END_REUSED,   /* a new SYN on the same 5-tuple */
    TB_FLOW_END_CAPTURE,  /* end of the capture */
};

struct tb_flow_ops {
    /* A new connection; return the owner's per-flow pointer (NULL: ignore the flow). */
    void *(*open)(void *ctx, struct tb_flow *f, const struct tb_pkt *pkt, uint64_t frame,
                  int64_t ts_us);
    /* Every packet of the flow, before its payload is delivered. */
    void (*packet)(void *ctx, void *owner, enum tb_dir dir, const struct tb_pkt *pkt,
                   uint64_t frame, int64_t ts_us);
    void (*deliver)(void *ctx, void *owner, enum tb_dir dir, const uint8_t *bytes, size_t len,
                    uint64_t frame, int64_t ts_us);
    void (*gap)(void *ctx, void *owner, enum tb_dir dir, uint64_t missing, uint64_t frame,
                int64_t ts_us);
    void (*conflict)(void *ctx, void *owner, enum tb_dir dir, uint64_t frame);
    void (*close)(void *ctx, void *owner, enum tb_dir dir, bool rst, uint64_t frame,
                  int64_t ts_us);
    /* Does the owner still want this direction's bytes? */
    bool (*wants)(void *ctx, void *owner, enum tb_dir dir);
    /* The flow is over; the owner reports and frees. */
    void (*end)(void *ctx, void *owner, enum tb_flow_end why, uint64_t frame, int64_t ts_us);
    /* No SYN: decide the client from the first payload (true: the sender is the client). */
    int (*first_payload_is_client)(void *ctx, const uint8_t *bytes, size_t len);
};

/*
 * Where an end falls in the capture. Ends sorted by this key come in the
 * order one flow table gives them, also when the flows were spread over
 * several tables (-j on one file) fed the same capture clock.
 */
enum tb_end_phase {
    TB_END_AT_PACKET,      /* at time_us, caused by the packet at frame (seq: in turn) */
    TB_END_AT_DEADLINE,    /* time_us: the deadline the clock passed; sub 0 linger, 1 idle */
    TB_END_AT_CAPTURE_END, /* in order of the flows' last packets (frame) */
};

struct tb_end_key {
    int64_t time_us;
    uint8_t phase;
    uint8_t sub;
    uint64_t frame;
    uint32_t seq;
};

int tb_end_key_cmp(const struct tb_end_key *a, const struct tb_end_key *b);

struct tb_flow_limits {
    size_t max_flows;
    size_t max_ooo_total;
    int64_t idle_timeout_us;
};

struct tb_flowtab;

struct tb_flowtab *tb_flowtab_new(const struct tb_flow_limits *lim, const struct tb_flow_ops *ops,
                                  void *ctx);
/* Ends every flow (TB_FLOW_END_CAPTURE) and frees the table. */
void tb_flowtab_free(struct tb_flowtab *ft, uint64_t frame, int64_t ts_us);
void tb_flowtab_packet(struct tb_flowtab *ft, const struct tb_pkt *pkt, uint64_t frame,
                       int64_t ts_us);
/* The same for a caller that has the packet's tb_flow_hash and the capture clock already
 * (the -j reader computes both): one hash and one expiry pass per packet. */
void tb_flowtab_packet_at(struct tb_flowtab *ft, const struct tb_pkt *pkt, uint32_t hash,
                          uint64_t frame, int64_t ts_us, int64_t clock_us);
/* End flows idle at ts_us (live mode calls it on timeouts too). */
void tb_flowtab_expire(struct tb_flowtab *ft, uint64_t frame, int64_t ts_us);
/* End every flow now (SIGINT, end of capture). */
void tb_flowtab_end_all(struct tb_flowtab *ft, uint64_t frame, int64_t ts_us);
size_t tb_flowtab_count(const struct tb_flowtab *ft);
uint64_t tb_flowtab_evictions(const struct tb_flowtab *ft);

/* Key of the end being reported: valid inside the end callback. */
void tb_flowtab_end_key(const struct tb_flowtab *ft, struct tb_end_key *out);
/* The flow table's hash of a packet's connection, the same both ways. */
uint32_t tb_flow_hash(const struct tb_pkt *p);

/* Endpoints of a flow: [TB_DIR_C2S] is the client. */
void tb_flow_endpoint(const struct tb_flow *f, enum tb_dir side, uint8_t *ip_version,
                      uint8_t addr[16], uint16_t *port);
bool tb_flow_saw_syn(const struct tb_flow *f);
bool tb_flow_client_guessed(const struct tb_flow *f);

#endif
