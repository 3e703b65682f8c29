#ifndef TLSBLAME_RULES_H
#define TLSBLAME_RULES_H
/*
 * rules.h - the YAML rule engine: rules map facts to verdicts. Rules are
 * compiled once at load (facts resolved to indexes, types checked) and
 * evaluated per session without string lookups.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "tlsblame/arena.h"
#include "tlsblame/err.h"
#include "tlsblame/facts.h"

#define TB_MAX_EVIDENCE 12
#define TB_MAX_FIX 8
#define TB_MAX_RULES_FIRED 16

struct tb_candidate {
    const char *rule_id;
    const char *title;
    const char *cause;       /* INTERFACE.md cause id */
    const char *rejected_by; /* client | server | unknown */
    const char *rejected;    /* client_certificate | server_certificate | ... */
    double score;            /* 0..1 */
    const char *summary;     /* one line, placeholders filled */
    const char *explanation; /* 2-5 sentences, filled */
    const char *evidence[TB_MAX_EVIDENCE];
    size_t evidence_count;
    const char *likely_log;  /* what the rejecting side most likely logged, or NULL */
    const char *fix[TB_MAX_FIX];
    size_t fix_count;
    const char *references;  /* RFC / source references, or NULL */
};

struct tb_verdict {
    bool present;            /* some rule fired */
    const char *confidence;  /* high | medium | low */
    struct tb_candidate cand[TB_MAX_CANDIDATES]; /* ranked; cand[0] is the verdict */
    size_t cand_count;
    const char *rules_fired[TB_MAX_RULES_FIRED];
    size_t rules_fired_count;
};

struct tb_ruleset;

struct tb_ruleset *tb_ruleset_new(void);
void tb_ruleset_free(struct tb_ruleset *set);
/*
 * Load every *.yaml / *.yml file of dir (sorted by name). A rule whose id is
 * already loaded replaces it (user rules override defaults). Any error is
 * printed as "tlsblame: FILE:LINE:COLUMN: message" and returned: the caller
 * stops the run rather than silently lose a rule.
 */
enum tb_err tb_rules_load_dir(struct tb_ruleset *set, const char *dir) TB_MUST_USE;
enum tb_err tb_rules_load_file(struct tb_ruleset *set, const char *path) TB_MUST_USE;
/* Load from a memory buffer (tests, fuzzing); name is used in messages. */
enum tb_err tb_rules_load_string(struct tb_ruleset *set, const char *name, const char *text,
                                 size_t len) TB_MUST_USE;
size_t tb_rules_count(const struct tb_ruleset *set);
/* One line per rule test: "ID<TAB>fires|silent<TAB>capture", "ID<TAB>none<TAB>-" without one. */
void tb_rules_print_tests(const struct tb_ruleset *set, FILE *out);
/* The libyaml version in use (for --version). */
const char *tb_rules_yaml_version(void);
const char *tb_rules_id(const struct tb_ruleset *set, size_t i);
/* Evaluate against a session's facts; strings are allocated in a. */
void tb_rules_eval(const struct tb_ruleset *set, const struct tb_facts *facts, struct tb_arena *a,
                   struct tb_verdict *out);

#endif
