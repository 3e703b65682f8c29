#!/usr/bin/env bash
# Static checks of STYLE.md that a compiler does not make: include confinement,
# banned functions, headers that compile alone, man pages that render cleanly,
# cppcheck when installed. Prints TAP.
set -u
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
bad() { n=$((n + 1)); echo "not ok $n - $1"; }

# confine HEADER-REGEX ALLOWED-FILES...
confine() {
    local re=$1
    shift
    local offenders
    offenders=$(grep -lE "#include <($re)" src/*.c src/util/*.c src/*.h include/tlsblame/*.h 2>/dev/null |
        grep -vxF -f <(printf '%s\n' "$@") || true)
    if [ -z "$offenders" ]; then ok "<$re> only in $*"; else bad "<$re> included outside $*: $offenders"; fi
}
confine 'pcap\.h|pcap/' src/capture.c
confine 'ndpi' src/classify.c src/ndpi_module.c
confine 'yaml\.h' src/rules_load.c
confine 'mbedtls/' src/x509.c src/x509_int.h src/chain.c src/cv.c src/certcache.c src/keylog.c \
    src/decrypt.c src/hash.c

banned=$(grep -nE '\b(sprintf|vsprintf|strcpy|strcat|strtok|atoi|atol|gets)\s*\(' src/*.c src/util/*.c || true)
if [ -z "$banned" ]; then ok "no sprintf/strcpy/strcat/strtok/atoi/gets"; else bad "banned functions: $banned"; fi
if ! grep -nE 'mbedtls_ssl_' src/*.c include/tlsblame/*.h >/dev/null; then
    ok "mbedTLS is never used as a TLS stack (no mbedtls_ssl_*)"
else
    bad "mbedtls_ssl_* used"
fi
if ! grep -nE '\babort\s*\(|\bexit\s*\(' src/*.c src/util/*.c | grep -v '^src/main.c' >/dev/null; then
    ok "only main.c exits; nothing aborts"
else
    bad "exit/abort outside main.c: $(grep -nE '\babort\s*\(|\bexit\s*\(' src/*.c src/util/*.c | grep -v '^src/main.c')"
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
flags=$(pkg-config --cflags libpcap libndpi yaml-0.1 2>/dev/null | sed 's/-I/-isystem /g')
for h in include/tlsblame/*.h; do
    printf '#include "tlsblame/%s"\n' "$(basename "$h")" >"$tmp/h.c"
    # shellcheck disable=SC2086
    if cc -std=c11 -D_DEFAULT_SOURCE -Iinclude -Isrc $flags -Wall -Wextra -Werror -c "$tmp/h.c" -o "$tmp/h.o" 2>"$tmp/err"; then
        ok "$h compiles alone"
    else
        bad "$h does not compile alone: $(head -3 "$tmp/err")"
    fi
done
for m in man/tlsblame.1 man/tlsblame-rules.5; do
    if [ -f "$m" ] && [ -z "$(groff -man -ww -z "$m" 2>&1)" ]; then ok "$m renders without warnings"; else bad "$m renders with warnings: $(groff -man -ww -z "$m" 2>&1 | head -3)"; fi
done
if command -v cppcheck >/dev/null 2>&1; then
    if cppcheck --quiet --error-exitcode=1 --enable=warning,portability --std=c11 -Iinclude -Isrc \
        --suppress=missingIncludeSystem --suppress=ctuuninitvar src src/util >"$tmp/cpp" 2>&1; then
        ok "cppcheck: no warnings"
    else
        bad "cppcheck: $(head -5 "$tmp/cpp")"
    fi
fi
