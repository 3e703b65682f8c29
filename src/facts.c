/*
 * facts.c - derive every fact of the catalogue (facts.h) from a session.
 * Anything a rule needs computed is computed here, so rules stay knowledge.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tlsblame/facts.h"
#include "tlsblame/names.h"
#include "tlsblame/report.h"

#define DAY_S 86400

static void set_bool(struct tb_facts *f, enum tb_fact_id id, bool b)
{
    f->v[id].known = true;
    f->v[id].b = b;
}

static void set_tri(struct tb_facts *f, enum tb_fact_id id, enum tb_tri t)
{
    if (t != TB_TRI_UNKNOWN) {
        set_bool(f, id, t == TB_TRI_YES);
    }
}

static void set_int(struct tb_facts *f, enum tb_fact_id id, int64_t i)
{
    f->v[id].known = true;
    f->v[id].i = i;
}

static void set_str(struct tb_facts *f, enum tb_fact_id id, const char *s)
{
    if (s != NULL) {
        f->v[id].known = true;
        f->v[id].s = s;
    }
}

static void set_list(struct tb_facts *f, enum tb_fact_id id, const char **list, size_t n)
{
    f->v[id].known = true;
    f->v[id].list = list;
    f->v[id].list_count = n;
}

static const char **u16_names(struct tb_arena *a, const struct tb_u16_list *l,
                              const char *(*name)(uint16_t, struct tb_name_buf *), size_t *n)
{
    const char **out = tb_arena_alloc(a, sizeof *out * (l->count + 1));
    struct tb_name_buf nb;

    *n = 0;
    if (out == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < l->count; i++) {
        if (tb_is_grease(l->v[i])) {
            continue;
        }
        out[(*n)++] = tb_arena_strdup(a, name(l->v[i], &nb));
    }
    return out;
}

/*
 * Which client keys can sign with these schemes (RFC 8446 4.2.3; TLS 1.2
 * hash/signature pairs: low byte 1 RSA, 2 DSA, 3 ECDSA). A list narrowed to
 * one family explains a client that had a certificate but sent none.
 */
static void set_key_types(struct tb_facts *f, struct tb_arena *a, const struct tb_u16_list *algs)
{
    static const char *const names[] = {"RSA", "RSA-PSS", "EC", "Ed25519", "Ed448", "DSA"};
    bool has[6] = {false};
    const char **out = tb_arena_alloc(a, sizeof *out * 6);
    size_t n = 0;

    if (out == NULL) {
        return;
    }
    for (size_t i = 0; i < algs->count; i++) {
        uint16_t v = algs->v[i];
        if (v == 0x0807) {
            has[3] = true;
        } else if (v == 0x0808) {
            has[4] = true;
        } else if (v >= 0x0804 && v <= 0x0806) {
            has[0] = true; /* rsa_pss_rsae_*: an rsaEncryption key signing with PSS */
        } else if (v >= 0x0809 && v <= 0x080b) {
            has[1] = true;
        } else if ((v & 0xff) == 1) {
            has[0] = true;
        } else if ((v & 0xff) == 2) {
            has[5] = true;
        } else if ((v & 0xff) == 3) {
            has[2] = true;
        }
    }
    for (size_t i = 0; i < 6; i++) {
        if (has[i]) {
            out[n++] = names[i];
        }
    }
    set_list(f, TB_F_cr_key_types, out, n);
}

static const char *version_name_a(struct tb_arena *a, uint16_t v)
{
    struct tb_name_buf nb;
    return tb_arena_strdup(a, tb_version_name(v, &nb));
}

static const char *endpoint_text(struct tb_arena *a, const struct tb_endpoint *e)
{
    char text[TB_ENDPOINT_STR_LEN];

    tb_endpoint_str(e, text);
    return tb_arena_strdup(a, text);
}

static const char *hs_name_a(struct tb_arena *a, const struct tb_event *e)
{
    struct tb_name_buf nb;

    switch (e->kind) {
    case TB_EV_HANDSHAKE:
        return tb_arena_strdup(a, tb_hs_type_name(e->hs_type, &nb));
    case TB_EV_ENCRYPTED_HS:
        return "encrypted_handshake";
    case TB_EV_CCS:
        return "change_cipher_spec";
    case TB_EV_APPDATA:
        return "application_data";
    default:
        return NULL;
    }
}

static bool is_message(const struct tb_event *e)
{
    return e->kind == TB_EV_HANDSHAKE || e->kind == TB_EV_ENCRYPTED_HS || e->kind == TB_EV_CCS;
}

static const char *stage_of(const struct tb_session *s, size_t upto)
{
    bool ch = false, sh = false, cfin = false, sfin = false, app = false;
    bool server_enc = false;

    for (size_t i = 0; i < upto && i < s->event_count; i++) {
        const struct tb_event *e = &s->events[i];
        if (e->kind == TB_EV_HANDSHAKE && e->hs_type == TB_HS_CLIENT_HELLO) {
            ch = true;
        }
        if (e->kind == TB_EV_HANDSHAKE && e->hs_type == TB_HS_SERVER_HELLO) {
            sh = true;
        }
        if ((e->kind == TB_EV_HANDSHAKE && e->hs_type == TB_HS_FINISHED) ||
            e->kind == TB_EV_ENCRYPTED_HS) {
            if (e->dir == TB_DIR_C2S) {
                cfin = true;
            } else {
                sfin = true;
                server_enc = true;
            }
        }
        if (e->kind == TB_EV_APPDATA) {
            app = true;
        }
    }
    (void)server_enc;
    if (app && cfin && sfin) {
        return "application_data";
    }
    if (s->tls13) {
        if (cfin) {
            return "client_finished";
        }
    } else {
        if (cfin && sfin) {
            return "server_finished";
        }
        if (cfin) {
            return "client_finished";
        }
    }
    if (sh) {
        return "server_hello";
    }
    if (ch) {
        return "client_hello";
    }
    return "none";
}

static const char *time_text(struct tb_arena *a, int64_t t)
{
    char buf[32];
    tb_format_time_s(t, buf);
    return tb_arena_strdup(a, buf);
}

static void chain_facts(struct tb_facts *f, struct tb_session *s, enum tb_dir dir, int base)
{
    /* Each chain's facts are laid out in the same order: base + offset. */
    const struct tb_chain *c = &s->chain[dir];
    struct tb_arena *a = &s->arena;
    const struct tb_chain_report *r = &c->report;

#define CF(name) ((enum tb_fact_id)(base + (TB_F_client_##name - TB_F_client_leaf_subject)))
    if (!c->seen) {
        return;
    }
    set_int(f, CF(chain_length), (int64_t)c->total);
    if (c->count == 0) {
        return;
    }
    const struct tb_cert *leaf = c->certs[0];
    set_str(f, CF(leaf_subject), leaf->subject);
    set_str(f, CF(leaf_issuer), leaf->issuer);
    if (leaf->parsed) {
        set_str(f, CF(leaf_key), leaf->key_desc);
        set_int(f, CF(leaf_key_bits), leaf->key_bits);
        set_str(f, CF(leaf_sig_alg), leaf->sig_alg);
        set_list(f, CF(leaf_eku), leaf->eku_names, leaf->eku_count);
        set_list(f, CF(leaf_key_usage), leaf->ku_names, leaf->ku_count);
        set_list(f, CF(leaf_san), leaf->san, leaf->san_count);
        set_str(f, CF(leaf_not_before), time_text(a, leaf->not_before));
        set_str(f, CF(leaf_not_after), time_text(a, leaf->not_after));
    }
    if (!c->analyzed) {
        return;
    }
    if (r->any_parse_error && r->parse_error_index >= 0 && (size_t)r->parse_error_index < c->count) {
        const struct tb_cert *bad = c->certs[r->parse_error_index];
        set_str(f, CF(chain_parse_error),
                tb_arena_printf(a, "certificate %d: %s", r->parse_error_index,
                                bad->parse_error != NULL ? bad->parse_error : "unparsable"));
    }
    set_bool(f, CF(chain_order_ok), r->order_ok);
    set_bool(f, CF(chain_expired), r->expired_index >= 0);
    if (r->expired_index >= 0 && (size_t)r->expired_index < c->count) {
        set_str(f, CF(chain_expired_subject), c->certs[r->expired_index]->subject);
        set_int(f, CF(chain_expired_days), r->expired_for / DAY_S);
    }
    set_bool(f, CF(chain_not_yet_valid), r->not_yet_valid_index >= 0);
    if (r->not_yet_valid_index >= 0) {
        set_int(f, CF(chain_not_yet_valid_days), r->not_yet_valid_for / DAY_S);
    }
    set_bool(f, CF(chain_self_signed), r->leaf_self_signed);
    set_bool(f, CF(chain_root_included), r->root_included);
    set_bool(f, CF(chain_missing_intermediate), r->missing_intermediate);
    set_str(f, CF(chain_missing_issuer), r->missing_issuer);
    set_tri(f, CF(chain_missing_issuer_in_store), r->missing_issuer_in_store);
    set_bool(f, CF(chain_eku_ok), r->leaf_eku_ok);
    set_bool(f, CF(chain_ku_ok), r->leaf_ku_ok);
    set_bool(f, CF(chain_intermediates_ca), r->intermediates_are_ca);
    set_bool(f, CF(chain_weak_key), r->weak_key_index >= 0);
    if (r->weak_key_index >= 0 && (size_t)r->weak_key_index < c->count) {
        const struct tb_cert *w = c->certs[r->weak_key_index];
        set_str(f, CF(chain_weak_key_desc),
                tb_arena_printf(a, "%s (%s)", w->key_desc ? w->key_desc : "?", w->subject));
    }
    set_bool(f, CF(chain_weak_signature), r->weak_signature_index >= 0);
    if (r->weak_signature_index >= 0 && (size_t)r->weak_signature_index < c->count) {
        const struct tb_cert *w = c->certs[r->weak_signature_index];
        set_str(f, CF(chain_weak_signature_desc),
                tb_arena_printf(a, "%s (%s)", w->sig_alg ? w->sig_alg : "?", w->subject));
    }
    set_tri(f, CF(chain_issuer_in_ca_list), r->issuer_in_ca_list);
    set_tri(f, CF(chain_key_type_allowed), r->key_type_allowed);
    set_tri(f, CF(chain_leaf_sig_alg_offered), r->leaf_sig_alg_offered);
    set_tri(f, CF(chain_trusted), r->trusted);
    if (r->verify_error[0] != '\0') {
        set_str(f, CF(chain_verify_error), tb_arena_strdup(a, r->verify_error));
    }
#undef CF
}

void tb_facts_compute(struct tb_session *s, bool have_trust_store, struct tb_facts *f)
{
    struct tb_arena *a = &s->arena;
    struct tb_name_buf nb;
    size_t n;

    memset(f, 0, sizeof *f);
    f->session = s;
    set_str(f, TB_F_outcome, tb_outcome_name(s->outcome));
    if (s->version != 0) {
        set_str(f, TB_F_version, version_name_a(a, s->version));
        set_int(f, TB_F_version_code, s->version);
        set_bool(f, TB_F_tls13, s->tls13);
    }
    if (s->ch.seen) {
        uint16_t max = s->ch.legacy_version;
        for (size_t i = 0; i < s->ch.versions.count; i++) {
            uint16_t v = s->ch.versions.v[i];
            if (!tb_is_grease(v) && (v > max || (v >> 8) == 0x7f)) {
                max = v;
            }
        }
        set_str(f, TB_F_client_max_version, version_name_a(a, max));
        if (s->ch.versions.count > 0) {
            const char **l = u16_names(a, &s->ch.versions, tb_version_name, &n);
            set_list(f, TB_F_client_versions, l, n);
        } else {
            const char **l = tb_arena_alloc(a, sizeof *l);
            if (l != NULL) {
                l[0] = version_name_a(a, s->ch.legacy_version);
                set_list(f, TB_F_client_versions, l, 1);
            }
        }
        set_int(f, TB_F_cipher_count, s->ch.cipher_suites.total);
        set_str(f, TB_F_sni, s->ch.sni);
        set_list(f, TB_F_alpn_offered, s->ch.alpn, s->ch.alpn_count);
    }
    set_bool(f, TB_F_resumed, s->resumed);
    set_bool(f, TB_F_hrr, s->sh.hrr_seen);
    if (s->sh.seen) {
        set_str(f, TB_F_cipher, tb_arena_strdup(a, tb_cipher_name(s->sh.cipher, &nb)));
        set_str(f, TB_F_alpn_selected, s->sh.alpn);
    }
    set_str(f, TB_F_client, endpoint_text(a, &s->client));
    set_str(f, TB_F_server, endpoint_text(a, &s->server));
    set_int(f, TB_F_server_port, s->server.port);
    set_str(f, TB_F_protocol, s->preamble_protocol != NULL ? s->preamble_protocol : s->ndpi_protocol);
    set_str(f, TB_F_preamble_refusal, s->preamble_refusal);
    set_bool(f, TB_F_saw_syn, s->saw_syn);

    const struct tb_alert *fatal = tb_session_first_fatal(s);
    size_t stop_at = fatal != NULL && fatal->after_event >= 0 ? (size_t)fatal->after_event
                                                              : s->event_count;
    if (fatal == NULL) {
        /* Without an alert the failure point is the first close: what came after it
         * (a server flight crossing a client's FIN) was not what the closer saw. */
        for (size_t i = 0; i < s->event_count; i++) {
            if (s->events[i].kind == TB_EV_FIN || s->events[i].kind == TB_EV_RST) {
                stop_at = i;
                break;
            }
        }
    }
    set_str(f, TB_F_stage, stage_of(s, s->event_count));
    bool complete = s->dir[0].saw_finished && s->dir[1].saw_finished;
    if (s->tls13) {
        complete = s->dir[TB_DIR_S2C].encrypted_hs_records > 0 &&
                   s->dir[TB_DIR_C2S].encrypted_hs_records > 0;
    }
    set_bool(f, TB_F_handshake_complete, complete);
    set_bool(f, TB_F_client_hello_seen, s->ch.seen);
    set_bool(f, TB_F_server_hello_seen, s->sh.seen);

    /* Last message before the failure (the alert, or the end). */
    for (size_t i = stop_at; i > 0; i--) {
        const struct tb_event *e = &s->events[i - 1];
        if (is_message(e)) {
            set_str(f, TB_F_last_message, hs_name_a(a, e));
            set_str(f, TB_F_last_message_by, tb_dir_side(e->dir));
            break;
        }
    }
    if (fatal != NULL) {
        if (!fatal->encrypted || fatal->level != 0) {
            set_str(f, TB_F_alert, tb_arena_strdup(a, tb_alert_name(fatal->desc, &nb)));
            set_int(f, TB_F_alert_code, fatal->desc);
        }
        set_str(f, TB_F_alert_by, tb_dir_side(fatal->dir));
        set_bool(f, TB_F_alert_encrypted, fatal->encrypted);
        set_bool(f, TB_F_alert_decrypted, fatal->decrypted);
        set_str(f, TB_F_alert_stage, stage_of(s, stop_at));
        for (size_t i = stop_at; i > 0; i--) {
            const struct tb_event *e = &s->events[i - 1];
            if (is_message(e) && e->dir != fatal->dir) {
                set_str(f, TB_F_alert_after, hs_name_a(a, e));
                break;
            }
        }
    }
    {
        const char **w = tb_arena_alloc(a, sizeof *w * (s->alert_count + 1));
        size_t wn = 0;
        for (size_t i = 0; w != NULL && i < s->alert_count; i++) {
            const struct tb_alert *al = &s->alerts[i];
            if (al->level == 1) {
                w[wn++] = tb_arena_strdup(a, tb_alert_name(al->desc, &nb));
            }
            if (al->level == 1 && al->desc == 0 && !f->v[TB_F_close_notify_by].known) {
                set_str(f, TB_F_close_notify_by, tb_dir_side(al->dir));
            }
        }
        if (w != NULL) {
            set_list(f, TB_F_warning_alerts, w, wn);
        }
    }
    /* Who closed first (FIN, RST or an alert such as close_notify), and how. */
    {
        uint64_t best = 0;
        enum tb_dir by = TB_DIR_C2S;
        bool rst = false;
        uint64_t rst_best = 0;
        enum tb_dir rst_dir = TB_DIR_C2S;
        const char *kind = "fin";
        for (int d = 0; d < TB_DIR_COUNT; d++) {
            uint64_t first = tb_session_close_frame(s, (enum tb_dir)d);
            uint64_t r = s->dir[d].rst_frame;
            if (first != 0 && (best == 0 || first < best)) {
                best = first;
                by = (enum tb_dir)d;
                rst = first == r && r != 0;
                kind = rst ? "rst" : first == s->dir[d].fin_frame ? "fin" : "alert";
            }
            if (r != 0 && (rst_best == 0 || r < rst_best)) {
                rst_best = r;
                rst_dir = (enum tb_dir)d;
            }
        }
        if (best != 0) {
            set_str(f, TB_F_closed_first_by, tb_dir_side(by));
            set_str(f, TB_F_close_kind, kind);
        }
        if (rst_best != 0) {
            set_str(f, TB_F_rst_by, tb_dir_side(rst_dir));
        }
        set_bool(f, TB_F_closed_without_alert,
                 best != 0 && fatal == NULL && !complete && s->ch.seen);
    }
    bool gaps = (s->anomalies & (TB_ANOM_GAP_C2S | TB_ANOM_GAP_S2C)) != 0;
    set_bool(f, TB_F_gaps, gaps);
    set_int(f, TB_F_gap_bytes, (int64_t)(s->dir[0].gap_bytes + s->dir[1].gap_bytes));
    {
        bool hs_gap = false;
        bool seen_done = false;
        for (size_t i = 0; i < s->event_count; i++) {
            const struct tb_event *e = &s->events[i];
            if (e->kind == TB_EV_APPDATA) {
                seen_done = true;
            }
            if (e->kind == TB_EV_GAP && !seen_done) {
                hs_gap = true;
            }
        }
        set_bool(f, TB_F_handshake_gap, hs_gap);
    }
    set_bool(f, TB_F_capture_ended_open, (s->anomalies & TB_ANOM_CAPTURE_END) != 0);
    set_bool(f, TB_F_not_tls, (s->anomalies & (TB_ANOM_NOT_TLS_C2S | TB_ANOM_NOT_TLS_S2C)) != 0);
    if ((s->anomalies & TB_ANOM_NOT_TLS_S2C) != 0) {
        set_str(f, TB_F_not_tls_by, "server");
    } else if ((s->anomalies & TB_ANOM_NOT_TLS_C2S) != 0) {
        set_str(f, TB_F_not_tls_by, "client");
    }
    for (int d = 0; d < TB_DIR_COUNT; d++) {
        if (s->dir[d].parse_error != NULL) {
            set_str(f, TB_F_parse_error,
                    tb_arena_printf(a, "%s: frame %llu: %s", tb_dir_side((enum tb_dir)d),
                                    (unsigned long long)s->dir[d].parse_error_frame,
                                    s->dir[d].parse_error));
            break;
        }
    }
    set_bool(f, TB_F_server_cert_seen, s->chain[TB_DIR_S2C].seen);
    if (s->chain[TB_DIR_S2C].seen) {
        set_int(f, TB_F_server_cert_count, (int64_t)s->chain[TB_DIR_S2C].total);
    }
    if (s->cr.seen || !s->tls13 || s->decrypted) {
        set_bool(f, TB_F_cert_requested, s->cr.seen);
    }
    if (s->cr.seen) {
        set_list(f, TB_F_cr_ca_names, s->cr.ca_names, s->cr.ca_count);
        set_int(f, TB_F_cr_ca_count, (int64_t)s->cr.ca_total);
        const struct tb_u16_list *algs = &s->cr.sig_algs;
        const char **l = u16_names(a, algs, tb_sigalg_name, &n);
        set_list(f, TB_F_cr_sig_algs, l, n);
        if (algs->count > 0) {
            set_int(f, TB_F_cr_sig_alg_count, algs->count);
            set_key_types(f, a, algs);
        }
        const char **types = tb_arena_alloc(a, sizeof *types * (s->cr.cert_types_count + 1));
        for (size_t i = 0; types != NULL && i < s->cr.cert_types_count; i++) {
            types[i] = tb_arena_strdup(a, tb_cert_type_name(s->cr.cert_types[i], &nb));
        }
        if (types != NULL) {
            set_list(f, TB_F_cr_cert_types, types, s->cr.cert_types_count);
        }
    }
    set_tri(f, TB_F_client_sent_certificate, s->client_sent_certificate);
    if (s->chain[TB_DIR_C2S].seen) {
        set_int(f, TB_F_client_cert_count, (int64_t)s->chain[TB_DIR_C2S].total);
    }
    set_bool(f, TB_F_client_cert_estimated, s->client_cert_estimate != NULL &&
                                                !s->chain[TB_DIR_C2S].seen);
    set_str(f, TB_F_client_cert_basis, s->client_cert_estimate);
    if (s->tls13 && s->dir[TB_DIR_C2S].encrypted_hs_records > 0) {
        set_int(f, TB_F_client_flight_bytes, (int64_t)s->dir[TB_DIR_C2S].encrypted_hs_bytes);
    }
    chain_facts(f, s, TB_DIR_C2S, TB_F_client_leaf_subject);
    chain_facts(f, s, TB_DIR_S2C, TB_F_server_leaf_subject);
    if (s->chain[TB_DIR_S2C].analyzed && s->ch.sni != NULL) {
        set_tri(f, TB_F_server_name_matches_sni, s->chain[TB_DIR_S2C].report.name_matches_sni);
    }
    set_bool(f, TB_F_cv_seen, s->cv.seen);
    if (s->cv.seen) {
        if (s->cv.sig_alg != 0) {
            set_str(f, TB_F_cv_sig_alg, tb_arena_strdup(a, tb_sigalg_name(s->cv.sig_alg, &nb)));
        }
        set_tri(f, TB_F_cv_offered, s->cv.offered);
        set_tri(f, TB_F_cv_valid, s->cv.valid);
        set_str(f, TB_F_cv_why, s->cv.why);
    }
    if (s->ske_sig_alg != 0) {
        set_str(f, TB_F_ske_sig_alg, tb_arena_strdup(a, tb_sigalg_name(s->ske_sig_alg, &nb)));
    }
    set_tri(f, TB_F_ske_valid, s->ske_valid);
    if (s->tls13 && s->scv.seen) {
        set_tri(f, TB_F_server_signature_valid, s->scv.valid);
        if (s->scv.sig_alg != 0) {
            set_str(f, TB_F_server_signature_alg,
                    tb_arena_strdup(a, tb_sigalg_name(s->scv.sig_alg, &nb)));
        }
    } else if (!s->tls13) {
        set_tri(f, TB_F_server_signature_valid, s->ske_valid);
        if (s->ske_sig_alg != 0) {
            set_str(f, TB_F_server_signature_alg,
                    tb_arena_strdup(a, tb_sigalg_name(s->ske_sig_alg, &nb)));
        }
    }
    set_int(f, TB_F_app_records_c2s, (int64_t)s->dir[TB_DIR_C2S].appdata_records);
    set_int(f, TB_F_app_records_s2c, (int64_t)s->dir[TB_DIR_S2C].appdata_records);
    set_int(f, TB_F_app_bytes_s2c, (int64_t)s->dir[TB_DIR_S2C].appdata_bytes);
    {
        bool server_first = (s->dir[TB_DIR_S2C].fin_frame != 0 ||
                             s->dir[TB_DIR_S2C].rst_frame != 0) &&
                            f->v[TB_F_closed_first_by].known &&
                            strcmp(f->v[TB_F_closed_first_by].s, "server") == 0;
        /* A decrypted error status is the refusal itself, whoever closed first
         * (curl closes right after reading nginx's 400). */
        bool refused_status =
            tb_http_status(s->app_first_line[TB_DIR_S2C]) >= 400 || s->app_refusal != NULL;
        set_bool(f, TB_F_server_closed_after_request,
                 complete && fatal == NULL && (server_first || refused_status) &&
                     s->dir[TB_DIR_C2S].appdata_records > 0 &&
                     s->outcome == TB_OUTCOME_FAILED);
    }
    {
        bool alert13 = false;
        if (s->tls13 && fatal != NULL && fatal->encrypted && fatal->dir == TB_DIR_S2C) {
            /* Was the client's flight the last thing before it? */
            for (size_t i = stop_at; i > 0; i--) {
                const struct tb_event *e = &s->events[i - 1];
                if (e->kind == TB_EV_FIN || e->kind == TB_EV_RST || e->kind == TB_EV_CCS) {
                    continue;
                }
                alert13 = e->dir == TB_DIR_C2S && (e->kind == TB_EV_ENCRYPTED_HS ||
                                                   e->kind == TB_EV_APPDATA);
                break;
            }
        }
        if (s->tls13) {
            set_bool(f, TB_F_server_alert_after_client_finished, alert13);
        }
    }
    set_str(f, TB_F_app_status_line, s->app_first_line[TB_DIR_S2C]);
    set_str(f, TB_F_app_refusal, s->app_refusal);
    int code = tb_http_status(s->app_first_line[TB_DIR_S2C]);
    if (code >= 0) {
        set_int(f, TB_F_http_status, code);
    }
    set_bool(f, TB_F_decrypted, s->decrypted);
    set_bool(f, TB_F_trust_store, have_trust_store);
    set_str(f, TB_F_ndpi_protocol, s->ndpi_protocol);
    if (s->ndpi_risk_count > 0 || s->ndpi_protocol != NULL) {
        set_list(f, TB_F_ndpi_risks, s->ndpi_risks, s->ndpi_risk_count);
    }
    set_str(f, TB_F_ja3, s->ja3);
    set_str(f, TB_F_ja4, s->ja4);
}
