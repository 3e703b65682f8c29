/*
 * pipeline.c - the coordinator: capture -> decode -> flow/reassembly -> TLS
 * -> certificates -> facts -> rules -> report, called in that order. Stages
 * never call forward; this file wires their callbacks. One worker state per
 * input; a damaged input is reported and the next one runs.
 */
#include <dirent.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <sched.h>
#include <stdatomic.h>
#include <time.h>
#include <errno.h>
#include <signal.h>
#include <stddef.h>
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
#include "tlsblame/keylog.h"
#include "tlsblame/limits.h"
#include "tlsblame/pipeline.h"
#include "tlsblame/report.h"
#include "tlsblame/ring.h"
#include "tlsblame/rules.h"
#include "tlsblame/tls.h"
#include "tlsblame/x509.h"

struct run {
    const struct tb_config *cfg;
    struct tb_ruleset *rules;
    struct tb_trust *trust;
    struct tb_text_opts text;
    struct tb_keylog *keylog; /* keylog: --keylog files and SSLKEYLOGFILE; NULL without */
};

/*
 * Where one worker's results go: the run's stdout and summary when files are
 * read one after another, or a memory stream and a summary of its own when
 * files are read in parallel (printed whole, in input order, then merged).
 */
struct sink {
    FILE *out;
    struct tb_summary *summary;
    struct tb_certcache *certs;
    uint64_t input_errors;
    uint64_t usage_errors;
    uint64_t inputs_read;
    struct batch *batch;   /* -j over several inputs: the run, this input's place in it, */
    size_t index;
    char *held;            /* and out's buffer (open_memstream) and its size, */
    size_t held_size;
    size_t held_len;       /* what it still holds once done, */
    bool done;
    FILE *spill;           /* where it went beyond the hold before its turn, or NULL, */
    long spilled;          /* and how much of it is there for sure */
};

static void sink_pass_on(struct sink *k);

struct worker {
    struct run *run;
    struct sink *sink;
    const char *file;
    struct tb_capture *cap;      /* for progress */
    bool progress;               /* stderr is a terminal: show how far the file is read */
    int64_t stats_us;            /* live -v: last heartbeat */
    bool progress_shown;
    struct tb_decoder *decoder;
    struct tb_flowtab *flows;
    uint64_t next_session_id;
    uint64_t packets, bytes;
    uint64_t last_frame;
    int64_t last_ts_us;
    uint64_t malformed;
    uint64_t malformed_reported;
    struct tb_classifier *classifier; /* classify: one nDPI module per worker */
    struct tb_keylog *keylog_file;    /* keylog: this capture's pcapng secrets, or NULL */
    struct shard *shard;              /* -j on one capture: this worker's share, else NULL */
};

struct owner {
    struct tb_session s;         /* first: on_open clears only what follows it */
    uint64_t open_index;         /* -j on one capture: its place among its shard's opens, */
    bool numbered;               /* its number is known (set early: see shard_number_ready), */
    struct tb_end_key end_key;   /* where its end falls, */
    struct owner *next_deferred; /* and the next report waiting for other shards */
    struct tb_tls *tls;
    bool reported;               /* live: reported as soon as it was decided */
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

    static char beside_exe[4096];
    char exe[4000];
    ssize_t n;

    if (env != NULL && env[0] != '\0') {
        return env;
    }
    /* Installed under any PREFIX (make install PREFIX=... DESTDIR=...): the rules
     * sit at ../share/tlsblame/rules from the binary, whatever was compiled in. */
    n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash != NULL) {
            *slash = '\0';
            snprintf(beside_exe, sizeof beside_exe, "%s/../share/tlsblame/rules", exe);
            if (stat(beside_exe, &st) == 0 && S_ISDIR(st.st_mode)) {
                return beside_exe;
            }
        }
    }
    if (stat(TB_RULEDIR, &st) == 0 && S_ISDIR(st.st_mode)) {
        return TB_RULEDIR;
    }
    return TB_SRC_RULEDIR;
}

static void export_certs(struct run *r, const struct tb_session *s);
static uint64_t shard_log_open(struct shard *sh, uint64_t frame, struct owner *o);
static void shard_log_end(struct shard *sh, uint64_t open_index);
static bool shard_defer(struct shard *sh, struct owner *o);
static void print_reproduce(FILE *out, const struct run *r, const struct tb_session *s,
                            const struct tb_verdict *v);
static void report_session(struct worker *w, struct tb_session *s);
static void free_owner(struct worker *w, struct owner *o);

/* ---- flow callbacks ---- */

static void *on_open(void *ctx, struct tb_flow *f, const struct tb_pkt *pkt, uint64_t frame,
                     int64_t ts_us)
{
    struct worker *w = ctx;
    /* Not calloc: the session (9 KB) is cleared by tb_session_init, the rest here. */
    struct owner *o = malloc(sizeof *o);
    uint8_t ipv, addr[16];
    uint16_t port;

    (void)pkt;
    if (o == NULL) {
        return NULL;
    }
    memset((char *)o + offsetof(struct owner, open_index), 0,
           sizeof *o - offsetof(struct owner, open_index));
    tb_session_init(&o->s, ++w->next_session_id, w->file);
    if (w->shard != NULL) {
        o->open_index = shard_log_open(w->shard, frame, o);
    }
    o->s.first_frame = frame;
    o->s.start_us = ts_us;
    tb_flow_endpoint(f, TB_DIR_C2S, &ipv, addr, &port);
    tb_addr_format(ipv, addr, o->s.client.ip, sizeof o->s.client.ip);
    o->s.client.port = port;
    tb_flow_endpoint(f, TB_DIR_S2C, &ipv, addr, &port);
    tb_addr_format(ipv, addr, o->s.server.ip, sizeof o->s.server.ip);
    o->s.server.port = port;
    o->s.is_ipv6 = ipv == 6;
    o->tls = tb_tls_new(&o->s, w->sink->certs);
    if (o->tls == NULL) {
        tb_session_fini(&o->s, w->sink->certs);
        free(o);
        return NULL;
    }
    tb_tls_set_keylog(o->tls, w->run->keylog, w->keylog_file); /* keylog */
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
    struct worker *w = ctx;
    struct owner *o = owner;

    tb_tls_data(o->tls, dir, bytes, len, frame, ts_us);
    if (w->run->cfg->iface != NULL && !o->reported && tb_tls_decided_success(o->tls)) {
        /* Live: say it now, not when the connection closes hours later. */
        tb_tls_finish(o->tls, false, w->run->trust);
        tb_classify_flow_end(w->classifier, &o->cls, &o->s); /* classify */
        report_session(w, &o->s);
        o->reported = true;
    }
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
    struct sink *k = w->sink;
    struct tb_facts facts;
    struct tb_verdict verdict;

    tb_facts_compute(s, r->trust != NULL, &facts);
    memset(&verdict, 0, sizeof verdict);
    if (s->outcome != TB_OUTCOME_SUCCESS) {
        tb_rules_eval(r->rules, &facts, &s->arena, &verdict);
    }
    tb_summary_add(k->summary, s, &facts, &verdict);
    if (r->cfg->summary_only) {
        return;
    }
    if (r->cfg->only_failures && s->outcome == TB_OUTCOME_SUCCESS) {
        return;
    }
    if (r->cfg->export_certs != NULL) {
        export_certs(r, s);
    }
    if (r->cfg->json) {
        tb_report_json_session(k->out, s, &facts, &verdict);
    } else {
        tb_report_text_session(k->out, s, &facts, &verdict, &r->text);
        if (r->cfg->export_certs != NULL && s->outcome != TB_OUTCOME_SUCCESS) {
            print_reproduce(k->out, r, s, &verdict);
        }
    }
    if (r->cfg->iface != NULL) {
        fflush(k->out); /* live: each result as it happens */
    }
    sink_pass_on(k);
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
    if (o->reported) {
        goto free_owner;
    }
    tb_tls_finish(o->tls, why == TB_FLOW_END_CAPTURE || why == TB_FLOW_END_IDLE ||
                              why == TB_FLOW_END_EVICTED,
                  w->run->trust);
    /* classify: begin (a STARTTLS refusal is a verdict without any TLS record) */
    tb_classify_flow_end(w->classifier, &o->cls, &o->s);
    if (o->s.is_tls || o->s.preamble_refusal != NULL) {
        if (w->shard != NULL) {
            /* -j: reported once its number is known (shard_resolve) */
            tb_flowtab_end_key(w->flows, &o->end_key);
            if (shard_defer(w->shard, o)) {
                return;
            }
        } else {
            report_session(w, &o->s);
        }
    }
    /* classify: end */
free_owner:
    free_owner(w, o);
}

static void free_owner(struct worker *w, struct owner *o)
{
    if (w->shard != NULL) {
        shard_log_end(w->shard, o->open_index);
    }
    tb_tls_free(o->tls); /* nDPI's state went in tb_classify_flow_end, on every way here */
    tb_session_fini(&o->s, w->sink->certs);
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

/* Count, show progress, decode: true when p is a TCP segment (pkt filled). */
static bool take_packet(struct worker *w, const struct tb_packet *p, struct tb_pkt *pkt)
{
    const char *reason = NULL;

    w->packets++;
    w->bytes += p->wirelen;
    w->last_frame = p->frame;
    w->last_ts_us = p->ts_us;
    if (w->progress && (w->packets & 0xffff) == 0) {
        uint64_t pos, size;
        tb_capture_progress(w->cap, &pos, &size);
        if (size > 0) {
            if (w->flows == NULL) {
                fprintf(stderr, "\rtlsblame: %s: %3llu%%", w->file,
                        (unsigned long long)(pos * 100 / size)); /* -j: sessions are counted apart */
            } else {
                fprintf(stderr, "\rtlsblame: %s: %3llu%%, %llu sessions", w->file,
                        (unsigned long long)(pos * 100 / size),
                        (unsigned long long)w->next_session_id);
            }
            w->progress_shown = true;
        }
    }
    if (stop_requested) {
        return false;
    }
    switch (tb_decode(w->decoder, p->linktype, p->bytes, p->caplen, p->wirelen, p->ts_us, pkt,
                      &reason)) {
    case TB_DECODE_TCP:
        return true;
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
    return false;
}

static void on_capture_packet(void *ctx, const struct tb_packet *p)
{
    struct worker *w = ctx;
    struct tb_pkt pkt;

    if (take_packet(w, p, &pkt)) {
        tb_flowtab_packet(w->flows, &pkt, p->frame, p->ts_us);
    }
}

static void input_error(struct run *r, struct sink *k, const char *file, uint64_t frame,
                        const char *message)
{
    struct tb_where where = {file, 0, NULL, -1};

    tb_diag(&where, "%s", message);
    k->input_errors++;
    if (r->cfg->json && !r->cfg->summary_only) {
        tb_report_json_error(k->out, file, frame, message);
    }
    tb_summary_add_error(k->summary, file);
    sink_pass_on(k);
}

static uint64_t frame_of_message(const char *msg)
{
    /* capture.c prefixes damage messages with "frame N: ". */
    if (strncmp(msg, "frame ", 6) != 0) {
        return 0;
    }
    return strtoull(msg + 6, NULL, 10);
}

/* keylog: begin */
/* Secrets inside the capture (pcapng Decryption Secrets Blocks): NULL when there are none. */
static struct tb_keylog *capture_secrets(const struct run *r, const char *file)
{
    struct tb_keylog *kl;
    size_t blocks = 0;

    if (strcmp(file, "-") == 0) {
        return NULL; /* stdin cannot be read twice */
    }
    kl = tb_keylog_new();
    if (kl == NULL) {
        return NULL;
    }
    if (tb_keylog_load_pcapng(kl, file, &blocks) != TB_OK || blocks == 0) {
        tb_keylog_free(kl); /* pcap, gzip, or no secrets: the capture stage reads it as usual */
        return NULL;
    }
    if (r->cfg->verbosity >= 1) {
        struct tb_keylog_stats st;
        struct tb_where where = {file, 0, "keylog", -1};
        tb_keylog_stats(kl, &st);
        tb_diag(&where, "%zu decryption secrets block(s): %zu secrets for %zu client randoms",
                blocks, st.secrets, st.entries);
    }
    return kl;
}

/* --keylog files (a file that cannot be read is a usage error), then SSLKEYLOGFILE if readable. */
static bool load_keylogs(struct run *r)
{
    const struct tb_config *cfg = r->cfg;
    const char *env = getenv("SSLKEYLOGFILE");
    bool use_env = env != NULL && env[0] != '\0' && access(env, R_OK) == 0;
    struct tb_keylog_stats st;

    if (cfg->keylog_count == 0 && !use_env) {
        return true;
    }
    r->keylog = tb_keylog_new();
    if (r->keylog == NULL) {
        return false;
    }
    for (size_t i = 0; i < cfg->keylog_count; i++) {
        if (tb_keylog_load_file(r->keylog, cfg->keylogs[i]) != TB_OK) {
            return false; /* reported by the loader */
        }
    }
    if (use_env && tb_keylog_load_file(r->keylog, env) != TB_OK) {
        /* Reported; the environment's key log is a convenience, the run goes on. */
    }
    tb_keylog_stats(r->keylog, &st);
    if (st.entries == 0 && cfg->keylog_count > 0) {
        fprintf(stderr, "tlsblame: no usable secrets in the key log%s; nothing will be "
                        "decrypted\n", cfg->keylog_count > 1 ? "s" : "");
    } else if (cfg->verbosity >= 1) {
        fprintf(stderr, "tlsblame: key logs: %zu secrets for %zu client randoms (%zu lines, "
                        "%zu malformed)\n",
                st.secrets, st.entries, st.lines, st.malformed);
    }
    return true;
}
/* keylog: end */

/* After the last packet and the sessions: the damage, if any, and the counts. */
static void capture_done(struct run *r, struct sink *k, const struct worker *w, enum tb_err err,
                         const char *errmsg)
{
    if (err != TB_OK) {
        input_error(r, k, w->file, frame_of_message(errmsg), errmsg);
    }
    if (w->malformed > 0 && r->cfg->verbosity >= 1) {
        struct tb_where where = {w->file, 0, NULL, -1};
        tb_diag(&where, "%llu malformed packets skipped", (unsigned long long)w->malformed);
    }
    tb_summary_add_packets(k->summary, w->packets, w->bytes);
}

/* classify: begin */
static void classify_diag(const struct run *r, const char *file, struct tb_classifier *c)
{
    if (r->cfg->verbosity >= 1 && c != NULL) {
        struct tb_classify_stats cs;
        struct tb_where where = {file, 0, "classify", -1};
        tb_classify_stats(c, &cs);
        tb_diag(&where,
                "nDPI: %llu flows (%llu named, %llu not), %llu packets, %.1f ms "
                "(%.1f ms setup), memory %lld KiB now, %lld KiB peak",
                (unsigned long long)cs.flows, (unsigned long long)cs.detected,
                (unsigned long long)cs.undecided, (unsigned long long)cs.packets,
                (double)cs.ndpi_ns / 1e6, (double)cs.init_ns / 1e6, (long long)(cs.mem_live / 1024),
                (long long)(cs.mem_peak / 1024));
    }
}
/* classify: end */

static struct tb_flow_limits flow_limits(const struct tb_config *cfg)
{
    return (struct tb_flow_limits){
        .max_flows = cfg->max_flows,
        .max_ooo_total = TB_DEFAULT_MAX_OOO_TOTAL,
        .idle_timeout_us = (int64_t)cfg->idle_timeout_s * 1000000,
    };
}

/* A capture file for w: the capture, the secrets it carries, a decoder. false: it cannot
 * be read (said and counted). */
static bool open_input(struct worker *w)
{
    char errmsg[512] = "";
    enum tb_err err = tb_capture_open_file(w->file, w->run->cfg->filter, &w->cap, errmsg,
                                           sizeof errmsg);

    if (err != TB_OK) {
        if (err == TB_ERR_USAGE) {
            w->sink->usage_errors++; /* a bad filter */
        }
        input_error(w->run, w->sink, w->file, 0, errmsg);
        return false;
    }
    w->sink->inputs_read++;
    w->keylog_file = capture_secrets(w->run, w->file); /* keylog */
    w->decoder = tb_decoder_new();
    return true;
}

/* Every packet to fn; on a terminal a progress line, when one input is read at a time. */
static enum tb_err read_input(struct worker *w, tb_packet_fn fn, void *ctx, bool one_at_a_time,
                              char *errmsg, size_t errmsg_len)
{
    w->progress = one_at_a_time && w->run->cfg->verbosity >= 0 && isatty(STDERR_FILENO);
    enum tb_err err = tb_capture_run(w->cap, fn, ctx, w->run->cfg->count, errmsg, errmsg_len);
    if (w->progress_shown) {
        fputs("\r\033[K", stderr); /* the results take its place */
    }
    return err;
}

/* After the flows, whose sessions borrow the secrets. */
static void close_input(struct worker *w)
{
    tb_keylog_free(w->keylog_file); /* keylog */
    tb_decoder_free(w->decoder);
    tb_capture_close(w->cap);
}

/*
 * One capture. keep: the calling thread's nDPI module, made on first use and
 * kept from one capture to the next once tb_classify_reset has cleared what
 * it learnt (a new module costs ~10 ms: most of the time on small files).
 */
static void process_capture(struct run *r, struct sink *k, const char *file,
                            struct tb_classifier **keep)
{
    char errmsg[512] = "";
    struct worker w = {.run = r, .sink = k, .file = file};
    struct tb_flow_limits lim = flow_limits(r->cfg);
    enum tb_err err;

    if (!open_input(&w)) {
        return;
    }
    /* classify: begin */
    if (!r->cfg->no_ndpi && *keep == NULL) {
        *keep = tb_classify_new();
    }
    w.classifier = r->cfg->no_ndpi ? NULL : *keep;
    /* classify: end */
    w.flows = tb_flowtab_new(&lim, &flow_ops, &w);
    if (w.decoder == NULL || w.flows == NULL || (w.classifier == NULL && !r->cfg->no_ndpi)) {
        input_error(r, k, file, 0, "out of memory");
        goto out;
    }
    err = read_input(&w, on_capture_packet, &w, r->cfg->jobs <= 1, errmsg, sizeof errmsg);
    tb_flowtab_end_all(w.flows, w.last_frame, w.last_ts_us);
    capture_done(r, k, &w, err, errmsg);
    classify_diag(r, file, w.classifier); /* classify */
out:
    tb_flowtab_free(w.flows, w.last_frame, w.last_ts_us);
    /* classify: after the flows, which give up their nDPI state */
    if (w.classifier != NULL && !tb_classify_reset(w.classifier)) {
        tb_classify_free(w.classifier);
        *keep = NULL;
    }
    close_input(&w);
}


/* ---- inputs: files, directories, --from lists ---- */

struct input_list {
    char **path;
    size_t count, cap;
};

static bool list_add(struct input_list *l, const char *path)
{
    if (l->count == l->cap) {
        size_t ncap = l->cap == 0 ? 64 : l->cap * 2;
        char **np = realloc(l->path, ncap * sizeof *np);
        if (np == NULL) {
            return false;
        }
        l->path = np;
        l->cap = ncap;
    }
    l->path[l->count] = strdup(path);
    if (l->path[l->count] == NULL) {
        return false;
    }
    l->count++;
    return true;
}

static void list_free(struct input_list *l)
{
    for (size_t i = 0; i < l->count; i++) {
        free(l->path[i]);
    }
    free(l->path);
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

/*
 * Expand a directory into its captures, in name order (deterministic output),
 * recursing with a depth cap. Anything else is taken as given: a file the
 * capture stage will open or report.
 */
static void collect_path(struct input_list *l, const char *path, int depth)
{
    struct stat st;
    DIR *dir;
    struct dirent *de;
    struct input_list here = {0};

    if (strcmp(path, "-") == 0 || stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
        (void)list_add(l, path); /* out of memory: the input is dropped, said below */
        return;
    }
    if (depth >= TB_MAX_DEPTH) {
        fprintf(stderr, "tlsblame: %s: directory nesting deeper than %d; skipped\n", path,
                TB_MAX_DEPTH);
        return;
    }
    dir = opendir(path);
    if (dir == NULL) {
        (void)list_add(l, path); /* reported when opened */
        return;
    }
    while ((de = readdir(dir)) != NULL) {
        char full[4096];
        struct stat cst;
        if (de->d_name[0] == '.') {
            continue;
        }
        size_t plen = strlen(path);
        const char *sep = plen > 0 && path[plen - 1] == '/' ? "" : "/";
        if (snprintf(full, sizeof full, "%s%s%s", path, sep, de->d_name) >= (int)sizeof full) {
            continue;
        }
        if (stat(full, &cst) == 0 && (S_ISDIR(cst.st_mode) || capture_name(full))) {
            (void)list_add(&here, full);
        }
    }
    closedir(dir);
    if (here.count > 0) {
        qsort(here.path, here.count, sizeof *here.path, name_cmp);
    }
    for (size_t i = 0; i < here.count; i++) {
        collect_path(l, here.path[i], depth + 1);
    }
    list_free(&here);
}

static bool collect_from_file(struct input_list *l, const char *list_path)
{
    FILE *f = strcmp(list_path, "-") == 0 ? stdin : fopen(list_path, "r");
    char line[4096];
    unsigned long n = 0;

    if (f == NULL) {
        tb_diag_errno(list_path, "cannot open --from list");
        return false;
    }
    while (fgets(line, sizeof line, f) != NULL) {
        size_t len = strlen(line);
        n++;
        if (len > 0 && line[len - 1] != '\n' && !feof(f)) {
            fprintf(stderr, "tlsblame: %s:%lu: path longer than %zu bytes; skipped\n", list_path,
                    n, sizeof line - 1);
            int c;
            while ((c = fgetc(f)) != EOF && c != '\n') {
            }
            continue;
        }
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) {
            line[--len] = '\0';
        }
        if (len == 0 || line[0] == '#') {
            continue;
        }
        collect_path(l, line, 0);
    }
    if (f != stdin) {
        fclose(f);
    }
    return true;
}

/* ---- --export-certs ---- */

/* "DIR/capture-s3-client" for a session's files (the input's base name keeps batch runs apart). */
static void export_prefix(const struct run *r, const struct tb_session *s, enum tb_dir d, char *out,
                          size_t out_len)
{
    const char *base = s->file != NULL ? strrchr(s->file, '/') : NULL;

    base = base != NULL ? base + 1 : (s->file != NULL ? s->file : "capture");
    snprintf(out, out_len, "%s/%s-s%llu-%s", r->cfg->export_certs, base,
             (unsigned long long)s->id, d == TB_DIR_C2S ? "client" : "server");
}

static bool write_pems(const char *path, const struct tb_chain *c, size_t from, size_t to)
{
    FILE *f = fopen(path, "w");
    struct tb_arena a;

    if (f == NULL) {
        tb_diag_errno(path, "cannot write certificate");
        return false;
    }
    tb_arena_init(&a, 1u << 22);
    for (size_t i = from; i < to && i < c->count; i++) {
        const char *pem = tb_cert_pem(c->certs[i], &a);
        if (pem != NULL) {
            fputs(pem, f);
        }
    }
    tb_arena_reset(&a);
    if (fclose(f) != 0) {
        tb_diag_errno(path, "cannot write certificate");
        return false;
    }
    return true;
}

/* --export-certs: each chain as PEM, leaf and the rest apart, for openssl verify. */
static void export_certs(struct run *r, const struct tb_session *s)
{
    for (int d = 0; d < TB_DIR_COUNT; d++) {
        const struct tb_chain *c = &s->chain[d];
        char prefix[4096], path[4200];

        if (c->count == 0) {
            continue;
        }
        export_prefix(r, s, (enum tb_dir)d, prefix, sizeof prefix);
        snprintf(path, sizeof path, "%s-leaf.pem", prefix);
        (void)write_pems(path, c, 0, 1); /* said on stderr when it fails */
        if (c->count > 1) {
            snprintf(path, sizeof path, "%s-chain.pem", prefix);
            (void)write_pems(path, c, 1, c->count);
        }
    }
}

/*
 * The rejecting side's check, to run against the real trust store:
 * openssl verify at the capture time, with the purpose of the role.
 */
static void print_reproduce(FILE *out, const struct run *r, const struct tb_session *s,
                            const struct tb_verdict *v)
{
    if (!v->present || v->cand_count == 0 || v->cand[0].rejected == NULL) {
        return;
    }
    enum tb_dir d;
    if (strcmp(v->cand[0].rejected, "client_certificate") == 0) {
        d = TB_DIR_C2S;
    } else if (strcmp(v->cand[0].rejected, "server_certificate") == 0) {
        d = TB_DIR_S2C;
    } else {
        return;
    }
    const struct tb_chain *c = &s->chain[d];
    char prefix[4096];
    if (c->count == 0) {
        return;
    }
    export_prefix(r, s, d, prefix, sizeof prefix);
    fprintf(out, "  Reproduce the %s's check with its trust store:\n"
                 "    openssl verify -CAfile TRUSTED-CAS.pem%s%s%s -purpose %s -attime %lld %s-leaf.pem\n\n",
            d == TB_DIR_C2S ? "server" : "client", c->count > 1 ? " -untrusted " : "",
            c->count > 1 ? prefix : "", c->count > 1 ? "-chain.pem" : "",
            d == TB_DIR_C2S ? "sslclient" : "sslserver", (long long)(c->ts_us / 1000000), prefix);
}

/* ---- offline and batch ---- */

static void sink_init(struct sink *k, FILE *out)
{
    memset(k, 0, sizeof *k);
    k->out = out;
    k->summary = tb_summary_new();
    k->certs = tb_certcache_new(TB_CERTCACHE_MAX);
}

static void sink_fini(struct sink *k)
{
    tb_summary_free(k->summary);
    tb_certcache_free(k->certs);
}

static bool sink_ok(const struct sink *k)
{
    return k->summary != NULL && k->certs != NULL;
}

static void sink_merge(struct sink *dst, const struct sink *src)
{
    tb_summary_merge(dst->summary, src->summary);
    dst->input_errors += src->input_errors;
    dst->usage_errors += src->usage_errors;
    dst->inputs_read += src->inputs_read;
}

/* ---- one capture, several threads (-j N with one input) ----
 *
 * One reader decodes and hands each packet to the worker that owns its
 * connection (flow hash modulo N), each worker with its own flow table,
 * nDPI module, certificate cache and summary. The output is the same as
 * with one thread, byte for byte:
 * - every packet carries the capture clock, and idle readers get it in
 *   ticks, so each table ends flows when the single table would;
 * - a session's number counts the sessions opened before its first frame
 *   in every shard (each keeps the frames of its opens, and numbers its
 *   sessions as soon as every other shard is past their first frame); a
 *   report whose number is not known yet waits in a queue and the worker
 *   goes on (only at the end of the capture does it wait, when every worker
 *   is past every frame);
 * - reports are written in the order of their end keys (flow.h), each
 *   once no worker can still produce an earlier one.
 * Only caps differ: the flow and reassembly limits apply per worker.
 */

#define SHARD_RING_KIB 2048     /* per worker; TLSBLAME_RING_KIB overrides it (tests use the least) */
#define SHARD_RING_MIN_KIB 1100 /* four of the largest entries: a 256 KiB packet and its header */
#define SHARD_TICK_FRAMES 256 /* a worker that got nothing for this long gets the clock */
#define SHARD_MERGE_FRAMES 64

enum entry_kind { ENTRY_PACKET = 1, ENTRY_TICK, ENTRY_END };

struct shard_entry {
    uint32_t kind;
    uint32_t hash;         /* tb_flow_hash of the packet, computed once by the reader */
    uint32_t l3_len;       /* copied after the entry */
    uint32_t payload_off;  /* payload: at this offset in the copied bytes */
    uint32_t payload_len;
    uint64_t frame;
    int64_t ts_us, clock_us;
    struct tb_pkt pkt;     /* its pointers are set again from the offsets */
};

struct message {
    struct message *next;
    struct tb_end_key key;
    size_t len;
    char text[];
};

struct shard {
    struct worker w;
    struct sink sink;
    struct shard *all;     /* every shard of the run, for waits and counts */
    int count, index;
    struct tb_ring *ring;
    pthread_t tid;
    bool started;
    FILE *mem;             /* reports are rendered here, then queued */
    char *mem_buf;
    size_t mem_len;
    uint64_t pushed_frame; /* reader: frame of the last entry sent here */
    struct owner *deferred, *deferred_tail; /* ended, numbered when the others catch up */
    /* Frames of the sessions this shard opened, oldest first; those before
     * every shard's oldest session not yet numbered and its progress are
     * dropped (counted in log_base). */
    pthread_mutex_t log_lock;
    uint64_t *log_frame;
    bool *log_ended;       /* ended, or numbered: either way no longer asked about */
    struct owner **log_owner;
    size_t log_len, log_cap, live_at;
    uint64_t log_base;
    _Atomic uint64_t oldest_live; /* frame of the oldest session not yet numbered, or UINT64_MAX */
    _Atomic uint64_t progress;    /* every entry up to this frame is processed */
    /* Lower bound of any report this shard can still queue: its first deferred
     * report's key, else (clock, at a packet, frame + 1) of the last entry. */
    _Atomic uint32_t bound_seq;
    _Atomic int64_t bound_time;
    _Atomic uint64_t bound_frame;
    _Atomic uint32_t bound_kind; /* phase << 8 | sub */
    _Atomic uint32_t bound_order;
    _Atomic bool finished;
    pthread_mutex_t q_lock;
    struct message *q_head, *q_tail;
};

static uint64_t shard_log_open(struct shard *sh, uint64_t frame, struct owner *o)
{
    uint64_t index;

    pthread_mutex_lock(&sh->log_lock);
    if (sh->log_len == sh->log_cap) {
        /* Drop what no query can need: frames before every shard's oldest session not yet
         * numbered and its progress (a later session, anywhere, starts after them).
         * Progress first: a session opened after that read is past it, one opened
         * before is still in oldest_live when that is read. */
        uint64_t horizon = UINT64_MAX;
        for (int t = 0; t < sh->count; t++) {
            uint64_t next = atomic_load(&sh->all[t].progress) + 1;
            uint64_t live = atomic_load(&sh->all[t].oldest_live);
            horizon = live < horizon ? live : horizon;
            horizon = next < horizon ? next : horizon;
        }
        size_t drop = 0;
        while (drop < sh->live_at && sh->log_frame[drop] < horizon) {
            drop++;
        }
        if (drop > 0) {
            memmove(sh->log_frame, sh->log_frame + drop, (sh->log_len - drop) * sizeof *sh->log_frame);
            memmove(sh->log_ended, sh->log_ended + drop, (sh->log_len - drop) * sizeof *sh->log_ended);
            memmove(sh->log_owner, sh->log_owner + drop, (sh->log_len - drop) * sizeof *sh->log_owner);
            sh->log_len -= drop;
            sh->live_at -= drop;
            sh->log_base += drop;
        }
        if (sh->log_len * 2 > sh->log_cap) {
            size_t ncap = sh->log_cap * 2;
            uint64_t *nf = realloc(sh->log_frame, ncap * sizeof *nf);
            bool *ne = nf != NULL ? realloc(sh->log_ended, ncap * sizeof *ne) : NULL;
            struct owner **no = ne != NULL ? realloc(sh->log_owner, ncap * sizeof *no) : NULL;
            sh->log_frame = nf != NULL ? nf : sh->log_frame;
            sh->log_ended = ne != NULL ? ne : sh->log_ended;
            sh->log_owner = no != NULL ? no : sh->log_owner;
            if (no != NULL) {
                sh->log_cap = ncap;
            }
        }
    }
    if (sh->log_len == sh->log_cap) {
        /* Out of memory: the session gets a number, perhaps not the single-thread one. */
        index = sh->log_base + sh->log_len;
        pthread_mutex_unlock(&sh->log_lock);
        return index;
    }
    sh->log_frame[sh->log_len] = frame;
    sh->log_ended[sh->log_len] = false;
    sh->log_owner[sh->log_len] = o;
    index = sh->log_base + sh->log_len++;
    if (sh->live_at == sh->log_len - 1) {
        atomic_store(&sh->oldest_live, frame);
    }
    pthread_mutex_unlock(&sh->log_lock);
    return index;
}

static void shard_log_end(struct shard *sh, uint64_t open_index)
{
    pthread_mutex_lock(&sh->log_lock);
    if (open_index >= sh->log_base && open_index - sh->log_base < sh->log_len) {
        sh->log_ended[open_index - sh->log_base] = true;
        sh->log_owner[open_index - sh->log_base] = NULL;
        while (sh->live_at < sh->log_len && sh->log_ended[sh->live_at]) {
            sh->live_at++;
        }
        atomic_store(&sh->oldest_live,
                     sh->live_at < sh->log_len ? sh->log_frame[sh->live_at] : UINT64_MAX);
    }
    pthread_mutex_unlock(&sh->log_lock);
}

/* Sessions shard t opened before frame; t has processed every frame before it. */
static uint64_t opens_before(struct shard *t, uint64_t frame)
{
    size_t lo = 0, hi;

    pthread_mutex_lock(&t->log_lock);
    hi = t->log_len;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (t->log_frame[mid] < frame) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    uint64_t n = t->log_base + lo;
    pthread_mutex_unlock(&t->log_lock);
    return n;
}

/* Every other shard is past frame - 1: the sessions opened before frame are all known. */
static bool others_past(struct shard *sh, uint64_t frame)
{
    for (int i = 0; i < sh->count; i++) {
        if (&sh->all[i] != sh && atomic_load(&sh->all[i].progress) + 1 < frame) {
            return false;
        }
    }
    return true;
}

static uint64_t global_id(struct shard *sh, const struct owner *o)
{
    uint64_t id = o->open_index + 1; /* this shard's own opens before it */

    for (int i = 0; i < sh->count; i++) {
        if (&sh->all[i] != sh) {
            id += opens_before(&sh->all[i], o->s.first_frame);
        }
    }
    return id;
}

/* Render a numbered report into the shard's queue, under its end key. */
static void shard_report(struct shard *sh, struct owner *o)
{
    long len;

    if (!o->numbered) {
        o->s.id = global_id(sh, o);
    }
    report_session(&sh->w, &o->s);
    if (fflush(sh->mem) == 0 && (len = ftell(sh->mem)) > 0) {
        struct message *m = malloc(sizeof *m + (size_t)len);
        if (m != NULL) {
            m->next = NULL;
            m->key = o->end_key;
            m->len = (size_t)len;
            memcpy(m->text, sh->mem_buf, (size_t)len);
            pthread_mutex_lock(&sh->q_lock);
            if (sh->q_tail != NULL) {
                sh->q_tail->next = m;
            } else {
                sh->q_head = m;
            }
            sh->q_tail = m;
            pthread_mutex_unlock(&sh->q_lock);
        } else {
            fprintf(stderr, "tlsblame: %s: out of memory: a session report is lost\n", sh->w.file);
        }
    }
    (void)fseek(sh->mem, 0, SEEK_SET);
}

/*
 * Number the oldest open sessions whose number is known (every other shard is
 * past their first frame) without waiting for them to end: a connection that
 * stays open for the whole capture would otherwise hold back the pruning of
 * every shard's open log, which would then grow with the capture.
 */
static void shard_number_ready(struct shard *sh)
{
    for (;;) {
        pthread_mutex_lock(&sh->log_lock);
        while (sh->live_at < sh->log_len && sh->log_ended[sh->live_at]) {
            sh->live_at++;
        }
        size_t at = sh->live_at;
        struct owner *o = at < sh->log_len ? sh->log_owner[at] : NULL;
        uint64_t frame = at < sh->log_len ? sh->log_frame[at] : UINT64_MAX;
        atomic_store(&sh->oldest_live, frame);
        pthread_mutex_unlock(&sh->log_lock);
        if (o == NULL || !others_past(sh, frame)) {
            return;
        }
        o->s.id = global_id(sh, o); /* only this thread prunes or ends this log's entries */
        o->numbered = true;
        pthread_mutex_lock(&sh->log_lock);
        sh->log_ended[at] = true;
        sh->log_owner[at] = NULL;
        pthread_mutex_unlock(&sh->log_lock);
    }
}

/* Report the deferred sessions whose number is known; wait for the rest when told to. */
static void shard_resolve(struct shard *sh, bool wait)
{
    while (sh->deferred != NULL) {
        struct owner *o = sh->deferred;
        if (!others_past(sh, o->s.first_frame)) {
            if (!wait) {
                return;
            }
            struct timespec ts = {0, 50000};
            nanosleep(&ts, NULL);
            continue;
        }
        sh->deferred = o->next_deferred;
        if (sh->deferred == NULL) {
            sh->deferred_tail = NULL;
        }
        shard_report(sh, o);
        free_owner(&sh->w, o);
    }
}

/* Report now if the number is known and nothing waits before it (false: the caller frees
 * it); else queue it (true). */
static bool shard_defer(struct shard *sh, struct owner *o)
{
    if (sh->deferred == NULL && others_past(sh, o->s.first_frame)) {
        shard_report(sh, o);
        return false;
    }
    o->next_deferred = NULL;
    if (sh->deferred_tail != NULL) {
        sh->deferred_tail->next_deferred = o;
    } else {
        sh->deferred = o;
    }
    sh->deferred_tail = o;
    return true;
}

static void shard_publish_bound(struct shard *sh, int64_t clock_us, uint64_t frame)
{
    struct tb_end_key k = {clock_us, TB_END_AT_PACKET, 0, frame + 1, 0};

    if (sh->deferred != NULL) {
        k = sh->deferred->end_key; /* queued in key order, before anything still to come */
    }
    atomic_fetch_add(&sh->bound_seq, 1);
    atomic_store(&sh->bound_time, k.time_us);
    atomic_store(&sh->bound_frame, k.frame);
    atomic_store(&sh->bound_kind, (uint32_t)k.phase << 8 | k.sub);
    atomic_store(&sh->bound_order, k.seq);
    atomic_fetch_add(&sh->bound_seq, 1);
}

static void shard_bound(struct shard *sh, struct tb_end_key *out)
{
    uint32_t seq;

    if (atomic_load(&sh->finished)) {
        *out = (struct tb_end_key){INT64_MAX, UINT8_MAX, UINT8_MAX, UINT64_MAX, UINT32_MAX};
        return;
    }
    do {
        seq = atomic_load(&sh->bound_seq);
        out->time_us = atomic_load(&sh->bound_time);
        out->frame = atomic_load(&sh->bound_frame);
        uint32_t kind = atomic_load(&sh->bound_kind);
        out->phase = (uint8_t)(kind >> 8);
        out->sub = (uint8_t)kind;
        out->seq = atomic_load(&sh->bound_order);
    } while ((seq & 1u) != 0 || seq != atomic_load(&sh->bound_seq));
}

/* Write queued reports in key order: all of them, or those no shard can still precede. */
static void shard_merge(struct shard *all, int count, FILE *out, bool everything)
{
    struct tb_end_key bound = {INT64_MAX, UINT8_MAX, UINT8_MAX, UINT64_MAX, UINT32_MAX};

    if (!everything) {
        for (int t = 0; t < count; t++) {
            struct tb_end_key b;
            shard_bound(&all[t], &b);
            if (tb_end_key_cmp(&b, &bound) < 0) {
                bound = b;
            }
        }
    }
    for (;;) {
        struct shard *best = NULL;
        struct tb_end_key best_key;
        for (int t = 0; t < count; t++) {
            pthread_mutex_lock(&all[t].q_lock);
            if (all[t].q_head != NULL &&
                (best == NULL || tb_end_key_cmp(&all[t].q_head->key, &best_key) < 0)) {
                best = &all[t];
                best_key = all[t].q_head->key;
            }
            pthread_mutex_unlock(&all[t].q_lock);
        }
        if (best == NULL || (!everything && tb_end_key_cmp(&best_key, &bound) >= 0)) {
            return;
        }
        pthread_mutex_lock(&best->q_lock);
        struct message *m = best->q_head;
        best->q_head = m->next;
        if (best->q_head == NULL) {
            best->q_tail = NULL;
        }
        pthread_mutex_unlock(&best->q_lock);
        (void)fwrite(m->text, 1, m->len, out); /* EPIPE: seen at flush */
        free(m);
    }
}

static void *shard_main(void *arg)
{
    struct shard *sh = arg;
    struct worker *w = &sh->w;

    for (unsigned n = 1;; n++) {
        size_t len;
        const struct shard_entry *e = tb_ring_next(sh->ring, &len);
        const uint8_t *bytes = (const uint8_t *)(e + 1);
        bool end = e->kind == ENTRY_END;

        if (end) {
            /* Everything is done: no session opens at the end, so the others may
             * count this shard's sessions up to its frame while it ends its own. */
            atomic_store(&sh->progress, e->frame);
        }
        w->last_frame = e->frame;
        w->last_ts_us = e->ts_us;
        if (e->kind == ENTRY_PACKET) {
            struct tb_pkt pkt = e->pkt;
            pkt.l3 = e->l3_len > 0 ? bytes : NULL;
            pkt.payload = bytes + e->payload_off;
            tb_flowtab_packet_at(w->flows, &pkt, e->hash, e->frame, e->ts_us, e->clock_us);
        } else {
            tb_flowtab_expire(w->flows, e->frame, e->clock_us);
            if (end) {
                tb_flowtab_end_all(w->flows, e->frame, e->ts_us);
            }
        }
        shard_resolve(sh, end);
        /* What the others wait for, every few entries and before this worker may
         * sleep: lower bounds, so a late one delays them but never misleads. */
        if (end || n % 16 == 0 || tb_ring_empty(sh->ring)) {
            atomic_store(&sh->progress, e->frame);
            shard_publish_bound(sh, e->clock_us, e->frame);
            shard_number_ready(sh);
        }
        tb_ring_release(sh->ring);
        if (end) {
            atomic_store(&sh->finished, true);
            return NULL;
        }
    }
}

struct shard_reader {
    struct worker w; /* decoder, counters, progress */
    struct shard *all;
    int count;
    int64_t clock_us;
    uint64_t taken;
};

static void shard_push(struct shard_reader *rd, struct shard *sh, enum entry_kind kind,
                       const struct tb_packet *p, const struct tb_pkt *pkt, uint32_t hash)
{
    size_t copy = 0, l3 = 0, off = 0, plen = 0;
    struct shard_entry e = {.kind = (uint32_t)kind,
                            .hash = hash,
                            .frame = rd->w.last_frame,
                            .ts_us = rd->w.last_ts_us,
                            .clock_us = rd->clock_us};

    if (kind == ENTRY_PACKET) {
        const size_t room = tb_ring_max_entry(sh->ring) - sizeof e;
        e.pkt = *pkt;
        e.frame = p->frame;
        e.ts_us = p->ts_us;
        plen = pkt->payload_len;
        if (pkt->l3 != NULL && pkt->payload >= pkt->l3 &&
            pkt->payload + plen <= pkt->l3 + pkt->l3_len && pkt->l3_len <= room) {
            l3 = pkt->l3_len; /* the usual case: the payload is inside the IP packet */
            off = (size_t)(pkt->payload - pkt->l3);
            copy = l3;
        } else {
            if (plen > room) {
                e.pkt.payload_missing += plen - room; /* cannot happen with IP's 64 KiB */
                plen = room;
            }
            off = 0;
            copy = plen;
        }
        e.pkt.payload_len = plen;
    }
    e.l3_len = (uint32_t)l3;
    e.payload_off = (uint32_t)off;
    e.payload_len = (uint32_t)plen;
    if (!tb_ring_has_room(sh->ring, sizeof e + copy)) {
        /* About to wait for this worker: give every worker what it has been sent
         * (it may be waiting for another one), and write what is ready meanwhile. */
        for (int t = 0; t < rd->count; t++) {
            tb_ring_flush(rd->all[t].ring);
        }
        shard_merge(rd->all, rd->count, rd->w.sink->out, false);
    }
    uint8_t *dst = tb_ring_reserve(sh->ring, sizeof e + copy);
    memcpy(dst, &e, sizeof e);
    if (copy > 0) {
        memcpy(dst + sizeof e, l3 > 0 ? pkt->l3 : pkt->payload, copy);
    }
    tb_ring_commit(sh->ring);
    sh->pushed_frame = e.frame;
    if (kind != ENTRY_PACKET) {
        tb_ring_flush(sh->ring);
    }
}

static void on_sharded_packet(void *ctx, const struct tb_packet *p)
{
    struct shard_reader *rd = ctx;
    struct tb_pkt pkt;

    if (take_packet(&rd->w, p, &pkt)) {
        /* The flow tables' clock: as one table's, moved by TCP segments only. */
        if (p->ts_us > rd->clock_us) {
            rd->clock_us = p->ts_us;
        }
        /* Mix again: the table's hash is made for its buckets, not for its low bits alone. */
        uint32_t hash = tb_flow_hash(&pkt), h = hash;
        h ^= h >> 16;
        h *= 0x85ebca6bu;
        h ^= h >> 13;
        struct shard *sh = &rd->all[(uint32_t)(((uint64_t)h * (uint32_t)rd->count) >> 32)];
        shard_push(rd, sh, ENTRY_PACKET, p, &pkt, hash);
    }
    if (++rd->taken % SHARD_TICK_FRAMES == 0) {
        for (int t = 0; t < rd->count; t++) {
            if (rd->all[t].pushed_frame + SHARD_TICK_FRAMES <= p->frame) {
                shard_push(rd, &rd->all[t], ENTRY_TICK, NULL, NULL, 0);
            }
        }
    }
    if (rd->taken % SHARD_MERGE_FRAMES == 0) {
        for (int t = 0; t < rd->count; t++) {
            tb_ring_flush(rd->all[t].ring);
        }
        shard_merge(rd->all, rd->count, rd->w.sink->out, false);
    }
}

static bool shard_init(struct shard *sh, struct run *r, const char *file, struct tb_keylog *secrets,
                       const struct tb_flow_limits *lim)
{
    sh->mem = open_memstream(&sh->mem_buf, &sh->mem_len);
    sink_init(&sh->sink, sh->mem);
    pthread_mutex_init(&sh->log_lock, NULL);
    pthread_mutex_init(&sh->q_lock, NULL);
    atomic_store(&sh->oldest_live, UINT64_MAX);
    sh->w = (struct worker){.run = r, .sink = &sh->sink, .file = file, .shard = sh,
                            .keylog_file = secrets};
    const char *kib_env = getenv("TLSBLAME_RING_KIB");
    unsigned long kib = kib_env != NULL ? strtoul(kib_env, NULL, 10) : SHARD_RING_KIB;
    kib = kib < SHARD_RING_MIN_KIB ? SHARD_RING_MIN_KIB : kib > (1ul << 20) ? (1ul << 20) : kib;
    sh->ring = tb_ring_new((size_t)kib << 10);
    sh->log_cap = 1024;
    sh->log_frame = malloc(sh->log_cap * sizeof *sh->log_frame);
    sh->log_ended = malloc(sh->log_cap * sizeof *sh->log_ended);
    sh->log_owner = malloc(sh->log_cap * sizeof *sh->log_owner);
    sh->w.classifier = r->cfg->no_ndpi ? NULL : tb_classify_new(); /* classify */
    sh->w.flows = tb_flowtab_new(lim, &flow_ops, &sh->w);
    return sh->mem != NULL && sink_ok(&sh->sink) && sh->ring != NULL && sh->log_frame != NULL &&
           sh->log_owner != NULL &&
           sh->log_ended != NULL && sh->w.flows != NULL &&
           (sh->w.classifier != NULL || r->cfg->no_ndpi);
}

static void shard_fini(struct shard *sh)
{
    while (sh->deferred != NULL) { /* only when a worker could not start */
        struct owner *o = sh->deferred;
        sh->deferred = o->next_deferred;
        free_owner(&sh->w, o);
    }
    tb_flowtab_free(sh->w.flows, sh->w.last_frame, sh->w.last_ts_us);
    tb_classify_free(sh->w.classifier); /* classify: after the flows */
    for (struct message *m = sh->q_head, *next; m != NULL; m = next) {
        next = m->next;
        free(m);
    }
    sink_fini(&sh->sink);
    if (sh->mem != NULL) {
        fclose(sh->mem);
    }
    free(sh->mem_buf);
    tb_ring_free(sh->ring);
    free(sh->log_frame);
    free(sh->log_ended);
    free(sh->log_owner);
    pthread_mutex_destroy(&sh->log_lock);
    pthread_mutex_destroy(&sh->q_lock);
}

static void process_capture_sharded(struct run *r, struct sink *k, const char *file, int count)
{
    char errmsg[512] = "";
    struct shard_reader rd = {.w = {.run = r, .sink = k, .file = file}, .count = count,
                              .clock_us = INT64_MIN};
    struct tb_flow_limits lim = flow_limits(r->cfg);
    enum tb_err err = TB_OK;
    bool ok = true;

    if (!open_input(&rd.w)) {
        return;
    }
    rd.all = calloc((size_t)count, sizeof *rd.all);
    ok = rd.w.decoder != NULL && rd.all != NULL;
    for (int t = 0; ok && t < count; t++) {
        rd.all[t].all = rd.all;
        rd.all[t].count = count;
        rd.all[t].index = t;
        ok = shard_init(&rd.all[t], r, file, rd.w.keylog_file, &lim);
    }
    for (int t = 0; ok && t < count; t++) {
        rd.all[t].started = pthread_create(&rd.all[t].tid, NULL, shard_main, &rd.all[t]) == 0;
        ok = rd.all[t].started;
    }
    if (!ok) {
        input_error(r, k, file, 0, "out of memory (or no threads) for -j");
    } else {
        err = read_input(&rd.w, on_sharded_packet, &rd, true, errmsg, sizeof errmsg);
    }
    for (int t = 0; rd.all != NULL && t < count; t++) {
        if (rd.all[t].started) {
            shard_push(&rd, &rd.all[t], ENTRY_END, NULL, NULL, 0);
        }
    }
    for (int t = 0; rd.all != NULL && t < count; t++) {
        if (rd.all[t].started) {
            pthread_join(rd.all[t].tid, NULL);
        }
    }
    if (ok) {
        shard_merge(rd.all, count, k->out, true);
        capture_done(r, k, &rd.w, err, errmsg);
        for (int t = 0; t < count; t++) {
            classify_diag(r, file, rd.all[t].w.classifier); /* classify */
            sink_merge(k, &rd.all[t].sink);
        }
    }
    for (int t = 0; rd.all != NULL && t < count; t++) {
        shard_fini(&rd.all[t]);
    }
    free(rd.all);
    close_input(&rd.w);
}


/*
 * Several inputs, -j at a time. Output stays in input order and whole per
 * input: the input whose turn it is writes as it goes; one further on keeps
 * what it wrote in memory up to BATCH_HOLD_KIB, then in a temporary file
 * (or, when none can be made, waits for its turn), so memory does not grow
 * with the captures' size and the workers need not wait for each other.
 */
#define BATCH_HOLD_KIB 8192 /* TLSBLAME_BATCH_HOLD_KIB overrides it (tests use 1) */

struct batch {
    struct run *run;
    struct input_list *inputs;
    FILE *out;              /* the run's output */
    size_t hold;            /* bytes an input may keep before its turn */
    pthread_mutex_t lock;
    pthread_cond_t turn;    /* printed moved on */
    size_t next;            /* next input to take */
    size_t printed;         /* inputs whose output was written, in order */
    struct sink *sinks;     /* per input: its output so far, done or not */
};

/* Copy a temporary file's contents to out and close it. */
static void spill_out(FILE **spill, FILE *out);

/* An input's output, in order: what it spilled, then what it holds. */
static void emit(FILE *out, FILE **spill, const char *held, size_t n)
{
    spill_out(spill, out);
    if (n > 0) {
        (void)fwrite(held, 1, n, out); /* EPIPE: seen at flush */
    }
}

/* Copy a temporary file's contents to out and close it. */
static void spill_out(FILE **spill, FILE *out)
{
    char buf[65536];
    size_t n;

    if (*spill == NULL) {
        return;
    }
    if (fflush(*spill) != 0) {
        fprintf(stderr, "tlsblame: cannot write a temporary file: output is missing\n");
    }
    rewind(*spill);
    while ((n = fread(buf, 1, sizeof buf, *spill)) > 0) {
        (void)fwrite(buf, 1, n, out); /* EPIPE: seen at flush */
    }
    if (ferror(*spill)) {
        fprintf(stderr, "tlsblame: cannot read back a temporary file: output is missing\n");
    }
    fclose(*spill);
    *spill = NULL;
}

static void sink_pass_on(struct sink *k)
{
    struct batch *b = k->batch;
    long held;

    if (b == NULL || fflush(k->out) != 0 || (held = ftell(k->out)) <= 0) {
        return;
    }
    pthread_mutex_lock(&b->lock);
    bool turn = b->printed == k->index;
    pthread_mutex_unlock(&b->lock);
    if (!turn && (size_t)held >= b->hold) {
        if (k->spill == NULL) {
            k->spill = tmpfile();
        }
        if (k->spill != NULL) {
            /* only this thread touches its spill; a short write (disk full) is cut off
             * again, and what is held waits in memory for the turn instead */
            if (fwrite(k->held, 1, (size_t)held, k->spill) == (size_t)held &&
                fflush(k->spill) == 0) {
                k->spilled += held;
                (void)fseek(k->out, 0, SEEK_SET);
                return;
            }
            clearerr(k->spill);
            if (ftruncate(fileno(k->spill), (off_t)k->spilled) != 0 ||
                fseek(k->spill, k->spilled, SEEK_SET) != 0) {
                fprintf(stderr, "tlsblame: %s: temporary file: %s\n",
                        b->inputs->path[k->index], strerror(errno));
            }
        }
        pthread_mutex_lock(&b->lock); /* no temporary file: wait for the turn */
        while (b->printed != k->index && !stop_requested) {
            pthread_cond_wait(&b->turn, &b->lock);
        }
        turn = b->printed == k->index;
        pthread_mutex_unlock(&b->lock);
    }
    if (turn) {
        pthread_mutex_lock(&b->lock);
        emit(b->out, &k->spill, k->held, (size_t)held);
        (void)fseek(k->out, 0, SEEK_SET);
        pthread_mutex_unlock(&b->lock);
    }
}

/* Print finished outputs in input order; called with the lock held. */
static void batch_flush_in_order(struct batch *b, struct sink *main_sink)
{
    while (b->printed < b->inputs->count && b->sinks[b->printed].done) {
        struct sink *k = &b->sinks[b->printed++];
        emit(main_sink->out, &k->spill, k->held, k->held_len);
        free(k->held);
        k->held = NULL;
        sink_merge(main_sink, k);
        sink_fini(k);
    }
    pthread_cond_broadcast(&b->turn);
}

struct batch_thread {
    struct batch *b;
    struct sink *main_sink;
};

static void *batch_worker(void *arg)
{
    struct batch_thread *bt = arg;
    struct batch *b = bt->b;
    struct tb_classifier *classifier = NULL; /* this thread's nDPI module, file after file */

    for (;;) {
        size_t i;
        FILE *mem;

        pthread_mutex_lock(&b->lock);
        if (b->next >= b->inputs->count || stop_requested) {
            pthread_mutex_unlock(&b->lock);
            tb_classify_free(classifier);
            return NULL;
        }
        i = b->next++;
        pthread_mutex_unlock(&b->lock);

        struct sink *k = &b->sinks[i];
        mem = open_memstream(&k->held, &k->held_size);
        sink_init(k, mem);
        k->batch = b;
        k->index = i;
        if (mem != NULL && sink_ok(k)) {
            process_capture(b->run, k, b->inputs->path[i], &classifier);
        } else {
            fprintf(stderr, "tlsblame: %s: out of memory\n", b->inputs->path[i]);
            k->input_errors++;
        }
        long held = 0;
        if (mem != NULL) {
            /* what it still holds: the buffer's size is that of its earlier contents too */
            held = fflush(mem) == 0 ? ftell(mem) : 0;
            fclose(mem);
        }
        pthread_mutex_lock(&b->lock);
        k->held_len = held > 0 ? (size_t)held : 0;
        k->done = true;
        batch_flush_in_order(b, bt->main_sink);
        pthread_mutex_unlock(&b->lock);
    }
}

static void run_batch(struct run *r, struct sink *main_sink, struct input_list *inputs, int jobs)
{
    struct batch b = {.run = r, .inputs = inputs, .out = main_sink->out};
    const char *hold_env = getenv("TLSBLAME_BATCH_HOLD_KIB");
    unsigned long hold_kib = hold_env != NULL ? strtoul(hold_env, NULL, 10) : BATCH_HOLD_KIB;
    b.hold = (size_t)(hold_kib < 1 ? 1 : hold_kib > (1ul << 22) ? (1ul << 22) : hold_kib) << 10;
    pthread_t tid[256];
    struct batch_thread bt = {&b, main_sink};
    int started = 0;

    b.sinks = calloc(inputs->count, sizeof *b.sinks);
    pthread_mutex_init(&b.lock, NULL);
    pthread_cond_init(&b.turn, NULL);
    if (b.sinks == NULL) {
        fprintf(stderr, "tlsblame: out of memory\n");
        main_sink->input_errors++;
        goto out;
    }
    for (int i = 0; i < jobs && i < 256 && (size_t)i < inputs->count; i++) {
        if (pthread_create(&tid[i], NULL, batch_worker, &bt) == 0) {
            started++;
        }
    }
    if (started == 0) {
        (void)batch_worker(&bt); /* no threads: do it here */
    }
    for (int i = 0; i < started; i++) {
        pthread_join(tid[i], NULL);
    }
    batch_flush_in_order(&b, main_sink);
out:
    pthread_mutex_destroy(&b.lock);
    pthread_cond_destroy(&b.turn);
    free(b.sinks); /* every input taken was printed, its sink freed */
}

/* ---- live ---- */

/* The default rules (unless --no-default-rules) then every --rules directory; NULL when
 * one does not load (the loader has said why). */
static struct tb_ruleset *rules_from_config(const struct tb_config *cfg)
{
    struct tb_ruleset *set = tb_ruleset_new();
    bool ok = set != NULL;

    if (ok && !cfg->no_default_rules) {
        ok = tb_rules_load_dir(set, tb_default_rule_dir()) == TB_OK;
    }
    for (size_t i = 0; ok && i < cfg->rule_dir_count; i++) {
        ok = tb_rules_load_dir(set, cfg->rule_dirs[i]) == TB_OK;
    }
    if (!ok) {
        tb_ruleset_free(set);
        return NULL;
    }
    return set;
}

static struct tb_capture *volatile live_capture;
static volatile sig_atomic_t reload_requested;

static void on_signal(int sig)
{
    if (sig == SIGHUP) {
        reload_requested = 1;
        return;
    }
    stop_requested = 1;
    if (live_capture != NULL) {
        tb_capture_break(live_capture); /* libpcap: callable from a signal handler */
    }
}

/*
 * Drop root once the interface (and -w file) is open, as tcpdump does: to
 * -Z USER, else to "tcpdump" where that user exists, else "nobody". -Z root
 * keeps root. The check that setuid(0) now fails proves there is no way back.
 */
static bool drop_privileges(const char *user)
{
    const char *name = user;
    struct passwd *pw;

    if (geteuid() != 0) {
        return true;
    }
    if (name == NULL) {
        name = getpwnam("tcpdump") != NULL ? "tcpdump" : "nobody";
    }
    if (strcmp(name, "root") == 0) {
        return true;
    }
    pw = getpwnam(name);
    if (pw == NULL) {
        fprintf(stderr, "tlsblame: -Z %s: no such user\n", name);
        return false;
    }
    if (setgroups(1, &pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0) {
        fprintf(stderr, "tlsblame: cannot drop privileges to %s: %s\n", name, strerror(errno));
        return false;
    }
    if (setuid(0) != -1) {
        fprintf(stderr, "tlsblame: privileges were not dropped (setuid(0) still works)\n");
        return false;
    }
    if (tb_verbosity() >= 1) {
        fprintf(stderr, "tlsblame: running as %s (uid %u)\n", name, (unsigned)pw->pw_uid);
    }
    return true;
}

static void on_live_packet(void *ctx, const struct tb_packet *p)
{
    struct worker *w = ctx;

    if (reload_requested) {
        struct tb_ruleset *fresh = rules_from_config(w->run->cfg);
        reload_requested = 0;
        if (fresh != NULL) {
            tb_ruleset_free(w->run->rules);
            w->run->rules = fresh;
            fprintf(stderr, "tlsblame: rules reloaded (%zu rules)\n", tb_rules_count(fresh));
        } else {
            fprintf(stderr, "tlsblame: SIGHUP: the new rules do not load; keeping the old ones\n");
        }
    }
    if (p != NULL && w->run->cfg->verbosity < 1) {
        on_capture_packet(ctx, p); /* the wall clock is only for ticks and -v */
        return;
    }
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int64_t now_us = (int64_t)now.tv_sec * 1000000 + now.tv_nsec / 1000;
    if (w->run->cfg->verbosity >= 1 && now_us - w->stats_us >= 10 * 1000000LL) {
        /* -v: a heartbeat, so a long run shows its flow table and memory stay flat. */
        w->stats_us = now_us;
        fprintf(stderr, "tlsblame: live: %zu flows open, %llu connections seen, %llu packets\n",
                tb_flowtab_count(w->flows), (unsigned long long)w->next_session_id,
                (unsigned long long)w->packets);
    }
    if (p == NULL) {
        /* A quiet interface: end flows idle by the wall clock (live timestamps are). */
        tb_flowtab_expire(w->flows, w->last_frame, now_us);
        return;
    }
    on_capture_packet(ctx, p);
}

static int process_live(struct run *r, struct sink *k)
{
    const struct tb_config *cfg = r->cfg;
    char errmsg[512] = "";
    struct tb_capture *cap = NULL;
    struct tb_live_opts opts = {
        .snaplen = cfg->snaplen,
        .promisc = !cfg->no_promisc,
        .buffer_mb = 32,
        .write_path = cfg->write_path,
    };
    struct worker w = {.run = r, .sink = k, .file = cfg->iface};
    struct tb_flow_limits lim = flow_limits(cfg);
    enum tb_err err;
    int status = 0;
    uint64_t received = 0, dropped = 0;

    err = tb_capture_open_live(cfg->iface, cfg->filter, &opts, &cap, errmsg, sizeof errmsg);
    if (err != TB_OK) {
        fprintf(stderr, "tlsblame: %s\n", errmsg);
        return 2;
    }
    if (!drop_privileges(cfg->user)) {
        tb_capture_close(cap);
        return 2;
    }
    live_capture = cap;
    w.decoder = tb_decoder_new();
    w.classifier = tb_classify_new(); /* classify */
    w.flows = tb_flowtab_new(&lim, &flow_ops, &w);
    if (w.decoder == NULL || w.flows == NULL || w.classifier == NULL) {
        fprintf(stderr, "tlsblame: out of memory\n");
        status = 2;
        goto out;
    }
    k->inputs_read++;
    if (cfg->verbosity >= 0) {
        fprintf(stderr, "tlsblame: listening on %s%s%s\n", cfg->iface,
                cfg->filter != NULL ? ", filter: " : "", cfg->filter != NULL ? cfg->filter : "");
    }
    err = tb_capture_run(cap, on_live_packet, &w, cfg->count, errmsg, sizeof errmsg);
    if (err != TB_OK && !stop_requested) {
        fprintf(stderr, "tlsblame: %s: %s\n", cfg->iface, errmsg);
    }
    /* Sessions still open are reported as they stand (incomplete). */
    tb_flowtab_end_all(w.flows, w.last_frame, w.last_ts_us);
    if (tb_capture_stats(cap, &received, &dropped)) {
        tb_summary_set_drops(k->summary, received, dropped);
    }
    tb_summary_add_packets(k->summary, w.packets, w.bytes);
out:
    live_capture = NULL;
    tb_flowtab_free(w.flows, w.last_frame, w.last_ts_us);
    tb_classify_free(w.classifier);
    tb_decoder_free(w.decoder);
    tb_capture_close(cap);
    return status;
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
    r->rules = rules_from_config(r->cfg);
    return r->rules != NULL;
}

int tb_pipeline_analyze_file(const struct tb_config *cfg, struct tb_ruleset *rules,
                             const char *path, FILE *out)
{
    struct run r = {.cfg = cfg, .rules = rules};
    struct sink k;
    int status = 0;

    sink_init(&k, out);
    r.text.verbosity = cfg->verbosity;
    r.text.width = 80;
    if (!sink_ok(&k) || (rules == NULL && !load_rules(&r))) {
        status = 2;
        goto out;
    }
    struct tb_classifier *classifier = NULL;
    process_capture(&r, &k, path, &classifier);
    tb_classify_free(classifier);
    status = k.inputs_read == 0 ? 2 : 0;
out:
    sink_fini(&k);
    if (rules == NULL) {
        tb_ruleset_free(r.rules);
    }
    return status;
}

int tb_pipeline_list_rule_tests(const struct tb_config *cfg)
{
    struct run r = {.cfg = cfg};
    int status = 0;

    if (!load_rules(&r)) {
        status = 2;
    } else {
        tb_rules_print_tests(r.rules, stdout);
    }
    tb_ruleset_free(r.rules);
    return status;
}

int tb_pipeline_run(const struct tb_config *cfg)
{
    struct run r = {.cfg = cfg};
    struct sink k;
    struct input_list inputs = {0};
    int status = 0;
    struct sigaction sa;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    /* Offline into a file or pipe: write in large blocks (a handshake-heavy
     * capture makes 6 KB of JSON per session, one write(2) each otherwise).
     * Live output and terminals keep their line-by-line flushing. */
    static char out_buf[1 << 20];
    if (cfg->iface == NULL && !isatty(STDOUT_FILENO)) {
        (void)setvbuf(stdout, out_buf, _IOFBF, sizeof out_buf);
    }
    sink_init(&k, stdout);
    r.text.verbosity = cfg->verbosity;
    r.text.only_failures = cfg->only_failures;
    r.text.width = 80;
    r.text.color = cfg->color == TB_COLOR_ALWAYS ||
                   (cfg->color == TB_COLOR_AUTO && isatty(STDOUT_FILENO) && getenv("NO_COLOR") == NULL);
    if (!sink_ok(&k) || !load_rules(&r)) {
        status = 2;
        goto out;
    }
    if (cfg->ca_file != NULL && tb_trust_load(cfg->ca_file, &r.trust) != TB_OK) {
        status = 2; /* x509.c said why */
        goto out;
    }
    if (!load_keylogs(&r)) { /* keylog */
        status = 2;
        goto out;
    }
    if (cfg->export_certs != NULL) {
        struct stat st;
        if (stat(cfg->export_certs, &st) != 0 && mkdir(cfg->export_certs, 0755) != 0) {
            tb_diag_errno(cfg->export_certs, "cannot create --export-certs directory");
            status = 2;
            goto out;
        }
    }
    if (cfg->iface != NULL) {
        status = process_live(&r, &k);
    } else {
        for (size_t i = 0; i < cfg->input_count; i++) {
            collect_path(&inputs, cfg->inputs[i], 0);
        }
        if (cfg->from_file != NULL && !collect_from_file(&inputs, cfg->from_file)) {
            status = 2;
            goto out;
        }
        if (cfg->jobs > 1 && inputs.count > 1) {
            run_batch(&r, &k, &inputs, cfg->jobs);
        } else if (cfg->jobs > 1 && inputs.count == 1) {
            process_capture_sharded(&r, &k, inputs.path[0], cfg->jobs > 64 ? 64 : cfg->jobs);
        } else {
            struct tb_classifier *classifier = NULL; /* one nDPI module for every file */
            for (size_t i = 0; i < inputs.count && !stop_requested; i++) {
                process_capture(&r, &k, inputs.path[i], &classifier);
            }
            tb_classify_free(classifier);
        }
    }
    if (status == 0) {
        if (cfg->json) {
            tb_summary_print_json(k.out, k.summary);
        } else if (cfg->verbosity >= 0 || cfg->summary_only) {
            tb_summary_print_text(k.out, k.summary, &r.text);
        }
    }
    if (fflush(k.out) != 0 && errno != EPIPE) {
        status = 2;
    }
    if (k.usage_errors > 0 || (cfg->iface == NULL && k.inputs_read == 0)) {
        status = 2; /* usage error, or no input could be read */
    }
out:
    list_free(&inputs);
    sink_fini(&k);
    tb_trust_free(r.trust);
    tb_keylog_free(r.keylog); /* keylog */
    tb_ruleset_free(r.rules);
    return status;
}
