/*
 * facts_table.c - the fact catalogue as data, generated from TB_FACTS so the
 * names in C, YAML and the man page cannot drift.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "tlsblame/facts.h"

const struct tb_fact_desc tb_fact_table[TB_F__COUNT] = {
#define TB_FACT_DESC(name, type, doc) {#name, TB_FT_##type, doc},
    TB_FACTS(TB_FACT_DESC)
#undef TB_FACT_DESC
};

const char *tb_fact_type_name(enum tb_fact_type t)
{
    switch (t) {
    case TB_FT_BOOL:
        return "bool";
    case TB_FT_INT:
        return "int";
    case TB_FT_STR:
        return "string";
    case TB_FT_LIST:
        return "list";
    default:
        return "?";
    }
}

int tb_fact_lookup(const char *name)
{
    for (size_t i = 0; i < TB_F__COUNT; i++) {
        if (strcmp(tb_fact_table[i].name, name) == 0) {
            return (int)i;
        }
    }
    return -1;
}

const char *tb_fact_to_text(const struct tb_fact_value *v, enum tb_fact_type t, struct tb_arena *a)
{
    if (!v->known) {
        return "unknown";
    }
    switch (t) {
    case TB_FT_BOOL:
        return v->b ? "true" : "false";
    case TB_FT_INT:
        return tb_arena_printf(a, "%" PRId64, v->i);
    case TB_FT_STR:
        return v->s != NULL ? v->s : "";
    case TB_FT_LIST: {
        size_t total = 1;
        for (size_t i = 0; i < v->list_count; i++) {
            total += strlen(v->list[i]) + 2;
        }
        char *out = tb_arena_alloc(a, total);
        if (out == NULL) {
            return "";
        }
        size_t used = 0;
        for (size_t i = 0; i < v->list_count; i++) {
            size_t n = strlen(v->list[i]);
            if (i > 0) {
                memcpy(out + used, ", ", 2);
                used += 2;
            }
            memcpy(out + used, v->list[i], n);
            used += n;
        }
        out[used] = '\0';
        return out;
    }
    default:
        return "";
    }
}
