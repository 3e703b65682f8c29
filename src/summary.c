/*
 * summary.c - the run summary: sessions by outcome, failures by cause and
 * by rejecting side, and the servers, client certificates and files with
 * the most failures. Batch workers keep one summary each and merge them.
 *
 * Each table is a hash map with a row cap: a long live capture against
 * many servers cannot grow it without bound; rows past the cap are counted
 * in one "(other)" row so the totals stay right.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "report_int.h"
#include "tlsblame/hash.h"
#include "tlsblame/report.h"

#define SUMMARY_MAX_ROWS 65536u
#define SUMMARY_TEXT_ROWS 10u /* rows per table in the text summary at default verbosity */
#define OTHER_ROW "(other)"

struct summary_row {
    char *key;  /* a '\x1f' b: the hash key */
    char *a;    /* server "ip:port", cause, subject, file */
    char *b;    /* server: SNI, or NULL */
    uint64_t sessions, failed, errors;
};

struct summary_map {
    struct summary_row *rows; /* in order of first sight */
    size_t count, alloc;
    uint32_t *slots;          /* open addressing: row index + 1, 0 = empty */
    size_t slot_count;        /* power of two */
    struct summary_row *other;
};

struct tb_summary {
    uint64_t sessions, successes, failed, incomplete, unknown, errors;
    uint64_t packets, bytes;
    bool have_drops;
    uint64_t received, dropped;
    uint64_t rejected_by_client, rejected_by_server, rejected_by_unknown;
    bool out_of_memory;       /* some row could not be kept; totals are still right */
    struct summary_map by_cause, by_server, by_client, by_file;
};

static uint64_t fnv1a(const char *s)
{
    return tb_hash_fnv1a(s, strlen(s));
}

static void map_fini(struct summary_map *m)
{
    for (size_t i = 0; i < m->count; i++) {
        free(m->rows[i].key);
        free(m->rows[i].a);
        free(m->rows[i].b);
    }
    free(m->rows);
    free(m->slots);
    if (m->other != NULL) {
        free(m->other->key);
        free(m->other->a);
        free(m->other->b);
        free(m->other);
    }
    memset(m, 0, sizeof *m);
}

static char *dup_str(const char *s)
{
    size_t n;
    char *d;

    if (s == NULL) {
        return NULL;
    }
    n = strlen(s);
    d = malloc(n + 1);
    if (d != NULL) {
        memcpy(d, s, n + 1);
    }
    return d;
}

static char *make_key(const char *a, const char *b)
{
    size_t la = strlen(a), lb = b != NULL ? strlen(b) : 0;
    char *k = malloc(la + lb + 2);

    if (k == NULL) {
        return NULL;
    }
    memcpy(k, a, la);
    k[la] = '\x1f';
    if (lb > 0) {
        memcpy(k + la + 1, b, lb);
    }
    k[la + 1 + lb] = '\0';
    return k;
}

static bool row_fill(struct summary_row *r, const char *a, const char *b)
{
    memset(r, 0, sizeof *r);
    r->key = make_key(a, b);
    r->a = dup_str(a);
    r->b = dup_str(b);
    if (r->key == NULL || r->a == NULL || (b != NULL && r->b == NULL)) {
        free(r->key);
        free(r->a);
        free(r->b);
        return false;
    }
    return true;
}

static bool map_rehash(struct summary_map *m, size_t slot_count)
{
    uint32_t *slots = calloc(slot_count, sizeof *slots);

    if (slots == NULL) {
        return false;
    }
    for (size_t i = 0; i < m->count; i++) {
        size_t at = (size_t)fnv1a(m->rows[i].key) & (slot_count - 1);
        while (slots[at] != 0) {
            at = (at + 1) & (slot_count - 1);
        }
        slots[at] = (uint32_t)(i + 1);
    }
    free(m->slots);
    m->slots = slots;
    m->slot_count = slot_count;
    return true;
}

/* The row for (a, b), created on first sight; "(other)" past the cap; NULL when out of memory. */
static struct summary_row *map_get(struct summary_map *m, const char *a, const char *b)
{
    char *key = make_key(a, b);
    size_t at = 0;

    if (key == NULL) {
        return NULL;
    }
    if (m->slot_count > 0) {
        at = (size_t)fnv1a(key) & (m->slot_count - 1);
        while (m->slots[at] != 0) {
            struct summary_row *r = &m->rows[m->slots[at] - 1];
            if (strcmp(r->key, key) == 0) {
                free(key);
                return r;
            }
            at = (at + 1) & (m->slot_count - 1);
        }
    }
    free(key);
    if (m->count >= SUMMARY_MAX_ROWS) {
        if (m->other == NULL) {
            m->other = malloc(sizeof *m->other);
            if (m->other != NULL && !row_fill(m->other, OTHER_ROW, NULL)) {
                free(m->other);
                m->other = NULL;
            }
        }
        return m->other;
    }
    if ((m->count + 1) * 10 >= m->slot_count * 7) { /* keep the load under 70% */
        if (!map_rehash(m, m->slot_count == 0 ? 64 : m->slot_count * 2)) {
            return NULL;
        }
        at = SIZE_MAX;
    }
    if (m->count == m->alloc) {
        size_t alloc = m->alloc == 0 ? 32 : m->alloc * 2;
        struct summary_row *rows = realloc(m->rows, alloc * sizeof *rows);
        if (rows == NULL) {
            return NULL;
        }
        m->rows = rows;
        m->alloc = alloc;
    }
    struct summary_row *r = &m->rows[m->count];
    if (!row_fill(r, a, b)) {
        return NULL;
    }
    if (at == SIZE_MAX || m->slots[at] != 0) {
        at = (size_t)fnv1a(r->key) & (m->slot_count - 1);
        while (m->slots[at] != 0) {
            at = (at + 1) & (m->slot_count - 1);
        }
    }
    m->count++;
    m->slots[at] = (uint32_t)m->count;
    return r;
}

static void bump(struct tb_summary *sum, struct summary_map *m, const char *a, const char *b,
                 uint64_t sessions, uint64_t failed, uint64_t errors)
{
    struct summary_row *r = map_get(m, a, b);

    if (r == NULL) {
        sum->out_of_memory = true;
        return;
    }
    r->sessions += sessions;
    r->failed += failed;
    r->errors += errors;
}

struct tb_summary *tb_summary_new(void)
{
    return calloc(1, sizeof(struct tb_summary));
}

void tb_summary_free(struct tb_summary *sum)
{
    if (sum == NULL) {
        return;
    }
    map_fini(&sum->by_cause);
    map_fini(&sum->by_server);
    map_fini(&sum->by_client);
    map_fini(&sum->by_file);
    free(sum);
}

void tb_summary_add(struct tb_summary *sum, const struct tb_session *s, const struct tb_facts *f,
                    const struct tb_verdict *v)
{
    bool failed = s->outcome != TB_OUTCOME_SUCCESS;
    const struct tb_candidate *top =
        v != NULL && v->present && v->cand_count > 0 ? &v->cand[0] : NULL;
    const struct tb_chain *client_chain = &s->chain[TB_DIR_C2S];
    char sv[TB_ENDPOINT_STR_LEN];

    (void)f; /* everything needed is on the session and the verdict */
    sum->sessions++;
    switch (s->outcome) {
    case TB_OUTCOME_SUCCESS:
        sum->successes++;
        break;
    case TB_OUTCOME_FAILED:
        sum->failed++;
        break;
    case TB_OUTCOME_INCOMPLETE:
        sum->incomplete++;
        break;
    case TB_OUTCOME_UNKNOWN:
    default:
        sum->unknown++;
        break;
    }
    if (failed) {
        const char *cause = top != NULL && top->cause != NULL ? top->cause : "unknown";
        const char *side = top != NULL ? top->rejected_by : NULL;
        bump(sum, &sum->by_cause, cause, NULL, 1, 1, 0);
        if (side != NULL && strcmp(side, "client") == 0) {
            sum->rejected_by_client++;
        } else if (side != NULL && strcmp(side, "server") == 0) {
            sum->rejected_by_server++;
        } else {
            sum->rejected_by_unknown++;
        }
    }
    tb_endpoint_str(&s->server, sv);
    bump(sum, &sum->by_server, sv, s->ch.sni != NULL && s->ch.sni[0] != '\0' ? s->ch.sni : NULL,
         1, failed, 0);
    if (client_chain->seen && client_chain->count > 0 && client_chain->certs[0] != NULL &&
        client_chain->certs[0]->subject != NULL) {
        bump(sum, &sum->by_client, client_chain->certs[0]->subject, NULL, 1, failed, 0);
    }
    bump(sum, &sum->by_file, s->file != NULL ? s->file : "-", NULL, 1, failed, 0);
}

void tb_summary_add_error(struct tb_summary *sum, const char *file)
{
    sum->errors++;
    bump(sum, &sum->by_file, file != NULL ? file : "-", NULL, 0, 0, 1);
}

void tb_summary_add_packets(struct tb_summary *sum, uint64_t packets, uint64_t bytes)
{
    sum->packets += packets;
    sum->bytes += bytes;
}

void tb_summary_set_drops(struct tb_summary *sum, uint64_t received, uint64_t dropped)
{
    sum->have_drops = true;
    sum->received = received;
    sum->dropped = dropped;
}

static void map_merge(struct tb_summary *dst, struct summary_map *to,
                      const struct summary_map *from)
{
    for (size_t i = 0; i < from->count; i++) {
        const struct summary_row *r = &from->rows[i];
        bump(dst, to, r->a, r->b, r->sessions, r->failed, r->errors);
    }
    if (from->other != NULL) {
        const struct summary_row *r = from->other;
        bump(dst, to, r->a, r->b, r->sessions, r->failed, r->errors);
    }
}

void tb_summary_merge(struct tb_summary *dst, const struct tb_summary *src)
{
    dst->sessions += src->sessions;
    dst->successes += src->successes;
    dst->failed += src->failed;
    dst->incomplete += src->incomplete;
    dst->unknown += src->unknown;
    dst->errors += src->errors;
    dst->packets += src->packets;
    dst->bytes += src->bytes;
    if (src->have_drops) {
        dst->have_drops = true;
        dst->received += src->received;
        dst->dropped += src->dropped;
    }
    dst->rejected_by_client += src->rejected_by_client;
    dst->rejected_by_server += src->rejected_by_server;
    dst->rejected_by_unknown += src->rejected_by_unknown;
    dst->out_of_memory = dst->out_of_memory || src->out_of_memory;
    map_merge(dst, &dst->by_cause, &src->by_cause);
    map_merge(dst, &dst->by_server, &src->by_server);
    map_merge(dst, &dst->by_client, &src->by_client);
    map_merge(dst, &dst->by_file, &src->by_file);
}

uint64_t tb_summary_sessions(const struct tb_summary *sum)
{
    return sum->sessions;
}

uint64_t tb_summary_errors(const struct tb_summary *sum)
{
    return sum->errors;
}

/* Most failures first, then by name (and SNI), so equal counts keep a stable order. */
static int row_cmp(const void *x, const void *y)
{
    const struct summary_row *a = *(const struct summary_row *const *)x;
    const struct summary_row *b = *(const struct summary_row *const *)y;
    int c;

    if (a->failed != b->failed) {
        return a->failed > b->failed ? -1 : 1;
    }
    c = strcmp(a->a, b->a);
    if (c != 0) {
        return c;
    }
    return strcmp(a->b != NULL ? a->b : "", b->b != NULL ? b->b : "");
}

/* Rows sorted for output (caller frees); NULL with *n = 0 when empty or out of memory. */
static const struct summary_row **sorted_rows(const struct summary_map *m, size_t *n)
{
    size_t total = m->count + (m->other != NULL ? 1 : 0);
    const struct summary_row **v;

    *n = 0;
    if (total == 0) {
        return NULL;
    }
    v = malloc(total * sizeof *v);
    if (v == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < m->count; i++) {
        v[i] = &m->rows[i];
    }
    if (m->other != NULL) {
        v[m->count] = m->other;
    }
    qsort(v, total, sizeof *v, row_cmp);
    *n = total;
    return v;
}

/* ---- text ---- */

static void text_table(FILE *out, const struct tb_text_opts *o, struct tb_arena *a,
                       const char *title, const struct summary_map *m, bool failures_only,
                       bool show_of)
{
    size_t n, shown = 0, limit = o->verbosity >= 1 ? SIZE_MAX : SUMMARY_TEXT_ROWS;
    const struct summary_row **rows = sorted_rows(m, &n);
    size_t eligible = 0;

    for (size_t i = 0; i < n; i++) {
        eligible += !failures_only || rows[i]->failed > 0;
    }
    if (eligible == 0) {
        free(rows);
        return;
    }
    fprintf(out, "  %s%s%s\n", o->color ? "\033[1m" : "", title, o->color ? "\033[0m" : "");
    for (size_t i = 0; i < n && shown < limit; i++) {
        const struct summary_row *r = rows[i];
        if (failures_only && r->failed == 0) {
            continue;
        }
        const char *name = tb_text_escape(r->a, a);
        const char *extra = r->b != NULL ? tb_text_escape(r->b, a) : NULL;
        if (show_of) {
            fprintf(out, "    %6" PRIu64 " of %-6" PRIu64 " %s", r->failed, r->sessions, name);
        } else {
            fprintf(out, "    %6" PRIu64 "  %s", r->failed, name);
        }
        if (extra != NULL) {
            fprintf(out, " (%s)", extra);
        }
        if (r->errors > 0) {
            fprintf(out, ", %" PRIu64 " read error%s", r->errors, r->errors == 1 ? "" : "s");
        }
        fputc('\n', out);
        shown++;
    }
    if (eligible > shown) {
        fprintf(out, "    ... and %zu more (-v shows all)\n", eligible - shown);
    }
    free(rows);
}

static const char *bytes_text(struct tb_arena *a, uint64_t n)
{
    if (n < 10000) {
        return tb_arena_printf(a, "%" PRIu64 " bytes", n);
    }
    if (n < 10000000) {
        return tb_arena_printf(a, "%.1f kB", (double)n / 1000.0);
    }
    if (n < 10000000000ULL) {
        return tb_arena_printf(a, "%.1f MB", (double)n / 1e6);
    }
    return tb_arena_printf(a, "%.1f GB", (double)n / 1e9);
}

void tb_summary_print_text(FILE *out, const struct tb_summary *sum, const struct tb_text_opts *o)
{
    struct tb_arena a;
    uint64_t failures = sum->failed + sum->incomplete + sum->unknown;

    tb_arena_init(&a, 4u * 1024u * 1024u);
    fprintf(out,
            "%sSummary:%s %" PRIu64 " TLS session%s: %" PRIu64 " ok, %" PRIu64 " failed, %" PRIu64
            " incomplete, %" PRIu64 " unknown",
            o->color ? "\033[1m" : "", o->color ? "\033[0m" : "", sum->sessions,
            sum->sessions == 1 ? "" : "s", sum->successes, sum->failed, sum->incomplete,
            sum->unknown);
    if (sum->errors > 0) {
        fprintf(out, "; %" PRIu64 " input error%s", sum->errors, sum->errors == 1 ? "" : "s");
    }
    fputc('\n', out);
    fprintf(out, "  %" PRIu64 " packet%s, %s", sum->packets, sum->packets == 1 ? "" : "s",
            bytes_text(&a, sum->bytes));
    if (sum->have_drops) {
        fprintf(out, "; the kernel dropped %" PRIu64 " of %" PRIu64 " packets", sum->dropped,
                sum->received + sum->dropped);
    }
    fputc('\n', out);
    if (failures > 0) {
        fprintf(out, "  rejected by the server %" PRIu64 ", by the client %" PRIu64
                     ", side unknown %" PRIu64 "\n",
                sum->rejected_by_server, sum->rejected_by_client, sum->rejected_by_unknown);
    }
    text_table(out, o, &a, "Failures by cause:", &sum->by_cause, true, false);
    text_table(out, o, &a, "Failures by server (failed of sessions):", &sum->by_server, true,
               true);
    text_table(out, o, &a, "Client certificates (failed of sessions):", &sum->by_client,
               o->verbosity < 1, true);
    if (sum->by_file.count + (sum->by_file.other != NULL ? 1 : 0) > 1 || sum->errors > 0) {
        text_table(out, o, &a, "Files (failed of sessions):", &sum->by_file, false, true);
    }
    if (sum->out_of_memory) {
        fputs("  (out of memory: some rows above are missing; the totals are right)\n", out);
    }
    tb_arena_reset(&a);
}

/* ---- JSON ---- */

static void json_rows(struct tb_json_writer *w, const struct summary_map *m, const char *a_key,
                      const char *b_key, bool with_errors)
{
    size_t n;
    const struct summary_row **rows = sorted_rows(m, &n);

    tb_json_arr_begin(w);
    for (size_t i = 0; i < n; i++) {
        tb_json_obj_begin(w);
        tb_json_key(w, a_key);
        tb_json_str(w, rows[i]->a);
        if (b_key != NULL) {
            tb_json_key(w, b_key);
            tb_json_str(w, rows[i]->b);
        }
        tb_json_key(w, "sessions");
        tb_json_u64(w, rows[i]->sessions);
        tb_json_key(w, "failed");
        tb_json_u64(w, rows[i]->failed);
        if (with_errors) {
            tb_json_key(w, "errors");
            tb_json_u64(w, rows[i]->errors);
        }
        tb_json_obj_end(w);
    }
    tb_json_arr_end(w);
    free(rows);
}

static void key_u64(struct tb_json_writer *w, const char *key, uint64_t v)
{
    tb_json_key(w, key);
    tb_json_u64(w, v);
}

void tb_summary_print_json(FILE *out, const struct tb_summary *sum)
{
    struct tb_json_writer w;
    size_t n;
    const struct summary_row **causes;

    tb_json_writer_init(&w, out);
    tb_json_obj_begin(&w);
    key_u64(&w, "schema", 1);
    tb_json_key(&w, "type");
    tb_json_str(&w, "summary");
    key_u64(&w, "sessions", sum->sessions);
    key_u64(&w, "successes", sum->successes);
    key_u64(&w, "failed", sum->failed);
    key_u64(&w, "incomplete", sum->incomplete);
    key_u64(&w, "unknown", sum->unknown);
    key_u64(&w, "failures", sum->failed + sum->incomplete + sum->unknown);
    key_u64(&w, "errors", sum->errors);
    key_u64(&w, "packets", sum->packets);
    key_u64(&w, "bytes", sum->bytes);
    tb_json_key(&w, "drops");
    if (sum->have_drops) {
        tb_json_obj_begin(&w);
        key_u64(&w, "received", sum->received);
        key_u64(&w, "dropped", sum->dropped);
        tb_json_obj_end(&w);
    } else {
        tb_json_null(&w);
    }
    /* cause -> count, most frequent first */
    tb_json_key(&w, "by_cause");
    tb_json_obj_begin(&w);
    causes = sorted_rows(&sum->by_cause, &n);
    for (size_t i = 0; i < n; i++) {
        key_u64(&w, causes[i]->a, causes[i]->failed);
    }
    free(causes);
    tb_json_obj_end(&w);
    tb_json_key(&w, "rejected_by");
    tb_json_obj_begin(&w);
    key_u64(&w, "server", sum->rejected_by_server);
    key_u64(&w, "client", sum->rejected_by_client);
    key_u64(&w, "unknown", sum->rejected_by_unknown);
    tb_json_obj_end(&w);
    tb_json_key(&w, "by_server");
    json_rows(&w, &sum->by_server, "server", "sni", false);
    tb_json_key(&w, "by_client_cert");
    json_rows(&w, &sum->by_client, "subject", NULL, false);
    tb_json_key(&w, "by_file");
    json_rows(&w, &sum->by_file, "file", NULL, true);
    tb_json_key(&w, "complete");
    tb_json_bool(&w, !sum->out_of_memory);
    tb_json_obj_end(&w);
    fputc('\n', out);
}
