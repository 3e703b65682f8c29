/*
 * report_json.c - one NDJSON object per session (INTERFACE.md, schema 1).
 * The documented keys come first, in the documented order, with null for
 * what the capture cannot tell; tlsblame's extra keys (tcp, anomalies,
 * chain_analysis, ...) follow them, so consumers of schema 1 never see a
 * documented key move or change meaning.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_int.h"
#include "tlsblame/memo.h"
#include "tlsblame/names.h"
#include "tlsblame/report.h"

static const struct {
    uint32_t bit;
    const char *id;
} anomaly_ids[] = {
    {TB_ANOM_GAP_C2S, "gap_c2s"},
    {TB_ANOM_GAP_S2C, "gap_s2c"},
    {TB_ANOM_OVERLAP_CONFLICT, "overlap_conflict"},
    {TB_ANOM_OOO_CAP, "ooo_cap"},
    {TB_ANOM_EVICTED, "evicted"},
    {TB_ANOM_PARSE_C2S, "parse_c2s"},
    {TB_ANOM_PARSE_S2C, "parse_s2c"},
    {TB_ANOM_NOT_TLS_C2S, "not_tls_c2s"},
    {TB_ANOM_NOT_TLS_S2C, "not_tls_s2c"},
    {TB_ANOM_EVENTS_CAP, "events_cap"},
    {TB_ANOM_NO_SYN, "no_syn"},
    {TB_ANOM_CAPTURE_END, "capture_end"},
    {TB_ANOM_ARENA_CAP, "arena_cap"},
    {TB_ANOM_SNAPLEN, "snaplen"},
};

static const char *or_unknown(const char *s)
{
    return s != NULL && s[0] != '\0' ? s : "unknown";
}

/*
 * Keys are string literals written as they are (TB_JSON_KEY); these take
 * the key first so the call sites read like the output.
 */
#define key_str(w, key, value)                                                                     \
    do {                                                                                           \
        TB_JSON_KEY(w, key);                                                                       \
        tb_json_str(w, value);                                                                     \
    } while (0)

#define key_u64(w, key, value)                                                                     \
    do {                                                                                           \
        TB_JSON_KEY(w, key);                                                                       \
        tb_json_u64(w, value);                                                                     \
    } while (0)

/* 0 means "none" for frame numbers (they are 1-based). */
static void frame_value(struct tb_json_writer *w, uint64_t frame)
{
    if (frame == 0) {
        tb_json_null(w);
        return;
    }
    tb_json_u64(w, frame);
}
#define key_frame(w, key, frame)                                                                   \
    do {                                                                                           \
        TB_JSON_KEY(w, key);                                                                       \
        frame_value(w, frame);                                                                     \
    } while (0)

/* -1 means "none" for chain indexes. */
static void index_value(struct tb_json_writer *w, int index)
{
    if (index < 0) {
        tb_json_null(w);
        return;
    }
    tb_json_i64(w, index);
}
#define key_index(w, key, index)                                                                   \
    do {                                                                                           \
        TB_JSON_KEY(w, key);                                                                       \
        index_value(w, index);                                                                     \
    } while (0)

static void endpoint_value(struct tb_json_writer *w, const struct tb_endpoint *e)
{
    tb_json_obj_begin(w);
    key_str(w, "ip", e->ip);
    key_u64(w, "port", e->port);
    tb_json_obj_end(w);
}
#define endpoint(w, key, e)                                                                        \
    do {                                                                                           \
        TB_JSON_KEY(w, key);                                                                       \
        endpoint_value(w, e);                                                                      \
    } while (0)

static void string_array(struct tb_json_writer *w, const char *const *items, size_t count)
{
    tb_json_arr_begin(w);
    for (size_t i = 0; items != NULL && i < count; i++) {
        tb_json_str(w, items[i]);
    }
    tb_json_arr_end(w);
}

enum list_kind { LIST_VERSION, LIST_CIPHER, LIST_SIGALG, LIST_GROUP };

/*
 * The same client sends the same lists in every ClientHello: their JSON is
 * kept per thread (memo.h) and copied, which spares a name lookup and an
 * escaping pass per value.
 */
static const struct tb_memo_shape list_memo = {TB_MEMO_JSON_LIST, 32, 1 + 2 * TB_MAX_LIST, 4096};

static void code_array_render(struct tb_json_writer *w, const struct tb_u16_list *l,
                              enum list_kind kind);

static void code_array(struct tb_json_writer *w, const struct tb_u16_list *l, enum list_kind kind)
{
    size_t n = l->count < TB_MAX_LIST ? l->count : TB_MAX_LIST;
    uint8_t key[1 + 2 * TB_MAX_LIST];
    size_t kept_len = 0;

    key[0] = (uint8_t)kind;
    memcpy(key + 1, l->v, n * sizeof l->v[0]);
    const char *kept = tb_memo_get(&list_memo, key, 1 + 2 * n, &kept_len);
    if (kept != NULL) {
        tb_json_raw_begin(w);
        tb_json_raw(w, kept, kept_len);
        tb_json_raw_end(w);
        return;
    }
    struct tb_json_mark from = tb_json_mark_value(w);
    code_array_render(w, l, kind);
    size_t len = 0;
    const char *json = tb_json_between(w, from, tb_json_mark_here(w), &len);
    if (json != NULL) {
        tb_memo_put(&list_memo, key, 1 + 2 * n, json, len);
    }
}

/* IANA names; GREASE values (RFC 8701) are left out, they carry no meaning. */
static void code_array_render(struct tb_json_writer *w, const struct tb_u16_list *l,
                              enum list_kind kind)
{
    tb_json_arr_begin(w);
    for (size_t i = 0; i < l->count && i < TB_MAX_LIST; i++) {
        struct tb_name_buf nb;
        uint16_t v = l->v[i];
        if (tb_is_grease(v)) {
            continue;
        }
        switch (kind) {
        case LIST_VERSION:
            tb_json_str(w, tb_version_name(v, &nb));
            break;
        case LIST_CIPHER:
            tb_json_str(w, tb_cipher_name(v, &nb));
            break;
        case LIST_SIGALG:
            tb_json_str(w, tb_sigalg_name(v, &nb));
            break;
        case LIST_GROUP:
        default:
            tb_json_str(w, tb_group_name(v, &nb));
            break;
        }
    }
    tb_json_arr_end(w);
}

/* The capture time a chain is judged at: its Certificate message, else the session start. */
static bool chain_time(const struct tb_session *s, const struct tb_chain *ch, int64_t *at_s)
{
    int64_t us = ch->ts_us != 0 ? ch->ts_us : s->start_us;

    if (us == 0) {
        return false;
    }
    *at_s = us / 1000000 - (us % 1000000 < 0 ? 1 : 0); /* floor */
    return true;
}

/* CERT object (INTERFACE.md). The first time a cached certificate is written
 * its bytes are kept (tb_cert_rendered); later sessions copy them and write
 * only valid_at_capture, which depends on the session's time. */
static void cert_object(struct tb_json_writer *w, const struct tb_cert *c, bool at_known,
                        int64_t at_s)
{
    if (c == NULL) {
        tb_json_null(w);
        return;
    }
    bool p = c->parsed;
    const char *valid = p && at_known ? (c->not_before <= at_s && at_s <= c->not_after ? "true"
                                                                                      : "false")
                                      : "null";
    struct tb_cert_rendered *kept = c->rendered;
    if (kept != NULL && kept->json != NULL) {
        tb_json_raw_begin(w);
        tb_json_raw(w, kept->json, kept->head_len);
        tb_json_raw(w, valid, strlen(valid));
        tb_json_raw(w, kept->json + kept->head_len, kept->tail_len);
        tb_json_raw_end(w);
        return;
    }
    struct tb_json_mark head_from = tb_json_mark_value(w);
    tb_json_obj_begin(w);
    /* an unparsable certificate may still carry a name x509.c could read */
    key_str(w, "subject", p || (c->subject != NULL && c->subject[0] != '\0') ? c->subject : NULL);
    key_str(w, "issuer", p || (c->issuer != NULL && c->issuer[0] != '\0') ? c->issuer : NULL);
    key_str(w, "serial", c->serial_hex);
    TB_JSON_KEY(w, "not_before");
    p ? tb_json_time_s(w, c->not_before) : tb_json_null(w);
    TB_JSON_KEY(w, "not_after");
    p ? tb_json_time_s(w, c->not_after) : tb_json_null(w);
    key_str(w, "sha256", c->sha256_hex);
    key_str(w, "key", p ? c->key_desc : NULL);
    key_str(w, "sig_alg", p ? c->sig_alg : NULL);
    TB_JSON_KEY(w, "san");
    p ? string_array(w, c->san, c->san_count) : tb_json_null(w);
    /* absent extension: null (no restriction), unlike an empty list */
    TB_JSON_KEY(w, "eku");
    p && c->has_eku ? string_array(w, c->eku_names, c->eku_count) : tb_json_null(w);
    TB_JSON_KEY(w, "key_usage");
    p && c->has_key_usage ? string_array(w, c->ku_names, c->ku_count) : tb_json_null(w);
    TB_JSON_KEY(w, "ca");
    p ? tb_json_bool(w, c->has_basic_constraints && c->is_ca) : tb_json_null(w);
    TB_JSON_KEY(w, "self_signed");
    p ? tb_json_bool(w, c->self_signed) : tb_json_null(w);
    TB_JSON_KEY(w, "valid_at_capture");
    struct tb_json_mark head_to = tb_json_mark_here(w);
    tb_json_raw_begin(w);
    tb_json_raw(w, valid, strlen(valid));
    tb_json_raw_end(w);
    struct tb_json_mark tail_from = tb_json_mark_here(w);
    key_str(w, "parse_error", p ? NULL : (c->parse_error != NULL ? c->parse_error : "unparsed"));
    /* extras */
    key_str(w, "ski", p ? c->ski_hex : NULL);
    key_str(w, "aki", p ? c->aki_hex : NULL);
    tb_json_obj_end(w);
    size_t head = 0, tail = 0;
    const char *head_bytes = tb_json_between(w, head_from, head_to, &head);
    const char *tail_bytes = tb_json_between(w, tail_from, tb_json_mark_here(w), &tail);
    if (kept != NULL && head_bytes != NULL && tail_bytes != NULL) {
        kept->json = malloc(head + tail);
        if (kept->json != NULL) {
            memcpy(kept->json, head_bytes, head);
            memcpy(kept->json + head, tail_bytes, tail);
            kept->head_len = head;
            kept->tail_len = tail;
        }
    }
}

static void chain_array(struct tb_json_writer *w, const struct tb_session *s,
                        const struct tb_chain *ch)
{
    int64_t at_s = 0;
    bool at_known = chain_time(s, ch, &at_s);

    tb_json_arr_begin(w);
    for (size_t i = 0; ch->seen && i < ch->count && i < TB_MAX_CERTS; i++) {
        cert_object(w, ch->certs[i], at_known, at_s);
    }
    tb_json_arr_end(w);
}

static void cert_verify_object(struct tb_json_writer *w, const struct tb_cert_verify *cv)
{
    struct tb_name_buf nb;

    if (!cv->seen) {
        tb_json_null(w);
        return;
    }
    tb_json_obj_begin(w);
    key_str(w, "sig_alg", cv->sig_alg != 0 ? tb_sigalg_name(cv->sig_alg, &nb) : NULL);
    TB_JSON_KEY(w, "offered");
    tb_json_tri(w, cv->offered);
    TB_JSON_KEY(w, "valid");
    tb_json_tri(w, cv->valid);
    key_str(w, "why", cv->why);
    key_frame(w, "frame", cv->frame);
    tb_json_obj_end(w);
}

/*
 * null when the server did not ask for a certificate; an object with
 * "requested": null when it may have asked where we cannot see (TLS 1.3
 * without keys).
 */
static void client_auth(struct tb_json_writer *w, const struct tb_session *s)
{
    const struct tb_cert_request *cr = &s->cr;
    bool hidden = s->tls13 && !s->decrypted;
    enum tb_tri sent = s->client_sent_certificate;

    if (!cr->seen && !hidden) {
        tb_json_null(w);
        return;
    }
    if (s->chain[TB_DIR_C2S].seen) {
        sent = tb_tri_from_bool(s->chain[TB_DIR_C2S].total > 0);
    }
    tb_json_obj_begin(w);
    TB_JSON_KEY(w, "requested");
    if (cr->seen || sent == TB_TRI_YES) {
        tb_json_bool(w, true);
    } else {
        tb_json_null(w);
    }
    TB_JSON_KEY(w, "ca_names");
    if (cr->seen) {
        string_array(w, cr->ca_names, cr->ca_count < TB_MAX_CA_NAMES ? cr->ca_count
                                                                      : TB_MAX_CA_NAMES);
    } else {
        tb_json_null(w);
    }
    TB_JSON_KEY(w, "sig_algs");
    cr->seen ? code_array(w, &cr->sig_algs, LIST_SIGALG) : tb_json_null(w);
    TB_JSON_KEY(w, "client_sent_certificate");
    tb_json_tri(w, sent);
    TB_JSON_KEY(w, "certificate_verify");
    cert_verify_object(w, &s->cv);
    /* extras */
    TB_JSON_KEY(w, "ca_names_total");
    cr->seen ? tb_json_u64(w, cr->ca_total) : tb_json_null(w);
    TB_JSON_KEY(w, "cert_types");
    if (cr->seen && !cr->tls13) {
        tb_json_arr_begin(w);
        for (size_t i = 0; i < cr->cert_types_count && i < sizeof cr->cert_types; i++) {
            struct tb_name_buf nb;
            tb_json_str(w, tb_cert_type_name(cr->cert_types[i], &nb));
        }
        tb_json_arr_end(w);
    } else {
        tb_json_null(w);
    }
    TB_JSON_KEY(w, "sig_algs_cert");
    cr->seen && cr->sig_algs_cert.count > 0 ? code_array(w, &cr->sig_algs_cert, LIST_SIGALG)
                                            : tb_json_null(w);
    key_frame(w, "frame", cr->seen ? cr->frame : 0);
    key_str(w, "estimate_basis", s->client_cert_estimate);
    tb_json_obj_end(w);
}

/* level, description, code, encrypted: shared by handshake[] alerts and alerts[]. */
static void alert_fields(struct tb_json_writer *w, uint8_t level, uint8_t desc, bool encrypted,
                         bool decrypted)
{
    struct tb_name_buf nb;
    bool hidden = encrypted && !decrypted;

    TB_JSON_KEY(w, "level");
    if (hidden || (level != 1 && level != 2)) {
        tb_json_null(w);
    } else {
        tb_json_str(w, level == 2 ? "fatal" : "warning");
    }
    key_str(w, "description", hidden ? NULL : tb_alert_name(desc, &nb));
    TB_JSON_KEY(w, "code");
    hidden ? tb_json_null(w) : tb_json_u64(w, desc);
    TB_JSON_KEY(w, "encrypted");
    tb_json_bool(w, encrypted);
    if (decrypted) {
        TB_JSON_KEY(w, "decrypted");
        tb_json_bool(w, true);
    }
}

/* Timeline entries outside INTERFACE.md's msg vocabulary go to "tcp"/"anomalies" instead. */
static const char *event_msg(const struct tb_event *e, struct tb_name_buf *nb)
{
    switch (e->kind) {
    case TB_EV_HANDSHAKE:
        return tb_hs_type_name(e->hs_type, nb);
    case TB_EV_CCS:
        return "change_cipher_spec";
    case TB_EV_ALERT:
        return "alert";
    case TB_EV_APPDATA:
        return "application_data";
    case TB_EV_ENCRYPTED_HS:
        return "encrypted_handshake";
    case TB_EV_HEARTBEAT:
        return "heartbeat";
    case TB_EV_FIN:
        return "fin";
    case TB_EV_RST:
        return "rst";
    case TB_EV_GAP:
    case TB_EV_NOT_TLS:
    case TB_EV_PREAMBLE:
    default:
        return NULL;
    }
}

static void handshake_array(struct tb_json_writer *w, const struct tb_session *s)
{
    tb_json_arr_begin(w);
    for (size_t i = 0; s->events != NULL && i < s->event_count; i++) {
        const struct tb_event *e = &s->events[i];
        struct tb_name_buf nb;
        const char *msg = event_msg(e, &nb);
        if (msg == NULL) {
            continue;
        }
        tb_json_obj_begin(w);
        key_u64(w, "frame", e->frame);
        key_str(w, "from", tb_dir_side(e->dir));
        key_str(w, "msg", msg);
        if (e->kind == TB_EV_HANDSHAKE && e->hs_type == TB_HS_CERTIFICATE) {
            key_u64(w, "count", e->count);
        }
        if (e->kind == TB_EV_ALERT) {
            alert_fields(w, e->alert_level, e->alert_desc, e->encrypted, e->decrypted);
        } else {
            if (e->kind == TB_EV_APPDATA || e->kind == TB_EV_ENCRYPTED_HS) {
                key_u64(w, "records", e->records);
                key_u64(w, "bytes", e->bytes);
            }
            if (e->decrypted) {
                TB_JSON_KEY(w, "decrypted");
                tb_json_bool(w, true);
            }
        }
        tb_json_obj_end(w);
    }
    tb_json_arr_end(w);
}

static void alerts_array(struct tb_json_writer *w, const struct tb_session *s)
{
    tb_json_arr_begin(w);
    for (size_t i = 0; i < s->alert_count && i < TB_MAX_ALERTS; i++) {
        const struct tb_alert *al = &s->alerts[i];
        tb_json_obj_begin(w);
        key_u64(w, "frame", al->frame);
        key_str(w, "from", tb_dir_side(al->dir));
        alert_fields(w, al->level, al->desc, al->encrypted, al->decrypted);
        tb_json_obj_end(w);
    }
    tb_json_arr_end(w);
}

/* The verdict's summary when no candidate supplies one. */
static void fallback_summary(const struct tb_session *s, char *summary, size_t size)
{
    char cl[TB_ENDPOINT_STR_LEN], sv[TB_ENDPOINT_STR_LEN];

    tb_endpoint_str(&s->client, cl);
    tb_endpoint_str(&s->server, sv);
    if (s->outcome == TB_OUTCOME_INCOMPLETE) {
        (void)snprintf(summary, size,
                       "the capture of the handshake between %s and %s is incomplete", cl, sv);
    } else if (s->outcome == TB_OUTCOME_FAILED) {
        (void)snprintf(summary, size,
                       "the handshake between %s and %s failed; no rule explains why", cl, sv);
    } else {
        (void)snprintf(summary, size,
                       "the outcome of the handshake between %s and %s is unknown", cl, sv);
    }
}

static void verdict_object(struct tb_json_writer *w, const struct tb_session *s,
                           const struct tb_verdict *v)
{
    const struct tb_candidate *top =
        v != NULL && v->present && v->cand_count > 0 ? &v->cand[0] : NULL;
    char summary[256] = "";

    if (top == NULL || top->summary == NULL) {
        fallback_summary(s, summary, sizeof summary);
    }

    tb_json_obj_begin(w);
    key_str(w, "rejected_by", top != NULL ? or_unknown(top->rejected_by) : "unknown");
    key_str(w, "rejected", top != NULL ? or_unknown(top->rejected) : "unknown");
    key_str(w, "cause", top != NULL ? or_unknown(top->cause) : "unknown");
    key_str(w, "confidence", top != NULL && v->confidence != NULL ? v->confidence : "low");
    key_str(w, "summary", top != NULL && top->summary != NULL ? top->summary : summary);
    TB_JSON_KEY(w, "candidates");
    tb_json_arr_begin(w);
    for (size_t i = 0; top != NULL && i < v->cand_count && i < TB_MAX_CANDIDATES; i++) {
        const struct tb_candidate *k = &v->cand[i];
        tb_json_obj_begin(w);
        key_str(w, "cause", or_unknown(k->cause));
        TB_JSON_KEY(w, "score");
        tb_json_num(w, k->score);
        TB_JSON_KEY(w, "evidence");
        string_array(w, k->evidence, k->evidence_count < TB_MAX_EVIDENCE ? k->evidence_count
                                                                          : TB_MAX_EVIDENCE);
        key_str(w, "rule", k->rule_id);
        key_str(w, "rejected_by", k->rejected_by);
        key_str(w, "rejected", k->rejected);
        key_str(w, "summary", k->summary);
        tb_json_obj_end(w);
    }
    tb_json_arr_end(w);
    key_str(w, "likely_log", top != NULL ? top->likely_log : NULL);
    TB_JSON_KEY(w, "fix");
    string_array(w, top != NULL ? top->fix : NULL,
                 top != NULL && top->fix_count < TB_MAX_FIX ? top->fix_count : TB_MAX_FIX);
    TB_JSON_KEY(w, "rules");
    string_array(w, v != NULL ? v->rules_fired : NULL,
                 v != NULL && v->rules_fired_count < TB_MAX_RULES_FIRED ? v->rules_fired_count
                                                                        : TB_MAX_RULES_FIRED);
    /* extras */
    key_str(w, "explanation", top != NULL ? top->explanation : NULL);
    key_str(w, "references", top != NULL ? top->references : NULL);
    tb_json_obj_end(w);
}

static void ndpi_object(struct tb_json_writer *w, const struct tb_session *s)
{
    if (s->ndpi_protocol == NULL && s->ndpi_app == NULL && s->ndpi_category == NULL &&
        s->ja3 == NULL && s->ja3s == NULL && s->ja4 == NULL && s->ndpi_risk_count == 0) {
        tb_json_null(w);
        return;
    }
    tb_json_obj_begin(w);
    key_str(w, "protocol", s->ndpi_protocol);
    key_str(w, "app", s->ndpi_app);
    key_str(w, "ja3", s->ja3);
    key_str(w, "ja3s", s->ja3s);
    TB_JSON_KEY(w, "risks");
    string_array(w, s->ndpi_risks, s->ndpi_risk_count < 16 ? s->ndpi_risk_count : 16);
    key_str(w, "category", s->ndpi_category);
    key_str(w, "ja4", s->ja4);
    tb_json_obj_end(w);
}

static void client_hello_object(struct tb_json_writer *w, const struct tb_session *s)
{
    const struct tb_client_hello *ch = &s->ch;
    struct tb_name_buf nb;

    if (!ch->seen) {
        tb_json_null(w);
        return;
    }
    tb_json_obj_begin(w);
    key_frame(w, "frame", ch->frame);
    key_str(w, "legacy_version", tb_version_name(ch->legacy_version, &nb));
    TB_JSON_KEY(w, "versions");
    code_array(w, &ch->versions, LIST_VERSION);
    TB_JSON_KEY(w, "cipher_suites");
    code_array(w, &ch->cipher_suites, LIST_CIPHER);
    key_u64(w, "cipher_suites_total", ch->cipher_suites.total);
    TB_JSON_KEY(w, "groups");
    code_array(w, &ch->groups, LIST_GROUP);
    TB_JSON_KEY(w, "key_shares");
    code_array(w, &ch->key_share_groups, LIST_GROUP);
    TB_JSON_KEY(w, "sig_algs");
    code_array(w, &ch->sig_algs, LIST_SIGALG);
    TB_JSON_KEY(w, "post_handshake_auth");
    tb_json_bool(w, ch->has_post_handshake_auth);
    TB_JSON_KEY(w, "sslv2_format");
    tb_json_bool(w, ch->sslv2_format);
    tb_json_obj_end(w);
}

static void chain_report_object(struct tb_json_writer *w, const struct tb_chain *ch)
{
    const struct tb_chain_report *r = &ch->report;

    if (!ch->seen || !ch->analyzed) {
        tb_json_null(w);
        return;
    }
    tb_json_obj_begin(w);
    TB_JSON_KEY(w, "empty");
    tb_json_bool(w, r->empty);
    key_index(w, "parse_error_index", r->any_parse_error ? r->parse_error_index : -1);
    TB_JSON_KEY(w, "order_ok");
    tb_json_bool(w, r->order_ok);
    key_index(w, "first_break", r->first_break);
    TB_JSON_KEY(w, "duplicates");
    tb_json_bool(w, r->has_duplicates);
    TB_JSON_KEY(w, "unrelated");
    tb_json_bool(w, r->has_unrelated);
    TB_JSON_KEY(w, "root_included");
    tb_json_bool(w, r->root_included);
    TB_JSON_KEY(w, "leaf_self_signed");
    tb_json_bool(w, r->leaf_self_signed);
    TB_JSON_KEY(w, "missing_intermediate");
    tb_json_bool(w, r->missing_intermediate);
    key_str(w, "missing_issuer", r->missing_issuer);
    key_index(w, "expired_index", r->expired_index);
    TB_JSON_KEY(w, "expired_for_s");
    r->expired_index >= 0 ? tb_json_i64(w, r->expired_for) : tb_json_null(w);
    key_index(w, "not_yet_valid_index", r->not_yet_valid_index);
    TB_JSON_KEY(w, "not_yet_valid_for_s");
    r->not_yet_valid_index >= 0 ? tb_json_i64(w, r->not_yet_valid_for) : tb_json_null(w);
    TB_JSON_KEY(w, "leaf_eku_ok");
    tb_json_bool(w, r->leaf_eku_ok);
    TB_JSON_KEY(w, "leaf_ku_ok");
    tb_json_bool(w, r->leaf_ku_ok);
    TB_JSON_KEY(w, "intermediates_are_ca");
    tb_json_bool(w, r->intermediates_are_ca);
    TB_JSON_KEY(w, "path_len_ok");
    tb_json_bool(w, r->path_len_ok);
    key_index(w, "weak_key_index", r->weak_key_index);
    key_index(w, "weak_signature_index", r->weak_signature_index);
    TB_JSON_KEY(w, "name_matches_sni");
    tb_json_tri(w, r->name_matches_sni);
    TB_JSON_KEY(w, "issuer_in_ca_list");
    tb_json_tri(w, r->issuer_in_ca_list);
    TB_JSON_KEY(w, "key_type_allowed");
    tb_json_tri(w, r->key_type_allowed);
    TB_JSON_KEY(w, "leaf_sig_alg_offered");
    tb_json_tri(w, r->leaf_sig_alg_offered);
    TB_JSON_KEY(w, "trusted");
    tb_json_tri(w, r->trusted);
    TB_JSON_KEY(w, "verify_error");
    r->verify_error[0] != '\0'
        ? tb_json_str_n(w, r->verify_error, strnlen(r->verify_error, sizeof r->verify_error))
        : tb_json_null(w);
    TB_JSON_KEY(w, "total");
    tb_json_u64(w, ch->total);
    tb_json_obj_end(w);
}

static void dir_stats_object(struct tb_json_writer *w, const struct tb_dir_stats *d)
{
    tb_json_obj_begin(w);
    key_u64(w, "packets", d->packets);
    key_u64(w, "bytes", d->bytes);
    key_u64(w, "gaps", d->gaps);
    key_u64(w, "gap_bytes", d->gap_bytes);
    key_frame(w, "fin_frame", d->fin_frame);
    key_frame(w, "rst_frame", d->rst_frame);
    key_u64(w, "app_records", d->appdata_records);
    key_u64(w, "app_bytes", d->appdata_bytes);
    key_u64(w, "encrypted_hs_records", d->encrypted_hs_records);
    key_u64(w, "encrypted_hs_bytes", d->encrypted_hs_bytes);
    key_str(w, "parse_error", d->parse_error);
    key_frame(w, "parse_error_frame", d->parse_error != NULL ? d->parse_error_frame : 0);
    tb_json_obj_end(w);
}

static void extras(struct tb_json_writer *w, const struct tb_session *s, const struct tb_facts *f)
{
    struct tb_name_buf nb;

    TB_JSON_KEY(w, "stage");
    if (f != NULL && f->v[TB_F_stage].known) {
        tb_json_str(w, f->v[TB_F_stage].s);
    } else {
        tb_json_null(w);
    }
    key_str(w, "protocol", s->preamble_protocol);
    key_str(w, "preamble_refusal", s->preamble_refusal);
    key_str(w, "alpn_selected", s->sh.seen ? s->sh.alpn : NULL);
    key_str(w, "hrr_group",
            s->sh.hrr_seen && s->sh.hrr_group != 0 ? tb_group_name(s->sh.hrr_group, &nb) : NULL);
    TB_JSON_KEY(w, "decrypted");
    tb_json_bool(w, s->decrypted);
    /* The first line of decrypted application data per side (an HTTP status line). */
    TB_JSON_KEY(w, "app_first_line");
    if (s->app_first_line[TB_DIR_C2S] == NULL && s->app_first_line[TB_DIR_S2C] == NULL) {
        tb_json_null(w);
    } else {
        tb_json_obj_begin(w);
        key_str(w, "client", s->app_first_line[TB_DIR_C2S]);
        key_str(w, "server", s->app_first_line[TB_DIR_S2C]);
        tb_json_obj_end(w);
    }
    TB_JSON_KEY(w, "client_hello");
    client_hello_object(w, s);
    TB_JSON_KEY(w, "server_certificate_verify");
    cert_verify_object(w, &s->scv);
    TB_JSON_KEY(w, "server_key_exchange");
    if (s->ske_sig_alg != 0) {
        tb_json_obj_begin(w);
        key_str(w, "sig_alg", tb_sigalg_name(s->ske_sig_alg, &nb));
        TB_JSON_KEY(w, "valid");
        tb_json_tri(w, s->ske_valid);
        tb_json_obj_end(w);
    } else {
        tb_json_null(w);
    }
    TB_JSON_KEY(w, "chain_analysis");
    tb_json_obj_begin(w);
    TB_JSON_KEY(w, "server");
    chain_report_object(w, &s->chain[TB_DIR_S2C]);
    TB_JSON_KEY(w, "client");
    chain_report_object(w, &s->chain[TB_DIR_C2S]);
    tb_json_obj_end(w);
    TB_JSON_KEY(w, "tcp");
    tb_json_obj_begin(w);
    TB_JSON_KEY(w, "syn");
    tb_json_bool(w, s->saw_syn);
    TB_JSON_KEY(w, "client");
    dir_stats_object(w, &s->dir[TB_DIR_C2S]);
    TB_JSON_KEY(w, "server");
    dir_stats_object(w, &s->dir[TB_DIR_S2C]);
    tb_json_obj_end(w);
    TB_JSON_KEY(w, "anomalies");
    tb_json_arr_begin(w);
    for (size_t i = 0; i < sizeof anomaly_ids / sizeof anomaly_ids[0]; i++) {
        if (s->anomalies & anomaly_ids[i].bit) {
            tb_json_str(w, anomaly_ids[i].id);
        }
    }
    tb_json_arr_end(w);
}

void tb_report_json_session(FILE *out, const struct tb_session *s, const struct tb_facts *f,
                            const struct tb_verdict *v)
{
    struct tb_json_writer w;
    struct tb_name_buf nb;
    uint16_t version = s->version != 0 ? s->version : s->sh.seen ? s->sh.version : 0;

    tb_json_writer_init(&w, out);
    w.end_line = true; /* the '\n' goes out in the object's single write */
    tb_json_obj_begin(&w);
    key_u64(&w, "schema", 1);
    key_str(&w, "type", "session");
    key_str(&w, "file", s->file);
    key_u64(&w, "id", s->id);
    key_frame(&w, "first_frame", s->first_frame);
    key_frame(&w, "last_frame", s->last_frame);
    TB_JSON_KEY(&w, "start");
    tb_json_time_us(&w, s->start_us);
    TB_JSON_KEY(&w, "end");
    tb_json_time_us(&w, s->end_us);
    endpoint(&w, "client", &s->client);
    endpoint(&w, "server", &s->server);
    key_str(&w, "version", version != 0 ? tb_version_name(version, &nb) : NULL);
    TB_JSON_KEY(&w, "sni");
    if (s->ch.sni != NULL) {
        tb_json_str_n(&w, s->ch.sni, s->ch.sni_len > 0 ? s->ch.sni_len : strlen(s->ch.sni));
    } else {
        tb_json_null(&w);
    }
    TB_JSON_KEY(&w, "alpn");
    if (s->ch.seen) {
        string_array(&w, s->ch.alpn, s->ch.alpn_count < TB_MAX_ALPN ? s->ch.alpn_count
                                                                     : TB_MAX_ALPN);
    } else {
        tb_json_null(&w);
    }
    key_str(&w, "cipher", s->sh.seen ? tb_cipher_name(s->sh.cipher, &nb) : NULL);
    TB_JSON_KEY(&w, "resumed");
    s->sh.seen ? tb_json_bool(&w, s->resumed) : tb_json_null(&w);
    TB_JSON_KEY(&w, "client_auth");
    client_auth(&w, s);
    TB_JSON_KEY(&w, "server_chain");
    chain_array(&w, s, &s->chain[TB_DIR_S2C]);
    TB_JSON_KEY(&w, "client_chain");
    chain_array(&w, s, &s->chain[TB_DIR_C2S]);
    TB_JSON_KEY(&w, "handshake");
    handshake_array(&w, s);
    TB_JSON_KEY(&w, "alerts");
    alerts_array(&w, s);
    key_str(&w, "outcome", tb_outcome_name(s->outcome));
    if (s->outcome != TB_OUTCOME_SUCCESS) {
        TB_JSON_KEY(&w, "verdict");
        verdict_object(&w, s, v);
    }
    TB_JSON_KEY(&w, "ndpi");
    ndpi_object(&w, s);
    extras(&w, s, f);
    tb_json_obj_end(&w);
}

void tb_report_json_error(FILE *out, const char *file, uint64_t frame, const char *message)
{
    struct tb_json_writer w;

    tb_json_writer_init(&w, out);
    w.end_line = true;
    tb_json_obj_begin(&w);
    key_u64(&w, "schema", 1);
    key_str(&w, "type", "error");
    key_str(&w, "file", file);
    key_frame(&w, "frame", frame);
    key_str(&w, "message", message);
    tb_json_obj_end(&w);
}
