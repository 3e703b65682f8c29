#ifndef TLSBLAME_RULES_INT_H
#define TLSBLAME_RULES_INT_H
/*
 * rules_int.h - the compiled form of a rule, shared by rules_load.c (which
 * builds it from YAML) and rules_eval.c (which runs it on a session's facts).
 * Everything a rule holds lives in its ruleset's arena; compiled regexes are
 * also chained on the ruleset so that tb_ruleset_free() can regfree() them.
 * Conditions refer to facts by index, so evaluation never looks up a name.
 */
#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tlsblame/arena.h"
#include "tlsblame/facts.h"
#include "tlsblame/limits.h"
#include "tlsblame/rules.h"

/* Caps of the rule compiler (rules are input too: a user directory). */
#define TB_RULESET_ARENA_CAP (64u * 1024u * 1024u) /* all compiled rules of one run */
#define TB_RULE_TREE_ARENA_CAP (32u * 1024u * 1024u) /* YAML node tree of one file */
#define TB_MAX_RULE_TEXT (16u * 1024u)                /* one filled-in template */
#define TB_MAX_RULE_ID_LEN 64

/* A comparison operator, the part after "fact|" in a condition key. */
enum tb_rule_op {
    TB_OP_EQ,
    TB_OP_IN,
    TB_OP_GT,
    TB_OP_GE,
    TB_OP_LT,
    TB_OP_LE,
    TB_OP_CONTAINS,
    TB_OP_STARTSWITH,
    TB_OP_ENDSWITH,
    TB_OP_RE,
    TB_OP_EXISTS,
};

struct tb_rule_regex {
    regex_t re;
    struct tb_rule_regex *next; /* the ruleset's list, for regfree() */
};

/* One operand; which member is meaningful follows from the fact type and op. */
struct tb_rule_value {
    bool b;
    int64_t i;
    const char *s;
    size_t s_len;
    const regex_t *re; /* TB_OP_RE */
};

/* fact|op[|not]: value or [values] (any of them). */
struct tb_rule_cond {
    int fact;
    enum tb_rule_op op;
    bool negate; /* |not: the fact is known and matches none of the values */
    const struct tb_rule_value *values;
    size_t value_count;
};

enum tb_rule_group_kind {
    TB_GROUP_ANY,  /* any: at least one block matches */
    TB_GROUP_ALL,  /* all: every block matches */
    TB_GROUP_NONE, /* not: no block matches */
};

struct tb_rule_block;

struct tb_rule_group {
    enum tb_rule_group_kind kind;
    const struct tb_rule_block *blocks;
    size_t block_count;
};

/* A condition map: every condition and every group must hold. */
struct tb_rule_block {
    const struct tb_rule_cond *conds;
    size_t cond_count;
    const struct tb_rule_group *groups;
    size_t group_count;
};

/* A template split at load: literal runs and {fact} references. */
struct tb_rule_piece {
    const char *text; /* literal, fact < 0 */
    size_t len;
    int fact;         /* >= 0: render this fact */
};

struct tb_rule_template {
    const struct tb_rule_piece *pieces;
    size_t piece_count;
    bool present;
};

struct tb_rule_boost {
    struct tb_rule_block when;
    double score; /* may be negative */
    struct tb_rule_template evidence;
};

/* One likely_log entry: chosen when alert_code is in alerts (or on a close). */
struct tb_rule_log {
    const char *stack;
    const int64_t *alerts;
    size_t alert_count;
    bool on_close;   /* alert: close - chosen when no alert code is known */
    bool any_alert;  /* no alert key: always chosen */
    struct tb_rule_template log;
};

struct tb_rule {
    const char *id;
    const char *title;
    const char *cause;       /* points into the cause table: validated */
    const char *rejected;
    const char *rejected_by; /* client | server | unknown, or NULL with rejected_by_fact */
    int rejected_by_fact;    /* "{closed_first_by}": the side comes from a fact */
    double score;
    const char *references;  /* joined with "; " */
    const char *origin;      /* "FILE:LINE:COLUMN" of the rule, for duplicate messages */
    unsigned load_gen;       /* which load call brought it (duplicates vs overrides) */
    struct tb_rule_block when;
    const struct tb_rule_boost *boosts;
    size_t boost_count;
    struct tb_rule_template summary;
    struct tb_rule_template explanation;
    const struct tb_rule_template *evidence;
    size_t evidence_count;
    const struct tb_rule_template *fix;
    size_t fix_count;
    const struct tb_rule_log *logs;
    size_t log_count;
    struct tb_rule_template log_text; /* likely_log given as one string */
    const char *const *tests_fires;   /* sample captures, relative to the repository */
    size_t tests_fires_count;
    const char *const *tests_silent;
    size_t tests_silent_count;
};

struct tb_ruleset {
    struct tb_arena mem;
    struct tb_rule_regex *regexes;
    struct tb_rule *rules[TB_MAX_RULES]; /* in load order; an override keeps the slot */
    size_t count;
    unsigned load_gen;
};

/* The ids INTERFACE.md allows; NULL-terminated. */
extern const char *const tb_rule_causes[];
extern const char *const tb_rule_rejected[];

/* rules_eval.c, exposed for the unit tests. */
bool tb_rule_block_match(const struct tb_rule_block *b, const struct tb_facts *f, unsigned depth);
const struct tb_rule *tb_rules_get(const struct tb_ruleset *set, size_t i);

#endif
