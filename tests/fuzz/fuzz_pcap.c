/*
 * fuzz_pcap.c - the whole path from a capture file to a report: libpcap
 * (pcap and pcapng), decode, flow table and reassembly, TLS, certificates,
 * facts, rules and both report formats. The input is written to a memfd and
 * opened by name (/proc/self/fd/N) through tb_capture_open_file(), the same
 * call process_capture() in pipeline.c makes, so capture.c needs no memory
 * entry point. The callbacks mirror pipeline.c's (without nDPI, which is
 * third-party code with its own fuzzers, and is slow to set up per input).
 * The flow table is small so that eviction runs too.
 */
#define _GNU_SOURCE /* memfd_create */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tlsblame/capture.h"
#include "tlsblame/decode.h"
#include "tlsblame/facts.h"
#include "tlsblame/flow.h"
#include "tlsblame/limits.h"
#include "tlsblame/pipeline.h"
#include "tlsblame/report.h"
#include "tlsblame/rules.h"
#include "tlsblame/session.h"
#include "tlsblame/tls.h"
#include "tlsblame/x509.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_FLOWS 16

/* Loaded once and kept (reachable, so not a leak): loading rules is not under test here. */
static struct tb_ruleset *rules;
static FILE *sink;

struct worker {
    struct tb_decoder *decoder;
    struct tb_flowtab *flows;
    struct tb_certcache *certs;
    struct tb_summary *summary;
    uint64_t next_session_id;
    uint64_t last_frame;
    int64_t last_ts_us;
};

struct owner {
    struct tb_session s;
    struct tb_tls *tls;
};

static void *on_open(void *ctx, struct tb_flow *f, const struct tb_pkt *pkt, uint64_t frame,
                     int64_t ts_us)
{
    struct worker *w = ctx;
    struct owner *o = calloc(1, sizeof *o);
    uint8_t ipv, addr[16];
    uint16_t port;

    (void)pkt;
    if (o == NULL) {
        return NULL;
    }
    tb_session_init(&o->s, ++w->next_session_id, "fuzz.pcap");
    o->s.first_frame = frame;
    o->s.start_us = ts_us;
    tb_flow_endpoint(f, TB_DIR_C2S, &ipv, addr, &port);
    tb_addr_format(ipv, addr, o->s.client.ip, sizeof o->s.client.ip);
    o->s.client.port = port;
    tb_flow_endpoint(f, TB_DIR_S2C, &ipv, addr, &port);
    tb_addr_format(ipv, addr, o->s.server.ip, sizeof o->s.server.ip);
    o->s.server.port = port;
    o->s.is_ipv6 = ipv == 6;
    o->tls = tb_tls_new(&o->s, w->certs);
    if (o->tls == NULL) {
        tb_session_fini(&o->s, w->certs);
        free(o);
        return NULL;
    }
    return o;
}

static void on_packet(void *ctx, void *owner, enum tb_dir dir, const struct tb_pkt *pkt,
                      uint64_t frame, int64_t ts_us)
{
    struct owner *o = owner;
    struct tb_session *s = &o->s;

    (void)ctx;
    s->dir[dir].packets++;
    s->dir[dir].bytes += pkt->payload_len + pkt->payload_missing;
    s->last_frame = frame;
    s->end_us = ts_us;
    if ((pkt->tcp_flags & TB_TCP_SYN) != 0) {
        s->saw_syn = true;
    }
    if (pkt->payload_missing > 0) {
        s->anomalies |= TB_ANOM_SNAPLEN;
    }
}

static void on_deliver(void *ctx, void *owner, enum tb_dir dir, const uint8_t *bytes, size_t len,
                       uint64_t frame, int64_t ts_us)
{
    struct owner *o = owner;
    (void)ctx;
    tb_tls_data(o->tls, dir, bytes, len, frame, ts_us);
}

static void on_gap(void *ctx, void *owner, enum tb_dir dir, uint64_t missing, uint64_t frame,
                   int64_t ts_us)
{
    struct owner *o = owner;
    (void)ctx;
    tb_tls_gap(o->tls, dir, missing, frame, ts_us);
}

static void on_conflict(void *ctx, void *owner, enum tb_dir dir, uint64_t frame)
{
    struct owner *o = owner;
    (void)ctx;
    (void)dir;
    (void)frame;
    o->s.anomalies |= TB_ANOM_OVERLAP_CONFLICT;
}

static void on_close(void *ctx, void *owner, enum tb_dir dir, bool rst, uint64_t frame,
                     int64_t ts_us)
{
    struct owner *o = owner;
    (void)ctx;
    tb_tls_close(o->tls, dir, rst, frame, ts_us);
}

static bool on_wants(void *ctx, void *owner, enum tb_dir dir)
{
    struct owner *o = owner;
    (void)ctx;
    return tb_tls_wants_bytes(o->tls, dir);
}

static int on_first_payload(void *ctx, const uint8_t *bytes, size_t len)
{
    (void)ctx;
    switch (tb_tls_sniff(bytes, len)) {
    case TB_SNIFF_CLIENT_HELLO:
        return 1;
    case TB_SNIFF_SERVER_HELLO:
        return -1;
    case TB_SNIFF_TLS:
    case TB_SNIFF_NOT_TLS:
    default:
        return 0;
    }
}

static void report_session(struct worker *w, struct tb_session *s)
{
    struct tb_facts facts;
    struct tb_verdict verdict;
    struct tb_text_opts text = {.color = false, .verbosity = 2, .width = 80};

    tb_facts_compute(s, false, &facts);
    memset(&verdict, 0, sizeof verdict);
    if (s->outcome != TB_OUTCOME_SUCCESS && rules != NULL) {
        tb_rules_eval(rules, &facts, &s->arena, &verdict);
    }
    tb_summary_add(w->summary, s, &facts, &verdict);
    if (sink != NULL) {
        tb_report_json_session(sink, s, &facts, &verdict);
        tb_report_text_session(sink, s, &facts, &verdict, &text);
    }
}

static void on_end(void *ctx, void *owner, enum tb_flow_end why, uint64_t frame, int64_t ts_us)
{
    struct worker *w = ctx;
    struct owner *o = owner;

    (void)frame;
    (void)ts_us;
    if (o == NULL) {
        return;
    }
    if (why == TB_FLOW_END_EVICTED) {
        o->s.anomalies |= TB_ANOM_EVICTED;
    }
    tb_tls_finish(o->tls, why == TB_FLOW_END_CAPTURE || why == TB_FLOW_END_IDLE ||
                              why == TB_FLOW_END_EVICTED,
                  NULL);
    if (o->s.is_tls) {
        report_session(w, &o->s);
    }
    tb_tls_free(o->tls);
    tb_session_fini(&o->s, w->certs);
    free(o);
}

static const struct tb_flow_ops flow_ops = {
    .open = on_open,
    .packet = on_packet,
    .deliver = on_deliver,
    .gap = on_gap,
    .conflict = on_conflict,
    .close = on_close,
    .wants = on_wants,
    .end = on_end,
    .first_payload_is_client = on_first_payload,
};

static void on_capture_packet(void *ctx, const struct tb_packet *p)
{
    struct worker *w = ctx;
    struct tb_pkt pkt;
    const char *reason = NULL;

    if (p == NULL) {
        return; /* live tick; files never send one */
    }
    w->last_frame = p->frame;
    w->last_ts_us = p->ts_us;
    switch (tb_decode(w->decoder, p->linktype, p->bytes, p->caplen, p->wirelen, p->ts_us, &pkt,
                      &reason)) {
    case TB_DECODE_TCP:
        tb_flowtab_packet(w->flows, &pkt, p->frame, p->ts_us);
        break;
    case TB_DECODE_MALFORMED:
    case TB_DECODE_SKIP:
    case TB_DECODE_FRAGMENT:
    default:
        break;
    }
}

static void setup_once(void)
{
    static bool done;

    if (done) {
        return;
    }
    done = true;
    sink = fopen("/dev/null", "w");
    rules = tb_ruleset_new();
    if (rules != NULL && tb_rules_load_dir(rules, tb_default_rule_dir()) != TB_OK) {
        tb_ruleset_free(rules);
        rules = NULL;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64];
    char errmsg[512] = "";
    struct tb_capture *cap = NULL;
    struct worker w;
    struct tb_flow_limits lim = {
        .max_flows = FUZZ_MAX_FLOWS,
        .max_ooo_total = TB_DEFAULT_MAX_OOO_TOTAL,
        .idle_timeout_us = (int64_t)TB_DEFAULT_IDLE_TIMEOUT_S * 1000000,
    };
    int fd;

    setup_once();
    memset(&w, 0, sizeof w);
    fd = memfd_create("fuzz_pcap", MFD_CLOEXEC);
    if (fd < 0) {
        return 0;
    }
    for (size_t off = 0; off < size;) {
        ssize_t n = write(fd, data + off, size - off);
        if (n <= 0) {
            close(fd);
            return 0;
        }
        off += (size_t)n;
    }
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    if (tb_capture_open_file(path, NULL, &cap, errmsg, sizeof errmsg) != TB_OK) {
        close(fd);
        return 0;
    }
    w.decoder = tb_decoder_new();
    w.certs = tb_certcache_new(TB_MAX_CERTS * 4);
    w.summary = tb_summary_new();
    w.flows = w.decoder != NULL && w.certs != NULL && w.summary != NULL
                  ? tb_flowtab_new(&lim, &flow_ops, &w)
                  : NULL;
    if (w.flows != NULL) {
        /* A damaged file ends the run with an error after the packets before it; like
         * process_capture(), the flows are still ended and reported. */
        enum tb_err err = tb_capture_run(cap, on_capture_packet, &w, 0, errmsg, sizeof errmsg);
        if (err != TB_OK && sink != NULL) {
            tb_report_json_error(sink, "fuzz.pcap", 0, errmsg);
        }
        tb_flowtab_end_all(w.flows, w.last_frame, w.last_ts_us);
        if (sink != NULL) {
            struct tb_text_opts text = {.color = false, .verbosity = 0, .width = 80};
            tb_summary_print_json(sink, w.summary);
            tb_summary_print_text(sink, w.summary, &text);
        }
    }
    tb_flowtab_free(w.flows, w.last_frame, w.last_ts_us);
    tb_summary_free(w.summary);
    tb_certcache_free(w.certs);
    tb_decoder_free(w.decoder);
    tb_capture_close(cap);
    close(fd);
    return 0;
}
