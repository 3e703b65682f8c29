/*
 * test_rules.c - the rule loader and evaluator: every default rule file loads,
 * each modifier and type check behaves, broken files give the exact message
 * in tests/rules/NAME.expected, user directories override by id, ranking and
 * confidence follow the documented arithmetic, each cause of the failure
 * catalogue comes out on top for a hand-built fact set, and the fact
 * catalogue in tlsblame-rules(5) matches tb_fact_table both ways.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "rules_int.h"
#include "tlsblame/facts.h"
#include "tlsblame/rules.h"

#ifndef TB_SRC_RULEDIR
#define TB_SRC_RULEDIR "rules"
#endif

static struct tb_ruleset *defaults;
static struct tb_arena arena;
static char repo_root[2048];

/* ---- helpers ------------------------------------------------------------ */

static void set_b(struct tb_facts *f, enum tb_fact_id id, bool b)
{
    assert_int_equal(tb_fact_table[id].type, TB_FT_BOOL);
    f->v[id].known = true;
    f->v[id].b = b;
}

static void set_i(struct tb_facts *f, enum tb_fact_id id, int64_t i)
{
    assert_int_equal(tb_fact_table[id].type, TB_FT_INT);
    f->v[id].known = true;
    f->v[id].i = i;
}

static void set_s(struct tb_facts *f, enum tb_fact_id id, const char *s)
{
    assert_int_equal(tb_fact_table[id].type, TB_FT_STR);
    f->v[id].known = true;
    f->v[id].s = s;
}

static void set_l(struct tb_facts *f, enum tb_fact_id id, const char *const *list, size_t n)
{
    assert_int_equal(tb_fact_table[id].type, TB_FT_LIST);
    f->v[id].known = true;
    f->v[id].list = list;
    f->v[id].list_count = n;
}

/* Runs load_string with stderr captured into msg. */
static enum tb_err load_capture(struct tb_ruleset *set, const char *name, const char *text,
                                const char *path, char *msg, size_t msg_len)
{
    FILE *tmp = tmpfile();
    int saved;
    enum tb_err err;
    size_t n;

    assert_non_null(tmp);
    fflush(stderr);
    saved = dup(2);
    assert_true(saved >= 0);
    assert_true(dup2(fileno(tmp), 2) >= 0);
    if (path != NULL) {
        err = tb_rules_load_file(set, path);
    } else {
        err = tb_rules_load_string(set, name, text, strlen(text));
    }
    fflush(stderr);
    assert_true(dup2(saved, 2) >= 0);
    close(saved);
    rewind(tmp);
    n = fread(msg, 1, msg_len - 1, tmp);
    msg[n] = '\0';
    fclose(tmp);
    return err;
}

static enum tb_err load_err(const char *text, char *msg, size_t msg_len)
{
    struct tb_ruleset *set = tb_ruleset_new();
    enum tb_err err;

    assert_non_null(set);
    err = load_capture(set, "t.yaml", text, NULL, msg, msg_len);
    tb_ruleset_free(set);
    return err;
}

/* A rule file with one rule whose condition block is `when` (YAML flow map). */
static struct tb_ruleset *one_rule(const char *when)
{
    char text[4096];
    struct tb_ruleset *set = tb_ruleset_new();
    char msg[1024];

    assert_non_null(set);
    snprintf(text, sizeof text,
             "- id: r\n  title: t\n  cause: unknown\n  rejected_by: server\n"
             "  rejected: unknown\n  score: 0.5\n  summary: s\n  when: %s\n",
             when);
    enum tb_err err = load_capture(set, "t.yaml", text, NULL, msg, sizeof msg);
    if (err != TB_OK) {
        fail_msg("rule did not load: %s", msg);
    }
    return set;
}

static bool fires(const char *when, const struct tb_facts *f)
{
    struct tb_ruleset *set = one_rule(when);
    struct tb_verdict v;

    tb_rules_eval(set, f, &arena, &v);
    tb_ruleset_free(set);
    return v.present;
}

static bool contains(const char *hay, const char *needle)
{
    return hay != NULL && strstr(hay, needle) != NULL;
}

static int setup(void **state)
{
    struct tb_ruleset *set = tb_ruleset_new();
    const char *slash;

    (void)state;
    tb_arena_init(&arena, 1u << 24);
    if (set == NULL || tb_rules_load_dir(set, TB_SRC_RULEDIR) != TB_OK) {
        tb_ruleset_free(set);
        return -1;
    }
    defaults = set;
    slash = strrchr(TB_SRC_RULEDIR, '/');
    if (slash == NULL) {
        snprintf(repo_root, sizeof repo_root, ".");
    } else {
        snprintf(repo_root, sizeof repo_root, "%.*s", (int)(slash - TB_SRC_RULEDIR),
                 TB_SRC_RULEDIR);
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tb_ruleset_free(defaults);
    tb_arena_reset(&arena);
    return 0;
}

/* ---- loading the default rules ----------------------------------------- */

static void test_default_rules_load(void **state)
{
    (void)state;
    assert_true(tb_rules_count(defaults) >= 40);
    for (size_t i = 0; i < tb_rules_count(defaults); i++) {
        const struct tb_rule *r = tb_rules_get(defaults, i);
        assert_non_null(r->explanation.present || r->summary.present ? r : NULL);
        if (r->tests_fires_count == 0) {
            fail_msg("rule %s has no tests.fires sample", r->id);
        }
        for (size_t k = 0; k < r->tests_fires_count; k++) {
            /* a sample capture, or the unit test that stands in for one */
            assert_true(strncmp(r->tests_fires[k], "samples/", 8) == 0 ||
                        strncmp(r->tests_fires[k], "unit:", 5) == 0);
        }
        assert_non_null(r->references);
    }
}

/* Every cause id of INTERFACE.md except the fallback has a default rule. */
static void test_default_rules_cover_causes(void **state)
{
    (void)state;
    for (size_t c = 0; tb_rule_causes[c] != NULL; c++) {
        bool found = false;
        for (size_t i = 0; i < tb_rules_count(defaults) && !found; i++) {
            found = strcmp(tb_rules_get(defaults, i)->cause, tb_rule_causes[c]) == 0;
        }
        if (!found && strcmp(tb_rule_causes[c], "unknown") != 0) {
            fail_msg("no default rule for cause %s", tb_rule_causes[c]);
        }
    }
}

/* ---- modifiers ----------------------------------------------------------- */

static void test_modifiers(void **state)
{
    static const char *const eku[] = {"serverAuth", "codeSigning"};
    struct tb_facts f;

    (void)state;
    memset(&f, 0, sizeof f);
    set_i(&f, TB_F_alert_code, 48);
    set_s(&f, TB_F_alert_by, "server");
    set_s(&f, TB_F_client_leaf_subject, "CN=alice,O=Example");
    set_l(&f, TB_F_client_leaf_eku, eku, 2);
    set_b(&f, TB_F_tls13, false);

    /* eq (default), any-of lists */
    assert_true(fires("{alert_code: 48}", &f));
    assert_false(fires("{alert_code: 46}", &f));
    assert_true(fires("{alert_code: [46, 48]}", &f));
    assert_true(fires("{alert_code|eq: 48}", &f));
    assert_true(fires("{tls13: false}", &f));
    assert_false(fires("{tls13: true}", &f));
    /* in */
    assert_true(fires("{alert_by|in: [client, server]}", &f));
    assert_false(fires("{alert_by|in: [client]}", &f));
    /* gt ge lt le */
    assert_true(fires("{alert_code|gt: 47}", &f));
    assert_false(fires("{alert_code|gt: 48}", &f));
    assert_true(fires("{alert_code|ge: 48}", &f));
    assert_true(fires("{alert_code|lt: 49}", &f));
    assert_false(fires("{alert_code|lt: 48}", &f));
    assert_true(fires("{alert_code|le: 48}", &f));
    assert_false(fires("{alert_code|le: 47}", &f));
    /* text */
    assert_true(fires("{client_leaf_subject|contains: \"CN=alice\"}", &f));
    assert_false(fires("{client_leaf_subject|contains: \"CN=bob\"}", &f));
    assert_true(fires("{client_leaf_subject|startswith: \"CN=\"}", &f));
    assert_false(fires("{client_leaf_subject|startswith: \"O=\"}", &f));
    assert_true(fires("{client_leaf_subject|endswith: \"O=Example\"}", &f));
    assert_false(fires("{client_leaf_subject|endswith: \"CN=\"}", &f));
    assert_true(fires("{client_leaf_subject|re: \"^CN=[a-z]+,O=\"}", &f));
    assert_false(fires("{client_leaf_subject|re: \"^O=\"}", &f));
    /* lists match when any element does */
    assert_true(fires("{client_leaf_eku: serverAuth}", &f));
    assert_false(fires("{client_leaf_eku: clientAuth}", &f));
    assert_true(fires("{client_leaf_eku|startswith: code}", &f));
    assert_true(fires("{client_leaf_eku|not: clientAuth}", &f));
    assert_false(fires("{client_leaf_eku|not: serverAuth}", &f));
    /* exists */
    assert_true(fires("{alert_code|exists: true}", &f));
    assert_false(fires("{alert_code|exists: false}", &f));
    assert_true(fires("{sni|exists: false}", &f));
    assert_false(fires("{sni|exists: true}", &f));
    /* not: known and not matching; unknown never matches a comparison */
    assert_true(fires("{alert_code|not: 46}", &f));
    assert_false(fires("{alert_code|not: 48}", &f));
    assert_true(fires("{alert_code|gt|not: 50}", &f));
    assert_false(fires("{sni: x}", &f));
    assert_false(fires("{sni|not: x}", &f));
    assert_false(fires("{cv_valid: false}", &f));
    assert_false(fires("{cv_valid|not: true}", &f));
    /* groups: any, all, not (a not block is logical negation, unknown included) */
    assert_true(fires("{any: [{alert_code: 1}, {alert_code: 48}]}", &f));
    assert_false(fires("{any: [{alert_code: 1}, {alert_code: 2}]}", &f));
    assert_true(fires("{all: [{alert_code: 48}, {alert_by: server}]}", &f));
    assert_false(fires("{all: [{alert_code: 48}, {alert_by: client}]}", &f));
    assert_true(fires("{alert_code: 48, not: {alert_by: client}}", &f));
    assert_false(fires("{alert_code: 48, not: [{alert_by: client}, {tls13: false}]}", &f));
    assert_true(fires("{alert_code: 48, not: {cv_valid: false}}", &f));
    assert_true(fires("{any: [{all: [{alert_code: 48}, {not: {sni|exists: true}}]}]}", &f));
}

static void test_rule_level_any_not(void **state)
{
    struct tb_facts f;
    char text[] = "- id: r\n  title: t\n  cause: expired\n  rejected_by: server\n"
                  "  rejected: unknown\n  score: 0.6\n  summary: s\n"
                  "  when: {alert_by: server}\n"
                  "  any: [{alert_code: 45}, {server_alert_after_client_finished: true}]\n"
                  "  not: {tls13: true}\n";
    struct tb_ruleset *set = tb_ruleset_new();
    struct tb_verdict v;

    (void)state;
    assert_int_equal(tb_rules_load_string(set, "t", text, strlen(text)), TB_OK);
    memset(&f, 0, sizeof f);
    set_s(&f, TB_F_alert_by, "server");
    tb_rules_eval(set, &f, &arena, &v);
    assert_false(v.present); /* any: neither alternative */
    set_b(&f, TB_F_server_alert_after_client_finished, true);
    tb_rules_eval(set, &f, &arena, &v);
    assert_true(v.present);
    set_b(&f, TB_F_tls13, true);
    tb_rules_eval(set, &f, &arena, &v);
    assert_false(v.present); /* not */
    tb_ruleset_free(set);
}

/* ---- load errors ---------------------------------------------------------- */

#define RULE_HEAD                                                                                  \
    "- id: r\n  title: t\n  cause: unknown\n  rejected_by: server\n  rejected: unknown\n"          \
    "  score: 0.5\n  summary: s\n"

static void expect_error(const char *text, const char *want)
{
    char msg[2048];

    assert_int_not_equal(load_err(text, msg, sizeof msg), TB_OK);
    if (strstr(msg, want) == NULL) {
        fail_msg("expected '%s' in: %s", want, msg);
    }
    assert_true(strncmp(msg, "tlsblame: t.yaml:", 17) == 0);
}

static void test_type_errors(void **state)
{
    (void)state;
    expect_error(RULE_HEAD "  when: {alert_code: bad_certificate}\n",
                 "t.yaml:8:22: type error: fact 'alert_code' is an int; 'bad_certificate' is a "
                 "string");
    expect_error(RULE_HEAD "  when: {alert_code: \"48\"}\n", "fact 'alert_code' is an int");
    expect_error(RULE_HEAD "  when: {sni: 42}\n", "fact 'sni' is a string; '42' is an int");
    expect_error(RULE_HEAD "  when: {tls13: yes}\n", "fact 'tls13' is a bool; 'yes' is a string");
    expect_error(RULE_HEAD "  when: {tls13: 1}\n", "fact 'tls13' is a bool");
    expect_error(RULE_HEAD "  when: {sni|gt: 3}\n", "modifier 'gt' compares numbers");
    expect_error(RULE_HEAD "  when: {alert_code|contains: \"4\"}\n",
                 "modifier 'contains' matches text; fact 'alert_code' is an int");
    expect_error(RULE_HEAD "  when: {sni|exists: maybe}\n", "takes true or false");
    expect_error(RULE_HEAD "  when: {sni: }\n", "empty value for 'sni'");
    expect_error(RULE_HEAD "  when: {sni: [a, [b]]}\n", "must be a scalar");
    expect_error(RULE_HEAD "  when: {sni: []}\n", "empty list of values");
    expect_error(RULE_HEAD "  when: {client_leaf_eku: 3}\n", "is a list of strings");
}

static void test_structure_errors(void **state)
{
    (void)state;
    expect_error(RULE_HEAD "  when: {no_such_fact: 1}\n", "unknown fact 'no_such_fact'");
    expect_error(RULE_HEAD "  when: {sni|regex: x}\n", "unknown modifier 'regex'");
    expect_error(RULE_HEAD "  when: {alert_code|gt|lt: 1}\n", "two comparison modifiers");
    expect_error(RULE_HEAD "  when: {sni|not|not: x}\n", "'not' given twice");
    expect_error(RULE_HEAD "  when: {sni|exists|not: true}\n", "rather than 'exists|not'");
    expect_error(RULE_HEAD "  when: {sni|re: \"(\"}\n", "bad regular expression");
    expect_error(RULE_HEAD "  when: {sni|re: \"x{255}{255}{255}\"}\n",
                 "regular expression too complex");
    expect_error(RULE_HEAD "  when: {sni|re: \"x{2,5000}\"}\n", "regular expression too complex");
    expect_error(RULE_HEAD "  when: {sni|re: \"s++\"}\n", "regular expression too complex");
    expect_error(RULE_HEAD "  when: {sni|re: \"(a+b+c+d+e+f+g+h+i+)\"}\n",
                 "regular expression too complex");
    assert_false(fires("{sni|re: \"a{2}b{3,4}\"}", &(struct tb_facts){0}));
    assert_false(fires("{sni|re: \"^(a|b)+[.]c*\\\\+$\"}", &(struct tb_facts){0}));
    expect_error(RULE_HEAD "  when: {}\n", "empty condition block");
    expect_error(RULE_HEAD "  when: {any: {sni: x}}\n", "'any' takes a list of condition maps");
    expect_error(RULE_HEAD "  when: {sni: a, sni: b}\n", "duplicate key 'sni'");
    expect_error(RULE_HEAD "  when: {sni: a}\n  colour: red\n", "unknown key 'colour' in rule 'r'");
    expect_error("- id: r\n  title: t\n  cause: unknown\n  rejected_by: server\n"
                 "  rejected: unknown\n  summary: s\n  when: {sni: a}\n",
                 "t.yaml:1:3: rule 'r' has no 'score'");
    expect_error("- id: r\n  title: t\n  cause: unknown\n  rejected_by: server\n"
                 "  rejected: unknown\n  score: 0.5\n  summary: s\n",
                 "has no 'when'");
    expect_error(RULE_HEAD "  when: {sni: a}\n- id: r\n  title: t\n  cause: unknown\n"
                           "  rejected_by: server\n  rejected: unknown\n  score: 0.5\n"
                           "  summary: s\n  when: {sni: b}\n",
                 "t.yaml:9:7: duplicate rule id 'r' (first defined at t.yaml:1:3)");
    expect_error("- id: r\n  title: t\n  cause: flaky_network\n  rejected_by: server\n"
                 "  rejected: unknown\n  score: 0.5\n  summary: s\n  when: {sni: a}\n",
                 "unknown cause 'flaky_network'");
    expect_error("- id: r\n  title: t\n  cause: unknown\n  rejected_by: both\n"
                 "  rejected: unknown\n  score: 0.5\n  summary: s\n  when: {sni: a}\n",
                 "'rejected_by' must be client, server, unknown");
    expect_error("- id: r\n  title: t\n  cause: unknown\n  rejected_by: server\n"
                 "  rejected: cookies\n  score: 0.5\n  summary: s\n  when: {sni: a}\n",
                 "unknown 'rejected' value 'cookies'");
    expect_error("- id: r\n  title: t\n  cause: unknown\n  rejected_by: server\n"
                 "  rejected: unknown\n  score: 1.5\n  summary: s\n  when: {sni: a}\n",
                 "'score' 1.5 is outside 0..1");
    expect_error("- id: Bad_ID\n  title: t\n  cause: unknown\n  rejected_by: server\n"
                 "  rejected: unknown\n  score: 0.5\n  summary: s\n  when: {sni: a}\n",
                 "rule id 'Bad_ID' must be");
    expect_error(RULE_HEAD "  when: {sni: a}\n  boost: [{when: {sni: a}}]\n",
                 "a boost needs 'when' and 'score'");
    expect_error(RULE_HEAD "  when: {sni: a}\n  likely_log: [{stack: X, alert: lots, log: y}]\n",
                 "'alert' takes alert codes 0..255 or 'close'");
    expect_error(RULE_HEAD "  when: {sni: a}\n  tests: {fire: [a]}\n", "unknown key 'fire'");
    expect_error(RULE_HEAD "  when: {sni: a}\n  evidence: [a, b, c, d, e, f, g, h, i, j, k, l, m]\n",
                 "evidence has 13 entries");
    /* YAML itself */
    expect_error("- id: r\n  title: [unclosed\n", "t.yaml:3:1: YAML: did not find expected ',' or ']'");
    expect_error("- &a {id: r}\n- *a\n", "YAML aliases (*a) are not allowed");
    expect_error("- !!str x\n", "YAML tags (tag:yaml.org,2002:str) are not allowed");
    expect_error("rules: 3\n", "'rules' must be a list of rules");
    expect_error("hello: []\n", "unknown top-level key 'hello'");
    expect_error("just text\n", "a rule file is a list of rules");
    expect_error("- a\n---\n- b\n", "one YAML document per rule file");
}

static void test_depth_cap(void **state)
{
    char text[512];
    size_t n = 0;

    (void)state;
    for (int i = 0; i < TB_MAX_DEPTH + 5; i++) {
        text[n++] = '[';
    }
    for (int i = 0; i < TB_MAX_DEPTH + 5; i++) {
        text[n++] = ']';
    }
    text[n] = '\0';
    expect_error(text, "nesting deeper than 32 levels");
}

static void test_size_cap(void **state)
{
    size_t len = TB_MAX_RULE_FILE + 1;
    char *big = malloc(len + 1);
    struct tb_ruleset *set = tb_ruleset_new();
    FILE *tmp = tmpfile();
    int saved;

    (void)state;
    assert_non_null(big);
    memset(big, '#', len);
    big[len] = '\0';
    fflush(stderr);
    saved = dup(2);
    assert_true(dup2(fileno(tmp), 2) >= 0);
    assert_int_not_equal(tb_rules_load_string(set, "big.yaml", big, len), TB_OK);
    assert_int_equal(tb_rules_load_string(set, "empty.yaml", "", 0), TB_OK);
    assert_int_equal(tb_rules_load_string(set, "comment.yaml", "# nothing\n", 10), TB_OK);
    fflush(stderr);
    assert_true(dup2(saved, 2) >= 0);
    close(saved);
    fclose(tmp);
    assert_int_equal(tb_rules_count(set), 0);
    tb_ruleset_free(set);
    free(big);
}

/* tests/rules/NAME.yaml must fail with exactly the line in NAME.expected. */
static void test_broken_rule_files(void **state)
{
    static const char *const names[] = {"bad-yaml",        "unknown-fact",    "type-error",
                                        "unknown-modifier", "duplicate-id",   "bad-placeholder",
                                        "unknown-key",     "missing-key",     NULL};
    char cwd[4096];

    (void)state;
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(repo_root), 0);
    for (size_t i = 0; names[i] != NULL; i++) {
        char path[256], exp_path[256], want[2048], got[2048];
        struct tb_ruleset *set = tb_ruleset_new();
        FILE *fp;
        size_t n;

        snprintf(path, sizeof path, "tests/rules/%s.yaml", names[i]);
        snprintf(exp_path, sizeof exp_path, "tests/rules/%s.expected", names[i]);
        fp = fopen(exp_path, "r");
        if (fp == NULL) {
            fail_msg("missing %s", exp_path);
        }
        n = fread(want, 1, sizeof want - 1, fp);
        want[n] = '\0';
        fclose(fp);
        assert_int_not_equal(load_capture(set, NULL, NULL, path, got, sizeof got), TB_OK);
        if (strcmp(got, want) != 0) {
            fail_msg("%s:\n got: %s want: %s", path, got, want);
        }
        assert_int_equal(tb_rules_count(set), 0); /* a broken file adds nothing */
        tb_ruleset_free(set);
    }
    assert_int_equal(chdir(cwd), 0);
}

/* ---- templates ------------------------------------------------------------ */

static void test_placeholders(void **state)
{
    static const char *const names[] = {"CN=A", "CN=B"};
    const char *text = "- id: r\n  title: t\n  cause: unknown_ca\n  rejected_by: \"{alert_by}\"\n"
                       "  rejected: client_certificate\n  score: 0.5\n"
                       "  summary: \"{{literal}} code {alert_code} from {server}, sni {sni}\"\n"
                       "  explanation: \"cas: {cr_ca_names}; tls13 {tls13}\"\n"
                       "  evidence: [\"known {alert_code}\", \"unknown {sni}\", \"plain\"]\n"
                       "  fix: [\"fix for {sni}\", \"always\"]\n"
                       "  likely_log: \"log {alert}\"\n"
                       "  when: {alert_code: 48}\n";
    struct tb_ruleset *set = tb_ruleset_new();
    struct tb_facts f;
    struct tb_verdict v;

    (void)state;
    assert_int_equal(tb_rules_load_string(set, "t", text, strlen(text)), TB_OK);
    memset(&f, 0, sizeof f);
    set_i(&f, TB_F_alert_code, 48);
    set_s(&f, TB_F_alert, "unknown_ca");
    set_s(&f, TB_F_server, "10.0.0.1:443");
    set_s(&f, TB_F_alert_by, "server");
    set_b(&f, TB_F_tls13, false);
    set_l(&f, TB_F_cr_ca_names, names, 2);
    tb_rules_eval(set, &f, &arena, &v);
    assert_true(v.present);
    assert_string_equal(v.cand[0].summary, "{literal} code 48 from 10.0.0.1:443, sni unknown");
    assert_string_equal(v.cand[0].explanation, "cas: CN=A, CN=B; tls13 false");
    assert_string_equal(v.cand[0].rejected_by, "server");
    assert_string_equal(v.cand[0].likely_log, "log unknown_ca");
    /* evidence and fixes naming an unknown fact are dropped */
    assert_int_equal(v.cand[0].evidence_count, 2);
    assert_string_equal(v.cand[0].evidence[0], "known 48");
    assert_string_equal(v.cand[0].evidence[1], "plain");
    assert_int_equal(v.cand[0].fix_count, 1);
    assert_string_equal(v.cand[0].fix[0], "always");
    tb_ruleset_free(set);

    expect_error(RULE_HEAD "  when: {sni: a}\n  evidence: [\"{no_fact}\"]\n",
                 "evidence: unknown fact 'no_fact' in placeholder {no_fact}");
    expect_error(RULE_HEAD "  when: {sni: a}\n  fix: [\"a {sni\"]\n", "fix: bad placeholder '{sni'");
    expect_error(RULE_HEAD "  when: {sni: a}\n  fix: [\"a } b\"]\n", "fix: unmatched '}'");
    expect_error(RULE_HEAD "  when: {sni: a}\n  explanation: \"{Bad Name}\"\n",
                 "explanation: bad placeholder '{B'");
    expect_error("- id: r\n  title: t\n  cause: unknown\n  rejected_by: \"{alert_code}\"\n"
                 "  rejected: unknown\n  score: 0.5\n  summary: s\n  when: {sni: a}\n",
                 "fact 'alert_code' is an int, not a string naming a side");
}

static void test_likely_log_selection(void **state)
{
    const char *text = RULE_HEAD "  when: {alert_by|exists: false}\n"
                                 "  likely_log:\n"
                                 "    - {stack: A, alert: 48, log: a48}\n"
                                 "    - {stack: B, alert: [46, 48], log: b}\n"
                                 "    - {stack: C, alert: close, log: c}\n"
                                 "    - {stack: D, log: always}\n";
    const char *text2 = "- id: s\n  title: t\n  cause: expired\n  rejected_by: server\n"
                        "  rejected: unknown\n  score: 0.5\n  summary: s\n"
                        "  when: {alert_code|exists: true}\n"
                        "  likely_log: [{stack: A, alert: 48, log: a48}, {stack: B, alert: "
                        "[46, 48], log: b}]\n";
    struct tb_ruleset *set = tb_ruleset_new();
    struct tb_facts f;
    struct tb_verdict v;

    (void)state;
    assert_int_equal(tb_rules_load_string(set, "t", text, strlen(text)), TB_OK);
    assert_int_equal(tb_rules_load_string(set, "t2", text2, strlen(text2)), TB_OK);
    memset(&f, 0, sizeof f);
    tb_rules_eval(set, &f, &arena, &v);
    assert_string_equal(v.cand[0].likely_log, "C: c | D: always");
    set_i(&f, TB_F_alert_code, 46);
    set_s(&f, TB_F_alert_by, "server");
    tb_rules_eval(set, &f, &arena, &v);
    assert_string_equal(v.cand[0].cause, "expired");
    assert_string_equal(v.cand[0].likely_log, "B: b");
    set_i(&f, TB_F_alert_code, 40);
    tb_rules_eval(set, &f, &arena, &v);
    assert_null(v.cand[0].likely_log);
    tb_ruleset_free(set);
}

/* ---- directories and overrides ------------------------------------------- */

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[4096];
    FILE *fp;

    snprintf(path, sizeof path, "%s/%s", dir, name);
    fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

static void remove_dir(const char *dir, const char *const *names)
{
    char path[4096];

    for (size_t i = 0; names[i] != NULL; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unlink(path);
    }
    rmdir(dir);
}

static void test_override_by_id(void **state)
{
    char d1[] = "/tmp/tbrulesA.XXXXXX";
    char d2[] = "/tmp/tbrulesB.XXXXXX";
    static const char *const n1[] = {"a.yaml", "b.yml", "notes.txt", NULL};
    static const char *const n2[] = {"mine.yaml", "dup.yaml", NULL};
    const char *rule_a = "- id: one\n  title: default one\n  cause: unknown_ca\n"
                         "  rejected_by: server\n  rejected: unknown\n  score: 0.5\n"
                         "  summary: s\n  when: {sni: a}\n"
                         "- id: two\n  title: default two\n  cause: expired\n"
                         "  rejected_by: server\n  rejected: unknown\n  score: 0.5\n"
                         "  summary: s\n  when: {sni: a}\n";
    const char *rule_b = "rules:\n  - id: three\n    title: three\n    cause: expired\n"
                         "    rejected_by: client\n    rejected: unknown\n    score: 0.5\n"
                         "    summary: s\n    when: {sni: a}\n";
    const char *rule_mine = "- id: one\n  title: user one\n  cause: self_signed\n"
                            "  rejected_by: server\n  rejected: unknown\n  score: 0.9\n"
                            "  summary: s\n  when: {sni: a}\n";
    struct tb_ruleset *set = tb_ruleset_new();
    char msg[2048];

    (void)state;
    assert_non_null(mkdtemp(d1));
    assert_non_null(mkdtemp(d2));
    write_file(d1, "a.yaml", rule_a);
    write_file(d1, "b.yml", rule_b);
    write_file(d1, "notes.txt", "not yaml: [");
    write_file(d2, "mine.yaml", rule_mine);

    assert_int_equal(tb_rules_load_dir(set, d1), TB_OK);
    assert_int_equal(tb_rules_count(set), 3);
    assert_string_equal(tb_rules_id(set, 0), "one");
    assert_string_equal(tb_rules_id(set, 2), "three");
    assert_null(tb_rules_id(set, 3));

    /* a second directory overrides by id and keeps the rule's place */
    assert_int_equal(tb_rules_load_dir(set, d2), TB_OK);
    assert_int_equal(tb_rules_count(set), 3);
    assert_string_equal(tb_rules_get(set, 0)->title, "user one");
    assert_string_equal(tb_rules_get(set, 0)->cause, "self_signed");

    /* a duplicate id within one directory load is an error */
    write_file(d2, "dup.yaml", rule_mine);
    {
        FILE *tmp = tmpfile();
        int saved;
        size_t n;
        fflush(stderr);
        saved = dup(2);
        assert_true(dup2(fileno(tmp), 2) >= 0);
        assert_int_not_equal(tb_rules_load_dir(set, d2), TB_OK);
        fflush(stderr);
        assert_true(dup2(saved, 2) >= 0);
        close(saved);
        rewind(tmp);
        n = fread(msg, 1, sizeof msg - 1, tmp);
        msg[n] = '\0';
        fclose(tmp);
    }
    if (strstr(msg, "/mine.yaml:1:7: duplicate rule id 'one' (first defined at ") == NULL) {
        fail_msg("got: %s", msg);
    }
    assert_non_null(strstr(msg, "/dup.yaml:1:3"));

    assert_int_not_equal(load_capture(set, NULL, NULL, "/nonexistent/x.yaml", msg, sizeof msg),
                         TB_OK);
    assert_non_null(strstr(msg, "tlsblame: /nonexistent/x.yaml: cannot open rule file"));

    remove_dir(d1, n1);
    remove_dir(d2, n2);
    tb_ruleset_free(set);
}

/* ---- ranking and confidence ----------------------------------------------- */

static struct tb_ruleset *scored(const char *spec)
{
    /* spec: "id:cause:score[:boost];..." - boost always fires (on alert_code 1) */
    char text[8192];
    size_t used = 0;
    char copy[512];
    char *item, *next;
    struct tb_ruleset *set = tb_ruleset_new();

    snprintf(copy, sizeof copy, "%s", spec);
    for (item = copy; item != NULL; item = next) {
        char id[64], cause[64];
        next = strchr(item, ';');
        if (next != NULL) {
            *next++ = '\0';
        }
        double score = 0, boost = 0;
        int n = sscanf(item, "%63[^:]:%63[^:]:%lf:%lf", id, cause, &score, &boost);
        assert_true(n >= 3);
        used += (size_t)snprintf(text + used, sizeof text - used,
                                 "- id: %s\n  title: %s\n  cause: %s\n  rejected_by: server\n"
                                 "  rejected: unknown\n  score: %g\n  summary: \"%s\"\n"
                                 "  evidence: [\"from %s\"]\n  when: {alert_code: 1}\n",
                                 id, id, cause, score, id, id);
        if (n == 4) {
            used += (size_t)snprintf(text + used, sizeof text - used,
                                     "  boost: [{when: {alert_code: 1}, score: %g, evidence: "
                                     "\"boost %s\"}]\n",
                                     boost, id);
        }
    }
    assert_int_equal(tb_rules_load_string(set, "s", text, used), TB_OK);
    return set;
}

/* The verdict borrows ids and causes from the ruleset: keep it until the next run. */
static struct tb_ruleset *scored_set;

static void run_scored(const char *spec, struct tb_verdict *v)
{
    struct tb_facts f;

    tb_ruleset_free(scored_set);
    scored_set = spec != NULL ? scored(spec) : NULL;
    if (scored_set == NULL) {
        return;
    }
    memset(&f, 0, sizeof f);
    set_i(&f, TB_F_alert_code, 1);
    tb_rules_eval(scored_set, &f, &arena, v);
}

static void test_ranking(void **state)
{
    struct tb_verdict v;

    (void)state;
    /* ranked by score, ties by rule order; boosts add and clamp */
    run_scored("a:expired:0.3;b:unknown_ca:0.6;c:self_signed:0.6;d:revoked:0.5:0.9", &v);
    assert_true(v.present);
    assert_int_equal(v.cand_count, 4);
    assert_string_equal(v.cand[0].rule_id, "d");
    assert_true(v.cand[0].score == 1.0);
    assert_string_equal(v.cand[1].rule_id, "b");
    assert_string_equal(v.cand[2].rule_id, "c");
    assert_string_equal(v.cand[3].rule_id, "a");
    assert_int_equal(v.rules_fired_count, 4);
    assert_string_equal(v.rules_fired[0], "d");
    assert_string_equal(v.cand[0].evidence[1], "boost d");

    /* same cause merges: the best rule speaks, evidence is the union */
    run_scored("a:expired:0.5;b:expired:0.8;c:unknown_ca:0.3", &v);
    assert_int_equal(v.cand_count, 2);
    assert_string_equal(v.cand[0].rule_id, "b");
    assert_int_equal(v.cand[0].evidence_count, 2);
    assert_string_equal(v.cand[0].evidence[0], "from b");
    assert_string_equal(v.cand[0].evidence[1], "from a");
    assert_int_equal(v.rules_fired_count, 3);

    /* a rule boosted down to 0 is dropped */
    run_scored("a:expired:0.3:-0.5;b:unknown_ca:0.2", &v);
    assert_int_equal(v.cand_count, 1);
    assert_string_equal(v.cand[0].rule_id, "b");
    run_scored("a:expired:0.3:-0.5", &v);
    assert_false(v.present);
    assert_int_equal(v.cand_count, 0);

    /* at most TB_MAX_CANDIDATES candidates */
    run_scored("a:expired:0.1;b:unknown_ca:0.2;c:self_signed:0.3;d:revoked:0.4;e:bad_eku:0.5;"
               "f:weak_key:0.6;g:bad_key_usage:0.7;h:weak_signature:0.8;i:not_yet_valid:0.9",
               &v);
    assert_int_equal(v.cand_count, TB_MAX_CANDIDATES);
    assert_string_equal(v.cand[0].rule_id, "i");
    assert_int_equal(v.rules_fired_count, 9);
    run_scored(NULL, &v);
}

static void test_confidence(void **state)
{
    struct tb_verdict v;

    (void)state;
    run_scored("a:expired:0.8", &v);
    assert_string_equal(v.confidence, "high");
    run_scored("a:expired:0.6:0.15", &v); /* 0.75 exactly, despite float sums */
    assert_string_equal(v.confidence, "high");
    run_scored("a:expired:0.8;b:unknown_ca:0.6", &v);
    assert_string_equal(v.confidence, "high"); /* a gap of 0.2 is enough */
    run_scored("a:expired:0.8;b:unknown_ca:0.65", &v);
    assert_string_equal(v.confidence, "medium");
    run_scored("a:expired:0.8;b:unknown_ca:0.8", &v);
    assert_string_equal(v.confidence, "medium");
    run_scored("a:expired:0.7", &v);
    assert_string_equal(v.confidence, "medium");
    run_scored("a:expired:0.7;b:unknown_ca:0.65", &v);
    assert_string_equal(v.confidence, "low"); /* the evidence cannot separate them */
    run_scored("a:expired:0.7;b:unknown_ca:0.6", &v);
    assert_string_equal(v.confidence, "medium");
    run_scored("a:expired:0.45", &v);
    assert_string_equal(v.confidence, "low");
    run_scored(NULL, &v);
}

/* ---- the default rules on hand-built sessions ----------------------------- */

/* TLS 1.2 mTLS: the server asked, the client sent a sound two-certificate chain. */
static void base_mtls12(struct tb_facts *f)
{
    static const char *const ca_names[] = {"CN=tlsblame Root CA"};
    static const char *const eku[] = {"clientAuth"};

    memset(f, 0, sizeof *f);
    set_s(f, TB_F_outcome, "failed");
    set_s(f, TB_F_version, "TLS 1.2");
    set_b(f, TB_F_tls13, false);
    set_s(f, TB_F_client, "10.0.0.2:51234");
    set_s(f, TB_F_server, "10.0.0.1:443");
    set_s(f, TB_F_sni, "server.test");
    set_b(f, TB_F_client_hello_seen, true);
    set_b(f, TB_F_server_hello_seen, true);
    set_b(f, TB_F_server_cert_seen, true);
    set_b(f, TB_F_handshake_complete, false);
    set_s(f, TB_F_stage, "client_finished");
    set_b(f, TB_F_cert_requested, true);
    set_l(f, TB_F_cr_ca_names, ca_names, 1);
    set_i(f, TB_F_cr_ca_count, 1);
    set_b(f, TB_F_client_sent_certificate, true);
    set_i(f, TB_F_client_cert_count, 2);
    set_s(f, TB_F_client_leaf_subject, "CN=alice");
    set_s(f, TB_F_client_leaf_issuer, "CN=tlsblame Intermediate CA");
    set_l(f, TB_F_client_leaf_eku, eku, 1);
    set_i(f, TB_F_client_chain_length, 2);
    set_b(f, TB_F_client_chain_expired, false);
    set_b(f, TB_F_client_chain_not_yet_valid, false);
    set_b(f, TB_F_client_chain_self_signed, false);
    set_b(f, TB_F_client_chain_missing_intermediate, false);
    set_b(f, TB_F_client_chain_eku_ok, true);
    set_b(f, TB_F_client_chain_ku_ok, true);
    set_b(f, TB_F_client_chain_weak_key, false);
    set_b(f, TB_F_client_chain_weak_signature, false);
    set_b(f, TB_F_client_chain_issuer_in_ca_list, true);
    set_b(f, TB_F_client_chain_key_type_allowed, true);
    set_b(f, TB_F_trust_store, false);
    set_b(f, TB_F_cv_seen, true);
    set_s(f, TB_F_cv_sig_alg, "rsa_pkcs1_sha256");
    set_b(f, TB_F_cv_offered, true);
    set_b(f, TB_F_cv_valid, true);
    set_s(f, TB_F_last_message, "finished");
    set_s(f, TB_F_last_message_by, "client");
}

static void server_alert(struct tb_facts *f, int code, const char *name)
{
    set_s(f, TB_F_alert_by, "server");
    set_i(f, TB_F_alert_code, code);
    set_s(f, TB_F_alert, name);
    set_b(f, TB_F_alert_encrypted, false);
    set_s(f, TB_F_alert_after, "finished");
}

/* TLS 1.2: the client got the server's flight and answered with an alert. */
static void base_client_rejects(struct tb_facts *f, int code, const char *name)
{
    static const char *const san[] = {"DNS:server.test"};

    memset(f, 0, sizeof *f);
    set_s(f, TB_F_outcome, "failed");
    set_b(f, TB_F_tls13, false);
    set_s(f, TB_F_client, "10.0.0.2:51234");
    set_s(f, TB_F_server, "10.0.0.1:443");
    set_s(f, TB_F_sni, "server.test");
    set_b(f, TB_F_server_hello_seen, true);
    set_b(f, TB_F_server_cert_seen, true);
    set_b(f, TB_F_handshake_complete, false);
    set_s(f, TB_F_server_leaf_subject, "CN=server.test");
    set_s(f, TB_F_server_leaf_issuer, "CN=tlsblame Intermediate CA");
    set_l(f, TB_F_server_leaf_san, san, 1);
    set_i(f, TB_F_server_chain_length, 2);
    set_b(f, TB_F_server_chain_expired, false);
    set_b(f, TB_F_server_chain_not_yet_valid, false);
    set_b(f, TB_F_server_chain_self_signed, false);
    set_b(f, TB_F_server_chain_missing_intermediate, false);
    set_b(f, TB_F_server_chain_eku_ok, true);
    set_b(f, TB_F_server_name_matches_sni, true);
    set_s(f, TB_F_alert_by, "client");
    set_i(f, TB_F_alert_code, code);
    set_s(f, TB_F_alert, name);
    set_b(f, TB_F_alert_encrypted, false);
    set_s(f, TB_F_alert_after, "server_hello_done");
}

static struct tb_verdict verdict_for(const struct tb_facts *f)
{
    struct tb_verdict v;

    tb_rules_eval(defaults, f, &arena, &v);
    return v;
}

static void expect_top(const struct tb_facts *f, const char *cause, const char *by,
                       const char *confidence)
{
    struct tb_verdict v = verdict_for(f);

    if (!v.present) {
        fail_msg("no rule fired (wanted %s)", cause);
    }
    if (strcmp(v.cand[0].cause, cause) != 0) {
        fail_msg("top cause %s (rule %s, %.3f), wanted %s", v.cand[0].cause, v.cand[0].rule_id,
                 v.cand[0].score, cause);
    }
    assert_string_equal(v.cand[0].rejected_by, by);
    if (confidence != NULL && strcmp(v.confidence, confidence) != 0) {
        fail_msg("%s: confidence %s, wanted %s (top %.3f, second %.3f)", cause, v.confidence,
                 confidence, v.cand[0].score, v.cand_count > 1 ? v.cand[1].score : 0.0);
    }
    assert_non_null(v.cand[0].summary);
    if (v.cand[0].evidence_count == 0) {
        fail_msg("rule %s gave no evidence", v.cand[0].rule_id);
    }
}

static bool has_candidate(const struct tb_verdict *v, const char *cause)
{
    for (size_t i = 0; i < v->cand_count; i++) {
        if (strcmp(v->cand[i].cause, cause) == 0) {
            return true;
        }
    }
    return false;
}

static void test_server_rejects_client_chain(void **state)
{
    struct tb_facts f;
    struct tb_verdict v;

    (void)state;
    /* OpenSSL, issuer not in the CA list: unknown_ca, high */
    base_mtls12(&f);
    server_alert(&f, 48, "unknown_ca");
    set_b(&f, TB_F_client_chain_issuer_in_ca_list, false);
    expect_top(&f, "unknown_ca", "server", "high");
    v = verdict_for(&f);
    assert_true(contains(v.cand[0].likely_log, "OpenSSL: error:0A000086"));
    assert_false(contains(v.cand[0].likely_log, "Go <= 1.20"));
    assert_true(contains(v.cand[0].summary, "CN=alice"));

    /* unknown_ca for a sound chain without --ca-file: leading, medium */
    base_mtls12(&f);
    server_alert(&f, 48, "unknown_ca");
    expect_top(&f, "unknown_ca", "server", "medium");
    /* ... and with --ca-file saying it does not verify: high */
    set_b(&f, TB_F_trust_store, true);
    set_b(&f, TB_F_client_chain_trusted, false);
    set_s(&f, TB_F_client_chain_verify_error, "unable to get local issuer certificate");
    expect_top(&f, "unknown_ca", "server", "high");

    /* a lone leaf whose issuer is missing: without --ca-file it may as well be
     * issued by an untrusted root, so both candidates stay */
    base_mtls12(&f);
    server_alert(&f, 48, "unknown_ca");
    set_b(&f, TB_F_client_chain_missing_intermediate, true);
    set_s(&f, TB_F_client_chain_missing_issuer, "CN=tlsblame Intermediate CA");
    set_i(&f, TB_F_client_chain_length, 1);
    set_b(&f, TB_F_client_chain_issuer_in_ca_list, false);
    expect_top(&f, "unknown_ca", "server", "medium");
    v = verdict_for(&f);
    assert_true(has_candidate(&v, "missing_intermediate"));
    /* --ca-file settles it */
    set_b(&f, TB_F_trust_store, true);
    set_b(&f, TB_F_client_chain_trusted, false);
    expect_top(&f, "missing_intermediate", "server", "high");
    set_b(&f, TB_F_client_chain_missing_issuer_in_store, true);
    expect_top(&f, "missing_intermediate", "server", "high");
    /* the trust store does not know the issuer either: untrusted, not missing */
    set_b(&f, TB_F_client_chain_missing_issuer_in_store, false);
    expect_top(&f, "unknown_ca", "server", NULL);
    f.v[TB_F_client_chain_missing_issuer_in_store].known = false;
    /* the server lists the leaf's issuer: it does not need the intermediate */
    set_b(&f, TB_F_trust_store, false);
    f.v[TB_F_client_chain_trusted].known = false;
    set_b(&f, TB_F_client_chain_issuer_in_ca_list, true);
    v = verdict_for(&f);
    assert_string_equal(v.cand[0].cause, "unknown_ca");

    base_mtls12(&f);
    server_alert(&f, 48, "unknown_ca");
    set_b(&f, TB_F_client_chain_self_signed, true);
    expect_top(&f, "self_signed", "server", "high");

    base_mtls12(&f);
    server_alert(&f, 45, "certificate_expired");
    set_b(&f, TB_F_client_chain_expired, true);
    set_s(&f, TB_F_client_chain_expired_subject, "CN=alice");
    set_i(&f, TB_F_client_chain_expired_days, 1);
    expect_top(&f, "expired", "server", "high");
    v = verdict_for(&f);
    assert_true(contains(v.cand[0].summary, "expired 1 days before the capture"));

    /* expired cert with 48: OpenSSL failed on trust first */
    base_mtls12(&f);
    server_alert(&f, 48, "unknown_ca");
    set_b(&f, TB_F_client_chain_expired, true);
    expect_top(&f, "unknown_ca", "server", NULL);

    base_mtls12(&f);
    server_alert(&f, 42, "bad_certificate");
    set_b(&f, TB_F_client_chain_not_yet_valid, true);
    set_i(&f, TB_F_client_chain_not_yet_valid_days, 30);
    expect_top(&f, "not_yet_valid", "server", "high");

    base_mtls12(&f);
    server_alert(&f, 44, "certificate_revoked");
    expect_top(&f, "revoked", "server", "high");

    base_mtls12(&f);
    server_alert(&f, 43, "unsupported_certificate");
    set_b(&f, TB_F_client_chain_eku_ok, false);
    expect_top(&f, "bad_eku", "server", "high");

    base_mtls12(&f);
    server_alert(&f, 46, "certificate_unknown");
    set_b(&f, TB_F_client_chain_ku_ok, false);
    expect_top(&f, "bad_key_usage", "server", "high");

    base_mtls12(&f);
    server_alert(&f, 42, "bad_certificate");
    set_b(&f, TB_F_client_chain_weak_key, true);
    set_s(&f, TB_F_client_chain_weak_key_desc, "CN=alice: RSA 1024");
    expect_top(&f, "weak_key", "server", "high");

    base_mtls12(&f);
    server_alert(&f, 42, "bad_certificate");
    set_b(&f, TB_F_client_chain_weak_signature, true);
    set_s(&f, TB_F_client_chain_weak_signature_desc, "CN=alice: sha1WithRSAEncryption");
    expect_top(&f, "weak_signature", "server", "high");

    base_mtls12(&f);
    server_alert(&f, 43, "unsupported_certificate");
    set_b(&f, TB_F_client_chain_key_type_allowed, false);
    expect_top(&f, "unsupported_certificate_type", "server", "high");

    base_mtls12(&f);
    server_alert(&f, 50, "decode_error");
    set_s(&f, TB_F_client_chain_parse_error, "X509 - The CRT/CRL/CSR format is invalid");
    expect_top(&f, "bad_certificate", "server", "high");
}

/* The Java seed: certificate_unknown(46) after the client's Finished. */
static void test_java_seed(void **state)
{
    struct tb_facts f;
    struct tb_verdict v;

    (void)state;
    base_mtls12(&f);
    set_s(&f, TB_F_version, "TLS 1.0");
    server_alert(&f, 46, "certificate_unknown");
    v = verdict_for(&f);
    assert_true(v.present);
    assert_string_equal(v.cand[0].cause, "unknown_ca");
    assert_string_equal(v.cand[0].rejected_by, "server");
    assert_string_equal(v.confidence, "medium");
    assert_true(contains(v.cand[0].summary,
                         "certificate_unknown(46) received by the client after its Finished: the "
                         "server 10.0.0.1:443 (probably Java JSSE, which sends 46 for every "
                         "certificate failure) rejected the client certificate CN=alice"));
    assert_true(contains(v.cand[0].likely_log, "PKIX path building failed"));
    assert_true(has_candidate(&v, "bad_certificate"));
    /* without a key log the client's Finished is an encrypted handshake record */
    set_s(&f, TB_F_alert_after, "encrypted_handshake");
    v = verdict_for(&f);
    assert_string_equal(v.cand[0].rule_id, "server-sends-certificate-unknown");
    set_s(&f, TB_F_alert_after, "finished");

    /* the chain facts rank the Java candidates: expiry is direct evidence */
    set_b(&f, TB_F_client_chain_expired, true);
    set_s(&f, TB_F_client_chain_expired_subject, "CN=alice");
    set_i(&f, TB_F_client_chain_expired_days, 3);
    v = verdict_for(&f);
    assert_string_equal(v.cand[0].cause, "expired");
    assert_string_equal(v.cand[1].cause, "unknown_ca");
    assert_string_equal(v.confidence, "high");

    /* issuer not in the server's CA list: unknown_ca is strong */
    base_mtls12(&f);
    server_alert(&f, 46, "certificate_unknown");
    set_b(&f, TB_F_client_chain_issuer_in_ca_list, false);
    expect_top(&f, "unknown_ca", "server", "high");
}

/* Behaviour seen in the sample captures rather than read in the sources. */
static void test_observed_stacks(void **state)
{
    static const char *const alpn[] = {"h2"};
    struct tb_facts f;
    struct tb_verdict v;

    (void)state;
    /* gnutls-serv 3.7: access_denied(49), then bad_certificate(42), for an expired cert */
    base_mtls12(&f);
    server_alert(&f, 49, "access_denied");
    set_s(&f, TB_F_alert_after, "encrypted_handshake");
    set_b(&f, TB_F_client_chain_expired, true);
    set_s(&f, TB_F_client_chain_expired_subject, "CN=alice");
    set_i(&f, TB_F_client_chain_expired_days, 2);
    expect_top(&f, "expired", "server", "high");
    v = verdict_for(&f);
    assert_true(has_candidate(&v, "bad_certificate"));
    assert_true(contains(v.cand[0].likely_log, "GnuTLS: Error in handshake"));

    /* a server FIN after the ClientHello, then the client's decode_error(50) */
    memset(&f, 0, sizeof f);
    set_s(&f, TB_F_server, "10.0.0.1:443");
    set_b(&f, TB_F_client_hello_seen, true);
    set_b(&f, TB_F_server_hello_seen, false);
    set_b(&f, TB_F_closed_without_alert, false);
    set_s(&f, TB_F_closed_first_by, "server");
    set_s(&f, TB_F_close_kind, "fin");
    set_s(&f, TB_F_alert_by, "client");
    set_i(&f, TB_F_alert_code, 50);
    expect_top(&f, "closed_without_alert", "server", "medium");

    /* the client cannot sign with any scheme of the CertificateRequest */
    base_client_rejects(&f, 40, "handshake_failure");
    set_b(&f, TB_F_cert_requested, true);
    expect_top(&f, "signature_algorithm_mismatch", "client", "medium");
    v = verdict_for(&f);
    assert_string_equal(v.cand[0].rejected, "certificate_request");

    /* Go, TLS 1.3: ServerHello, one short encrypted record, close */
    memset(&f, 0, sizeof f);
    set_b(&f, TB_F_tls13, true);
    set_b(&f, TB_F_server_hello_seen, true);
    set_s(&f, TB_F_stage, "server_hello");
    set_l(&f, TB_F_alpn_offered, alpn, 1);
    set_b(&f, TB_F_closed_without_alert, true);
    set_s(&f, TB_F_closed_first_by, "server");
    set_s(&f, TB_F_last_message_by, "server");
    set_s(&f, TB_F_last_message, "encrypted_handshake");
    expect_top(&f, "no_application_protocol", "server", "medium");

    /* OpenSSL 3 answers a TLS 1.0-only ClientHello with internal_error(80) */
    memset(&f, 0, sizeof f);
    set_b(&f, TB_F_server_hello_seen, false);
    set_s(&f, TB_F_alert_by, "server");
    set_i(&f, TB_F_alert_code, 80);
    set_s(&f, TB_F_client_max_version, "TLS 1.0");
    expect_top(&f, "protocol_version", "server", "high");

    /* OpenSSL TLS 1.3 client: plaintext alert, encrypted certificate */
    memset(&f, 0, sizeof f);
    set_b(&f, TB_F_tls13, true);
    set_s(&f, TB_F_sni, "server.test");
    set_b(&f, TB_F_server_cert_seen, false);
    set_s(&f, TB_F_alert_by, "client");
    set_b(&f, TB_F_alert_encrypted, false);
    set_i(&f, TB_F_alert_code, 48);
    expect_top(&f, "unknown_ca", "client", "medium");
    set_i(&f, TB_F_alert_code, 42);
    expect_top(&f, "hostname_mismatch", "client", "medium");
}

static void test_no_client_certificate(void **state)
{
    struct tb_facts f;
    struct tb_verdict v;

    (void)state;
    base_mtls12(&f);
    set_b(&f, TB_F_client_sent_certificate, false);
    set_i(&f, TB_F_client_cert_count, 0);
    f.v[TB_F_client_leaf_subject].known = false;
    f.v[TB_F_cv_seen].known = false;
    f.v[TB_F_cv_valid].known = false;
    server_alert(&f, 40, "handshake_failure");
    expect_top(&f, "no_client_certificate", "server", "high");
    v = verdict_for(&f);
    assert_true(contains(v.cand[0].likely_log, "peer did not return a certificate"));
    assert_true(contains(v.cand[0].evidence[v.cand[0].evidence_count - 1], "CN=tlsblame Root CA"));

    /* TLS 1.3: estimated empty flight, encrypted alert */
    base_mtls12(&f);
    set_b(&f, TB_F_tls13, true);
    set_b(&f, TB_F_client_sent_certificate, false);
    set_b(&f, TB_F_client_cert_estimated, true);
    set_s(&f, TB_F_client_cert_basis, "client flight of 90 bytes");
    set_s(&f, TB_F_alert_by, "server");
    set_b(&f, TB_F_alert_encrypted, true);
    set_b(&f, TB_F_server_alert_after_client_finished, true);
    expect_top(&f, "no_client_certificate", "server", "medium"); /* estimated: less sure */

    /* mbedTLS: silent close */
    base_mtls12(&f);
    set_b(&f, TB_F_client_sent_certificate, false);
    set_b(&f, TB_F_closed_without_alert, true);
    set_s(&f, TB_F_closed_first_by, "server");
    set_s(&f, TB_F_close_kind, "fin");
    expect_top(&f, "no_client_certificate", "server", "high");
}

/* The decrypt_error seed, both ways. */
static void test_certificate_verify(void **state)
{
    struct tb_facts f;
    struct tb_verdict v;

    (void)state;
    base_mtls12(&f);
    server_alert(&f, 51, "decrypt_error");
    set_b(&f, TB_F_cv_valid, false);
    set_s(&f, TB_F_cv_why, "RSA signature does not verify");
    expect_top(&f, "bad_certificate_verify", "server", "high");
    v = verdict_for(&f);
    assert_string_equal(v.cand[0].rejected, "certificate_verify");

    /* Java answers a bad CertificateVerify with handshake_failure(40) */
    base_mtls12(&f);
    server_alert(&f, 40, "handshake_failure");
    set_b(&f, TB_F_cv_valid, false);
    expect_top(&f, "bad_certificate_verify", "server", "high");

    /* valid CertificateVerify, yet 51: the certificate's own signature */
    base_mtls12(&f);
    server_alert(&f, 51, "decrypt_error");
    set_s(&f, TB_F_client_leaf_sig_alg, "sha256WithRSAEncryption");
    expect_top(&f, "unknown_ca", "server", "medium");
    v = verdict_for(&f);
    assert_true(has_candidate(&v, "signature_algorithm_mismatch"));
    assert_false(has_candidate(&v, "bad_certificate_verify"));

    /* not checkable: bad CertificateVerify leads, low/medium */
    base_mtls12(&f);
    server_alert(&f, 51, "decrypt_error");
    f.v[TB_F_cv_valid].known = false;
    set_s(&f, TB_F_cv_why, "TLS 1.3 without keys");
    expect_top(&f, "bad_certificate_verify", "server", "medium");

    /* scheme not offered */
    base_mtls12(&f);
    server_alert(&f, 47, "illegal_parameter");
    set_b(&f, TB_F_cv_offered, false);
    set_s(&f, TB_F_cv_sig_alg, "rsa_pss_rsae_sha512");
    expect_top(&f, "signature_algorithm_mismatch", "server", "high");

    /* SHA-1 refused by policy */
    base_mtls12(&f);
    server_alert(&f, 40, "handshake_failure");
    set_s(&f, TB_F_cv_sig_alg, "rsa_pkcs1_sha1");
    expect_top(&f, "signature_algorithm_mismatch", "server", "high");
}

static void test_tls13_encrypted_rejection(void **state)
{
    struct tb_facts f;

    (void)state;
    base_mtls12(&f);
    set_b(&f, TB_F_tls13, true);
    set_s(&f, TB_F_version, "TLS 1.3");
    set_b(&f, TB_F_client_cert_estimated, true);
    f.v[TB_F_client_chain_issuer_in_ca_list].known = false;
    set_s(&f, TB_F_alert_by, "server");
    set_b(&f, TB_F_alert_encrypted, true);
    set_b(&f, TB_F_server_alert_after_client_finished, true);
    expect_top(&f, "unknown_ca", "server", "medium");
    f.v[TB_F_cert_requested].known = false; /* encrypted CertificateRequest */
    expect_top(&f, "unknown_ca", "server", "medium");
    set_b(&f, TB_F_cert_requested, true);

    /* with a key log the chain facts speak */
    set_b(&f, TB_F_client_chain_expired, true);
    set_s(&f, TB_F_client_chain_expired_subject, "CN=alice");
    set_i(&f, TB_F_client_chain_expired_days, 1);
    set_s(&f, TB_F_alert_after, "finished");
    expect_top(&f, "expired", "server", "high");
}

static void test_client_rejects_server(void **state)
{
    static const char *const wrong_san[] = {"DNS:wrong.test"};
    struct tb_facts f;

    (void)state;
    base_client_rejects(&f, 48, "unknown_ca");
    expect_top(&f, "unknown_ca", "client", "medium");
    set_b(&f, TB_F_trust_store, true);
    set_b(&f, TB_F_server_chain_trusted, false);
    expect_top(&f, "unknown_ca", "client", "high");

    base_client_rejects(&f, 42, "bad_certificate");
    set_b(&f, TB_F_server_name_matches_sni, false);
    set_l(&f, TB_F_server_leaf_san, wrong_san, 1);
    expect_top(&f, "hostname_mismatch", "client", "high");

    base_client_rejects(&f, 46, "certificate_unknown");
    set_b(&f, TB_F_server_name_matches_sni, false);
    expect_top(&f, "hostname_mismatch", "client", "high");

    base_client_rejects(&f, 45, "certificate_expired");
    set_b(&f, TB_F_server_chain_expired, true);
    expect_top(&f, "expired", "client", "high");

    base_client_rejects(&f, 42, "bad_certificate");
    set_b(&f, TB_F_server_chain_not_yet_valid, true);
    expect_top(&f, "not_yet_valid", "client", "high");

    base_client_rejects(&f, 48, "unknown_ca");
    set_b(&f, TB_F_server_chain_self_signed, true);
    expect_top(&f, "self_signed", "client", "high");

    base_client_rejects(&f, 48, "unknown_ca");
    set_b(&f, TB_F_server_chain_missing_intermediate, true);
    set_i(&f, TB_F_server_chain_length, 1);
    set_b(&f, TB_F_trust_store, true);
    set_b(&f, TB_F_server_chain_trusted, false);
    expect_top(&f, "missing_intermediate", "client", "high");

    base_client_rejects(&f, 43, "unsupported_certificate");
    set_b(&f, TB_F_server_chain_eku_ok, false);
    expect_top(&f, "bad_eku", "client", "high");

    base_client_rejects(&f, 44, "certificate_revoked");
    expect_top(&f, "revoked", "client", "high");

    base_client_rejects(&f, 71, "insufficient_security");
    set_b(&f, TB_F_server_chain_weak_key, true);
    expect_top(&f, "weak_key", "client", "high");

    base_client_rejects(&f, 42, "bad_certificate");
    set_b(&f, TB_F_server_chain_weak_signature, true);
    expect_top(&f, "weak_signature", "client", "high");
}

static void test_handshake_causes(void **state)
{
    static const char *const versions[] = {"TLS 1.0"};
    static const char *const alpn[] = {"h2"};
    struct tb_facts f;

    (void)state;
    memset(&f, 0, sizeof f);
    set_s(&f, TB_F_server, "10.0.0.1:443");
    set_b(&f, TB_F_client_hello_seen, true);
    set_b(&f, TB_F_server_hello_seen, false);
    set_s(&f, TB_F_alert_by, "server");
    set_s(&f, TB_F_alert_after, "client_hello");
    set_s(&f, TB_F_client_max_version, "TLS 1.0");
    set_l(&f, TB_F_client_versions, versions, 1);
    set_i(&f, TB_F_alert_code, 70);
    set_s(&f, TB_F_alert, "protocol_version");
    expect_top(&f, "protocol_version", "server", "high");

    set_i(&f, TB_F_alert_code, 40);
    set_s(&f, TB_F_alert, "handshake_failure");
    set_s(&f, TB_F_client_max_version, "TLS 1.3");
    set_i(&f, TB_F_cipher_count, 3);
    expect_top(&f, "no_shared_cipher", "server", "high");

    set_i(&f, TB_F_alert_code, 112);
    set_s(&f, TB_F_sni, "nope.test");
    expect_top(&f, "unrecognized_name", "server", "high");

    set_i(&f, TB_F_alert_code, 120);
    set_l(&f, TB_F_alpn_offered, alpn, 1);
    expect_top(&f, "no_application_protocol", "server", "high");
}

static void test_closes_and_captures(void **state)
{
    struct tb_facts f;
    struct tb_verdict v;

    (void)state;
    /* silent close after the ClientHello */
    memset(&f, 0, sizeof f);
    set_b(&f, TB_F_client_hello_seen, true);
    set_b(&f, TB_F_server_hello_seen, false);
    set_b(&f, TB_F_closed_without_alert, true);
    set_s(&f, TB_F_closed_first_by, "server");
    set_s(&f, TB_F_close_kind, "rst");
    expect_top(&f, "closed_without_alert", "server", "medium");

    /* application_rejected: nginx answers 400 after the handshake */
    base_mtls12(&f);
    set_b(&f, TB_F_handshake_complete, true);
    set_s(&f, TB_F_stage, "application_data");
    set_b(&f, TB_F_server_closed_after_request, true);
    set_i(&f, TB_F_app_records_c2s, 1);
    set_i(&f, TB_F_app_bytes_s2c, 300);
    set_i(&f, TB_F_http_status, 400);
    set_b(&f, TB_F_client_chain_issuer_in_ca_list, false);
    expect_top(&f, "application_rejected", "server", "high");
    v = verdict_for(&f);
    assert_string_equal(v.cand[0].rejected, "application");
    bool saw_nginx_hint = false;
    for (size_t i = 0; i < v.cand[0].evidence_count; i++) {
        saw_nginx_hint |= contains(v.cand[0].evidence[i], "unable to get local issuer");
    }
    assert_true(saw_nginx_hint);

    /* a server that answers 200 and closes first has not rejected anything */
    set_i(&f, TB_F_http_status, 200);
    v = verdict_for(&f);
    assert_false(has_candidate(&v, "application_rejected"));

    /* the capture missed bytes */
    memset(&f, 0, sizeof f);
    set_b(&f, TB_F_handshake_gap, true);
    set_i(&f, TB_F_gap_bytes, 1448);
    expect_top(&f, "incomplete_capture", "unknown", "high");

    memset(&f, 0, sizeof f);
    set_b(&f, TB_F_capture_ended_open, true);
    set_s(&f, TB_F_last_message, "client_hello");
    set_s(&f, TB_F_last_message_by, "client");
    expect_top(&f, "incomplete_capture", "unknown", "high");

    /* a successful session: no rule fires */
    base_mtls12(&f);
    set_s(&f, TB_F_outcome, "success");
    set_b(&f, TB_F_handshake_complete, true);
    set_s(&f, TB_F_stage, "application_data");
    set_i(&f, TB_F_app_records_c2s, 2);
    set_i(&f, TB_F_app_records_s2c, 2);
    set_b(&f, TB_F_server_closed_after_request, false);
    set_b(&f, TB_F_closed_without_alert, false);
    set_s(&f, TB_F_closed_first_by, "client");
    set_s(&f, TB_F_close_notify_by, "client");
    v = verdict_for(&f);
    assert_false(v.present);

    /* nothing known at all: nothing fires */
    memset(&f, 0, sizeof f);
    v = verdict_for(&f);
    assert_false(v.present);
}

/* ---- the man page lists exactly the facts of tb_fact_table ---------------- */

/* Rules no stack installed here produces a capture for (samples/README.md says
 * why): each must fire on the facts of the situation it describes. These are
 * their tests (in the rule files: "fires: [unit:test_rules_without_capture]"). */
static bool rule_fired(const struct tb_verdict *v, const char *id)
{
    for (size_t i = 0; i < v->rules_fired_count; i++) {
        if (strcmp(v->rules_fired[i], id) == 0) {
            return true;
        }
    }
    return false;
}

static void test_rules_without_capture(void **state)
{
    struct tb_facts f;
    struct tb_verdict v;

    (void)state;
    /* a client certificate whose key type the TLS 1.2 certificate_types exclude */
    base_mtls12(&f);
    server_alert(&f, 43, "unsupported_certificate");
    set_s(&f, TB_F_alert_after, "finished");
    set_b(&f, TB_F_client_chain_key_type_allowed, false);
    v = verdict_for(&f);
    assert_true(rule_fired(&v, "server-rejects-client-cert-type"));

    /* a CertificateVerify in a scheme the server did not offer (BoringSSL: 47) */
    base_mtls12(&f);
    server_alert(&f, 47, "illegal_parameter");
    set_b(&f, TB_F_cv_seen, true);
    set_b(&f, TB_F_cv_offered, false);
    set_b(&f, TB_F_cv_valid, true);
    set_s(&f, TB_F_cv_sig_alg, "rsa_pss_rsae_sha512");
    v = verdict_for(&f);
    assert_true(rule_fired(&v, "cv-signature-algorithm-not-offered"));

    /* a SHA-1 CertificateVerify refused by policy */
    base_mtls12(&f);
    server_alert(&f, 40, "handshake_failure");
    set_b(&f, TB_F_cv_seen, true);
    set_s(&f, TB_F_cv_sig_alg, "rsa_pkcs1_sha1");
    v = verdict_for(&f);
    assert_true(rule_fired(&v, "cv-weak-signature-scheme-refused"));

    /* handshake_failure although the CertificateVerify is valid and was offered */
    base_mtls12(&f);
    server_alert(&f, 40, "handshake_failure");
    set_b(&f, TB_F_client_sent_certificate, true);
    set_b(&f, TB_F_cv_seen, true);
    set_b(&f, TB_F_cv_valid, true);
    set_b(&f, TB_F_cv_offered, true);
    v = verdict_for(&f);
    assert_true(rule_fired(&v, "handshake-failure-after-valid-cv"));

    /* BoringSSL closes without an alert on a KeyUsage failure in TLS 1.2 */
    base_mtls12(&f);
    f.v[TB_F_alert_by].known = false;
    f.v[TB_F_alert_code].known = false;
    f.v[TB_F_alert].known = false;
    set_b(&f, TB_F_closed_without_alert, true);
    set_s(&f, TB_F_closed_first_by, "server");
    set_b(&f, TB_F_client_sent_certificate, true);
    set_b(&f, TB_F_client_chain_ku_ok, false);
    v = verdict_for(&f);
    assert_true(rule_fired(&v, "silent-close-bad-key-usage"));
}

static void test_man_page_facts(void **state)
{
    char path[4096];
    char line[1024];
    bool in_facts = false, seen[TB_F__COUNT] = {false};
    bool after_tp = false;
    size_t listed = 0;
    FILE *fp;

    (void)state;
    snprintf(path, sizeof path, "%s/man/tlsblame-rules.5", repo_root);
    fp = fopen(path, "r");
    if (fp == NULL) {
        fail_msg("cannot open %s", path);
    }
    while (fgets(line, sizeof line, fp) != NULL) {
        line[strcspn(line, "\n")] = '\0';
        if (strncmp(line, ".SH ", 4) == 0) {
            in_facts = strcmp(line, ".SH FACTS") == 0;
            continue;
        }
        if (!in_facts) {
            continue;
        }
        if (strcmp(line, ".TP") == 0) {
            after_tp = true;
            continue;
        }
        if (after_tp && strncmp(line, ".B ", 3) == 0) {
            /* ".B name" then "(type) doc" on the next line */
            int id = tb_fact_lookup(line + 3);
            if (id < 0) {
                fail_msg("man page lists '%s', which is not a fact (run tests/gen-fact-man.sh)",
                         line + 3);
            }
            if (seen[id]) {
                fail_msg("man page lists '%s' twice", line + 3);
            }
            seen[id] = true;
            listed++;
            if (fgets(line, sizeof line, fp) == NULL) {
                break;
            }
            char want[32];
            snprintf(want, sizeof want, "(%s)", tb_fact_type_name(tb_fact_table[id].type));
            if (strncmp(line, want, strlen(want)) != 0) {
                fail_msg("man page: %s should be %s", tb_fact_table[id].name, want);
            }
        }
        after_tp = false;
    }
    fclose(fp);
    for (size_t i = 0; i < TB_F__COUNT; i++) {
        if (!seen[i]) {
            fail_msg("fact '%s' is missing from %s (run tests/gen-fact-man.sh)",
                     tb_fact_table[i].name, path);
        }
    }
    assert_int_equal(listed, TB_F__COUNT);
}

/* ---- robustness ----------------------------------------------------------- */

static void test_eval_all_unknown_and_null(void **state)
{
    struct tb_facts f;
    struct tb_verdict v;

    (void)state;
    memset(&f, 0, sizeof f);
    tb_rules_eval(NULL, &f, &arena, &v);
    assert_false(v.present);
    tb_rules_eval(defaults, NULL, &arena, &v);
    assert_false(v.present);
    tb_ruleset_free(NULL);
    assert_int_equal(tb_rules_count(NULL), 0);
    /* a known string fact with a NULL pointer is treated as "" */
    set_s(&f, TB_F_alert_by, NULL);
    v = verdict_for(&f);
    assert_false(v.present);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_rules_load),
        cmocka_unit_test(test_default_rules_cover_causes),
        cmocka_unit_test(test_modifiers),
        cmocka_unit_test(test_rule_level_any_not),
        cmocka_unit_test(test_type_errors),
        cmocka_unit_test(test_structure_errors),
        cmocka_unit_test(test_depth_cap),
        cmocka_unit_test(test_size_cap),
        cmocka_unit_test(test_broken_rule_files),
        cmocka_unit_test(test_placeholders),
        cmocka_unit_test(test_likely_log_selection),
        cmocka_unit_test(test_override_by_id),
        cmocka_unit_test(test_ranking),
        cmocka_unit_test(test_confidence),
        cmocka_unit_test(test_server_rejects_client_chain),
        cmocka_unit_test(test_java_seed),
        cmocka_unit_test(test_observed_stacks),
        cmocka_unit_test(test_no_client_certificate),
        cmocka_unit_test(test_certificate_verify),
        cmocka_unit_test(test_tls13_encrypted_rejection),
        cmocka_unit_test(test_client_rejects_server),
        cmocka_unit_test(test_handshake_causes),
        cmocka_unit_test(test_closes_and_captures),
        cmocka_unit_test(test_man_page_facts),
        cmocka_unit_test(test_eval_all_unknown_and_null),
        cmocka_unit_test(test_rules_without_capture),
    };

    return cmocka_run_group_tests_name("rules", tests, setup, teardown);
}
