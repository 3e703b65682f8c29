/*
 * json.c - the bytes that reach the user: JSON strings (RFC 8259 escaping,
 * invalid UTF-8 replaced by U+FFFD), RFC 3339 UTC times taken from packet
 * timestamps, text-safe copies of wire strings, and the streaming writer
 * the reporters share (report_int.h).
 *
 * SNI, DNs and ALPN come straight off the wire: they may hold quotes,
 * control characters, terminal escape sequences or malformed UTF-8
 * (overlong forms, encoded surrogates), so every one of them goes through
 * here before it is printed.
 */
#include <assert.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "report_int.h"
#include "tlsblame/report.h"

#define UTF8_INVALID UINT32_MAX

/*
 * Output primitives. A JSON report is hundreds of tiny pieces per session
 * (6 KB of output for each handshake): they are gathered in the writer's
 * buffer (report_int.h) and reach the stream in one fwrite per top-level
 * value, numbers are formatted by hand rather than through vfprintf, and
 * strings are copied in runs. Output through stdio calls per piece was ~40%
 * of the run time on a handshake-heavy capture.
 */
static void w_flush(struct tb_json_writer *w)
{
    if (w->len > 0) {
        /* every FILE here is written by one thread (stdout, or a batch
         * worker's own memory stream); short writes show up in ferror() */
        (void)fwrite_unlocked(w->buf, 1, w->len, w->out);
        w->len = 0;
        w->flushes++;
    }
}

static inline void w_mem(struct tb_json_writer *w, const void *p, size_t n)
{
    if (n > sizeof w->buf - w->len) {
        w_flush(w);
        if (n > sizeof w->buf) {
            (void)fwrite_unlocked(p, 1, n, w->out);
            return;
        }
    }
    memcpy(w->buf + w->len, p, n);
    w->len += n;
}

static inline void w_c(struct tb_json_writer *w, char c)
{
    if (w->len == sizeof w->buf) {
        w_flush(w);
    }
    w->buf[w->len++] = c;
}

#define W_LIT(w, lit) w_mem((w), (lit), sizeof(lit) - 1)

static void w_u64(struct tb_json_writer *w, uint64_t v)
{
    char buf[24];
    size_t i = sizeof buf;

    do {
        buf[--i] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v != 0);
    w_mem(w, buf + i, sizeof buf - i);
}

/* n decimal digits of v, zero-padded, at p */
static char *put_digits(char *p, unsigned v, int n)
{
    for (int k = n - 1; k >= 0; k--) {
        p[k] = (char)('0' + v % 10u);
        v /= 10u;
    }
    return p + n;
}

/*
 * Decode one UTF-8 sequence at p (n >= 1 bytes). Returns its length and the
 * code point, or UTF8_INVALID with the length of the maximal ill-formed
 * subpart (Unicode 15, 3.9 "U+FFFD Substitution of Maximal Subparts"), so
 * each broken sequence becomes exactly one replacement. Overlong forms
 * (C0, C1, E0 80..9F, F0 80..8F), surrogates (ED A0..BF) and code points
 * above U+10FFFF (F4 90.., F5..FF) are invalid.
 */
static size_t utf8_decode(const unsigned char *p, size_t n, uint32_t *cp)
{
    unsigned char b0 = p[0];
    size_t need;
    unsigned char lo = 0x80, hi = 0xbf; /* allowed range of the second byte */
    uint32_t v;

    if (b0 < 0x80) {
        *cp = b0;
        return 1;
    }
    if (b0 >= 0xc2 && b0 <= 0xdf) {
        need = 1;
        v = b0 & 0x1fu;
    } else if (b0 >= 0xe0 && b0 <= 0xef) {
        need = 2;
        v = b0 & 0x0fu;
        if (b0 == 0xe0) {
            lo = 0xa0;
        } else if (b0 == 0xed) {
            hi = 0x9f;
        }
    } else if (b0 >= 0xf0 && b0 <= 0xf4) {
        need = 3;
        v = b0 & 0x07u;
        if (b0 == 0xf0) {
            lo = 0x90;
        } else if (b0 == 0xf4) {
            hi = 0x8f;
        }
    } else {
        *cp = UTF8_INVALID;
        return 1;
    }
    for (size_t i = 1; i <= need; i++) {
        unsigned char lo_i = i == 1 ? lo : 0x80, hi_i = i == 1 ? hi : 0xbf;
        if (i >= n || p[i] < lo_i || p[i] > hi_i) {
            *cp = UTF8_INVALID;
            return i;
        }
        v = v << 6 | (p[i] & 0x3fu);
    }
    *cp = v;
    return need + 1;
}

/* Bidirectional and line-breaking controls that can make a terminal line lie. */
static bool is_deceptive(uint32_t cp)
{
    return (cp >= 0x80 && cp <= 0x9f) || cp == 0x200e || cp == 0x200f ||
           (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0xfeff;
}

/* Bytes that go out as they are inside a JSON string: printable ASCII but '"' and '\\'. */
static const unsigned char plain_byte[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 00 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 10 */
    1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 20 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 30 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 40 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, /* 50 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 60 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, /* 70 */
    /* 80..ff: 0 */
};

/*
 * The general case from the first byte that is not plain: escapes, UTF-8
 * validation, runs of plain bytes copied as they are.
 */
static void w_escape_rest(struct tb_json_writer *w, const unsigned char *p, size_t n)
{
    size_t i = 0, run = 0;

    while (i < n) {
        unsigned char c = p[i];
        uint32_t cp;
        size_t len;

        if (plain_byte[c]) {
            i++;
            continue;
        }
        if (i > run) {
            w_mem(w, p + run, i - run);
        }
        len = utf8_decode(p + i, n - i, &cp);
        switch (cp) {
        case '"':
            W_LIT(w, "\\\"");
            break;
        case '\\':
            W_LIT(w, "\\\\");
            break;
        case '\b':
            W_LIT(w, "\\b");
            break;
        case '\f':
            W_LIT(w, "\\f");
            break;
        case '\n':
            W_LIT(w, "\\n");
            break;
        case '\r':
            W_LIT(w, "\\r");
            break;
        case '\t':
            W_LIT(w, "\\t");
            break;
        case UTF8_INVALID:
            W_LIT(w, "\\ufffd");
            break;
        default:
            if (cp < 0x20 || cp == 0x7f || cp == 0x2028 || cp == 0x2029) {
                /* 2028/2029 break JavaScript consumers that eval a line */
                static const char hex[] = "0123456789abcdef";
                char u[6] = {'\\', 'u', hex[cp >> 12 & 0xfu], hex[cp >> 8 & 0xfu],
                             hex[cp >> 4 & 0xfu], hex[cp & 0xfu]};
                w_mem(w, u, sizeof u);
            } else {
                w_mem(w, p + i, len); /* valid multi-byte sequence, as is */
            }
            break;
        }
        i += len;
        run = i;
    }
    if (i > run) {
        w_mem(w, p + run, i - run);
    }
}

/* s[0..n) as a JSON string; NULL -> null. */
static void w_string_n(struct tb_json_writer *w, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;

    if (s == NULL) {
        W_LIT(w, "null");
        return;
    }
    w_c(w, '"');
    while (i < n && plain_byte[p[i]]) {
        i++;
    }
    w_mem(w, p, i);
    if (i < n) {
        w_escape_rest(w, p + i, n - i);
    }
    w_c(w, '"');
}

/* NUL-terminated s: one pass finds the end and the first byte to escape. */
static void w_string(struct tb_json_writer *w, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;

    if (s == NULL) {
        W_LIT(w, "null");
        return;
    }
    w_c(w, '"');
    while (plain_byte[p[i]]) { /* NUL is not plain */
        i++;
    }
    w_mem(w, p, i);
    if (p[i] != '\0') {
        w_escape_rest(w, p + i, strlen(s + i));
    }
    w_c(w, '"');
}

void tb_json_string_n(FILE *out, const char *s, size_t n)
{
    struct tb_json_writer w;

    tb_json_writer_init(&w, out);
    w_string_n(&w, s, n);
    w_flush(&w);
}

void tb_json_string(FILE *out, const char *s)
{
    struct tb_json_writer w;

    tb_json_writer_init(&w, out);
    w_string(&w, s);
    w_flush(&w);
}

/* Seconds since the epoch to RFC 3339, clamped to years 0000..9999. */
static size_t format_time(int64_t sec, unsigned usec, bool with_us, char out[32])
{
    struct tm tm;
    time_t t = (time_t)sec;

    if (sec < -62167219200LL) { /* 0000-01-01T00:00:00Z */
        sec = -62167219200LL;
        usec = 0;
        t = (time_t)sec;
    } else if (sec > 253402300799LL) { /* 9999-12-31T23:59:59Z */
        sec = 253402300799LL;
        usec = 999999;
        t = (time_t)sec;
    }
    if (gmtime_r(&t, &tm) == NULL) {
        memset(&tm, 0, sizeof tm);
        tm.tm_mday = 1;
        tm.tm_year = 70;
    }
    unsigned year = (unsigned)(tm.tm_year + 1900) % 10000u;
    unsigned mon = (unsigned)(tm.tm_mon + 1) % 100u, mday = (unsigned)tm.tm_mday % 100u;
    unsigned hour = (unsigned)tm.tm_hour % 100u, min = (unsigned)tm.tm_min % 100u;
    unsigned s = (unsigned)tm.tm_sec % 100u;
    /* "%04u-%02u-%02uT%02u:%02u:%02u[.%06u]Z" by hand: snprintf was a hot spot */
    char *p = out;
    p = put_digits(p, year, 4);
    *p++ = '-';
    p = put_digits(p, mon, 2);
    *p++ = '-';
    p = put_digits(p, mday, 2);
    *p++ = 'T';
    p = put_digits(p, hour, 2);
    *p++ = ':';
    p = put_digits(p, min, 2);
    *p++ = ':';
    p = put_digits(p, s, 2);
    if (with_us) {
        *p++ = '.';
        p = put_digits(p, usec % 1000000u, 6);
    }
    *p++ = 'Z';
    *p = '\0';
    return (size_t)(p - out);
}

/* Microseconds since the epoch to RFC 3339; returns the length. */
static size_t format_time_us(int64_t ts_us, char out[32])
{
    int64_t sec = ts_us / 1000000, usec = ts_us % 1000000;

    if (usec < 0) { /* floor, so -1 us is 23:59:59.999999 of the day before */
        usec += 1000000;
        sec -= 1;
    }
    return format_time(sec, (unsigned)usec, true, out);
}

void tb_format_time_us(int64_t ts_us, char out[32])
{
    (void)format_time_us(ts_us, out);
}

void tb_format_time_s(int64_t ts_s, char out[32])
{
    (void)format_time(ts_s, 0, false, out);
}

/*
 * Wire strings for a terminal: printable ASCII and well-formed UTF-8 stay
 * as they are; control characters, DEL, C1 controls, bidi overrides,
 * malformed UTF-8 and the backslash itself become \xNN per byte, so the
 * output is unambiguous and cannot move the cursor or recolour the screen.
 * Returns s itself when nothing needs escaping.
 */
const char *tb_text_escape(const char *s, struct tb_arena *a)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n, i, out_len = 0;
    bool clean = true;
    char *res, *w;

    if (s == NULL) {
        return "";
    }
    n = strlen(s);
    for (i = 0; i < n;) {
        uint32_t cp;
        size_t len = utf8_decode(p + i, n - i, &cp);
        bool bad = cp == UTF8_INVALID || cp < 0x20 || cp == 0x7f || cp == '\\' || is_deceptive(cp);
        out_len += bad ? 4 * len : len;
        clean = clean && !bad;
        i += len;
    }
    if (clean) {
        return s;
    }
    res = tb_arena_alloc(a, out_len + 1);
    if (res == NULL) {
        return "?";
    }
    w = res;
    for (i = 0; i < n;) {
        uint32_t cp;
        size_t len = utf8_decode(p + i, n - i, &cp);
        bool bad = cp == UTF8_INVALID || cp < 0x20 || cp == 0x7f || cp == '\\' || is_deceptive(cp);
        for (size_t k = 0; k < len; k++) {
            if (bad) {
                static const char hex[] = "0123456789abcdef";
                *w++ = '\\';
                *w++ = 'x';
                *w++ = hex[p[i + k] >> 4];
                *w++ = hex[p[i + k] & 0x0f];
            } else {
                *w++ = (char)p[i + k];
            }
        }
        i += len;
    }
    *w = '\0';
    return res;
}

/* ---- streaming writer ---- */

void tb_json_writer_init(struct tb_json_writer *w, FILE *out)
{
    /* not the whole struct: buf needs no clearing */
    w->out = out;
    w->len = 0;
    w->depth = 0;
    w->after_key = false;
    w->end_line = false;
    w->flushes = 0;
    w->items[0] = 0;
}

void tb_json_writer_flush(struct tb_json_writer *w)
{
    w_flush(w);
}

/* After any value: at depth 0 the top-level value is complete. */
static inline void value_done(struct tb_json_writer *w)
{
    if (w->depth == 0) {
        if (w->end_line) {
            w_c(w, '\n');
        }
        w_flush(w);
    }
}

/* Before any value: a comma unless it follows a key or opens its container. */
static inline void value_prefix(struct tb_json_writer *w)
{
    if (w->after_key) {
        w->after_key = false;
        return;
    }
    if (w->items[w->depth]++ > 0) {
        w_c(w, ',');
    }
}

static void open_container(struct tb_json_writer *w, char ch)
{
    value_prefix(w);
    w_c(w, ch);
    assert(w->depth < TB_MAX_DEPTH);
    if (w->depth < TB_MAX_DEPTH) {
        w->depth++;
    }
    w->items[w->depth] = 0;
}

static void close_container(struct tb_json_writer *w, char ch)
{
    assert(w->depth > 0 && !w->after_key);
    if (w->depth > 0) {
        w->depth--;
    }
    w_c(w, ch);
    value_done(w);
}

void tb_json_obj_begin(struct tb_json_writer *w)
{
    open_container(w, '{');
}

void tb_json_obj_end(struct tb_json_writer *w)
{
    close_container(w, '}');
}

void tb_json_arr_begin(struct tb_json_writer *w)
{
    open_container(w, '[');
}

void tb_json_arr_end(struct tb_json_writer *w)
{
    close_container(w, ']');
}

void tb_json_key(struct tb_json_writer *w, const char *key)
{
    assert(!w->after_key);
    if (w->items[w->depth]++ > 0) {
        w_c(w, ',');
    }
    w_string(w, key);
    w_c(w, ':');
    w->after_key = true;
}

void tb_json_key_raw_slow(struct tb_json_writer *w, const char *quoted_colon, size_t n)
{
    assert(!w->after_key);
    if (w->items[w->depth]++ > 0) {
        w_c(w, ',');
    }
    w_mem(w, quoted_colon, n);
    w->after_key = true;
}

void tb_json_str(struct tb_json_writer *w, const char *s)
{
    value_prefix(w);
    w_string(w, s);
    value_done(w);
}

void tb_json_str_n(struct tb_json_writer *w, const char *s, size_t n)
{
    value_prefix(w);
    w_string_n(w, s, n);
    value_done(w);
}

void tb_json_u64(struct tb_json_writer *w, uint64_t v)
{
    value_prefix(w);
    w_u64(w, v);
    value_done(w);
}

void tb_json_i64(struct tb_json_writer *w, int64_t v)
{
    value_prefix(w);
    if (v < 0) {
        w_c(w, '-');
        w_u64(w, (uint64_t)0 - (uint64_t)v); /* INT64_MIN too */
    } else {
        w_u64(w, (uint64_t)v);
    }
    value_done(w);
}

void tb_json_bool(struct tb_json_writer *w, bool v)
{
    value_prefix(w);
    if (v) {
        W_LIT(w, "true");
    } else {
        W_LIT(w, "false");
    }
    value_done(w);
}

void tb_json_tri(struct tb_json_writer *w, enum tb_tri v)
{
    value_prefix(w);
    if (v == TB_TRI_YES) {
        W_LIT(w, "true");
    } else if (v == TB_TRI_NO) {
        W_LIT(w, "false");
    } else {
        W_LIT(w, "null");
    }
    value_done(w);
}

void tb_json_null(struct tb_json_writer *w)
{
    value_prefix(w);
    W_LIT(w, "null");
    value_done(w);
}

struct tb_json_mark tb_json_mark_here(const struct tb_json_writer *w)
{
    return (struct tb_json_mark){w->flushes, w->len};
}

struct tb_json_mark tb_json_mark_value(const struct tb_json_writer *w)
{
    bool comma = !w->after_key && w->items[w->depth] > 0; /* as value_prefix decides */
    return (struct tb_json_mark){w->flushes, w->len + (comma ? 1 : 0)};
}

const char *tb_json_between(const struct tb_json_writer *w, struct tb_json_mark from,
                            struct tb_json_mark to, size_t *n)
{
    if (from.flushes != w->flushes || to.flushes != w->flushes || to.at < from.at) {
        return NULL;
    }
    *n = to.at - from.at;
    return w->buf + from.at;
}

void tb_json_raw_begin(struct tb_json_writer *w)
{
    value_prefix(w);
}

void tb_json_raw(struct tb_json_writer *w, const char *bytes, size_t n)
{
    w_mem(w, bytes, n);
}

void tb_json_raw_end(struct tb_json_writer *w)
{
    value_done(w);
}

void tb_json_num(struct tb_json_writer *w, double v)
{
    char buf[32];
    int n;

    value_prefix(w);
    if (!isfinite(v)) {
        W_LIT(w, "null");
        value_done(w);
        return;
    }
    /* three significant digits: a score of 0.8 prints as 0.8, not 0.800000 */
    n = snprintf(buf, sizeof buf, "%.3g", v);
    if (n > 0) {
        w_mem(w, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
    }
    value_done(w);
}

/* RFC 3339 strings are digits and punctuation: nothing to escape. */
static void w_time(struct tb_json_writer *w, const char *buf, size_t n)
{
    value_prefix(w);
    w_c(w, '"');
    w_mem(w, buf, n);
    w_c(w, '"');
    value_done(w);
}

void tb_json_time_us(struct tb_json_writer *w, int64_t ts_us)
{
    char buf[32];

    w_time(w, buf, format_time_us(ts_us, buf));
}

void tb_json_time_s(struct tb_json_writer *w, int64_t ts_s)
{
    char buf[32];

    w_time(w, buf, format_time(ts_s, 0, false, buf));
}
