#!/usr/bin/env bash
# tests/fuzz/run.sh [SECONDS] [TARGET...] - `make fuzz`: build every
# tests/fuzz/fuzz_<name>.c as a libFuzzer binary (clang,
# -fsanitize=fuzzer,address,undefined) linked with all of src/ except main.c,
# and run each for SECONDS (default 60) on a working copy of its corpus
# (tests/fuzz/corpus/<name> + tests/regress/<name>). New crashers, leaks,
# timeouts and OOMs are copied into tests/regress/<name>/; a summary follows.
#
#   FUZZ_JOBS=N      parallel fuzzing processes per target (default: nproc)
#   FUZZ_BUILD_ONLY=1  build, do not run
#   FUZZ_ARGS="..."  extra libFuzzer flags (e.g. -max_len=100000)
#   CC_FUZZ=clang-14 compiler (default: clang)
# Objects go to build/fuzz/obj, binaries to build/fuzz/, working corpora and
# logs to build/fuzz/work/<name>/. Exit status 1 when anything was found.
set -u
SRC=$(cd "$(dirname "$0")/../.." && pwd)
cd "$SRC" || exit 1

seconds=${1:-60}
[ -n "$seconds" ] || seconds=60
shift || true
case $seconds in
    '' | *[!0-9]*) echo "tests/fuzz/run.sh: SECONDS must be a number, not '$seconds'" >&2; exit 2 ;;
esac
jobs=${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 1)}
CC_FUZZ=${CC_FUZZ:-clang}
OUT=build/fuzz
OBJ=$OUT/obj

# ---- toolchain: clang with the libFuzzer runtime (Debian: clang + libclang-rt-dev) ----
probe_fuzzer() {
    local t
    t=$(mktemp -d) || return 1
    printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n)\n{ (void)d; (void)n; return 0; }\n' \
        >"$t/p.c"
    "$CC_FUZZ" -fsanitize=fuzzer,address,undefined -o "$t/p" "$t/p.c" >/dev/null 2>&1
    local rc=$?
    rm -rf "$t"
    return $rc
}

install_toolchain() {
    local pkgs=(clang)
    local v
    # libclang-rt-N-dev carries libFuzzer from LLVM 14 on; older Debian ships it with clang.
    if command -v apt-cache >/dev/null 2>&1; then
        v=$("$CC_FUZZ" --version 2>/dev/null | sed -n 's/.*clang version \([0-9]*\).*/\1/p' | head -1)
        [ -n "$v" ] && apt-cache show "libclang-rt-$v-dev" >/dev/null 2>&1 && pkgs+=("libclang-rt-$v-dev")
    fi
    echo "tests/fuzz/run.sh: installing ${pkgs[*]} for -fsanitize=fuzzer" >&2
    if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
        echo "tests/fuzz/run.sh: need root and apt-get. Run:" >&2
        echo "  sudo apt-get update && sudo apt-get install -y ${pkgs[*]}" >&2
        return 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
}

tests/deps.sh || exit 1
if ! command -v "$CC_FUZZ" >/dev/null 2>&1 || ! probe_fuzzer; then
    install_toolchain || exit 1
    if ! probe_fuzzer; then
        echo "tests/fuzz/run.sh: $CC_FUZZ cannot link -fsanitize=fuzzer even after installing" >&2
        exit 1
    fi
fi

# ---- build ----
pkgs=(libpcap libndpi yaml-0.1)
read -r -a dep_cflags <<<"$(pkg-config --cflags "${pkgs[@]}" 2>/dev/null | sed 's/-I/-isystem /g')"
read -r -a dep_libs <<<"$(pkg-config --libs "${pkgs[@]}" 2>/dev/null) -lmbedx509 -lmbedcrypto -lz -lpthread"
# shellcheck disable=SC2054  # the commas belong to -fsanitize=
cflags=(-std=c11 -D_DEFAULT_SOURCE -Iinclude -Isrc "${dep_cflags[@]}"
        -Wall -Wextra -Wshadow -Wconversion -Wformat=2 -Wvla -Wundef -Wstrict-prototypes
        -Wmissing-prototypes -Wcast-qual -Wwrite-strings
        "-DTB_RULEDIR=\"/usr/local/share/tlsblame/rules\"" "-DTB_SRC_RULEDIR=\"$SRC/rules\""
        "-DTB_VERSION=\"fuzz\"" -O1 -g -fno-omit-frame-pointer
        -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined)

# compile SRC OBJ: only when the object is older than the source or any header.
newest_header=
for h in include/tlsblame/*.h src/*.h; do
    [ -z "$newest_header" ] || [ "$h" -nt "$newest_header" ] && newest_header=$h
done
compile() {
    local src=$1 obj=$2
    if [ -f "$obj" ] && [ "$obj" -nt "$src" ] && [ "$obj" -nt "$newest_header" ]; then
        return 0
    fi
    mkdir -p "$(dirname "$obj")"
    # Build aside and rename: another run.sh may be linking from these objects.
    "$CC_FUZZ" "${cflags[@]}" -c -o "$obj.$$" "$src" && mv "$obj.$$" "$obj"
}

lib_srcs=()
for f in src/*.c src/util/*.c; do
    [ "$f" = src/main.c ] || lib_srcs+=("$f")
done
lib_objs=()
pids=()
build_failed=0
for f in "${lib_srcs[@]}"; do
    o=$OBJ/${f%.c}.o
    lib_objs+=("$o")
    compile "$f" "$o" &
    pids+=($!)
    if [ ${#pids[@]} -ge "$jobs" ]; then
        wait "${pids[0]}" || build_failed=1
        pids=("${pids[@]:1}")
    fi
done
for p in "${pids[@]}"; do
    wait "$p" || build_failed=1
done
[ $build_failed = 0 ] || { echo "tests/fuzz/run.sh: build failed" >&2; exit 1; }

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    for f in tests/fuzz/fuzz_*.c; do
        n=${f##*/fuzz_}
        targets+=("${n%.c}")
    done
fi
for name in "${targets[@]}"; do
    f=tests/fuzz/fuzz_$name.c
    [ -f "$f" ] || { echo "tests/fuzz/run.sh: no $f" >&2; exit 2; }
    compile "$f" "$OBJ/tests/fuzz/fuzz_$name.o" || exit 1
    "$CC_FUZZ" -fsanitize=fuzzer,address,undefined -o "$OUT/fuzz_$name.$$" \
        "$OBJ/tests/fuzz/fuzz_$name.o" "${lib_objs[@]}" "${dep_libs[@]}" || exit 1
    mv "$OUT/fuzz_$name.$$" "$OUT/fuzz_$name" # a running fuzzer keeps its old binary
done
[ "${FUZZ_BUILD_ONLY:-0}" = 1 ] && exit 0

# ---- run ----
count_files() { find "$1" -maxdepth 1 -type f | wc -l; }
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
summary=()
found_any=0
for name in "${targets[@]}"; do
    work=$OUT/work/$name
    mkdir -p "$work/corpus" "$work/artifacts"
    for d in "tests/fuzz/corpus/$name" "tests/regress/$name"; do
        [ -d "$d" ] && cp -n "$d"/* "$work/corpus/" 2>/dev/null
    done
    # One log per run (several run.sh may share build/fuzz); fuzz.log is the latest.
    log=$work/fuzz-$$.log
    ln -sfn "fuzz-$$.log" "$work/fuzz.log"
    echo "== fuzz_$name: ${seconds}s, $jobs process(es), corpus $(count_files "$work/corpus") files"
    # Fork mode keeps going after a crash, so one run collects every distinct crasher.
    # shellcheck disable=SC2086
    "$OUT/fuzz_$name" -fork="$jobs" -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$work/artifacts/" ${FUZZ_ARGS:-} "$work/corpus" >"$log" 2>&1
    rc=$?
    execs=$(grep -oE '^#[0-9]+' "$log" | tail -1 | tr -d '#')
    cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | awk '{print $2}')
    # crash-<sha1>, leak-<sha1>, timeout-<sha1>, oom-<sha1>: copied under their own name,
    # then moved aside, so one that was minimized and renamed in tests/regress (or
    # fixed and dropped) does not come back on the next run.
    new=0
    mkdir -p "tests/regress/$name" "$work/artifacts/saved"
    for a in "$work/artifacts"/*; do
        [ -f "$a" ] || continue
        base=${a##*/}
        [ -f "tests/regress/$name/$base" ] || cp "$a" "tests/regress/$name/$base"
        mv "$a" "$work/artifacts/saved/$base"
        new=$((new + 1))
    done
    rmdir "tests/regress/$name" 2>/dev/null # no empty directories
    [ "$new" -gt 0 ] && found_any=1
    summary+=("$(printf '%-8s %6ss %12s execs  cov %6s  corpus %5s  new findings %d  (exit %d, log %s)' \
        "$name" "$seconds" "${execs:-?}" "${cov:-?}" "$(count_files "$work/corpus")" "$new" "$rc" "$log")")
done

echo
echo "fuzz summary:"
for line in "${summary[@]}"; do
    echo "  $line"
done
if [ $found_any = 1 ]; then
    echo "new inputs saved under tests/regress/<name>/: reproduce with build/fuzz/fuzz_<name> FILE,"
    echo "minimize with build/fuzz/fuzz_<name> -minimize_crash=1 -runs=10000 FILE"
    exit 1
fi
exit 0
