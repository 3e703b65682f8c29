/*
 * pipeline.c - the coordinator: capture -> decode -> flow/reassembly -> TLS
 * -> certificates -> facts -> rules -> report, called in that order. Stages
 * never call forward; this file wires their callbacks. One worker state per
 * input; a damaged input is reported and the next one runs.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tlsblame/capture.h"
#include "tlsblame/classify.h"
#include "tlsblame/decode.h"
#include "tlsblame/facts.h"
#include "tlsblame/flow.h"
#include "tlsblame/limits.h"
#include "tlsblame/pipeline.h"
#include "tlsblame/report.h"
#include "tlsblame/rules.h"
#include "tlsblame/tls.h"
#include "tlsblame/x509.h"

struct run {
    const struct tb_config *cfg;
    struct tb_ruleset *rules;
    struct tb_trust *trust;
    struct tb_certcache *certs;
    struct tb_summary *summary;
    struct tb_text_opts text;
    FILE *out;
    uint64_t input_errors;
    uint64_t inputs_read;
};

struct worker {
    struct run *run;
    const char *file;
    struct tb_decoder *decoder;
    struct tb_flowtab *flows;
    uint64_t next_session_id;
    uint64_t packets, bytes;
    uint64_t last_frame;
    int64_t last_ts_us;
    uint64_t malformed;
    uint64_t malformed_reported;
    struct tb_classifier *classifier; /* classify: one nDPI module per worker */
};

struct owner {
    struct tb_session s;
    struct tb_tls *tls;
    struct tb_classify_flow cls; /* classify: nDPI state until it decides, preamble watch */
};

static volatile sig_atomic_t stop_requested;

void tb_config_defaults(struct tb_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->jobs = 1;
    cfg->max_flows = TB_DEFAULT_MAX_FLOWS;
    cfg->idle_timeout_s = TB_DEFAULT_IDLE_TIMEOUT_S;
    cfg->color = TB_COLOR_AUTO;
}

const char *tb_default_rule_dir(void)
{
    struct stat st;
    const char *env = getenv("TLSBLAME_RULES");

    if (env != NULL && env[0] != '\0') {
        return env;
    }
    if (stat(TB_RULEDIR, &st) == 0 && S_ISDIR(st.st_mode)) {
        return TB_RULEDIR;
    }
    return TB_SRC_RULEDIR;
}

/* ---- flow callbacks ---- */

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
    tb_session_init(&o->s, ++w->next_session_id, w->file);
    o->s.first_frame = frame;
    o->s.start_us = ts_us;
    tb_flow_endpoint(f, TB_DIR_C2S, &ipv, addr, &port);
    tb_addr_format(ipv, addr, o->s.client.ip, sizeof o->s.client.ip);
    o->s.client.port = port;
    tb_flow_endpoint(f, TB_DIR_S2C, &ipv, addr, &port);
    tb_addr_format(ipv, addr, o->s.server.ip, sizeof o->s.server.ip);
    o->s.server.port = port;
    o->s.is_ipv6 = ipv == 6;
    o->tls = tb_tls_new(&o->s, w->run->certs);
    if (o->tls == NULL) {
        tb_session_fini(&o->s, w->run->certs);
        free(o);
        return NULL;
    }
    /* classify: begin */
    tb_classify_flow_init(w->classifier, &o->cls);
    /* classify: end */
    return o;
}

static void refresh_endpoints(struct owner *o, const struct tb_pkt *pkt, enum tb_dir dir)
{
    /* Roles can be swapped before the first byte (no SYN): keep text endpoints in step. */
    struct tb_endpoint *src = dir == TB_DIR_C2S ? &o->s.client : &o->s.server;
    struct tb_endpoint *dst = dir == TB_DIR_C2S ? &o->s.server : &o->s.client;

    if (src->port != pkt->sport || dst->port != pkt->dport) {
        tb_addr_format(pkt->ip_version, pkt->src, src->ip, sizeof src->ip);
        src->port = pkt->sport;
        tb_addr_format(pkt->ip_version, pkt->dst, dst->ip, sizeof dst->ip);
        dst->port = pkt->dport;
    }
}

static void on_packet(void *ctx, void *owner, enum tb_dir dir, const struct tb_pkt *pkt,
                      uint64_t frame, int64_t ts_us)
{
    struct worker *w = ctx;
    struct owner *o = owner;
    struct tb_session *s = &o->s;

    refresh_endpoints(o, pkt, dir);
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
    /* classify: begin */
    if (!tb_classify_flow_idle(&o->cls)) {
        tb_classify_packet(w->classifier, &o->cls, s, dir, pkt, ts_us);
    }
    /* classify: end */
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
    struct run *r = w->run;
    struct tb_facts facts;
    struct tb_verdict verdict;

    tb_facts_compute(s, r->trust != NULL, &facts);
    memset(&verdict, 0, sizeof verdict);
    if (s->outcome != TB_OUTCOME_SUCCESS) {
        tb_rules_eval(r->rules, &facts, &s->arena, &verdict);
    }
    tb_summary_add(r->summary, s, &facts, &verdict);
    if (r->cfg->summary_only) {
        return;
    }
    if (r->cfg->only_failures && s->outcome == TB_OUTCOME_SUCCESS) {
        return;
    }
    if (r->cfg->json) {
        tb_report_json_session(r->out, s, &facts, &verdict);
    } else {
        tb_report_text_session(r->out, s, &facts, &verdict, &r->text);
    }
    if (r->cfg->iface != NULL) {
        fflush(r->out);
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
                  w->run->trust);
    /* classify: begin (a STARTTLS refusal is a verdict without any TLS record) */
    tb_classify_flow_end(w->classifier, &o->cls, &o->s);
    if (o->s.is_tls || o->s.preamble_refusal != NULL) {
        report_session(w, &o->s);
    }
    /* classify: end */
    tb_tls_free(o->tls);
    tb_session_fini(&o->s, w->run->certs);
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

/* ---- packets ---- */

static void on_capture_packet(void *ctx, const struct tb_packet *p)
{
    struct worker *w = ctx;
    struct tb_pkt pkt;
    const char *reason = NULL;

    w->packets++;
    w->bytes += p->wirelen;
    w->last_frame = p->frame;
    w->last_ts_us = p->ts_us;
    if (stop_requested) {
        return;
    }
    switch (tb_decode(w->decoder, p->linktype, p->bytes, p->caplen, p->wirelen, p->ts_us, &pkt,
                      &reason)) {
    case TB_DECODE_TCP:
        tb_flowtab_packet(w->flows, &pkt, p->frame, p->ts_us);
        break;
    case TB_DECODE_MALFORMED:
        w->malformed++;
        if (w->run->cfg->verbosity >= 1 && w->malformed_reported < 20) {
            struct tb_where where = {w->file, p->frame, "decode", -1};
            w->malformed_reported++;
            tb_diag(&where, "%s", reason != NULL ? reason : "malformed packet");
        }
        break;
    case TB_DECODE_SKIP:
    case TB_DECODE_FRAGMENT:
    default:
        break;
    }
}

static void input_error(struct run *r, const char *file, uint64_t frame, const char *message)
{
    struct tb_where where = {file, 0, NULL, -1};

    tb_diag(&where, "%s", message);
    if (r->cfg->json && !r->cfg->summary_only) {
        tb_report_json_error(r->out, file, frame, message);
    }
    tb_summary_add_error(r->summary, file);
}

static uint64_t frame_of_message(const char *msg)
{
    /* capture.c prefixes damage messages with "frame N: ". */
    if (strncmp(msg, "frame ", 6) != 0) {
        return 0;
    }
    return strtoull(msg + 6, NULL, 10);
}

static void process_capture(struct run *r, const char *file)
{
    char errmsg[512] = "";
    struct tb_capture *cap = NULL;
    struct worker w = {.run = r, .file = file};
    struct tb_flow_limits lim = {
        .max_flows = r->cfg->max_flows,
        .max_ooo_total = TB_DEFAULT_MAX_OOO_TOTAL,
        .idle_timeout_us = (int64_t)r->cfg->idle_timeout_s * 1000000,
    };
    enum tb_err err;

    err = tb_capture_open_file(file, r->cfg->filter, &cap, errmsg, sizeof errmsg);
    if (err != TB_OK) {
        r->input_errors++;
        if (err == TB_ERR_USAGE) {
            r->input_errors += 1000; /* a bad filter is a usage error */
        }
        input_error(r, file, 0, errmsg);
        return;
    }
    r->inputs_read++;
    w.decoder = tb_decoder_new();
    w.classifier = tb_classify_new(); /* classify */
    w.flows = tb_flowtab_new(&lim, &flow_ops, &w);
    if (w.decoder == NULL || w.flows == NULL || w.classifier == NULL) {
        input_error(r, file, 0, "out of memory");
        goto out;
    }
    err = tb_capture_run(cap, on_capture_packet, &w, r->cfg->count, errmsg, sizeof errmsg);
    tb_flowtab_end_all(w.flows, w.last_frame, w.last_ts_us);
    if (err != TB_OK) {
        r->input_errors++;
        input_error(r, file, frame_of_message(errmsg), errmsg);
    }
    if (w.malformed > 0 && r->cfg->verbosity >= 1) {
        struct tb_where where = {file, 0, NULL, -1};
        tb_diag(&where, "%llu malformed packets skipped", (unsigned long long)w.malformed);
    }
    tb_summary_add_packets(r->summary, w.packets, w.bytes);
    /* classify: begin */
    if (r->cfg->verbosity >= 1) {
        struct tb_classify_stats cs;
        struct tb_where where = {file, 0, "classify", -1};
        tb_classify_stats(w.classifier, &cs);
        tb_diag(&where,
                "nDPI: %llu flows (%llu named, %llu not), %llu packets, %.1f ms "
                "(%.1f ms setup), memory %lld KiB now, %lld KiB peak",
                (unsigned long long)cs.flows, (unsigned long long)cs.detected,
                (unsigned long long)cs.undecided, (unsigned long long)cs.packets,
                (double)cs.ndpi_ns / 1e6, (double)cs.init_ns / 1e6, (long long)(cs.mem_live / 1024),
                (long long)(cs.mem_peak / 1024));
    }
    /* classify: end */
out:
    tb_flowtab_free(w.flows, w.last_frame, w.last_ts_us);
    tb_classify_free(w.classifier); /* classify: after the flows, which give up their nDPI state */
    tb_decoder_free(w.decoder);
    tb_capture_close(cap);
}

static bool capture_name(const char *name)
{
    static const char *const suffixes[] = {".pcap", ".pcapng", ".cap", ".pcap.gz", ".pcapng.gz",
                                           ".cap.gz"};
    size_t n = strlen(name);

    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        size_t m = strlen(suffixes[i]);
        if (n > m && strcmp(name + n - m, suffixes[i]) == 0) {
            return true;
        }
    }
    return false;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Directories are walked in name order (deterministic output), depth-capped. */
static void process_path(struct run *r, const char *path, int depth)
{
    struct stat st;

    if (strcmp(path, "-") != 0 && stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        DIR *dir;
        struct dirent *de;
        char **names = NULL;
        size_t count = 0, cap = 0;

        if (depth >= TB_MAX_DEPTH) {
            input_error(r, path, 0, "directory nesting too deep; skipped");
            return;
        }
        dir = opendir(path);
        if (dir == NULL) {
            r->input_errors++;
            input_error(r, path, 0, strerror(errno));
            return;
        }
        while ((de = readdir(dir)) != NULL) {
            if (de->d_name[0] == '.') {
                continue;
            }
            if (count == cap) {
                size_t ncap = cap == 0 ? 64 : cap * 2;
                char **nn = realloc(names, ncap * sizeof *nn);
                if (nn == NULL) {
                    break;
                }
                names = nn;
                cap = ncap;
            }
            size_t len = strlen(path) + strlen(de->d_name) + 2;
            names[count] = malloc(len);
            if (names[count] == NULL) {
                break;
            }
            snprintf(names[count], len, "%s/%s", path, de->d_name);
            count++;
        }
        closedir(dir);
        if (count > 0) {
            qsort(names, count, sizeof *names, name_cmp);
        }
        for (size_t i = 0; i < count; i++) {
            struct stat cst;
            if (stat(names[i], &cst) == 0 && (S_ISDIR(cst.st_mode) || capture_name(names[i]))) {
                process_path(r, names[i], depth + 1);
            }
            free(names[i]);
        }
        free(names);
        return;
    }
    process_capture(r, path);
}

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

int tb_pipeline_check_rules(const char *dir)
{
    struct tb_ruleset *set = tb_ruleset_new();
    enum tb_err err;

    if (set == NULL) {
        return 2;
    }
    err = tb_rules_load_dir(set, dir);
    if (err == TB_OK) {
        printf("%s: %zu rules OK\n", dir, tb_rules_count(set));
    }
    tb_ruleset_free(set);
    return err == TB_OK ? 0 : 2;
}

static bool load_rules(struct run *r)
{
    const struct tb_config *cfg = r->cfg;

    r->rules = tb_ruleset_new();
    if (r->rules == NULL) {
        return false;
    }
    if (!cfg->no_default_rules && tb_rules_load_dir(r->rules, tb_default_rule_dir()) != TB_OK) {
        return false;
    }
    for (size_t i = 0; i < cfg->rule_dir_count; i++) {
        if (tb_rules_load_dir(r->rules, cfg->rule_dirs[i]) != TB_OK) {
            return false;
        }
    }
    return true;
}

int tb_pipeline_run(const struct tb_config *cfg)
{
    struct run r = {.cfg = cfg, .out = stdout};
    int status = 0;
    struct sigaction sa;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    r.text.verbosity = cfg->verbosity;
    r.text.only_failures = cfg->only_failures;
    r.text.width = 80;
    r.text.color = cfg->color == TB_COLOR_ALWAYS ||
                   (cfg->color == TB_COLOR_AUTO && isatty(STDOUT_FILENO) && getenv("NO_COLOR") == NULL);
    if (!load_rules(&r)) {
        status = 2;
        goto out;
    }
    if (cfg->ca_file != NULL && tb_trust_load(cfg->ca_file, &r.trust) != TB_OK) {
        fprintf(stderr, "tlsblame: %s: cannot load trust anchors\n", cfg->ca_file);
        status = 2;
        goto out;
    }
    r.certs = tb_certcache_new(TB_CERTCACHE_MAX);
    r.summary = tb_summary_new();
    if (r.certs == NULL || r.summary == NULL) {
        status = 2;
        goto out;
    }
    for (size_t i = 0; i < cfg->input_count && !stop_requested; i++) {
        process_path(&r, cfg->inputs[i], 0);
    }
    if (cfg->json) {
        tb_summary_print_json(r.out, r.summary);
    } else if (cfg->verbosity >= 0 || cfg->summary_only) {
        tb_summary_print_text(r.out, r.summary, &r.text);
    }
    if (fflush(r.out) != 0 && errno != EPIPE) {
        status = 2;
    }
    if (r.input_errors >= 1000 || (r.inputs_read == 0 && r.input_errors > 0)) {
        status = 2; /* usage error, or no input could be read */
    }
out:
    tb_summary_free(r.summary);
    tb_certcache_free(r.certs);
    tb_trust_free(r.trust);
    tb_ruleset_free(r.rules);
    return status;
}
