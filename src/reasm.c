/*
 * reasm.c - per-direction TCP reassembly, between flow.c and the TLS layer.
 * Delivers each byte once, in order. Overlaps: first copy wins, and a later
 * copy with different bytes is reported (a broken middlebox or an evasion
 * attempt). Sequence numbers compare modulo 2^32. A hole the capture never
 * filled is reported as a gap of N bytes when the peer's ACK proves the bytes
 * were sent, when the held bytes hit their cap, or at the end.
 * Owns its segment buffers; borrows packet bytes only in tb_reasm_add().
 */
#include <stdlib.h>
#include <string.h>

#include "tlsblame/limits.h"
#include "tlsblame/reasm.h"

struct tb_reasm_seg {
    struct tb_reasm_seg *next;
    uint32_t seq;
    uint32_t len;
    uint64_t frame;
    uint8_t bytes[];
};

static bool seq_lt(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b) < 0;
}

void tb_reasm_init(struct tb_reasm_dir *d)
{
    memset(d, 0, sizeof *d);
}

static void free_ooo(struct tb_reasm_dir *d, const struct tb_reasm_ctx *rc)
{
    struct tb_reasm_seg *s = d->ooo;

    while (s != NULL) {
        struct tb_reasm_seg *next = s->next;
        if (rc != NULL && rc->ooo_total != NULL) {
            *rc->ooo_total -= s->len;
        }
        free(s);
        s = next;
    }
    d->ooo = NULL;
    d->ooo_bytes = 0;
    d->ooo_count = 0;
}

void tb_reasm_fini(struct tb_reasm_dir *d, const struct tb_reasm_ctx *rc)
{
    free_ooo(d, rc);
}

void tb_reasm_syn(struct tb_reasm_dir *d, uint32_t isn)
{
    if (!d->have_next) {
        d->have_next = true;
        d->next_seq = isn + 1;
    }
}

void tb_reasm_fin(struct tb_reasm_dir *d, uint32_t seq_after_payload)
{
    d->fin_seen = true;
    d->fin_seq = seq_after_payload;
}

bool tb_reasm_complete(const struct tb_reasm_dir *d)
{
    /* The FIN takes one sequence number: the peer's ACK of it is fin_seq + 1. */
    return d->fin_seen && d->have_next && d->next_seq == d->fin_seq && d->ooo == NULL &&
           d->ack_seen && d->max_ack == d->fin_seq + 1;
}

static void remember_tail(struct tb_reasm_dir *d, const uint8_t *bytes, size_t len)
{
    if (len >= TB_REASM_TAIL) {
        memcpy(d->tail, bytes + len - TB_REASM_TAIL, TB_REASM_TAIL);
        d->tail_len = TB_REASM_TAIL;
        return;
    }
    if (d->tail_len + len > TB_REASM_TAIL) {
        size_t drop = d->tail_len + len - TB_REASM_TAIL;
        memmove(d->tail, d->tail + drop, d->tail_len - drop);
        d->tail_len -= drop;
    }
    memcpy(d->tail + d->tail_len, bytes, len);
    d->tail_len += len;
}

/* Deliver bytes that start exactly at next_seq. */
static void deliver(struct tb_reasm_dir *d, enum tb_dir dir, const uint8_t *bytes, size_t len,
                    uint64_t frame, int64_t ts_us, const struct tb_reasm_ctx *rc)
{
    if (len == 0) {
        return;
    }
    d->next_seq += (uint32_t)len;
    d->delivered += len;
    if (d->stopped) {
        return;
    }
    remember_tail(d, bytes, len);
    rc->ops->deliver(rc->ctx, dir, bytes, len, frame, ts_us);
}

static void report_gap(struct tb_reasm_dir *d, enum tb_dir dir, uint32_t missing, uint64_t frame,
                       int64_t ts_us, const struct tb_reasm_ctx *rc)
{
    if (missing == 0) {
        return;
    }
    d->next_seq += missing;
    d->gap_bytes += missing;
    d->tail_len = 0;
    if (!d->stopped) {
        rc->ops->gap(rc->ctx, dir, missing, frame, ts_us);
    }
}

/*
 * Compare bytes we already delivered (the tail) with a retransmitted copy.
 * overlap_end is how far before next_seq the copy ends (0: at next_seq).
 */
static void check_retransmission(struct tb_reasm_dir *d, enum tb_dir dir, const uint8_t *bytes,
                                 size_t len, size_t overlap_end, uint64_t frame,
                                 const struct tb_reasm_ctx *rc)
{
    if (d->stopped || overlap_end >= d->tail_len) {
        return;
    }
    size_t avail = d->tail_len - overlap_end; /* tail bytes up to the copy's end */
    size_t n = len < avail ? len : avail;
    const uint8_t *ours = d->tail + avail - n;
    if (memcmp(ours, bytes + len - n, n) != 0 && rc->ops->conflict != NULL) {
        rc->ops->conflict(rc->ctx, dir, frame);
    }
}

/*
 * Deliver held segments that are now in order. own_frame: the hole before
 * them was declared lost (not filled), so each was complete when it arrived
 * and keeps its own frame number, as Wireshark numbers it.
 */
static void drain_frames(struct tb_reasm_dir *d, enum tb_dir dir, uint64_t frame, int64_t ts_us,
                         const struct tb_reasm_ctx *rc, bool own_frame)
{
    while (d->ooo != NULL && !seq_lt(d->next_seq, d->ooo->seq)) {
        struct tb_reasm_seg *s = d->ooo;
        if (own_frame) {
            frame = s->frame;
        }
        uint32_t skip = d->next_seq - s->seq;
        d->ooo = s->next;
        d->ooo_bytes -= s->len;
        d->ooo_count--;
        if (rc->ooo_total != NULL) {
            *rc->ooo_total -= s->len;
        }
        if (skip < s->len) {
            check_retransmission(d, dir, s->bytes, skip, 0, frame, rc);
            deliver(d, dir, s->bytes + skip, s->len - skip, frame, ts_us, rc);
        }
        free(s);
    }
}

/* Held bytes over their cap: give up on the first hole. */
static void drain(struct tb_reasm_dir *d, enum tb_dir dir, uint64_t frame, int64_t ts_us,
                  const struct tb_reasm_ctx *rc)
{
    drain_frames(d, dir, frame, ts_us, rc, false);
}

static void force_progress(struct tb_reasm_dir *d, enum tb_dir dir, uint64_t frame, int64_t ts_us,
                           const struct tb_reasm_ctx *rc)
{
    if (d->ooo == NULL) {
        return;
    }
    report_gap(d, dir, d->ooo->seq - d->next_seq, frame, ts_us, rc);
    drain(d, dir, frame, ts_us, rc);
}

static void hold(struct tb_reasm_dir *d, enum tb_dir dir, uint32_t seq, const uint8_t *bytes,
                 size_t len, uint64_t frame, int64_t ts_us, const struct tb_reasm_ctx *rc)
{
    struct tb_reasm_seg **pp = &d->ooo;

    while (*pp != NULL && seq_lt((*pp)->seq, seq)) {
        pp = &(*pp)->next;
    }
    if (*pp != NULL && (*pp)->seq == seq && (*pp)->len >= len) {
        if (memcmp((*pp)->bytes, bytes, len) != 0 && rc->ops->conflict != NULL) {
            rc->ops->conflict(rc->ctx, dir, frame);
        }
        return; /* first copy wins */
    }
    struct tb_reasm_seg *s = malloc(sizeof *s + len);
    if (s == NULL) {
        return; /* the hole will be reported as a gap */
    }
    s->seq = seq;
    s->len = (uint32_t)len;
    s->frame = frame;
    memcpy(s->bytes, bytes, len);
    s->next = *pp;
    *pp = s;
    d->ooo_bytes += len;
    d->ooo_count++;
    if (rc->ooo_total != NULL) {
        *rc->ooo_total += len;
    }
    while (d->ooo != NULL &&
           (d->ooo_bytes > TB_MAX_OOO_PER_DIR || d->ooo_count > TB_MAX_OOO_SEGMENTS ||
            (rc->ooo_total != NULL && *rc->ooo_total > rc->ooo_total_max))) {
        force_progress(d, dir, frame, ts_us, rc);
    }
}

void tb_reasm_add(struct tb_reasm_dir *d, enum tb_dir dir, uint32_t seq, const uint8_t *bytes,
                  size_t len, size_t missing, uint64_t frame, int64_t ts_us,
                  const struct tb_reasm_ctx *rc)
{
    if (len == 0 && missing == 0) {
        return;
    }
    if (!d->have_next) {
        d->have_next = true;
        d->next_seq = seq;
    }
    int32_t rel = (int32_t)(seq - d->next_seq);
    if (rel < 0) {
        size_t behind = (size_t)(-(int64_t)rel);
        if (behind >= len + missing) {
            /* A retransmission of bytes already delivered. */
            if (len > 0) {
                check_retransmission(d, dir, bytes, len, behind - len, frame, rc);
            }
            return;
        }
        size_t old = behind < len ? behind : len;
        if (old > 0) {
            check_retransmission(d, dir, bytes, old, 0, frame, rc);
        }
        bytes += old;
        len -= old;
        if (behind > old) {
            missing -= behind - old;
        }
        seq = d->next_seq;
        rel = 0;
    }
    if (rel > 0) {
        if (d->stopped) {
            /* Counting only: the hole is someone else's problem now. */
            d->next_seq = seq + (uint32_t)(len + missing);
            return;
        }
        if (len > 0) {
            hold(d, dir, seq, bytes, len, frame, ts_us, rc);
        }
        return;
    }
    deliver(d, dir, bytes, len, frame, ts_us, rc);
    if (missing > 0) {
        report_gap(d, dir, (uint32_t)missing, frame, ts_us, rc);
    }
    drain(d, dir, frame, ts_us, rc);
}

void tb_reasm_ack(struct tb_reasm_dir *d, enum tb_dir dir, uint32_t ack, uint64_t frame,
                  int64_t ts_us, const struct tb_reasm_ctx *rc)
{
    if (!d->ack_seen || seq_lt(d->max_ack, ack)) {
        d->ack_seen = true;
        d->max_ack = ack;
    }
    /* Bytes below the ACK were sent; with data held past the hole, the hole is lost. */
    if (d->have_next && d->ooo != NULL && seq_lt(d->next_seq, ack) &&
        seq_lt(d->next_seq, d->ooo->seq)) {
        uint32_t upto = seq_lt(ack, d->ooo->seq) ? ack : d->ooo->seq;
        report_gap(d, dir, upto - d->next_seq, frame, ts_us, rc);
        drain_frames(d, dir, frame, ts_us, rc, true);
    }
}

void tb_reasm_flush(struct tb_reasm_dir *d, enum tb_dir dir, uint64_t frame, int64_t ts_us,
                    const struct tb_reasm_ctx *rc)
{
    while (d->ooo != NULL) {
        force_progress(d, dir, frame, ts_us, rc);
    }
    /* ACKed bytes never seen at the end of the stream (the FIN takes one number). */
    if (d->have_next && d->ack_seen && seq_lt(d->next_seq, d->max_ack)) {
        uint32_t missing = d->max_ack - d->next_seq;
        if (d->fin_seen && d->max_ack == d->fin_seq + 1) {
            missing--;
        }
        if (missing > 0 && missing < (1u << 30)) {
            report_gap(d, dir, missing, frame, ts_us, rc);
        }
    }
}

void tb_reasm_stop(struct tb_reasm_dir *d, const struct tb_reasm_ctx *rc)
{
    d->stopped = true;
    free_ooo(d, rc);
    d->tail_len = 0;
}
