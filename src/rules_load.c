/*
 * rules_load.c - reads YAML rule files and compiles them (the only file that
 * includes <yaml.h>). A rule file is input like a capture: its size is capped,
 * libyaml's events are turned into a node tree iteratively with the nesting
 * capped at TB_MAX_DEPTH, aliases are refused (no billion laughs), and every
 * mistake is reported as "tlsblame: FILE:LINE:COLUMN: message" so an editor
 * can jump to it. Compiling resolves fact names to indexes and checks each
 * comparison against the fact's type, so a rule that loads cannot fail at
 * evaluation time. A file is committed whole or not at all.
 */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>

#include "rules_int.h"
#include "tlsblame/buf.h"
#include "tlsblame/err.h"

/* INTERFACE.md "Cause ids". */
const char *const tb_rule_causes[] = {
    "unknown_ca",           "missing_intermediate",
    "self_signed",          "expired",
    "not_yet_valid",        "revoked",
    "bad_eku",              "bad_key_usage",
    "weak_key",             "weak_signature",
    "no_client_certificate", "bad_certificate_verify",
    "signature_algorithm_mismatch", "unsupported_certificate_type",
    "hostname_mismatch",    "bad_certificate",
    "application_rejected", "protocol_version",
    "no_shared_cipher",     "unrecognized_name",
    "no_application_protocol", "closed_without_alert",
    "incomplete_capture",   "unknown",
    NULL,
};

/* INTERFACE.md verdict.rejected. */
const char *const tb_rule_rejected[] = {
    "client_certificate", "server_certificate", "certificate_verify",
    "certificate_request", "client_hello",     "server_hello",
    "handshake",          "application",      "unknown",
    NULL,
};

static const char *const rule_keys[] = {
    "id",      "title",       "cause",    "rejected_by", "rejected",   "score",
    "references", "when",     "any",      "not",         "boost",      "summary",
    "explanation", "evidence", "likely_log", "fix",       "tests",      NULL,
};

/* ---- YAML node tree ---------------------------------------------------- */

enum yn_kind { YN_SCALAR, YN_SEQ, YN_MAP };

/* A parsed YAML node; a map's kids alternate key, value. */
struct yn {
    enum yn_kind kind;
    const char *text; /* scalar, NUL-terminated */
    size_t len;
    bool plain;       /* unquoted: may be a bool, a number or null */
    size_t line, col; /* 1-based */
    struct yn **kids;
    size_t count, cap;
};

/* One load call on one file or buffer. */
struct ld {
    struct tb_ruleset *set;
    const char *name;
    struct tb_arena tree;
    struct tb_rule *pending[TB_MAX_RULES];
    size_t pending_count;
};

static enum tb_err ld_verror(const struct ld *ld, size_t line, size_t col, enum tb_err e,
                             const char *fmt, va_list ap) TB_PRINTF(5, 0);

static enum tb_err ld_verror(const struct ld *ld, size_t line, size_t col, enum tb_err e,
                             const char *fmt, va_list ap)
{
    char where[1024];
    char msg[1024];
    struct tb_where w = {.file = where, .frame = 0, .stage = NULL, .offset = -1};

    (void)snprintf(where, sizeof where, "%s:%zu:%zu", ld->name, line, col); /* cut is fine */
    (void)vsnprintf(msg, sizeof msg, fmt, ap);                               /* likewise */
    tb_diag(&w, "%s", msg);
    return e;
}

static enum tb_err bad_at(const struct ld *ld, size_t line, size_t col, const char *fmt, ...)
    TB_PRINTF(4, 5);

static enum tb_err bad_at(const struct ld *ld, size_t line, size_t col, const char *fmt, ...)
{
    va_list ap;
    enum tb_err e;

    va_start(ap, fmt);
    e = ld_verror(ld, line, col, TB_ERR_SYNTAX, fmt, ap);
    va_end(ap);
    return e;
}

static enum tb_err bad(const struct ld *ld, const struct yn *n, const char *fmt, ...)
    TB_PRINTF(3, 4);

static enum tb_err bad(const struct ld *ld, const struct yn *n, const char *fmt, ...)
{
    va_list ap;
    enum tb_err e;

    va_start(ap, fmt);
    e = ld_verror(ld, n != NULL ? n->line : 1, n != NULL ? n->col : 1, TB_ERR_SYNTAX, fmt, ap);
    va_end(ap);
    return e;
}

static enum tb_err nomem(const struct ld *ld, const struct yn *n)
{
    return bad_at(ld, n != NULL ? n->line : 1, n != NULL ? n->col : 1,
                  "rule file too large or too complex (memory cap reached)");
}

static struct yn *yn_new(struct ld *ld, enum yn_kind kind, const yaml_mark_t *mark)
{
    struct yn *n = tb_arena_alloc(&ld->tree, sizeof *n);

    if (n == NULL) {
        return NULL;
    }
    n->kind = kind;
    n->line = mark->line + 1;
    n->col = mark->column + 1;
    return n;
}

static enum tb_err yn_add(struct ld *ld, struct yn *parent, struct yn *kid)
{
    if (parent->count == parent->cap) {
        size_t cap = parent->cap == 0 ? 8 : parent->cap * 2;
        struct yn **kids;

        if (cap > SIZE_MAX / sizeof *kids) {
            return TB_ERR_NOMEM;
        }
        kids = tb_arena_alloc(&ld->tree, cap * sizeof *kids);
        if (kids == NULL) {
            return TB_ERR_NOMEM;
        }
        if (parent->count > 0) {
            memcpy(kids, parent->kids, parent->count * sizeof *kids);
        }
        parent->kids = kids; /* the old array stays in the arena until the load ends */
        parent->cap = cap;
    }
    parent->kids[parent->count++] = kid;
    return TB_OK;
}

static enum tb_err yaml_syntax(const struct ld *ld, const yaml_parser_t *p)
{
    const yaml_mark_t *m = &p->problem_mark;
    const char *problem = p->problem != NULL ? p->problem : "malformed YAML";

    switch (p->error) {
    case YAML_MEMORY_ERROR:
        return bad_at(ld, 1, 1, "YAML: out of memory");
    case YAML_READER_ERROR:
        /* The reader reports a byte offset, not a mark: use where the scanner stood. */
        m = &p->mark;
        break;
    case YAML_SCANNER_ERROR:
    case YAML_PARSER_ERROR:
    case YAML_COMPOSER_ERROR:
        break;
    case YAML_NO_ERROR:
    case YAML_WRITER_ERROR:
    case YAML_EMITTER_ERROR:
    default:
        break;
    }
    if (p->context != NULL) {
        return bad_at(ld, m->line + 1, m->column + 1, "YAML: %s (%s)", problem, p->context);
    }
    return bad_at(ld, m->line + 1, m->column + 1, "YAML: %s", problem);
}

/*
 * Builds the node tree from libyaml's events with an explicit stack: the
 * nesting depth is the input's choice, so it is capped rather than recursed.
 */
static enum tb_err parse_tree(struct ld *ld, yaml_parser_t *p, struct yn **root)
{
    struct yn *stack[TB_MAX_DEPTH];
    size_t depth = 0;
    size_t docs = 0;
    bool done = false;
    enum tb_err err = TB_OK;

    *root = NULL;
    while (!done && err == TB_OK) {
        yaml_event_t ev;
        struct yn *node = NULL;

        if (!yaml_parser_parse(p, &ev)) {
            return yaml_syntax(ld, p);
        }
        const yaml_mark_t *mark = &ev.start_mark;
        switch (ev.type) {
        case YAML_STREAM_START_EVENT:
        case YAML_DOCUMENT_END_EVENT:
            break;
        case YAML_STREAM_END_EVENT:
            done = true;
            break;
        case YAML_DOCUMENT_START_EVENT:
            if (++docs > 1) {
                err = bad_at(ld, mark->line + 1, mark->column + 1,
                             "one YAML document per rule file (found a second '---')");
            }
            break;
        case YAML_ALIAS_EVENT:
            /* Aliases would let a small file expand into a huge rule set. */
            err = bad_at(ld, mark->line + 1, mark->column + 1,
                         "YAML aliases (*%s) are not allowed in rule files",
                         (const char *)ev.data.alias.anchor);
            break;
        case YAML_SCALAR_EVENT:
            if (ev.data.scalar.tag != NULL) {
                err = bad_at(ld, mark->line + 1, mark->column + 1,
                             "YAML tags (%s) are not allowed in rule files",
                             (const char *)ev.data.scalar.tag);
                break;
            }
            node = yn_new(ld, YN_SCALAR, mark);
            if (node == NULL) {
                err = nomem(ld, NULL);
                break;
            }
            node->text = tb_arena_strndup(&ld->tree, (const char *)ev.data.scalar.value,
                                          ev.data.scalar.length);
            node->len = ev.data.scalar.length;
            node->plain = ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
            if (node->text == NULL) {
                err = nomem(ld, node);
            } else if (strlen(node->text) != node->len) {
                err = bad(ld, node, "NUL character in a string");
            }
            break;
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT: {
            const yaml_char_t *tag = ev.type == YAML_SEQUENCE_START_EVENT
                                         ? ev.data.sequence_start.tag
                                         : ev.data.mapping_start.tag;
            if (tag != NULL) {
                err = bad_at(ld, mark->line + 1, mark->column + 1,
                             "YAML tags (%s) are not allowed in rule files", (const char *)tag);
                break;
            }
            if (depth == TB_MAX_DEPTH) {
                err = bad_at(ld, mark->line + 1, mark->column + 1,
                             "nesting deeper than %d levels", TB_MAX_DEPTH);
                break;
            }
            node = yn_new(ld, ev.type == YAML_SEQUENCE_START_EVENT ? YN_SEQ : YN_MAP, mark);
            if (node == NULL) {
                err = nomem(ld, NULL);
            }
            break;
        }
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            /* libyaml balances start and end events, so depth > 0 here. */
            if (depth > 0) {
                depth--;
            }
            break;
        case YAML_NO_EVENT:
        default:
            err = bad_at(ld, mark->line + 1, mark->column + 1, "YAML: unexpected event %d",
                         (int)ev.type);
            break;
        }
        if (err == TB_OK && node != NULL) {
            if (depth == 0) {
                *root = node;
            } else if (yn_add(ld, stack[depth - 1], node) != TB_OK) {
                err = nomem(ld, node);
            }
            if (err == TB_OK && node->kind != YN_SCALAR) {
                stack[depth++] = node;
            }
        }
        yaml_event_delete(&ev);
    }
    return err;
}

/* ---- scalars ------------------------------------------------------------ */

enum sc_kind { SC_NULL, SC_BOOL, SC_INT, SC_FLOAT, SC_STR };

static bool is_one_of(const char *s, const char *const *list)
{
    for (size_t i = 0; list[i] != NULL; i++) {
        if (strcmp(s, list[i]) == 0) {
            return true;
        }
    }
    return false;
}

static bool parse_int(const char *s, int64_t *out)
{
    bool neg = false;
    int base = 10;
    int64_t v = 0;

    if (*s == '-' || *s == '+') {
        neg = *s == '-';
        s++;
    }
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
    }
    if (*s == '\0') {
        return false;
    }
    for (; *s != '\0'; s++) {
        int d;
        if (*s >= '0' && *s <= '9') {
            d = *s - '0';
        } else if (base == 16 && *s >= 'a' && *s <= 'f') {
            d = *s - 'a' + 10;
        } else if (base == 16 && *s >= 'A' && *s <= 'F') {
            d = *s - 'A' + 10;
        } else {
            return false;
        }
        if (__builtin_mul_overflow(v, base, &v) || __builtin_add_overflow(v, d, &v)) {
            return false;
        }
    }
    *out = neg ? -v : v;
    return true;
}

static bool parse_float(const char *s, double *out)
{
    char *end = NULL;

    if (*s == '\0' || strchr("+-.0123456789", *s) == NULL) {
        return false;
    }
    errno = 0;
    *out = strtod(s, &end);
    return errno == 0 && end != NULL && *end == '\0' && isfinite(*out);
}

/* YAML 1.2 core schema resolution of a plain scalar; quoted ones are strings. */
static enum sc_kind scalar_kind(const struct yn *n, bool *b, int64_t *i, double *d)
{
    static const char *const nulls[] = {"", "~", "null", "Null", "NULL", NULL};
    static const char *const trues[] = {"true", "True", "TRUE", NULL};
    static const char *const falses[] = {"false", "False", "FALSE", NULL};

    if (!n->plain) {
        return SC_STR;
    }
    if (is_one_of(n->text, nulls)) {
        return SC_NULL;
    }
    if (is_one_of(n->text, trues) || is_one_of(n->text, falses)) {
        *b = is_one_of(n->text, trues);
        return SC_BOOL;
    }
    if (parse_int(n->text, i)) {
        *d = (double)*i;
        return SC_INT;
    }
    if (parse_float(n->text, d)) {
        return SC_FLOAT;
    }
    return SC_STR;
}

static const char *node_kind_name(const struct yn *n)
{
    bool b;
    int64_t i;
    double d;

    switch (n->kind) {
    case YN_SEQ:
        return "a list";
    case YN_MAP:
        return "a map";
    case YN_SCALAR:
        break;
    default:
        return "?";
    }
    switch (scalar_kind(n, &b, &i, &d)) {
    case SC_NULL:
        return "empty (null)";
    case SC_BOOL:
        return "a bool";
    case SC_INT:
        return "an int";
    case SC_FLOAT:
        return "a number";
    case SC_STR:
        return "a string";
    default:
        return "?";
    }
}

static const char *fact_type_article(enum tb_fact_type t)
{
    switch (t) {
    case TB_FT_BOOL:
        return "a bool";
    case TB_FT_INT:
        return "an int";
    case TB_FT_STR:
        return "a string";
    case TB_FT_LIST:
        return "a list of strings";
    default:
        return "?";
    }
}

/* A string value: quoted, or plain text that does not resolve to another type. */
static enum tb_err want_string(const struct ld *ld, const struct yn *n, const char *what)
{
    bool b;
    int64_t i;
    double d;

    if (n->kind != YN_SCALAR || scalar_kind(n, &b, &i, &d) != SC_STR) {
        return bad(ld, n, "%s must be a string, not %s", what, node_kind_name(n));
    }
    return TB_OK;
}

static enum tb_err want_number(const struct ld *ld, const struct yn *n, const char *what,
                               double lo, double hi, double *out)
{
    bool b;
    int64_t i;
    enum sc_kind k;

    if (n->kind != YN_SCALAR) {
        return bad(ld, n, "%s must be a number, not %s", what, node_kind_name(n));
    }
    k = scalar_kind(n, &b, &i, out);
    if (k != SC_INT && k != SC_FLOAT) {
        return bad(ld, n, "%s must be a number, not %s", what, node_kind_name(n));
    }
    if (*out < lo || *out > hi) {
        return bad(ld, n, "%s %s is outside %g..%g", what, n->text, lo, hi);
    }
    return TB_OK;
}

/* A map's keys must be distinct strings (libyaml lets duplicates through). */
static enum tb_err check_map(const struct ld *ld, const struct yn *n, const char *what)
{
    if (n->kind != YN_MAP) {
        return bad(ld, n, "%s must be a map, not %s", what, node_kind_name(n));
    }
    for (size_t k = 0; k < n->count; k += 2) {
        const struct yn *key = n->kids[k];
        if (key->kind != YN_SCALAR) {
            return bad(ld, key, "a map key must be a string, not %s", node_kind_name(key));
        }
        for (size_t j = 0; j < k; j += 2) {
            if (strcmp(n->kids[j]->text, key->text) == 0) {
                return bad(ld, key, "duplicate key '%s' (also at line %zu)", key->text,
                           n->kids[j]->line);
            }
        }
    }
    return TB_OK;
}

static const struct yn *map_get(const struct yn *map, const char *key)
{
    for (size_t k = 0; k + 1 < map->count; k += 2) {
        if (strcmp(map->kids[k]->text, key) == 0) {
            return map->kids[k + 1];
        }
    }
    return NULL;
}

static void *ld_alloc(struct ld *ld, size_t count, size_t size)
{
    if (count == 0) {
        count = 1;
    }
    if (count > SIZE_MAX / size) {
        return NULL;
    }
    return tb_arena_alloc(&ld->set->mem, count * size);
}

static const char *ld_strdup(struct ld *ld, const char *s)
{
    return tb_arena_strdup(&ld->set->mem, s);
}

/* A string or a list of strings, as a list. */
static enum tb_err string_list(struct ld *ld, const struct yn *n, const char *what,
                               const struct yn *const **items, size_t *count)
{
    if (n->kind == YN_SCALAR) {
        enum tb_err err = want_string(ld, n, what);
        if (err != TB_OK) {
            return err;
        }
        const struct yn **one = tb_arena_alloc(&ld->tree, sizeof *one);
        if (one == NULL) {
            return nomem(ld, n);
        }
        one[0] = n;
        *items = one;
        *count = 1;
        return TB_OK;
    }
    if (n->kind != YN_SEQ) {
        return bad(ld, n, "%s must be a string or a list of strings, not %s", what,
                   node_kind_name(n));
    }
    for (size_t i = 0; i < n->count; i++) {
        enum tb_err err = want_string(ld, n->kids[i], what);
        if (err != TB_OK) {
            return err;
        }
    }
    *items = (const struct yn *const *)n->kids;
    *count = n->count;
    return TB_OK;
}

/* ---- templates ---------------------------------------------------------- */

static bool is_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

/*
 * "{fact}" is replaced by the fact's value; "{{" and "}}" are literal braces.
 * Pass 1 validates and counts, pass 2 fills: the pieces array is exact.
 */
static enum tb_err compile_template(struct ld *ld, const struct yn *n, const char *what,
                                    struct tb_rule_template *t)
{
    const char *s;
    size_t len;
    size_t holes = 0;

    if (n->kind != YN_SCALAR) {
        return bad(ld, n, "%s must be a string, not %s", what, node_kind_name(n));
    }
    s = n->text;
    len = n->len;
    if (n->plain && len == 0) {
        return bad(ld, n, "%s is empty", what);
    }
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '{' && i + 1 < len && s[i + 1] == '{') {
            i++;
        } else if (s[i] == '}' && i + 1 < len && s[i + 1] == '}') {
            i++;
        } else if (s[i] == '}') {
            return bad(ld, n, "%s: unmatched '}' (write '}}' for a literal brace)", what);
        } else if (s[i] == '{') {
            size_t j = i + 1;
            while (j < len && is_name_char(s[j])) {
                j++;
            }
            if (j >= len || s[j] != '}') {
                size_t show = j < len ? j - i + 1 : j - i;
                return bad(ld, n,
                           "%s: bad placeholder '%.*s' (placeholders are {fact_name}; write "
                           "'{{' for a literal brace)",
                           what, (int)(show < 40 ? show : 40), s + i);
            }
            char name[128];
            size_t nlen = j - i - 1;
            if (nlen == 0 || nlen >= sizeof name) {
                return bad(ld, n, "%s: bad placeholder '{%.*s}'", what,
                           (int)(nlen < 64 ? nlen : 64), s + i + 1);
            }
            memcpy(name, s + i + 1, nlen);
            name[nlen] = '\0';
            if (tb_fact_lookup(name) < 0) {
                return bad(ld, n, "%s: unknown fact '%s' in placeholder {%s}", what, name, name);
            }
            holes++;
            i = j;
        }
    }

    size_t max_pieces = holes * 2 + 1;
    struct tb_rule_piece *pieces = ld_alloc(ld, max_pieces, sizeof *pieces);
    char *lit = tb_arena_alloc(&ld->set->mem, len + 1);
    size_t np = 0, lit_used = 0, lit_start = 0;
    if (pieces == NULL || lit == NULL) {
        return nomem(ld, n);
    }
    for (size_t i = 0; i < len; i++) {
        if ((s[i] == '{' || s[i] == '}') && i + 1 < len && s[i + 1] == s[i]) {
            lit[lit_used++] = s[i++];
        } else if (s[i] == '{') {
            size_t j = i + 1;
            while (s[j] != '}') { /* pass 1 saw the closing brace */
                j++;
            }
            if (lit_used > lit_start) {
                pieces[np++] = (struct tb_rule_piece){lit + lit_start, lit_used - lit_start, -1};
            }
            lit_start = lit_used;
            char name[128];
            memcpy(name, s + i + 1, j - i - 1);
            name[j - i - 1] = '\0';
            pieces[np++] = (struct tb_rule_piece){NULL, 0, tb_fact_lookup(name)};
            i = j;
        } else {
            lit[lit_used++] = s[i];
        }
    }
    if (lit_used > lit_start) {
        pieces[np++] = (struct tb_rule_piece){lit + lit_start, lit_used - lit_start, -1};
    }
    t->pieces = pieces;
    t->piece_count = np;
    t->present = true;
    return TB_OK;
}

static enum tb_err compile_template_list(struct ld *ld, const struct yn *n, const char *what,
                                         size_t max, const struct tb_rule_template **out,
                                         size_t *out_count)
{
    const struct yn *const *items;
    size_t count;
    struct tb_rule_template *ts;
    enum tb_err err = string_list(ld, n, what, &items, &count);

    if (err != TB_OK) {
        return err;
    }
    if (count > max) {
        return bad(ld, n, "%s has %zu entries; at most %zu are kept", what, count, max);
    }
    ts = ld_alloc(ld, count, sizeof *ts);
    if (ts == NULL) {
        return nomem(ld, n);
    }
    for (size_t i = 0; i < count; i++) {
        err = compile_template(ld, items[i], what, &ts[i]);
        if (err != TB_OK) {
            return err;
        }
    }
    *out = ts;
    *out_count = count;
    return TB_OK;
}

/* ---- conditions --------------------------------------------------------- */

/*
 * glibc's regcomp() builds "x+" as "xx*" and "x{n}" as n copies of x,
 * duplicating whole subtrees: "x{255}{255}{255}" or "s++++...+" are a few
 * bytes that compile into millions of states (the rules fuzzer found the
 * second). Rules need nothing like that, so a pattern is refused when its
 * quantifiers could multiply it more than TB_MAX_REGEX_GROWTH times (every
 * quantifier counts, nested or not, which overestimates safely), or when
 * two quantifiers are stacked.
 */
#define TB_MAX_REGEX_LEN 1024
#define TB_MAX_REGEX_GROWTH 256

static bool regex_too_complex(const char *re)
{
    uint64_t growth = 1;
    bool after_quantifier = false;

    if (strlen(re) > TB_MAX_REGEX_LEN) {
        return true;
    }
    for (const char *p = re; *p != '\0'; p++) {
        uint64_t factor = 0;
        if (*p == '\\') {
            after_quantifier = false;
            if (p[1] == '\0') {
                break;
            }
            p++;
            continue;
        }
        if (*p == '*' || *p == '?') {
            factor = 1;
        } else if (*p == '+') {
            factor = 2;
        } else if (*p == '{') {
            uint64_t bound = 0;
            for (p++; *p == ',' || (*p >= '0' && *p <= '9'); p++) {
                bound = *p == ',' ? 0 : bound * 10 + (uint64_t)(*p - '0');
                if (bound > TB_MAX_REGEX_GROWTH) {
                    return true;
                }
            }
            factor = bound + 1;
            if (*p == '\0') {
                break;
            }
        } else {
            after_quantifier = false;
            continue;
        }
        if (after_quantifier) {
            return true; /* "a+*", "a{2}{3}": each one copies the last */
        }
        after_quantifier = true;
        growth *= factor;
        if (growth > TB_MAX_REGEX_GROWTH) {
            return true;
        }
    }
    return false;
}

static const struct {
    const char *name;
    enum tb_rule_op op;
} ops[] = {
    {"eq", TB_OP_EQ},
    {"in", TB_OP_IN},
    {"gt", TB_OP_GT},
    {"ge", TB_OP_GE},
    {"lt", TB_OP_LT},
    {"le", TB_OP_LE},
    {"contains", TB_OP_CONTAINS},
    {"startswith", TB_OP_STARTSWITH},
    {"endswith", TB_OP_ENDSWITH},
    {"re", TB_OP_RE},
    {"exists", TB_OP_EXISTS},
};

static const char *op_name(enum tb_rule_op op)
{
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        if (ops[i].op == op) {
            return ops[i].name;
        }
    }
    return "?";
}

/* Checks one operand against the fact's type and the operator; fills v. */
static enum tb_err compile_value(struct ld *ld, const struct yn *n, int fact, enum tb_rule_op op,
                                 struct tb_rule_value *v)
{
    const struct tb_fact_desc *fd = &tb_fact_table[fact];
    bool b = false;
    int64_t i = 0;
    double d = 0;
    enum sc_kind k;

    if (n->kind != YN_SCALAR) {
        return bad(ld, n, "a value of '%s' must be a scalar or a list of scalars, not %s",
                   fd->name, node_kind_name(n));
    }
    k = scalar_kind(n, &b, &i, &d);
    if (k == SC_NULL) {
        return bad(ld, n, "empty value for '%s' (to test for an unknown fact write '%s|exists: "
                          "false')",
                   fd->name, fd->name);
    }
    switch (op) {
    case TB_OP_EXISTS:
        if (k != SC_BOOL) {
            return bad(ld, n, "'%s|exists' takes true or false, not %s", fd->name,
                       node_kind_name(n));
        }
        v->b = b;
        return TB_OK;
    case TB_OP_GT:
    case TB_OP_GE:
    case TB_OP_LT:
    case TB_OP_LE:
        if (fd->type != TB_FT_INT) {
            return bad(ld, n, "modifier '%s' compares numbers; fact '%s' is %s", op_name(op),
                       fd->name, fact_type_article(fd->type));
        }
        if (k != SC_INT) {
            return bad(ld, n, "type error: fact '%s' is an int; '%s' is %s", fd->name, n->text,
                       node_kind_name(n));
        }
        v->i = i;
        return TB_OK;
    case TB_OP_CONTAINS:
    case TB_OP_STARTSWITH:
    case TB_OP_ENDSWITH:
    case TB_OP_RE:
        if (fd->type != TB_FT_STR && fd->type != TB_FT_LIST) {
            return bad(ld, n, "modifier '%s' matches text; fact '%s' is %s", op_name(op),
                       fd->name, fact_type_article(fd->type));
        }
        if (k != SC_STR) {
            return bad(ld, n, "type error: fact '%s' is %s; '%s' is %s (quote it)", fd->name,
                       fact_type_article(fd->type), n->text, node_kind_name(n));
        }
        v->s = ld_strdup(ld, n->text);
        v->s_len = n->len;
        if (v->s == NULL) {
            return nomem(ld, n);
        }
        if (op == TB_OP_RE && regex_too_complex(n->text)) {
            return bad(ld, n,
                       "regular expression too complex (over %d characters, stacked "
                       "quantifiers, or quantifiers multiplying it past %d times)",
                       TB_MAX_REGEX_LEN, TB_MAX_REGEX_GROWTH);
        }
        if (op == TB_OP_RE) {
            struct tb_rule_regex *rx = tb_arena_alloc(&ld->set->mem, sizeof *rx);
            if (rx == NULL) {
                return nomem(ld, n);
            }
            int rc = regcomp(&rx->re, n->text, REG_EXTENDED | REG_NOSUB);
            if (rc != 0) {
                char why[256];
                (void)regerror(rc, &rx->re, why, sizeof why); /* truncation is fine */
                return bad(ld, n, "bad regular expression '%s': %s", n->text, why);
            }
            rx->next = ld->set->regexes;
            ld->set->regexes = rx;
            v->re = &rx->re;
        }
        return TB_OK;
    case TB_OP_EQ:
    case TB_OP_IN:
        break;
    default:
        return bad(ld, n, "internal: operator %d", (int)op);
    }
    switch (fd->type) {
    case TB_FT_BOOL:
        if (k != SC_BOOL) {
            return bad(ld, n, "type error: fact '%s' is a bool; '%s' is %s", fd->name, n->text,
                       node_kind_name(n));
        }
        v->b = b;
        return TB_OK;
    case TB_FT_INT:
        if (k != SC_INT) {
            return bad(ld, n, "type error: fact '%s' is an int; '%s' is %s", fd->name, n->text,
                       node_kind_name(n));
        }
        v->i = i;
        return TB_OK;
    case TB_FT_STR:
    case TB_FT_LIST:
        if (k != SC_STR) {
            return bad(ld, n, "type error: fact '%s' is %s; '%s' is %s (quote it)", fd->name,
                       fact_type_article(fd->type), n->text, node_kind_name(n));
        }
        v->s = ld_strdup(ld, n->text);
        v->s_len = n->len;
        return v->s == NULL ? nomem(ld, n) : TB_OK;
    default:
        return bad(ld, n, "internal: fact type %d", (int)fd->type);
    }
}

/* key "fact|op|not" and its value. */
static enum tb_err compile_cond(struct ld *ld, const struct yn *key, const struct yn *val,
                                struct tb_rule_cond *c)
{
    char buf[256];
    char *save = NULL;
    char *part;
    bool have_op = false;
    enum tb_err err;

    if (key->len >= sizeof buf) {
        return bad(ld, key, "condition key too long");
    }
    memcpy(buf, key->text, key->len + 1);
    char *bar = strchr(buf, '|');
    if (bar != NULL) {
        *bar = '\0';
    }
    c->fact = tb_fact_lookup(buf);
    if (c->fact < 0) {
        return bad(ld, key, "unknown fact '%s' (the facts are listed in tlsblame-rules(5))", buf);
    }
    c->op = TB_OP_EQ;
    c->negate = false;
    for (part = bar != NULL ? bar + 1 : NULL; part != NULL; part = save) {
        save = strchr(part, '|');
        if (save != NULL) {
            *save++ = '\0';
        }
        if (strcmp(part, "not") == 0) {
            if (c->negate) {
                return bad(ld, key, "modifier 'not' given twice in '%s'", key->text);
            }
            c->negate = true;
            continue;
        }
        size_t o;
        for (o = 0; o < sizeof ops / sizeof ops[0]; o++) {
            if (strcmp(part, ops[o].name) == 0) {
                break;
            }
        }
        if (o == sizeof ops / sizeof ops[0]) {
            return bad(ld, key,
                       "unknown modifier '%s' in '%s' (eq, in, gt, ge, lt, le, contains, "
                       "startswith, endswith, re, exists, not)",
                       part, key->text);
        }
        if (have_op) {
            return bad(ld, key, "two comparison modifiers in '%s'", key->text);
        }
        have_op = true;
        c->op = ops[o].op;
    }
    if (c->op == TB_OP_EXISTS && c->negate) {
        return bad(ld, key, "write '%s|exists: false' rather than 'exists|not'",
                   tb_fact_table[c->fact].name);
    }

    size_t count = val->kind == YN_SEQ ? val->count : 1;
    if (count == 0) {
        return bad(ld, val, "empty list of values for '%s'", key->text);
    }
    if (c->op == TB_OP_EXISTS && val->kind != YN_SCALAR) {
        return bad(ld, val, "'%s' takes true or false, not %s", key->text, node_kind_name(val));
    }
    struct tb_rule_value *vals = ld_alloc(ld, count, sizeof *vals);
    if (vals == NULL) {
        return nomem(ld, val);
    }
    for (size_t i = 0; i < count; i++) {
        err = compile_value(ld, val->kind == YN_SEQ ? val->kids[i] : val, c->fact, c->op,
                            &vals[i]);
        if (err != TB_OK) {
            return err;
        }
    }
    c->values = vals;
    c->value_count = count;
    return TB_OK;
}

static enum tb_err compile_block(struct ld *ld, const struct yn *map, unsigned depth,
                                 const struct yn *extra_any, const struct yn *extra_not,
                                 struct tb_rule_block *b);

static bool is_group_key(const char *k)
{
    return strcmp(k, "any") == 0 || strcmp(k, "all") == 0 || strcmp(k, "not") == 0;
}

/* any: [maps] / all: [maps] / not: map or [maps]. */
static enum tb_err compile_group(struct ld *ld, const char *key, const struct yn *val,
                                 unsigned depth, struct tb_rule_group *g)
{
    size_t count;
    struct tb_rule_block *blocks;

    g->kind = strcmp(key, "any") == 0   ? TB_GROUP_ANY
              : strcmp(key, "all") == 0 ? TB_GROUP_ALL
                                        : TB_GROUP_NONE;
    if (val->kind == YN_MAP && g->kind == TB_GROUP_NONE) {
        count = 1;
    } else if (val->kind == YN_SEQ) {
        count = val->count;
    } else {
        return bad(ld, val, "'%s' takes a list of condition maps%s, not %s", key,
                   g->kind == TB_GROUP_NONE ? " or one map" : "", node_kind_name(val));
    }
    if (count == 0) {
        return bad(ld, val, "'%s' has an empty list", key);
    }
    blocks = ld_alloc(ld, count, sizeof *blocks);
    if (blocks == NULL) {
        return nomem(ld, val);
    }
    for (size_t i = 0; i < count; i++) {
        const struct yn *m = val->kind == YN_SEQ ? val->kids[i] : val;
        enum tb_err err = compile_block(ld, m, depth + 1, NULL, NULL, &blocks[i]);
        if (err != TB_OK) {
            return err;
        }
    }
    g->blocks = blocks;
    g->block_count = count;
    return TB_OK;
}

/*
 * A condition map. Recursion follows the YAML nesting, which parse_tree()
 * already capped at TB_MAX_DEPTH; the depth check here restates that bound.
 */
static enum tb_err compile_block(struct ld *ld, const struct yn *map, unsigned depth,
                                 const struct yn *extra_any, const struct yn *extra_not,
                                 struct tb_rule_block *b)
{
    size_t nconds = 0, ngroups = 0;
    struct tb_rule_cond *conds;
    struct tb_rule_group *groups;
    enum tb_err err;

    if (depth > TB_MAX_DEPTH) {
        return bad(ld, map, "conditions nested deeper than %d levels", TB_MAX_DEPTH);
    }
    if (map != NULL) {
        err = check_map(ld, map, "a condition block");
        if (err != TB_OK) {
            return err;
        }
        for (size_t k = 0; k < map->count; k += 2) {
            if (is_group_key(map->kids[k]->text)) {
                ngroups++;
            } else {
                nconds++;
            }
        }
    }
    ngroups += (size_t)(extra_any != NULL) + (size_t)(extra_not != NULL);
    if (nconds + ngroups == 0) {
        return bad(ld, map, "empty condition block: it would match every session");
    }
    conds = ld_alloc(ld, nconds, sizeof *conds);
    groups = ld_alloc(ld, ngroups, sizeof *groups);
    if (conds == NULL || groups == NULL) {
        return nomem(ld, map);
    }
    b->conds = conds;
    b->groups = groups;
    b->cond_count = 0;
    b->group_count = 0;
    for (size_t k = 0; map != NULL && k < map->count; k += 2) {
        const struct yn *key = map->kids[k];
        const struct yn *val = map->kids[k + 1];
        if (is_group_key(key->text)) {
            err = compile_group(ld, key->text, val, depth, &groups[b->group_count++]);
        } else {
            err = compile_cond(ld, key, val, &conds[b->cond_count++]);
        }
        if (err != TB_OK) {
            return err;
        }
    }
    if (extra_any != NULL) {
        err = compile_group(ld, "any", extra_any, depth, &groups[b->group_count++]);
        if (err != TB_OK) {
            return err;
        }
    }
    if (extra_not != NULL) {
        err = compile_group(ld, "not", extra_not, depth, &groups[b->group_count++]);
        if (err != TB_OK) {
            return err;
        }
    }
    return TB_OK;
}

/* ---- rule parts --------------------------------------------------------- */

static enum tb_err compile_boosts(struct ld *ld, const struct yn *n, struct tb_rule *r)
{
    struct tb_rule_boost *bs;

    if (n->kind != YN_SEQ || n->count == 0) {
        return bad(ld, n, "'boost' must be a non-empty list of {when, score, evidence} maps");
    }
    bs = ld_alloc(ld, n->count, sizeof *bs);
    if (bs == NULL) {
        return nomem(ld, n);
    }
    for (size_t i = 0; i < n->count; i++) {
        const struct yn *m = n->kids[i];
        enum tb_err err = check_map(ld, m, "a boost");
        if (err != TB_OK) {
            return err;
        }
        for (size_t k = 0; k < m->count; k += 2) {
            const char *key = m->kids[k]->text;
            if (strcmp(key, "when") != 0 && strcmp(key, "score") != 0 &&
                strcmp(key, "evidence") != 0) {
                return bad(ld, m->kids[k], "unknown key '%s' in a boost (when, score, evidence)",
                           key);
            }
        }
        const struct yn *when = map_get(m, "when");
        const struct yn *score = map_get(m, "score");
        const struct yn *ev = map_get(m, "evidence");
        if (when == NULL || score == NULL) {
            return bad(ld, m, "a boost needs 'when' and 'score'");
        }
        err = compile_block(ld, when, 1, NULL, NULL, &bs[i].when);
        if (err == TB_OK) {
            err = want_number(ld, score, "a boost score", -1.0, 1.0, &bs[i].score);
        }
        if (err == TB_OK && ev != NULL) {
            err = compile_template(ld, ev, "boost evidence", &bs[i].evidence);
        }
        if (err != TB_OK) {
            return err;
        }
    }
    r->boosts = bs;
    r->boost_count = n->count;
    return TB_OK;
}

static enum tb_err compile_log_alert(struct ld *ld, const struct yn *n, struct tb_rule_log *lg)
{
    size_t count = n->kind == YN_SEQ ? n->count : 1;
    int64_t *codes;
    size_t kept = 0;

    if (n->kind == YN_MAP || count == 0) {
        return bad(ld, n, "'alert' takes an alert code, a list of codes, or 'close'");
    }
    codes = ld_alloc(ld, count, sizeof *codes);
    if (codes == NULL) {
        return nomem(ld, n);
    }
    for (size_t i = 0; i < count; i++) {
        const struct yn *v = n->kind == YN_SEQ ? n->kids[i] : n;
        bool b;
        int64_t code = 0;
        double d;
        enum sc_kind k = v->kind == YN_SCALAR ? scalar_kind(v, &b, &code, &d) : SC_NULL;
        if (k == SC_STR && strcmp(v->text, "close") == 0) {
            lg->on_close = true;
        } else if (k == SC_INT && code >= 0 && code <= 255) {
            codes[kept++] = code;
        } else {
            return bad(ld, v, "'alert' takes alert codes 0..255 or 'close', not '%s'",
                       v->kind == YN_SCALAR ? v->text : node_kind_name(v));
        }
    }
    lg->alerts = codes;
    lg->alert_count = kept;
    return TB_OK;
}

static enum tb_err compile_likely_log(struct ld *ld, const struct yn *n, struct tb_rule *r)
{
    struct tb_rule_log *logs;

    if (n->kind == YN_SCALAR) {
        return compile_template(ld, n, "likely_log", &r->log_text);
    }
    if (n->kind != YN_SEQ || n->count == 0) {
        return bad(ld, n, "'likely_log' must be a string or a list of {stack, alert, log} maps");
    }
    logs = ld_alloc(ld, n->count, sizeof *logs);
    if (logs == NULL) {
        return nomem(ld, n);
    }
    for (size_t i = 0; i < n->count; i++) {
        const struct yn *m = n->kids[i];
        enum tb_err err = check_map(ld, m, "a likely_log entry");
        if (err != TB_OK) {
            return err;
        }
        for (size_t k = 0; k < m->count; k += 2) {
            const char *key = m->kids[k]->text;
            if (strcmp(key, "stack") != 0 && strcmp(key, "alert") != 0 &&
                strcmp(key, "log") != 0) {
                return bad(ld, m->kids[k],
                           "unknown key '%s' in a likely_log entry (stack, alert, log)", key);
            }
        }
        const struct yn *stack = map_get(m, "stack");
        const struct yn *alert = map_get(m, "alert");
        const struct yn *log = map_get(m, "log");
        if (stack == NULL || log == NULL) {
            return bad(ld, m, "a likely_log entry needs 'stack' and 'log'");
        }
        err = want_string(ld, stack, "'stack'");
        if (err == TB_OK) {
            logs[i].stack = ld_strdup(ld, stack->text);
            err = logs[i].stack == NULL ? nomem(ld, stack) : TB_OK;
        }
        logs[i].any_alert = alert == NULL;
        if (err == TB_OK && alert != NULL) {
            err = compile_log_alert(ld, alert, &logs[i]);
        }
        if (err == TB_OK) {
            err = compile_template(ld, log, "likely_log", &logs[i].log);
        }
        if (err != TB_OK) {
            return err;
        }
    }
    r->logs = logs;
    r->log_count = n->count;
    return TB_OK;
}

static enum tb_err compile_tests(struct ld *ld, const struct yn *n, struct tb_rule *r)
{
    enum tb_err err = check_map(ld, n, "'tests'");

    if (err != TB_OK) {
        return err;
    }
    for (size_t k = 0; k < n->count; k += 2) {
        const struct yn *key = n->kids[k];
        const struct yn *const *items;
        size_t count;
        const char **paths;
        bool fires = strcmp(key->text, "fires") == 0;

        if (!fires && strcmp(key->text, "silent") != 0) {
            return bad(ld, key, "unknown key '%s' in 'tests' (fires, silent)", key->text);
        }
        err = string_list(ld, n->kids[k + 1], key->text, &items, &count);
        if (err != TB_OK) {
            return err;
        }
        paths = ld_alloc(ld, count, sizeof *paths);
        if (paths == NULL) {
            return nomem(ld, key);
        }
        for (size_t i = 0; i < count; i++) {
            paths[i] = ld_strdup(ld, items[i]->text);
            if (paths[i] == NULL) {
                return nomem(ld, items[i]);
            }
        }
        if (fires) {
            r->tests_fires = paths;
            r->tests_fires_count = count;
        } else {
            r->tests_silent = paths;
            r->tests_silent_count = count;
        }
    }
    return TB_OK;
}

static enum tb_err compile_references(struct ld *ld, const struct yn *n, struct tb_rule *r)
{
    const struct yn *const *items;
    size_t count, total = 1;
    enum tb_err err = string_list(ld, n, "'references'", &items, &count);
    char *out;
    size_t used = 0;

    if (err != TB_OK) {
        return err;
    }
    for (size_t i = 0; i < count; i++) {
        total += items[i]->len + 2;
    }
    out = tb_arena_alloc(&ld->set->mem, total);
    if (out == NULL) {
        return nomem(ld, n);
    }
    for (size_t i = 0; i < count; i++) {
        if (i > 0) {
            memcpy(out + used, "; ", 2);
            used += 2;
        }
        memcpy(out + used, items[i]->text, items[i]->len);
        used += items[i]->len;
    }
    out[used] = '\0';
    r->references = out;
    return TB_OK;
}

static bool valid_id(const char *s, size_t len)
{
    if (len == 0 || len > TB_MAX_RULE_ID_LEN || !((s[0] >= 'a' && s[0] <= 'z') ||
                                                  (s[0] >= '0' && s[0] <= '9'))) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
              c == '.')) {
            return false;
        }
    }
    return true;
}

static const struct tb_rule *find_rule(const struct ld *ld, const char *id, bool *in_this_load)
{
    for (size_t i = 0; i < ld->pending_count; i++) {
        if (strcmp(ld->pending[i]->id, id) == 0) {
            *in_this_load = true;
            return ld->pending[i];
        }
    }
    for (size_t i = 0; i < ld->set->count; i++) {
        if (strcmp(ld->set->rules[i]->id, id) == 0) {
            *in_this_load = ld->set->rules[i]->load_gen == ld->set->load_gen;
            return ld->set->rules[i];
        }
    }
    return NULL;
}

static enum tb_err compile_rule(struct ld *ld, const struct yn *m, struct tb_rule **out)
{
    struct tb_rule *r;
    enum tb_err err = check_map(ld, m, "a rule");
    const struct yn *n;

    if (err != TB_OK) {
        return err;
    }
    const struct yn *id = map_get(m, "id");
    const char *rid = id != NULL && id->kind == YN_SCALAR ? id->text : "?";
    for (size_t k = 0; k < m->count; k += 2) {
        if (!is_one_of(m->kids[k]->text, rule_keys)) {
            return bad(ld, m->kids[k], "unknown key '%s' in rule '%s'", m->kids[k]->text, rid);
        }
    }
    static const char *const required[] = {"id", "title", "cause", "rejected_by",
                                           "rejected", "score", "summary", NULL};
    for (size_t i = 0; required[i] != NULL; i++) {
        if (map_get(m, required[i]) == NULL) {
            return bad(ld, m, "rule '%s' has no '%s'", rid, required[i]);
        }
    }
    if (map_get(m, "when") == NULL && map_get(m, "any") == NULL) {
        return bad(ld, m, "rule '%s' has no 'when' (or 'any') conditions", rid);
    }

    r = tb_arena_alloc(&ld->set->mem, sizeof *r);
    if (r == NULL) {
        return nomem(ld, m);
    }
    r->load_gen = ld->set->load_gen;
    r->rejected_by_fact = -1;
    r->origin = tb_arena_printf(&ld->set->mem, "%s:%zu:%zu", ld->name, m->line, m->col);

    err = want_string(ld, id, "'id'");
    if (err != TB_OK) {
        return err;
    }
    if (!valid_id(id->text, id->len)) {
        return bad(ld, id,
                   "rule id '%s' must be 1-%d lowercase letters, digits, '-', '_' or '.'",
                   id->text, TB_MAX_RULE_ID_LEN);
    }
    bool in_this_load = false;
    const struct tb_rule *prev = find_rule(ld, id->text, &in_this_load);
    if (prev != NULL && in_this_load) {
        return bad(ld, id, "duplicate rule id '%s' (first defined at %s)", id->text,
                   prev->origin != NULL ? prev->origin : "?");
    }
    r->id = ld_strdup(ld, id->text);

    n = map_get(m, "title");
    if ((err = want_string(ld, n, "'title'")) != TB_OK) {
        return err;
    }
    r->title = ld_strdup(ld, n->text);

    n = map_get(m, "cause");
    if ((err = want_string(ld, n, "'cause'")) != TB_OK) {
        return err;
    }
    for (size_t i = 0; tb_rule_causes[i] != NULL; i++) {
        if (strcmp(tb_rule_causes[i], n->text) == 0) {
            r->cause = tb_rule_causes[i];
        }
    }
    if (r->cause == NULL) {
        return bad(ld, n, "unknown cause '%s' (the cause ids are listed in tlsblame-rules(5))",
                   n->text);
    }

    n = map_get(m, "rejected");
    if ((err = want_string(ld, n, "'rejected'")) != TB_OK) {
        return err;
    }
    for (size_t i = 0; tb_rule_rejected[i] != NULL; i++) {
        if (strcmp(tb_rule_rejected[i], n->text) == 0) {
            r->rejected = tb_rule_rejected[i];
        }
    }
    if (r->rejected == NULL) {
        return bad(ld, n,
                   "unknown 'rejected' value '%s' (client_certificate, server_certificate, "
                   "certificate_verify, certificate_request, client_hello, server_hello, "
                   "handshake, application, unknown)",
                   n->text);
    }

    n = map_get(m, "rejected_by");
    if ((err = want_string(ld, n, "'rejected_by'")) != TB_OK) {
        return err;
    }
    if (strcmp(n->text, "client") == 0 || strcmp(n->text, "server") == 0 ||
        strcmp(n->text, "unknown") == 0) {
        r->rejected_by = ld_strdup(ld, n->text);
    } else if (n->len > 2 && n->text[0] == '{' && n->text[n->len - 1] == '}') {
        char name[128];
        size_t nlen = n->len - 2;
        if (nlen >= sizeof name) {
            return bad(ld, n, "'rejected_by': bad placeholder");
        }
        memcpy(name, n->text + 1, nlen);
        name[nlen] = '\0';
        r->rejected_by_fact = tb_fact_lookup(name);
        if (r->rejected_by_fact < 0) {
            return bad(ld, n, "'rejected_by': unknown fact '%s' in placeholder {%s}", name, name);
        }
        if (tb_fact_table[r->rejected_by_fact].type != TB_FT_STR) {
            return bad(ld, n, "'rejected_by': fact '%s' is %s, not a string naming a side", name,
                       fact_type_article(tb_fact_table[r->rejected_by_fact].type));
        }
    } else {
        return bad(ld, n, "'rejected_by' must be client, server, unknown or a \"{fact}\"");
    }

    err = want_number(ld, map_get(m, "score"), "'score'", 0.0, 1.0, &r->score);
    if (err != TB_OK) {
        return err;
    }
    if ((n = map_get(m, "references")) != NULL && (err = compile_references(ld, n, r)) != TB_OK) {
        return err;
    }
    err = compile_block(ld, map_get(m, "when"), 0, map_get(m, "any"), map_get(m, "not"),
                        &r->when);
    if (err != TB_OK) {
        return err;
    }
    if ((n = map_get(m, "boost")) != NULL && (err = compile_boosts(ld, n, r)) != TB_OK) {
        return err;
    }
    if ((err = compile_template(ld, map_get(m, "summary"), "summary", &r->summary)) != TB_OK) {
        return err;
    }
    if ((n = map_get(m, "explanation")) != NULL &&
        (err = compile_template(ld, n, "explanation", &r->explanation)) != TB_OK) {
        return err;
    }
    if ((n = map_get(m, "evidence")) != NULL &&
        (err = compile_template_list(ld, n, "evidence", TB_MAX_EVIDENCE, &r->evidence,
                                     &r->evidence_count)) != TB_OK) {
        return err;
    }
    if ((n = map_get(m, "fix")) != NULL &&
        (err = compile_template_list(ld, n, "fix", TB_MAX_FIX, &r->fix, &r->fix_count)) !=
            TB_OK) {
        return err;
    }
    if ((n = map_get(m, "likely_log")) != NULL && (err = compile_likely_log(ld, n, r)) != TB_OK) {
        return err;
    }
    if ((n = map_get(m, "tests")) != NULL && (err = compile_tests(ld, n, r)) != TB_OK) {
        return err;
    }
    if (r->id == NULL || r->title == NULL || r->origin == NULL ||
        (r->rejected_by_fact < 0 && r->rejected_by == NULL)) {
        return nomem(ld, m);
    }
    *out = r;
    return TB_OK;
}

static enum tb_err compile_file(struct ld *ld, const struct yn *root)
{
    const struct yn *list = root;

    if (root == NULL) {
        return TB_OK; /* an empty file holds no rules */
    }
    if (root->kind == YN_SCALAR) {
        bool b;
        int64_t i;
        double d;
        if (scalar_kind(root, &b, &i, &d) == SC_NULL) {
            return TB_OK;
        }
        return bad(ld, root, "a rule file is a list of rules (or a map with 'rules:')");
    }
    if (root->kind == YN_MAP) {
        enum tb_err err = check_map(ld, root, "the top level");
        if (err != TB_OK) {
            return err;
        }
        for (size_t k = 0; k < root->count; k += 2) {
            if (strcmp(root->kids[k]->text, "rules") != 0) {
                return bad(ld, root->kids[k], "unknown top-level key '%s' (expected 'rules')",
                           root->kids[k]->text);
            }
        }
        list = map_get(root, "rules");
        if (list == NULL || list->kind != YN_SEQ) {
            return bad(ld, list != NULL ? list : root, "'rules' must be a list of rules");
        }
    }
    for (size_t i = 0; i < list->count; i++) {
        struct tb_rule *r = NULL;
        enum tb_err err;

        if (ld->pending_count == TB_MAX_RULES) {
            return bad(ld, list->kids[i], "more than %d rules", TB_MAX_RULES);
        }
        err = compile_rule(ld, list->kids[i], &r);
        if (err != TB_OK) {
            return err;
        }
        ld->pending[ld->pending_count++] = r;
    }
    return TB_OK;
}

/* A file's rules join the set only once all of them compiled. */
static enum tb_err commit(struct ld *ld)
{
    struct tb_ruleset *set = ld->set;
    size_t appends = 0;

    for (size_t i = 0; i < ld->pending_count; i++) {
        bool found = false;
        for (size_t j = 0; j < set->count && !found; j++) {
            found = strcmp(set->rules[j]->id, ld->pending[i]->id) == 0;
        }
        appends += !found;
    }
    if (appends > TB_MAX_RULES - set->count) {
        return bad_at(ld, 1, 1, "more than %d rules in all", TB_MAX_RULES);
    }
    for (size_t i = 0; i < ld->pending_count; i++) {
        size_t j;
        for (j = 0; j < set->count; j++) {
            if (strcmp(set->rules[j]->id, ld->pending[i]->id) == 0) {
                break;
            }
        }
        /* An override keeps the overridden rule's place, so ties still rank the same. */
        set->rules[j] = ld->pending[i];
        if (j == set->count) {
            set->count++;
        }
    }
    return TB_OK;
}

static enum tb_err load_buffer(struct tb_ruleset *set, const char *name, const char *text,
                               size_t len)
{
    struct ld *ld = NULL;
    yaml_parser_t parser;
    bool have_parser = false;
    struct yn *root = NULL;
    enum tb_err err;

    ld = calloc(1, sizeof *ld); /* 8 KiB of pending pointers: not on the stack */
    if (ld == NULL) {
        return TB_ERR_NOMEM;
    }
    ld->set = set;
    ld->name = name;
    tb_arena_init(&ld->tree, TB_RULE_TREE_ARENA_CAP);
    if (len > TB_MAX_RULE_FILE) {
        err = bad_at(ld, 1, 1, "rule file is larger than %u bytes", TB_MAX_RULE_FILE);
        goto out;
    }
    if (!yaml_parser_initialize(&parser)) {
        err = TB_ERR_NOMEM;
        goto out;
    }
    have_parser = true;
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    err = parse_tree(ld, &parser, &root);
    if (err == TB_OK) {
        err = compile_file(ld, root);
    }
    if (err == TB_OK) {
        err = commit(ld);
    }
out:
    if (have_parser) {
        yaml_parser_delete(&parser);
    }
    tb_arena_reset(&ld->tree);
    free(ld);
    return err;
}

/* ---- public ------------------------------------------------------------- */

struct tb_ruleset *tb_ruleset_new(void)
{
    struct tb_ruleset *set = calloc(1, sizeof *set);

    if (set != NULL) {
        tb_arena_init(&set->mem, TB_RULESET_ARENA_CAP);
    }
    return set;
}

void tb_ruleset_free(struct tb_ruleset *set)
{
    if (set == NULL) {
        return;
    }
    for (struct tb_rule_regex *rx = set->regexes; rx != NULL; rx = rx->next) {
        regfree(&rx->re);
    }
    tb_arena_reset(&set->mem);
    free(set);
}

size_t tb_rules_count(const struct tb_ruleset *set)
{
    return set != NULL ? set->count : 0;
}

const char *tb_rules_id(const struct tb_ruleset *set, size_t i)
{
    return set != NULL && i < set->count ? set->rules[i]->id : NULL;
}

const struct tb_rule *tb_rules_get(const struct tb_ruleset *set, size_t i)
{
    return set != NULL && i < set->count ? set->rules[i] : NULL;
}

enum tb_err tb_rules_load_string(struct tb_ruleset *set, const char *name, const char *text,
                                 size_t len)
{
    set->load_gen++;
    return load_buffer(set, name, text, len);
}

static enum tb_err load_file_gen(struct tb_ruleset *set, const char *path)
{
    enum tb_err err = TB_ERR_IO;
    struct tb_buf b;
    char chunk[16384];
    FILE *fp = fopen(path, "rb");
    struct stat st;

    tb_buf_init(&b, TB_MAX_RULE_FILE + 1);
    if (fp == NULL) {
        tb_diag_errno(path, "cannot open rule file");
        goto out;
    }
    if (fstat(fileno(fp), &st) == 0 && S_ISDIR(st.st_mode)) {
        errno = EISDIR;
        tb_diag_errno(path, "cannot read rule file");
        goto out;
    }
    for (;;) {
        size_t n = fread(chunk, 1, sizeof chunk, fp);
        enum tb_err e = n > 0 ? tb_buf_append(&b, chunk, n) : TB_OK;
        if (e == TB_ERR_CAP) {
            struct tb_where w = {.file = path, .frame = 0, .stage = NULL, .offset = -1};
            tb_diag(&w, "rule file is larger than %u bytes", TB_MAX_RULE_FILE);
        }
        if (e != TB_OK) {
            err = e;
            goto out;
        }
        if (n < sizeof chunk) {
            break;
        }
    }
    if (ferror(fp)) {
        tb_diag_errno(path, "cannot read rule file");
        goto out;
    }
    err = load_buffer(set, path, b.len > 0 ? (const char *)b.bytes : "", b.len);
out:
    tb_buf_fini(&b);
    if (fp != NULL) {
        (void)fclose(fp); /* read-only: nothing to flush */
    }
    return err;
}

enum tb_err tb_rules_load_file(struct tb_ruleset *set, const char *path)
{
    set->load_gen++;
    return load_file_gen(set, path);
}

static bool is_rule_file(const char *name)
{
    size_t n = strlen(name);

    if (name[0] == '.') {
        return false; /* editor backups and hidden files */
    }
    return (n > 5 && strcmp(name + n - 5, ".yaml") == 0) ||
           (n > 4 && strcmp(name + n - 4, ".yml") == 0);
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

enum tb_err tb_rules_load_dir(struct tb_ruleset *set, const char *dir)
{
    enum tb_err err = TB_OK;
    DIR *d = NULL;
    char **names = NULL;
    size_t count = 0, cap = 0;
    struct dirent *de;

    set->load_gen++;
    d = opendir(dir);
    if (d == NULL) {
        tb_diag_errno(dir, "cannot open rule directory");
        err = TB_ERR_IO;
        goto out;
    }
    while ((de = readdir(d)) != NULL) {
        if (!is_rule_file(de->d_name)) {
            continue;
        }
        if (count == TB_MAX_RULES) {
            struct tb_where w = {.file = dir, .frame = 0, .stage = NULL, .offset = -1};
            tb_diag(&w, "more than %d rule files", TB_MAX_RULES);
            err = TB_ERR_CAP;
            goto out;
        }
        if (count == cap) {
            size_t ncap = cap == 0 ? 16 : cap * 2;
            char **nn = realloc(names, ncap * sizeof *nn);
            if (nn == NULL) {
                err = TB_ERR_NOMEM;
                goto out;
            }
            names = nn;
            cap = ncap;
        }
        names[count] = strdup(de->d_name);
        if (names[count] == NULL) {
            err = TB_ERR_NOMEM;
            goto out;
        }
        count++;
    }
    /* Sorted, so that rule order (and ranking ties) does not depend on readdir. */
    if (count > 0) {
        qsort(names, count, sizeof *names, cmp_names);
    }
    for (size_t i = 0; i < count; i++) {
        char path[4096];
        size_t dlen = strlen(dir);
        int n = snprintf(path, sizeof path, "%s%s%s", dir,
                         dlen > 0 && dir[dlen - 1] == '/' ? "" : "/", names[i]);
        enum tb_err e;
        if (n < 0 || (size_t)n >= sizeof path) {
            struct tb_where w = {.file = dir, .frame = 0, .stage = NULL, .offset = -1};
            tb_diag(&w, "path too long: %s", names[i]);
            e = TB_ERR_CAP;
        } else {
            e = load_file_gen(set, path); /* keep going: report every broken file */
        }
        if (e != TB_OK && err == TB_OK) {
            err = e;
        }
    }
out:
    for (size_t i = 0; i < count; i++) {
        free(names[i]);
    }
    free(names);
    if (d != NULL) {
        (void)closedir(d); /* read-only */
    }
    return err;
}

const char *tb_rules_yaml_version(void)
{
    return yaml_get_version_string();
}
