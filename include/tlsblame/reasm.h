#ifndef TLSBLAME_REASM_H
#define TLSBLAME_REASM_H
/*
 * reasm.h - per-direction TCP reassembly. Delivers each byte once, in order.
 * A hole the capture never filled is reported as a gap, not papered over.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tlsblame/common.h"

#define TB_REASM_TAIL 2048 /* delivered bytes kept to compare retransmissions */

struct tb_reasm_seg;

struct tb_reasm_ops {
    void (*deliver)(void *ctx, enum tb_dir dir, const uint8_t *bytes, size_t len, uint64_t frame,
                    int64_t ts_us);
    void (*gap)(void *ctx, enum tb_dir dir, uint64_t missing, uint64_t frame, int64_t ts_us);
    /* A retransmission whose bytes differ from the first copy (first copy won). */
    void (*conflict)(void *ctx, enum tb_dir dir, uint64_t frame);
};

struct tb_reasm_dir {
    bool have_next;
    uint32_t next_seq;        /* next byte to deliver */
    bool stopped;             /* consumer needs no more bytes: count only */
    bool ack_seen;
    uint32_t max_ack;         /* highest ACK the peer sent for this direction */
    bool fin_seen;
    uint32_t fin_seq;
    struct tb_reasm_seg *ooo; /* held segments, sorted by seq */
    size_t ooo_bytes;
    size_t ooo_count;
    uint8_t tail[TB_REASM_TAIL];
    size_t tail_len;
    uint64_t delivered;       /* bytes delivered or skipped in order */
    uint64_t gap_bytes;
};

struct tb_reasm_ctx {
    const struct tb_reasm_ops *ops;
    void *ctx;
    size_t *ooo_total;        /* bytes held across all flows (global cap) */
    size_t ooo_total_max;
};

void tb_reasm_init(struct tb_reasm_dir *d);
void tb_reasm_fini(struct tb_reasm_dir *d, const struct tb_reasm_ctx *rc);
/* A SYN: the first data byte is isn + 1. */
void tb_reasm_syn(struct tb_reasm_dir *d, uint32_t isn);
/* A segment with len captured bytes and missing bytes cut by the snap length after them. */
void tb_reasm_add(struct tb_reasm_dir *d, enum tb_dir dir, uint32_t seq, const uint8_t *bytes,
                  size_t len, size_t missing, uint64_t frame, int64_t ts_us,
                  const struct tb_reasm_ctx *rc);
/* The peer acknowledged up to ack: a hole below it that held data sits behind was lost. */
void tb_reasm_ack(struct tb_reasm_dir *d, enum tb_dir dir, uint32_t ack, uint64_t frame,
                  int64_t ts_us, const struct tb_reasm_ctx *rc);
void tb_reasm_fin(struct tb_reasm_dir *d, uint32_t seq_after_payload);
/* FIN seen and ACKed, every byte before it delivered or skipped, nothing held: it is over. */
bool tb_reasm_complete(const struct tb_reasm_dir *d);
/* End of the connection: report what is still missing, deliver what is held. */
void tb_reasm_flush(struct tb_reasm_dir *d, enum tb_dir dir, uint64_t frame, int64_t ts_us,
                    const struct tb_reasm_ctx *rc);
/* From now on payload is only counted, never copied. */
void tb_reasm_stop(struct tb_reasm_dir *d, const struct tb_reasm_ctx *rc);

#endif
