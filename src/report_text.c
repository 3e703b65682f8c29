/*
 * report_text.c - the report a person reads once and acts on. For a failed
 * session: the verdict line (who rejected what, why, how sure), the
 * explanation, what the capture itself shows (CertificateVerify check,
 * chain problems), the evidence, other candidates, the rejecting side's
 * likely log line, the fixes, and a ladder diagram of the handshake. A
 * successful session is one "ok" line.
 *
 * Every wire string (SNI, DN, ALPN, and rule text with facts filled in)
 * goes through tb_text_escape(): a certificate subject must not be able to
 * move the cursor or recolour the terminal. Colour codes wrap whole lines,
 * so they never count towards the width.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "report_int.h"
#include "tlsblame/names.h"
#include "tlsblame/report.h"

#define TEXT_ARENA_CAP (1024u * 1024u)
#define WIDTH_DEFAULT 80u
#define WIDTH_MIN 32u
#define WIDTH_MAX 120u
#define LADDER_MAX_CN 3 /* certificate names shown per Certificate message */
#define NOTE_MAX 60     /* bytes of a preamble line shown in the ladder */

#define C_RED "\033[1;31m"
#define C_YELLOW "\033[1;33m"
#define C_GREEN "\033[32m"
#define C_BOLD "\033[1m"
#define C_DIM "\033[2m"
#define C_RESET "\033[0m"

struct text_ctx {
    FILE *out;
    const struct tb_session *s;
    const struct tb_facts *f;
    const struct tb_verdict *v;
    const struct tb_text_opts *o;
    struct tb_arena *a;
    unsigned width;
};

/* ---- shared helpers (report_int.h) ---- */


/* ---- small text helpers ---- */

static const char *esc(struct text_ctx *c, const char *s)
{
    return tb_text_escape(s, c->a);
}

static const char *col(const struct text_ctx *c, const char *code)
{
    return c->o->color ? code : "";
}

/* Display columns of escaped text: one per code point (escaped text is ASCII or UTF-8). */
static size_t text_cols(const char *s, size_t n)
{
    size_t cols = 0;

    for (size_t i = 0; i < n; i++) {
        if (((unsigned char)s[i] & 0xc0u) != 0x80u) {
            cols++;
        }
    }
    return cols;
}

static size_t char_len(const char *s, size_t n)
{
    unsigned char b = (unsigned char)s[0];
    size_t len = b < 0x80 ? 1 : b < 0xe0 ? 2 : b < 0xf0 ? 3 : 4;

    return len < n ? len : n;
}

/*
 * The next line of at most cols columns from s[0..n), leading spaces
 * skipped: the line is s[*start .. return value). With lists (ladder
 * flights) it prefers to break after a ", " separator, keeping an item like
 * "CN=Int CA" whole; otherwise at the last space; a word is split only
 * when it is longer than a line. *next is where the
 * following line's search starts; it is always > 0 when n > 0.
 */
static size_t wrap_line(const char *s, size_t n, size_t cols, bool lists, size_t *start,
                        size_t *next)
{
    size_t i = 0, used = 0, last_space = 0, last_list = 0, end;
    bool have_space = false, have_list = false;

    while (i < n && s[i] == ' ') {
        i++;
    }
    *start = i;
    while (i < n) {
        if (s[i] == ' ' && i > *start) {
            last_space = i;
            have_space = true;
            if (s[i - 1] == ',') {
                last_list = i;
                have_list = true;
            }
        }
        if (used + 1 > cols) {
            break;
        }
        used++;
        i += char_len(s + i, n - i);
    }
    if (i >= n) {
        end = n;
        *next = n;
    } else if (s[i] == ' ' && (!lists || s[i - 1] == ',' || !have_list ||
                                (last_list - *start) * 2 < cols)) {
        end = i;
        *next = i + 1;
    } else if (lists && have_list && (last_list - *start) * 2 >= cols) {
        end = last_list;
        *next = last_list + 1;
    } else if (have_space) {
        end = last_space;
        *next = last_space + 1;
    } else if (i == *start) {
        end = *start + char_len(s + *start, n - *start); /* cols == 0: still make progress */
        *next = end;
    } else {
        end = i;
        *next = i;
    }
    while (end > *start && s[end - 1] == ' ') {
        end--;
    }
    return end;
}

/* Print text wrapped to the width: first line after first_prefix, the rest after indent spaces. */
static void print_wrapped(struct text_ctx *c, const char *first_prefix, unsigned indent,
                          const char *text)
{
    size_t n = strlen(text), pos = 0, plen = text_cols(first_prefix, strlen(first_prefix));
    bool first = true;

    while (first || pos < n) {
        size_t lead = first ? plen : indent;
        size_t cols = c->width > lead + 10 ? c->width - lead : 10;
        size_t start = 0, next = 0, end = 0;
        if (pos < n) {
            end = wrap_line(text + pos, n - pos, cols, false, &start, &next);
        }
        if (!first && end <= start) {
            break; /* only spaces left */
        }
        if (first) {
            fputs(first_prefix, c->out);
        } else {
            fprintf(c->out, "%*s", (int)indent, "");
        }
        fprintf(c->out, "%.*s\n", (int)(end - start), text + pos + start);
        first = false;
        pos += next;
        if (next == 0) {
            break;
        }
    }
}

static const char *human_bytes(struct text_ctx *c, uint64_t n)
{
    if (n < 10000) {
        return tb_arena_printf(c->a, "%" PRIu64 " bytes", n);
    }
    if (n < 10000000) {
        return tb_arena_printf(c->a, "%.1f kB", (double)n / 1000.0);
    }
    return tb_arena_printf(c->a, "%.1f MB", (double)n / 1e6);
}

/* "CN=alice", or the whole subject when it has no CN. */
static const char *cert_label(struct text_ctx *c, const struct tb_cert *cert)
{
    if (cert == NULL) {
        return "(certificate)";
    }
    if (cert->subject_cn != NULL) {
        return tb_arena_printf(c->a, "CN=%s", esc(c, cert->subject_cn));
    }
    if (cert->subject != NULL && cert->subject[0] != '\0') {
        return esc(c, cert->subject);
    }
    return cert->parsed ? "(empty subject)" : "(unparsable certificate)";
}

static const struct tb_cert *leaf(const struct tb_chain *ch)
{
    return ch->seen && ch->count > 0 ? ch->certs[0] : NULL;
}

static const char *sni_text(struct text_ctx *c)
{
    return c->s->ch.sni != NULL && c->s->ch.sni[0] != '\0' ? esc(c, c->s->ch.sni) : NULL;
}

static void endpoints(struct text_ctx *c, char cl[TB_ENDPOINT_STR_LEN],
                      char sv[TB_ENDPOINT_STR_LEN])
{
    tb_endpoint_str(&c->s->client, cl);
    tb_endpoint_str(&c->s->server, sv);
}

/* "10.0.0.1:443 (api.example.com)" */
static const char *server_with_sni(struct text_ctx *c)
{
    char cl[TB_ENDPOINT_STR_LEN], sv[TB_ENDPOINT_STR_LEN];
    const char *sni = sni_text(c);

    endpoints(c, cl, sv);
    return sni != NULL ? tb_arena_printf(c->a, "%s (%s)", sv, sni) : tb_arena_strdup(c->a, sv);
}

static const struct tb_candidate *top(const struct text_ctx *c)
{
    return c->v != NULL && c->v->present && c->v->cand_count > 0 ? &c->v->cand[0] : NULL;
}

static bool str_is(const char *s, const char *want)
{
    return s != NULL && strcmp(s, want) == 0;
}

static const char *version_text(const struct tb_session *s, struct tb_name_buf *nb)
{
    uint16_t ver = s->version != 0 ? s->version : s->sh.seen ? s->sh.version : 0;

    return ver != 0 ? tb_version_name(ver, nb) : NULL;
}

/* ---- the verdict line ---- */

/* "the client certificate CN=alice", "the server's CertificateVerify", ... */
static const char *rejected_object(struct text_ctx *c, const struct tb_candidate *cand)
{
    const char *what = cand != NULL ? cand->rejected : NULL;
    const struct tb_session *s = c->s;

    if (str_is(what, "client_certificate") || str_is(what, "server_certificate")) {
        bool client = what[0] == 'c';
        const struct tb_chain *ch = &s->chain[client ? TB_DIR_C2S : TB_DIR_S2C];
        const char *who = client ? "client" : "server";
        if (leaf(ch) != NULL) {
            return tb_arena_printf(c->a, "the %s certificate %s", who, cert_label(c, leaf(ch)));
        }
        if (ch->seen && ch->total == 0) {
            return tb_arena_printf(c->a, "the %s certificate (none was sent)", who);
        }
        return tb_arena_printf(c->a, "the %s certificate", who);
    }
    if (str_is(what, "certificate_verify")) {
        return str_is(cand->rejected_by, "client") ? "the server's CertificateVerify"
                                                   : "the client's CertificateVerify";
    }
    if (str_is(what, "certificate_request")) {
        return "the CertificateRequest";
    }
    if (str_is(what, "client_hello")) {
        return "the ClientHello";
    }
    if (str_is(what, "server_hello")) {
        return "the ServerHello";
    }
    if (str_is(what, "application")) {
        const struct tb_cert *cl = leaf(&s->chain[TB_DIR_C2S]);
        if (cl != NULL) {
            return tb_arena_printf(c->a, "the client %s after the handshake", cert_label(c, cl));
        }
        return "the connection after the handshake";
    }
    if (what == NULL || str_is(what, "handshake") || str_is(what, "unknown")) {
        return "the handshake";
    }
    char *t = tb_arena_printf(c->a, "the %s", esc(c, what));
    for (char *p = t; p != NULL && *p != '\0'; p++) {
        if (*p == '_') {
            *p = ' ';
        }
    }
    return t != NULL ? t : "the handshake";
}

static void print_verdict_line(struct text_ctx *c)
{
    const struct tb_session *s = c->s;
    const struct tb_candidate *cand = top(c);
    char cl[TB_ENDPOINT_STR_LEN], sv[TB_ENDPOINT_STR_LEN];
    const char *cause = cand != NULL && cand->cause != NULL ? esc(c, cand->cause) : "unknown";
    const char *conf = cand != NULL && c->v->confidence != NULL ? esc(c, c->v->confidence) : "low";
    const char *side = cand != NULL ? cand->rejected_by : NULL;

    endpoints(c, cl, sv);
    fputs(col(c, C_BOLD), c->out);
    if (s->outcome == TB_OUTCOME_INCOMPLETE) {
        fprintf(c->out, "%sINCOMPLETE%s%s handshake between %s and %s", col(c, C_YELLOW),
                col(c, C_RESET), col(c, C_BOLD), cl, server_with_sni(c));
    } else if (s->outcome == TB_OUTCOME_FAILED && str_is(side, "server")) {
        fprintf(c->out, "server %s %sREJECTED%s%s %s", server_with_sni(c), col(c, C_RED),
                col(c, C_RESET), col(c, C_BOLD), rejected_object(c, cand));
    } else if (s->outcome == TB_OUTCOME_FAILED && str_is(side, "client")) {
        fprintf(c->out, "client %s %sREJECTED%s%s %s", cl, col(c, C_RED), col(c, C_RESET),
                col(c, C_BOLD), rejected_object(c, cand));
    } else if (s->outcome == TB_OUTCOME_FAILED) {
        fprintf(c->out, "handshake %sFAILED%s%s between %s and %s", col(c, C_RED),
                col(c, C_RESET), col(c, C_BOLD), cl, server_with_sni(c));
    } else {
        fprintf(c->out, "handshake %sOUTCOME UNKNOWN%s%s between %s and %s", col(c, C_YELLOW),
                col(c, C_RESET), col(c, C_BOLD), cl, server_with_sni(c));
    }
    fprintf(c->out, " \xe2\x80\x94 %s (%s confidence)%s\n", cause, conf, col(c, C_RESET));
}

/* "session 3, frames 12-40, 2014-06-22T13:01:02.123456Z, TLS 1.2, in capture.pcapng" */
static void print_context_line(struct text_ctx *c)
{
    const struct tb_session *s = c->s;
    struct tb_name_buf nb;
    char when[32];
    const char *ver = version_text(s, &nb);

    tb_format_time_us(s->start_us, when);
    const char *line = tb_arena_printf(
        c->a, "session %" PRIu64 ", frames %" PRIu64 "-%" PRIu64 ", %s%s%s%s%s, in %s", s->id,
        s->first_frame, s->last_frame, when, ver != NULL ? ", " : "", ver != NULL ? ver : "",
        s->resumed ? ", resumed" : "", s->decrypted ? ", decrypted with the key log" : "",
        s->file != NULL ? esc(c, s->file) : "-");
    fputs(col(c, C_DIM), c->out);
    print_wrapped(c, "  ", 4, line != NULL ? line : "session");
    fputs(col(c, C_RESET), c->out);
}

/* ---- checks the capture itself answers ---- */

static void bullet(struct text_ctx *c, const char *text)
{
    print_wrapped(c, "    - ", 6, text);
}

static const char *tri_word(enum tb_tri t, const char *yes, const char *no, const char *unknown)
{
    return t == TB_TRI_YES ? yes : t == TB_TRI_NO ? no : unknown;
}

static void cv_check(struct text_ctx *c, const struct tb_cert_verify *cv, const char *who,
                     size_t *count)
{
    struct tb_name_buf nb;
    const char *alg =
        cv->sig_alg != 0 ? tb_sigalg_name(cv->sig_alg, &nb) : "(TLS 1.0/1.1 MD5+SHA-1)";
    const char *why = cv->why != NULL ? tb_arena_printf(c->a, " (%s)", esc(c, cv->why)) : "";
    const char *res = tri_word(cv->valid, "signature VALID", "signature INVALID",
                               "signature not checkable");

    if (!cv->seen) {
        return;
    }
    if (cv->valid == TB_TRI_YES) {
        why = "";
    }
    const char *line = tb_arena_printf(c->a, "%sCertificateVerify %s: %s%s%s", who, alg, res, why,
                                       cv->offered == TB_TRI_NO
                                           ? "; this scheme was not among those the peer offered"
                                           : "");
    if (*count == 0) {
        fprintf(c->out, "\n  What the capture shows:\n");
    }
    (*count)++;
    bullet(c, line != NULL ? line : "CertificateVerify");
}

static void check(struct text_ctx *c, size_t *count, const char *text)
{
    if (text == NULL) {
        return;
    }
    if (*count == 0) {
        fprintf(c->out, "\n  What the capture shows:\n");
    }
    (*count)++;
    bullet(c, text);
}

static const char *days(struct tb_arena *a, int64_t seconds)
{
    int64_t d = seconds / 86400;

    if (d >= 2) {
        return tb_arena_printf(a, "%" PRId64 " days", d);
    }
    int64_t h = seconds / 3600;
    if (h >= 2) {
        return tb_arena_printf(a, "%" PRId64 " hours", h);
    }
    return tb_arena_printf(a, "%" PRId64 " seconds", seconds);
}

static const struct tb_cert *chain_cert(const struct tb_chain *ch, int i)
{
    return i >= 0 && (size_t)i < ch->count ? ch->certs[i] : NULL;
}

static void chain_checks(struct text_ctx *c, enum tb_dir dir, size_t *count)
{
    const struct tb_chain *ch = &c->s->chain[dir];
    const struct tb_chain_report *r = &ch->report;
    const char *who = dir == TB_DIR_C2S ? "client" : "server";
    const char *role = dir == TB_DIR_C2S ? "clientAuth" : "serverAuth";
    struct tb_arena *a = c->a;

    if (!ch->seen || !ch->analyzed || r->empty) {
        return;
    }
    if (r->any_parse_error) {
        const struct tb_cert *bad = chain_cert(ch, r->parse_error_index);
        check(c, count,
              tb_arena_printf(a, "%s chain: certificate #%d could not be parsed: %s", who,
                              r->parse_error_index + 1,
                              bad != NULL && bad->parse_error != NULL ? esc(c, bad->parse_error)
                                                                      : "unknown error"));
    }
    if (r->expired_index >= 0) {
        check(c, count,
              tb_arena_printf(a, "%s chain: %s had expired %s before the capture", who,
                              cert_label(c, chain_cert(ch, r->expired_index)),
                              days(a, r->expired_for)));
    }
    if (r->not_yet_valid_index >= 0) {
        check(c, count,
              tb_arena_printf(a, "%s chain: %s was not valid for another %s at capture time", who,
                              cert_label(c, chain_cert(ch, r->not_yet_valid_index)),
                              days(a, r->not_yet_valid_for)));
    }
    if (r->leaf_self_signed) {
        check(c, count, tb_arena_printf(a, "%s certificate %s is self-signed", who,
                                        cert_label(c, leaf(ch))));
    }
    /* Chains leave their root out: a missing issuer is only a finding when the
     * leaf came alone, or when --ca-file knows it as an intermediate (one the
     * trust file does not know at all is an untrusted CA, said below). */
    if (r->missing_intermediate && r->missing_issuer_in_store != TB_TRI_NO &&
        (ch->count == 1 || r->missing_issuer_in_store == TB_TRI_YES)) {
        check(c, count,
              tb_arena_printf(a, "%s chain: the issuer of its last certificate, %s, was not sent",
                              who, r->missing_issuer != NULL ? esc(c, r->missing_issuer) : "(?)"));
    }
    if (!r->order_ok && r->first_break >= 0) {
        check(c, count,
              tb_arena_printf(a, "%s chain: certificate #%d is not issued by #%d (wrong order or "
                                 "unrelated certificate)",
                              who, r->first_break + 1, r->first_break + 2));
    }
    if (!r->leaf_eku_ok) {
        check(c, count, tb_arena_printf(a, "%s certificate's extended key usage lacks %s", who,
                                        role));
    }
    if (!r->leaf_ku_ok) {
        check(c, count, tb_arena_printf(a, "%s certificate's key usage lacks digitalSignature",
                                        who));
    }
    if (!r->intermediates_are_ca) {
        check(c, count, tb_arena_printf(a, "%s chain: an issuing certificate is not a CA", who));
    }
    if (r->weak_key_index >= 0) {
        const struct tb_cert *wk = chain_cert(ch, r->weak_key_index);
        check(c, count,
              tb_arena_printf(a, "%s chain: %s has a weak key (%s)", who, cert_label(c, wk),
                              wk != NULL && wk->key_desc != NULL ? esc(c, wk->key_desc) : "?"));
    }
    if (r->weak_signature_index >= 0) {
        const struct tb_cert *ws = chain_cert(ch, r->weak_signature_index);
        check(c, count,
              tb_arena_printf(a, "%s chain: %s is signed with %s", who, cert_label(c, ws),
                              ws != NULL && ws->sig_alg != NULL ? esc(c, ws->sig_alg)
                                                                : "a weak algorithm"));
    }
    if (r->name_matches_sni == TB_TRI_NO && sni_text(c) != NULL) {
        check(c, count, tb_arena_printf(a, "server certificate %s is not valid for the SNI %s",
                                        cert_label(c, leaf(ch)), sni_text(c)));
    }
    if (r->issuer_in_ca_list == TB_TRI_NO) {
        check(c, count,
              tb_arena_printf(a, "no issuer in the client chain is among the %zu CA name%s in the "
                                 "server's CertificateRequest",
                              c->s->cr.ca_total, c->s->cr.ca_total == 1 ? "" : "s"));
    }
    if (r->key_type_allowed == TB_TRI_NO) {
        check(c, count, tb_arena_printf(a, "client certificate key type is not among the "
                                           "certificate types the server accepts"));
    }
    if (r->leaf_sig_alg_offered == TB_TRI_NO) {
        check(c, count, tb_arena_printf(a, "%s certificate's signature algorithm was not among "
                                           "those the peer offered",
                                        who));
    }
    if (r->trusted == TB_TRI_NO) {
        check(c, count,
              tb_arena_printf(a, "%s chain does not verify against --ca-file: %s", who,
                              r->verify_error[0] != '\0' ? esc(c, r->verify_error) : "?"));
    } else if (r->trusted == TB_TRI_YES && c->o->verbosity >= 1) {
        check(c, count, tb_arena_printf(a, "%s chain verifies against --ca-file at capture time",
                                        who));
    }
}

static void capture_checks(struct text_ctx *c, size_t *count)
{
    const struct tb_session *s = c->s;
    struct tb_arena *a = c->a;

    cv_check(c, &s->cv, "", count);
    cv_check(c, &s->scv, "server ", count);
    if (s->ske_sig_alg != 0 && s->ske_valid == TB_TRI_NO) {
        struct tb_name_buf nb;
        check(c, count, tb_arena_printf(a, "ServerKeyExchange %s: signature INVALID",
                                        tb_sigalg_name(s->ske_sig_alg, &nb)));
    }
    if (s->client_cert_estimate != NULL && !s->chain[TB_DIR_C2S].seen) {
        check(c, count,
              tb_arena_printf(a, "client certificate (encrypted): %s, estimated from %s",
                              tri_word(s->client_sent_certificate, "probably sent",
                                       "probably not sent", "cannot tell"),
                              esc(c, s->client_cert_estimate)));
    }
    chain_checks(c, TB_DIR_C2S, count);
    chain_checks(c, TB_DIR_S2C, count);
    for (int d = 0; d < TB_DIR_COUNT; d++) {
        const struct tb_dir_stats *ds = &s->dir[d];
        const char *who = tb_dir_side((enum tb_dir)d);
        if (ds->gaps > 0) {
            check(c, count, tb_arena_printf(a, "the capture missed %s from the %s (%" PRIu32
                                               " gap%s)",
                                            human_bytes(c, ds->gap_bytes), who, ds->gaps,
                                            ds->gaps == 1 ? "" : "s"));
        }
        if (ds->parse_error != NULL) {
            check(c, count, tb_arena_printf(a, "%s's TLS bytes could not be read at frame %" PRIu64
                                               ": %s",
                                            who, ds->parse_error_frame, esc(c, ds->parse_error)));
        }
    }
    if (s->anomalies & TB_ANOM_CAPTURE_END) {
        check(c, count, "the capture ends while the handshake is still open");
    }
    if (s->anomalies & TB_ANOM_EVICTED) {
        check(c, count, "the connection was evicted from the flow table (idle or table full)");
    }
    if (s->preamble_refusal != NULL) {
        check(c, count, tb_arena_printf(a, "%s server refused STARTTLS: %s",
                                        s->preamble_protocol != NULL
                                            ? esc(c, s->preamble_protocol)
                                            : "the",
                                        esc(c, s->preamble_refusal)));
    }
}

/* ---- candidates, log line, fixes ---- */

static void print_candidates(struct text_ctx *c)
{
    const struct tb_verdict *v = c->v;
    const struct tb_candidate *cand = top(c);

    if (cand == NULL) {
        return;
    }
    if (cand->evidence_count > 0) {
        fprintf(c->out, "\n  Evidence:\n");
        for (size_t i = 0; i < cand->evidence_count && i < TB_MAX_EVIDENCE; i++) {
            bullet(c, esc(c, cand->evidence[i]));
        }
    }
    if (v->cand_count > 1) {
        fprintf(c->out, "\n  Other candidates, most likely first:\n");
        for (size_t i = 1; i < v->cand_count && i < TB_MAX_CANDIDATES; i++) {
            const struct tb_candidate *k = &v->cand[i];
            const char *what = k->summary != NULL ? k->summary : k->title;
            const char *line = tb_arena_printf(
                c->a, "%zu. %s (score %.2f)%s%s", i + 1, k->cause != NULL ? esc(c, k->cause) : "?",
                k->score, what != NULL ? ": " : "", what != NULL ? esc(c, what) : "");
            print_wrapped(c, "    ", 7, line != NULL ? line : "?");
            for (size_t e = 0; e < k->evidence_count && e < TB_MAX_EVIDENCE; e++) {
                print_wrapped(c, "         - ", 11, esc(c, k->evidence[e]));
            }
        }
    }
}

static void print_log_and_fix(struct text_ctx *c)
{
    const struct tb_candidate *cand = top(c);

    if (cand == NULL) {
        return;
    }
    if (cand->likely_log != NULL && cand->likely_log[0] != '\0') {
        const char *side = str_is(cand->rejected_by, "server")   ? "the server's log"
                           : str_is(cand->rejected_by, "client") ? "the client's log"
                                                                 : "the logs";
        /*
         * Not wrapped: a log line is something to grep for, not prose. Rules
         * list what different stacks log as "OpenSSL: ... | Java JSSE: ...";
         * each alternative gets its own line.
         */
        const char *log = esc(c, cand->likely_log), *bar;
        fprintf(c->out, "\n  What %s probably says:\n", side);
        while ((bar = strstr(log, " | ")) != NULL) {
            fprintf(c->out, "    %.*s\n", (int)(bar - log), log);
            log = bar + 3;
        }
        fprintf(c->out, "    %s\n", log);
    }
    if (cand->fix_count > 0) {
        fprintf(c->out, "\n  How to fix:\n");
        for (size_t i = 0; i < cand->fix_count && i < TB_MAX_FIX; i++) {
            char prefix[16];
            (void)snprintf(prefix, sizeof prefix, "    %zu. ", i + 1);
            print_wrapped(c, prefix, 7, esc(c, cand->fix[i]));
        }
    }
    if (c->o->verbosity >= 1) {
        if (c->v->rules_fired_count > 0) {
            fprintf(c->out, "\n  Rules fired:");
            for (size_t i = 0; i < c->v->rules_fired_count && i < TB_MAX_RULES_FIRED; i++) {
                fprintf(c->out, "%s %s", i > 0 ? "," : "", esc(c, c->v->rules_fired[i]));
            }
            fputc('\n', c->out);
        }
        if (cand->references != NULL) {
            print_wrapped(c, "  References: ", 4, esc(c, cand->references));
        }
    }
}

/* ---- ladder ---- */

static const char *hs_camel(uint8_t t)
{
    switch (t) {
    case TB_HS_HELLO_REQUEST:
        return "HelloRequest";
    case TB_HS_CLIENT_HELLO:
        return "ClientHello";
    case TB_HS_SERVER_HELLO:
        return "ServerHello";
    case TB_HS_HELLO_VERIFY_REQUEST:
        return "HelloVerifyRequest";
    case TB_HS_NEW_SESSION_TICKET:
        return "NewSessionTicket";
    case TB_HS_END_OF_EARLY_DATA:
        return "EndOfEarlyData";
    case TB_HS_HELLO_RETRY_REQUEST:
        return "HelloRetryRequest";
    case TB_HS_ENCRYPTED_EXTENSIONS:
        return "EncryptedExtensions";
    case TB_HS_CERTIFICATE:
        return "Certificate";
    case TB_HS_SERVER_KEY_EXCHANGE:
        return "ServerKeyExchange";
    case TB_HS_CERTIFICATE_REQUEST:
        return "CertificateRequest";
    case TB_HS_SERVER_HELLO_DONE:
        return "ServerHelloDone";
    case TB_HS_CERTIFICATE_VERIFY:
        return "CertificateVerify";
    case TB_HS_CLIENT_KEY_EXCHANGE:
        return "ClientKeyExchange";
    case TB_HS_FINISHED:
        return "Finished";
    case TB_HS_CERTIFICATE_URL:
        return "CertificateURL";
    case TB_HS_CERTIFICATE_STATUS:
        return "CertificateStatus";
    case TB_HS_KEY_UPDATE:
        return "KeyUpdate";
    default:
        return NULL;
    }
}

static const char *certificate_item(struct text_ctx *c, const struct tb_event *e)
{
    const struct tb_chain *ch = &c->s->chain[e->dir];
    size_t total = e->count;

    if (ch->seen && ch->count > 0) {
        const char *list = "";
        size_t shown = ch->count < LADDER_MAX_CN ? ch->count : LADDER_MAX_CN;
        for (size_t i = 0; i < shown; i++) {
            list = tb_arena_printf(c->a, "%s%s%s", list, i > 0 ? ", " : "",
                                   cert_label(c, ch->certs[i]));
        }
        total = ch->total > total ? ch->total : total;
        if (total > shown) {
            list = tb_arena_printf(c->a, "%s, +%zu more", list, total - shown);
        }
        return tb_arena_printf(c->a, "Certificate [%s]", list);
    }
    if (total == 0 && (ch->seen || !e->encrypted)) {
        return "Certificate (empty)";
    }
    return tb_arena_printf(c->a, "Certificate (%zu cert%s)", total, total == 1 ? "" : "s");
}

static const char *handshake_item(struct text_ctx *c, const struct tb_event *e)
{
    const struct tb_session *s = c->s;
    struct tb_name_buf nb;
    const char *name = hs_camel(e->hs_type);

    if (name == NULL) {
        return tb_arena_strdup(c->a, tb_hs_type_name(e->hs_type, &nb));
    }
    switch (e->hs_type) {
    case TB_HS_CLIENT_HELLO: {
        const char *sni = sni_text(c);
        if (sni != NULL) {
            return tb_arena_printf(c->a, "ClientHello (SNI %s)", sni);
        }
        return s->ch.seen ? "ClientHello (no SNI)" : name;
    }
    case TB_HS_SERVER_HELLO: {
        const char *ver = version_text(s, &nb);
        if (ver == NULL) {
            return name;
        }
        return tb_arena_printf(c->a, "ServerHello (%s%s)", ver, s->resumed ? ", resumed" : "");
    }
    case TB_HS_HELLO_RETRY_REQUEST:
        if (s->sh.hrr_seen && s->sh.hrr_group != 0) {
            return tb_arena_printf(c->a, "HelloRetryRequest (%s)",
                                   tb_group_name(s->sh.hrr_group, &nb));
        }
        return name;
    case TB_HS_CERTIFICATE:
        return certificate_item(c, e);
    case TB_HS_CERTIFICATE_REQUEST:
        if (s->cr.seen) {
            if (s->cr.ca_total == 0) {
                return "CertificateRequest (any CA)";
            }
            return tb_arena_printf(c->a, "CertificateRequest (%zu CA%s)", s->cr.ca_total,
                                   s->cr.ca_total == 1 ? "" : "s");
        }
        return name;
    case TB_HS_CERTIFICATE_VERIFY: {
        const struct tb_cert_verify *cv = e->dir == TB_DIR_C2S ? &s->cv : &s->scv;
        if (!cv->seen || cv->sig_alg == 0) {
            return name;
        }
        return tb_arena_printf(c->a, "CertificateVerify (%s%s)", tb_sigalg_name(cv->sig_alg, &nb),
                               tri_word(cv->valid, ", valid", ", INVALID", ""));
    }
    case TB_HS_SERVER_KEY_EXCHANGE:
        return s->ske_valid == TB_TRI_NO ? "ServerKeyExchange (signature INVALID)" : name;
    default:
        return name;
    }
}

static const char *event_item(struct text_ctx *c, const struct tb_event *e)
{
    struct tb_name_buf nb;

    switch (e->kind) {
    case TB_EV_HANDSHAKE:
        return handshake_item(c, e);
    case TB_EV_CCS:
        return "ChangeCipherSpec";
    case TB_EV_ALERT:
        if (e->encrypted && !e->decrypted) {
            return "encrypted Alert";
        }
        return tb_arena_printf(c->a, "Alert %s%s (%u)",
                               e->alert_level == 2   ? "fatal "
                               : e->alert_level == 1 ? "warning "
                                                     : "",
                               tb_alert_name(e->alert_desc, &nb), (unsigned)e->alert_desc);
    case TB_EV_APPDATA:
        return tb_arena_printf(c->a, "application data (%" PRIu32 " record%s, %s)", e->records,
                               e->records == 1 ? "" : "s", human_bytes(c, e->bytes));
    case TB_EV_ENCRYPTED_HS:
        return tb_arena_printf(c->a, "encrypted handshake (%" PRIu32 " record%s, %s)", e->records,
                               e->records == 1 ? "" : "s", human_bytes(c, e->bytes));
    case TB_EV_HEARTBEAT:
        return "Heartbeat";
    case TB_EV_FIN:
        return "FIN";
    case TB_EV_RST:
        return "RST";
    case TB_EV_GAP:
        return tb_arena_printf(c->a, "[capture missed %s]", human_bytes(c, e->bytes));
    case TB_EV_NOT_TLS:
        return "[not TLS from here on]";
    case TB_EV_PREAMBLE: {
        const char *proto = c->s->preamble_protocol != NULL ? esc(c, c->s->preamble_protocol)
                                                            : "plaintext";
        if (e->note != NULL) {
            return tb_arena_printf(c->a, "%s: %.*s", proto, NOTE_MAX, esc(c, e->note));
        }
        return proto;
    }
    default:
        return "?";
    }
}

/* Alerts, closes and notes stand alone in the ladder, so the rejecting one is its own line. */
static bool stands_alone(enum tb_event_kind k)
{
    switch (k) {
    case TB_EV_ALERT:
    case TB_EV_FIN:
    case TB_EV_RST:
    case TB_EV_GAP:
    case TB_EV_NOT_TLS:
    case TB_EV_PREAMBLE:
    case TB_EV_APPDATA:
        return true;
    case TB_EV_HANDSHAKE:
    case TB_EV_CCS:
    case TB_EV_ENCRYPTED_HS:
    case TB_EV_HEARTBEAT:
    default:
        return false;
    }
}

/*
 * The message that said no: the first fatal (or encrypted) alert from the
 * rejecting side, else from anyone; failing that, the first FIN/RST of the
 * rejecting side (a silent close). -1 when there is none.
 */
static long rejecting_event(const struct text_ctx *c)
{
    const struct tb_session *s = c->s;
    const struct tb_candidate *cand = top(c);
    int side = -1;

    if (s->outcome == TB_OUTCOME_SUCCESS || s->events == NULL) {
        return -1;
    }
    if (cand != NULL && str_is(cand->rejected_by, "client")) {
        side = TB_DIR_C2S;
    } else if (cand != NULL && str_is(cand->rejected_by, "server")) {
        side = TB_DIR_S2C;
    }
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < s->event_count; i++) {
            const struct tb_event *e = &s->events[i];
            bool fatal = e->alert_level == 2 || (e->encrypted && !e->decrypted);
            if (e->kind == TB_EV_ALERT && fatal && (pass == 1 || side < 0 || (int)e->dir == side)) {
                return (long)i;
            }
        }
    }
    for (size_t i = 0; i < s->event_count; i++) {
        const struct tb_event *e = &s->events[i];
        if ((e->kind == TB_EV_FIN || e->kind == TB_EV_RST) && (side < 0 || (int)e->dir == side)) {
            return (long)i;
        }
    }
    return -1;
}

static void repeat(FILE *out, char ch, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        fputc(ch, out);
    }
}

/*
 * One flight, client on the left, server on the right, inner = columns
 * between the two lifelines:
 *   |-- #5 Certificate [CN=alice], ClientKeyExchange ----->|
 *   |     CertificateVerify, Finished                      |
 * >>|<-- #6 Alert fatal unknown_ca (48) -------------------|
 */
static void ladder_flight(struct text_ctx *c, enum tb_dir dir, const char *text, bool mark,
                          size_t inner)
{
    const size_t head = dir == TB_DIR_C2S ? 3 : 4; /* "-- " or "<-- " */
    const size_t tail_min = dir == TB_DIR_C2S ? 4 : 3; /* " -->" or " --" */
    const size_t cont_indent = 5;
    size_t n = strlen(text), pos = 0;
    bool first = true;
    const char *on = mark ? col(c, C_RED) : "", *off = mark ? col(c, C_RESET) : "";

    while (pos < n || first) {
        size_t avail = first ? inner - head - tail_min : inner - cont_indent - 1;
        size_t start = 0, next = 0, end = 0;
        if (pos < n) {
            end = wrap_line(text + pos, n - pos, avail, true, &start, &next);
        }
        if (!first && end <= start) {
            break;
        }
        const char *seg = text + pos + start;
        size_t seg_len = end - start;
        size_t seg_cols = text_cols(seg, seg_len);
        fputs(first && mark ? ">>" : "  ", c->out);
        fputs(on, c->out);
        fputc('|', c->out);
        if (first) {
            fputs(dir == TB_DIR_C2S ? "-- " : "<-- ", c->out);
            fprintf(c->out, "%.*s ", (int)seg_len, seg);
            size_t used = head + seg_cols + 1;
            size_t arrow = dir == TB_DIR_C2S ? 1 : 0;
            size_t dashes = inner > used + arrow ? inner - used - arrow : 1;
            repeat(c->out, '-', dashes);
            if (dir == TB_DIR_C2S) {
                fputc('>', c->out);
            }
        } else {
            repeat(c->out, ' ', cont_indent);
            fprintf(c->out, "%.*s", (int)seg_len, seg);
            size_t used = cont_indent + seg_cols;
            repeat(c->out, ' ', inner > used ? inner - used : 0);
        }
        fputc('|', c->out);
        fputs(off, c->out);
        fputc('\n', c->out);
        first = false;
        pos += next;
        if (next == 0) {
            break;
        }
    }
}

/* A line between the lifelines that belongs to neither side. */
static void ladder_note(struct text_ctx *c, const char *text, size_t inner)
{
    size_t n = strlen(text), pos = 0;

    while (pos < n) {
        size_t start, next, end = wrap_line(text + pos, n - pos, inner - 4, false, &start, &next);
        if (end <= start) {
            break;
        }
        size_t seg_len = end - start, skip = start;
        size_t cols = text_cols(text + pos + skip, seg_len);
        size_t left = (inner - cols) / 2;
        fputs("  |", c->out);
        repeat(c->out, ' ', left);
        fprintf(c->out, "%s%.*s%s", col(c, C_DIM), (int)seg_len, text + pos + skip,
                col(c, C_RESET));
        repeat(c->out, ' ', inner - cols - left);
        fputs("|\n", c->out);
        pos += next > 0 ? next : n;
    }
}

static unsigned clamp_width(unsigned w)
{
    if (w == 0) {
        return WIDTH_DEFAULT;
    }
    return w < WIDTH_MIN ? WIDTH_MIN : w > WIDTH_MAX ? WIDTH_MAX : w;
}

static void ladder(struct text_ctx *c)
{
    const struct tb_session *s = c->s;
    const size_t w = c->width, inner = w - 4;
    char cl[TB_ENDPOINT_STR_LEN], sv[TB_ENDPOINT_STR_LEN];
    long reject = rejecting_event(c);

    endpoints(c, cl, sv);
    const char *left = tb_arena_printf(c->a, "client %s", cl);
    const char *right = tb_arena_printf(c->a, "server %s", sv);
    size_t ll = strlen(left), rl = strlen(right);
    if (2 + ll + 2 + rl <= w) {
        fprintf(c->out, "  %s%*s\n", left, (int)(w - 2 - ll), right);
    } else {
        fprintf(c->out, "  %s\n%*s\n", left, (int)(rl < w ? w : rl), right);
    }
    fputs("  |", c->out);
    repeat(c->out, ' ', inner);
    fputs("|\n", c->out);

    if (s->events == NULL || s->event_count == 0) {
        ladder_note(c, "(no TLS messages in the capture)", inner);
    }
    size_t i = 0;
    int64_t prev_ts = 0;
    while (s->events != NULL && i < s->event_count) {
        const struct tb_event *e0 = &s->events[i];
        size_t j = i + 1;
        while (j < s->event_count && !stands_alone(e0->kind)) {
            const struct tb_event *prev = &s->events[j - 1], *e = &s->events[j];
            if (e->dir != e0->dir || stands_alone(e->kind) || e->frame > prev->frame + 2) {
                break;
            }
            j++;
        }
        /* flight = events [i, j) */
        bool mark = reject >= 0 && (size_t)reject >= i && (size_t)reject < j;
        const struct tb_event *last = &s->events[j - 1];
        const char *text = e0->frame == last->frame
                               ? tb_arena_printf(c->a, "#%" PRIu64, e0->frame)
                               : tb_arena_printf(c->a, "#%" PRIu64 "-%" PRIu64, e0->frame,
                                                 last->frame);
        if (i > 0 && e0->ts_us - prev_ts >= 1000000) {
            text = tb_arena_printf(c->a, "%s (+%.1f s)", text,
                                   (double)(e0->ts_us - prev_ts) / 1e6);
        }
        for (size_t k = i; k < j; k++) {
            text = tb_arena_printf(c->a, "%s%s%s", text, k == i ? " " : ", ",
                                   event_item(c, &s->events[k]));
        }
        ladder_flight(c, e0->dir, text != NULL ? text : "?", mark, inner);
        prev_ts = last->ts_us;
        i = j;
    }
    if (s->anomalies & TB_ANOM_EVENTS_CAP) {
        ladder_note(c, "(more messages than tlsblame keeps)", inner);
    }
    if (s->anomalies & TB_ANOM_CAPTURE_END) {
        ladder_note(c, "(capture ends, handshake still open)", inner);
    }
}

void tb_report_ladder(FILE *out, const struct tb_session *s, const struct tb_verdict *v,
                      const struct tb_text_opts *o)
{
    struct tb_arena a;
    struct text_ctx c = {out, s, NULL, v, o, &a, clamp_width(o->width)};

    tb_arena_init(&a, TEXT_ARENA_CAP);
    ladder(&c);
    tb_arena_reset(&a);
}

/* ---- sessions ---- */

static void print_ok_line(struct text_ctx *c)
{
    const struct tb_session *s = c->s;
    char cl[TB_ENDPOINT_STR_LEN], sv[TB_ENDPOINT_STR_LEN];
    struct tb_name_buf nb;
    const char *sni = sni_text(c), *ver = version_text(s, &nb);
    const struct tb_cert *client_leaf = leaf(&s->chain[TB_DIR_C2S]);

    endpoints(c, cl, sv);
    fprintf(c->out, "%sok%s  %s -> %s", col(c, C_GREEN), col(c, C_RESET), cl, sv);
    if (sni != NULL) {
        fprintf(c->out, " (%s)", sni);
    }
    if (ver != NULL) {
        fprintf(c->out, " %s", ver);
    }
    if (s->resumed) {
        fputs(" resumed", c->out);
    }
    if (client_leaf != NULL) {
        fprintf(c->out, " client cert %s", cert_label(c, client_leaf));
    } else if (s->client_sent_certificate == TB_TRI_YES) {
        fputs(" client cert (encrypted)", c->out);
    }
    fputc('\n', c->out);
}

static void print_explanation(struct text_ctx *c)
{
    const struct tb_candidate *cand = top(c);
    const char *text = NULL;

    if (cand != NULL) {
        text = cand->explanation != NULL ? cand->explanation : cand->summary;
    }
    if (text == NULL) {
        text = c->s->outcome == TB_OUTCOME_INCOMPLETE
                   ? "The capture does not hold the whole handshake, and no rule explains the "
                     "part it does hold. The ladder below shows what was seen."
                   : "No rule explains this session. The ladder below shows what the capture "
                     "holds; the last message before the close is the best lead.";
    }
    fputc('\n', c->out);
    print_wrapped(c, "  ", 2, esc(c, text));
}

void tb_report_text_session(FILE *out, const struct tb_session *s, const struct tb_facts *f,
                            const struct tb_verdict *v, const struct tb_text_opts *o)
{
    struct tb_arena a;
    struct text_ctx c = {out, s, f, v, o, &a, clamp_width(o->width)};
    size_t checks = 0;

    tb_arena_init(&a, TEXT_ARENA_CAP);
    if (s->outcome == TB_OUTCOME_SUCCESS) {
        if (o->only_failures || o->verbosity < 0) {
            goto out;
        }
        print_ok_line(&c);
        if (o->verbosity >= 1) {
            print_context_line(&c);
            capture_checks(&c, &checks);
            fputc('\n', out);
            ladder(&c);
            fputc('\n', out);
        }
        goto out;
    }
    print_verdict_line(&c);
    if (o->verbosity < 0) {
        goto out;
    }
    print_context_line(&c);
    print_explanation(&c);
    capture_checks(&c, &checks);
    print_candidates(&c);
    print_log_and_fix(&c);
    fputc('\n', out);
    ladder(&c);
    fputc('\n', out);
out:
    tb_arena_reset(&a);
}
