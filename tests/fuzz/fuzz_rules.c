/*
 * fuzz_rules.c - the rule compiler on hostile YAML. A user rule directory is
 * input: whatever it holds must be refused with a message or compiled into
 * rules that evaluate safely. Each input is loaded twice into one ruleset
 * (the second load overrides by id), then evaluated against an all-unknown
 * fact set and against one where every fact is known, so that comparisons,
 * regexes, templates and likely_log selection run on whatever compiled.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "tlsblame/arena.h"
#include "tlsblame/facts.h"
#include "tlsblame/rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fill_known(struct tb_facts *f)
{
    static const char *const list[] = {"clientAuth", "CN=tlsblame Root CA", "h2", ""};

    memset(f, 0, sizeof *f);
    for (size_t i = 0; i < TB_F__COUNT; i++) {
        struct tb_fact_value *v = &f->v[i];
        v->known = true;
        switch (tb_fact_table[i].type) {
        case TB_FT_BOOL:
            v->b = (i % 2) == 0;
            break;
        case TB_FT_INT:
            v->i = (int64_t)(i * 7 % 130); /* covers alert codes 0..129 */
            break;
        case TB_FT_STR:
            v->s = (i % 3) == 0 ? "server" : (i % 3) == 1 ? "client" : "CN=alice,O=Example";
            break;
        case TB_FT_LIST:
            v->list = list;
            v->list_count = i % 5 < 4 ? i % 5 : 4;
            break;
        default:
            break;
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tb_ruleset *set = tb_ruleset_new();
    struct tb_facts facts;
    struct tb_verdict v;
    struct tb_arena arena;

    if (set == NULL) {
        return 0;
    }
    /* The loader takes a length, not a C string: NUL bytes are input too. */
    if (tb_rules_load_string(set, "fuzz.yaml", (const char *)data, size) == TB_OK) {
        /* A second load of the same text overrides every rule by id. */
        if (tb_rules_load_string(set, "fuzz2.yaml", (const char *)data, size) != TB_OK) {
            __builtin_trap(); /* it loaded once, so it must load again */
        }
    }
    tb_arena_init(&arena, 1u << 22);
    memset(&facts, 0, sizeof facts);
    tb_rules_eval(set, &facts, &arena, &v);
    fill_known(&facts);
    tb_rules_eval(set, &facts, &arena, &v);
    for (size_t i = 0; i < v.cand_count; i++) {
        /* touch every string the verdict hands out */
        size_t n = strlen(v.cand[i].cause) + strlen(v.cand[i].rule_id);
        n += v.cand[i].summary != NULL ? strlen(v.cand[i].summary) : 0;
        for (size_t k = 0; k < v.cand[i].evidence_count; k++) {
            n += strlen(v.cand[i].evidence[k]);
        }
        if (n == 0) {
            __builtin_trap();
        }
    }
    tb_arena_reset(&arena);
    tb_ruleset_free(set);
    return 0;
}
