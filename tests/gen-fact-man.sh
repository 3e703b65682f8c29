#!/bin/sh
# tests/gen-fact-man.sh [--update]
#
# Prints the FACTS section of man/tlsblame-rules.5 from the fact catalogue in
# include/tlsblame/facts.h (compiled, so the X-macro is read the way the C
# code reads it). With --update, replaces the section in the man page.
# test_rules.c checks the page against tb_fact_table both ways, so a fact
# added to facts.h without re-running this script fails `make check`.
set -eu
cd "$(dirname "$0")/.."
CC=${CC:-cc}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cat > "$tmp/gen.c" <<'CEOF'
#include <stdio.h>
#include "tlsblame/facts.h"

static const char *type_name(enum tb_fact_type t)
{
    switch (t) {
    case TB_FT_BOOL: return "bool";
    case TB_FT_INT: return "int";
    case TB_FT_STR: return "string";
    case TB_FT_LIST: return "list";
    default: return "?";
    }
}

/* groff: a backslash is \e; nothing else in the docs is special mid-line. */
static void put_escaped(const char *s)
{
    for (; *s != '\0'; s++) {
        if (*s == '\\') {
            fputs("\\e", stdout);
        } else {
            putchar(*s);
        }
    }
}

#define TB_GEN(name, type, doc)                                   \
    printf(".TP\n.B %s\n(%s) ", #name, type_name(TB_FT_##type)); \
    put_escaped(doc);                                             \
    putchar('\n');

int main(void)
{
    printf(".SH FACTS\n");
    printf("Generated from include/tlsblame/facts.h by tests/gen-fact-man.sh.\n");
    printf("Every fact may be unknown (null).\n");
    TB_FACTS(TB_GEN)
    return 0;
}
CEOF
$CC -std=c11 -D_DEFAULT_SOURCE -Iinclude -o "$tmp/gen" "$tmp/gen.c"
"$tmp/gen" > "$tmp/facts.man"

if [ "${1:-}" = "--update" ]; then
    page=man/tlsblame-rules.5
    awk -v facts="$tmp/facts.man" '
        /^\.SH FACTS$/ { while ((getline l < facts) > 0) print l; skip = 1; next }
        /^\.SH / { skip = 0 }
        !skip { print }
    ' "$page" > "$tmp/page"
    cat "$tmp/page" > "$page"
else
    cat "$tmp/facts.man"
fi
