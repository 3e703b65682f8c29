#ifndef TLSBLAME_PIPELINE_H
#define TLSBLAME_PIPELINE_H
/*
 * pipeline.h - the run configuration (filled by main.c) and the coordinator
 * that calls the stages in order for files, directories and interfaces.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define TB_MAX_INPUTS 4096
#define TB_MAX_RULE_DIRS 16

enum tb_color { TB_COLOR_AUTO, TB_COLOR_ALWAYS, TB_COLOR_NEVER };

struct tb_config {
    const char *inputs[TB_MAX_INPUTS];
    size_t input_count;
    const char *from_file;        /* --from: one path per line */
    const char *iface;            /* -i */
    const char *filter;           /* -f or trailing expression */
    bool json;
    const char *keylogs[8];
    size_t keylog_count;
    const char *ca_file;
    const char *rule_dirs[TB_MAX_RULE_DIRS];
    size_t rule_dir_count;
    bool no_default_rules;
    bool only_failures;
    bool summary_only;
    int jobs;
    int verbosity;                /* -q: -1 */
    enum tb_color color;
    const char *export_certs;
    const char *write_path;       /* -w (live) */
    const char *user;             /* -Z */
    bool no_promisc;              /* -p */
    int snaplen;                  /* -s */
    uint64_t count;               /* -c */
    size_t max_flows;
    int idle_timeout_s;
    bool no_ndpi;                 /* internal (fuzzing): skip nDPI, whose setup costs ~25 ms */
};

void tb_config_defaults(struct tb_config *cfg);
/* Runs everything; returns the process exit status (INTERFACE.md). */
int tb_pipeline_run(const struct tb_config *cfg);
/* --check-rules DIR: 0 when every file loads, 2 otherwise. */
int tb_pipeline_check_rules(const char *dir);
/* --list-rule-tests: the loaded rules' test captures (tests/rules/run.sh). */
int tb_pipeline_list_rule_tests(const struct tb_config *cfg);
/*
 * One capture through every stage, sessions reported to out (no summary),
 * for tests and fuzzing; the command line goes through tb_pipeline_run().
 * rules may be NULL to load them per cfg. Returns 0, or 2 when the input
 * could not be read or the rules did not load.
 */
struct tb_ruleset;
int tb_pipeline_analyze_file(const struct tb_config *cfg, struct tb_ruleset *rules,
                             const char *path, FILE *out);

/* Default rules directory: the installed one, or the source tree's when running from it. */
const char *tb_default_rule_dir(void);

#endif
