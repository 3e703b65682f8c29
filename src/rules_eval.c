/*
 * rules_eval.c - runs the compiled rules on one session's facts and turns the
 * rules that fire into a ranked verdict. Conditions index the fact array
 * directly; nothing is looked up by name. A fact that is unknown (null) never
 * satisfies a comparison, so a rule cannot fire on what the capture does not
 * show; only "fact|exists: false" matches it.
 *
 * Ranking: score = base + every boost whose condition holds, clamped to
 * [0, 1]; a rule that ends at 0 is dropped (a boost may veto). Rules with the
 * same cause merge into one candidate: the best-scoring rule speaks for it and
 * the others add their evidence. Strings go to the caller's (session) arena;
 * ids, titles and causes are borrowed from the ruleset, which outlives every
 * verdict.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rules_int.h"
#include "tlsblame/buf.h"

/* Scores are sums of decimal fractions; compare them with some slack. */
#define SCORE_EPS 1e-9
#define CONF_HIGH_TOP 0.75
#define CONF_HIGH_GAP 0.2
#define CONF_MEDIUM_TOP 0.5
/* Below this gap the two best causes are not told apart by the evidence. */
#define CONF_TIE_GAP 0.1

static bool text_match(enum tb_rule_op op, const char *s, const struct tb_rule_value *v)
{
    size_t n;

    switch (op) {
    case TB_OP_EQ:
    case TB_OP_IN:
        return strcmp(s, v->s) == 0;
    case TB_OP_CONTAINS:
        return strstr(s, v->s) != NULL;
    case TB_OP_STARTSWITH:
        return strncmp(s, v->s, v->s_len) == 0;
    case TB_OP_ENDSWITH:
        n = strlen(s);
        return n >= v->s_len && memcmp(s + (n - v->s_len), v->s, v->s_len) == 0;
    case TB_OP_RE:
        return v->re != NULL && regexec(v->re, s, 0, NULL, 0) == 0;
    case TB_OP_GT:
    case TB_OP_GE:
    case TB_OP_LT:
    case TB_OP_LE:
    case TB_OP_EXISTS:
    default:
        return false; /* the loader never pairs these with text */
    }
}

static bool int_match(enum tb_rule_op op, int64_t x, int64_t y)
{
    switch (op) {
    case TB_OP_EQ:
    case TB_OP_IN:
        return x == y;
    case TB_OP_GT:
        return x > y;
    case TB_OP_GE:
        return x >= y;
    case TB_OP_LT:
        return x < y;
    case TB_OP_LE:
        return x <= y;
    case TB_OP_CONTAINS:
    case TB_OP_STARTSWITH:
    case TB_OP_ENDSWITH:
    case TB_OP_RE:
    case TB_OP_EXISTS:
    default:
        return false;
    }
}

static bool value_match(const struct tb_rule_cond *c, const struct tb_fact_value *fv,
                        const struct tb_rule_value *v)
{
    switch (tb_fact_table[c->fact].type) {
    case TB_FT_BOOL:
        return fv->b == v->b;
    case TB_FT_INT:
        return int_match(c->op, fv->i, v->i);
    case TB_FT_STR:
        return text_match(c->op, fv->s != NULL ? fv->s : "", v);
    case TB_FT_LIST:
        /* A list matches when any of its elements does. */
        for (size_t i = 0; i < fv->list_count; i++) {
            if (fv->list[i] != NULL && text_match(c->op, fv->list[i], v)) {
                return true;
            }
        }
        return false;
    default:
        return false;
    }
}

static bool cond_match(const struct tb_rule_cond *c, const struct tb_facts *f)
{
    const struct tb_fact_value *fv = &f->v[c->fact];
    bool m = false;

    if (c->op == TB_OP_EXISTS) {
        return fv->known == c->values[0].b;
    }
    if (!fv->known) {
        return false; /* also with |not: "not 48" is not evidence when the code is unknown */
    }
    for (size_t i = 0; i < c->value_count && !m; i++) {
        m = value_match(c, fv, &c->values[i]);
    }
    return c->negate ? !m : m;
}

/* Recursion follows the rule's nesting, capped at TB_MAX_DEPTH by the loader. */
bool tb_rule_block_match(const struct tb_rule_block *b, const struct tb_facts *f, unsigned depth)
{
    if (depth > TB_MAX_DEPTH) {
        return false;
    }
    for (size_t i = 0; i < b->cond_count; i++) {
        if (!cond_match(&b->conds[i], f)) {
            return false;
        }
    }
    for (size_t g = 0; g < b->group_count; g++) {
        const struct tb_rule_group *grp = &b->groups[g];
        size_t hits = 0;
        for (size_t i = 0; i < grp->block_count; i++) {
            hits += tb_rule_block_match(&grp->blocks[i], f, depth + 1);
        }
        switch (grp->kind) {
        case TB_GROUP_ANY:
            if (hits == 0) {
                return false;
            }
            break;
        case TB_GROUP_ALL:
            if (hits != grp->block_count) {
                return false;
            }
            break;
        case TB_GROUP_NONE:
            if (hits != 0) {
                return false;
            }
            break;
        default:
            return false;
        }
    }
    return true;
}

/* Appends what fits: a template is cut at TB_MAX_RULE_TEXT rather than dropped. */
static void append_cut(struct tb_buf *buf, const char *s, size_t n)
{
    size_t room = buf->max - buf->len;

    if (n > room) {
        n = room;
    }
    if (tb_buf_append(buf, s, n) != TB_OK) {
        return; /* out of memory: the text stays shorter */
    }
}

/*
 * Fills a template. With skip_unknown (evidence, fixes), a line naming an
 * unknown fact is dropped: evidence must be something the capture shows.
 */
static const char *render(const struct tb_rule_template *t, const struct tb_facts *f,
                          struct tb_arena *a, struct tb_buf *buf, bool skip_unknown)
{
    if (!t->present) {
        return NULL;
    }
    tb_buf_clear(buf);
    for (size_t i = 0; i < t->piece_count; i++) {
        const struct tb_rule_piece *p = &t->pieces[i];
        if (p->fact < 0) {
            append_cut(buf, p->text, p->len);
            continue;
        }
        const struct tb_fact_value *fv = &f->v[p->fact];
        if (!fv->known && skip_unknown) {
            return NULL;
        }
        const char *text = tb_fact_to_text(fv, tb_fact_table[p->fact].type, a);
        if (text != NULL) {
            append_cut(buf, text, strlen(text));
        }
    }
    return tb_arena_strndup(a, buf->len > 0 ? (const char *)buf->bytes : "", buf->len);
}

static void add_line(const char **lines, size_t *count, size_t max, const char *s)
{
    if (s == NULL || *count >= max) {
        return;
    }
    for (size_t i = 0; i < *count; i++) {
        if (strcmp(lines[i], s) == 0) {
            return; /* merged rules often state the same fact */
        }
    }
    lines[(*count)++] = s;
}

static bool log_chosen(const struct tb_rule_log *lg, const struct tb_facts *f)
{
    const struct tb_fact_value *code = &f->v[TB_F_alert_code];

    if (lg->any_alert) {
        return true;
    }
    if (code->known) {
        for (size_t i = 0; i < lg->alert_count; i++) {
            if (lg->alerts[i] == code->i) {
                return true;
            }
        }
        return false;
    }
    /* "close": the rejecting side sent no alert at all (not an unreadable one). */
    return lg->on_close && !f->v[TB_F_alert_by].known;
}

static const char *likely_log(const struct tb_rule *r, const struct tb_facts *f,
                              struct tb_arena *a, struct tb_buf *buf)
{
    struct tb_buf out;
    const char *res = NULL;

    if (r->log_text.present) {
        return render(&r->log_text, f, a, buf, false);
    }
    tb_buf_init(&out, TB_MAX_RULE_TEXT);
    for (size_t i = 0; i < r->log_count; i++) {
        const struct tb_rule_log *lg = &r->logs[i];
        if (!log_chosen(lg, f)) {
            continue;
        }
        const char *line = render(&lg->log, f, a, buf, false);
        if (line == NULL) {
            continue;
        }
        if (out.len > 0) {
            append_cut(&out, " | ", 3);
        }
        append_cut(&out, lg->stack, strlen(lg->stack));
        append_cut(&out, ": ", 2);
        append_cut(&out, line, strlen(line));
    }
    if (out.len > 0) {
        res = tb_arena_strndup(a, (const char *)out.bytes, out.len);
    }
    tb_buf_fini(&out);
    return res;
}

static const char *rejected_by(const struct tb_rule *r, const struct tb_facts *f)
{
    const struct tb_fact_value *fv;

    if (r->rejected_by_fact < 0) {
        return r->rejected_by;
    }
    fv = &f->v[r->rejected_by_fact];
    if (fv->known && fv->s != NULL) {
        if (strcmp(fv->s, "client") == 0) {
            return "client";
        }
        if (strcmp(fv->s, "server") == 0) {
            return "server";
        }
    }
    return "unknown";
}

static double rule_score(const struct tb_rule *r, const struct tb_facts *f)
{
    double s = r->score;

    for (size_t i = 0; i < r->boost_count; i++) {
        if (tb_rule_block_match(&r->boosts[i].when, f, 1)) {
            s += r->boosts[i].score;
        }
    }
    s = s < 0 ? 0 : s > 1 ? 1 : s;
    return round(s * 1000.0) / 1000.0; /* stable, readable scores in the JSON */
}

static void add_evidence(struct tb_candidate *c, const struct tb_rule *r, const struct tb_facts *f,
                         struct tb_arena *a, struct tb_buf *buf)
{
    for (size_t i = 0; i < r->evidence_count; i++) {
        add_line(c->evidence, &c->evidence_count, TB_MAX_EVIDENCE,
                 render(&r->evidence[i], f, a, buf, true));
    }
    for (size_t i = 0; i < r->boost_count; i++) {
        const struct tb_rule_boost *b = &r->boosts[i];
        if (b->evidence.present && tb_rule_block_match(&b->when, f, 1)) {
            add_line(c->evidence, &c->evidence_count, TB_MAX_EVIDENCE,
                     render(&b->evidence, f, a, buf, true));
        }
    }
}

static void fill_candidate(struct tb_candidate *c, const struct tb_rule *r, double score,
                           const struct tb_facts *f, struct tb_arena *a, struct tb_buf *buf)
{
    memset(c, 0, sizeof *c);
    c->rule_id = r->id;
    c->title = r->title;
    c->cause = r->cause;
    c->rejected = r->rejected;
    c->rejected_by = rejected_by(r, f);
    c->score = score;
    c->summary = render(&r->summary, f, a, buf, false);
    c->explanation = render(&r->explanation, f, a, buf, false);
    c->likely_log = likely_log(r, f, a, buf);
    c->references = r->references;
    for (size_t i = 0; i < r->fix_count; i++) {
        add_line(c->fix, &c->fix_count, TB_MAX_FIX, render(&r->fix[i], f, a, buf, true));
    }
    add_evidence(c, r, f, a, buf);
}

struct fired {
    size_t idx;
    double score;
};

static int cmp_fired(const void *pa, const void *pb)
{
    const struct fired *a = pa;
    const struct fired *b = pb;

    if (a->score > b->score + SCORE_EPS) {
        return -1;
    }
    if (b->score > a->score + SCORE_EPS) {
        return 1;
    }
    return a->idx < b->idx ? -1 : a->idx > b->idx; /* ties: rule order */
}

static const char *confidence(const struct tb_verdict *v, const struct tb_facts *facts)
{
    double top = v->cand[0].score;
    double second = v->cand_count > 1 ? v->cand[1].score : 0.0;
    double gap = top - second;
    const struct tb_fact_value *read = &facts->v[TB_F_alert_decrypted];

    if (top >= CONF_HIGH_TOP - SCORE_EPS && gap >= CONF_HIGH_GAP - SCORE_EPS) {
        return "high";
    }
    if (top >= CONF_MEDIUM_TOP - SCORE_EPS) {
        /* Two causes the evidence scores alike: saying "medium" would overstate it. */
        if (v->cand_count > 1 && top < CONF_HIGH_TOP - SCORE_EPS &&
            gap < CONF_TIE_GAP - SCORE_EPS) {
            return "low";
        }
        /* A key log turned an inferred alert into a read one: the verdict no longer
         * rests on record sizes, so it is as sure as a plaintext one. */
        return read->known && read->b ? "high" : "medium";
    }
    return "low";
}

void tb_rules_eval(const struct tb_ruleset *set, const struct tb_facts *facts, struct tb_arena *a,
                   struct tb_verdict *out)
{
    struct fired fired[TB_MAX_RULES];
    size_t nfired = 0;
    struct tb_buf buf;

    memset(out, 0, sizeof *out);
    if (set == NULL || facts == NULL) {
        return;
    }
    for (size_t i = 0; i < set->count; i++) {
        const struct tb_rule *r = set->rules[i];
        if (!tb_rule_block_match(&r->when, facts, 0)) {
            continue;
        }
        double s = rule_score(r, facts);
        if (s <= 0.0) {
            continue;
        }
        fired[nfired].idx = i;
        fired[nfired].score = s;
        nfired++;
    }
    if (nfired == 0) {
        return; /* the caller explains a failure no rule recognised */
    }
    qsort(fired, nfired, sizeof fired[0], cmp_fired);

    tb_buf_init(&buf, TB_MAX_RULE_TEXT);
    for (size_t k = 0; k < nfired; k++) {
        const struct tb_rule *r = set->rules[fired[k].idx];
        size_t c;

        if (out->rules_fired_count < TB_MAX_RULES_FIRED) {
            out->rules_fired[out->rules_fired_count++] = r->id;
        }
        for (c = 0; c < out->cand_count; c++) {
            if (out->cand[c].cause == r->cause) { /* both point into tb_rule_causes */
                break;
            }
        }
        if (c < out->cand_count) {
            add_evidence(&out->cand[c], r, facts, a, &buf);
        } else if (out->cand_count < TB_MAX_CANDIDATES) {
            fill_candidate(&out->cand[out->cand_count++], r, fired[k].score, facts, a, &buf);
        }
    }
    tb_buf_fini(&buf);
    out->present = true;
    out->confidence = confidence(out, facts);
}

void tb_rules_print_tests(const struct tb_ruleset *set, FILE *out)
{
    for (size_t i = 0; i < tb_rules_count(set); i++) {
        const struct tb_rule *r = tb_rules_get(set, i);
        for (size_t j = 0; j < r->tests_fires_count; j++) {
            fprintf(out, "%s\tfires\t%s\n", tb_rules_id(set, i), r->tests_fires[j]);
        }
        for (size_t j = 0; j < r->tests_silent_count; j++) {
            fprintf(out, "%s\tsilent\t%s\n", tb_rules_id(set, i), r->tests_silent[j]);
        }
        if (r->tests_fires_count == 0) {
            fprintf(out, "%s\tnone\t-\n", tb_rules_id(set, i));
        }
    }
}
