#ifndef TLSBLAME_REPORT_H
#define TLSBLAME_REPORT_H
/*
 * report.h - what the user reads: the text report (verdict line,
 * explanation, candidates, likely log, fix, ladder diagram), NDJSON objects
 * (INTERFACE.md, schema 1), and the run summary.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "tlsblame/facts.h"
#include "tlsblame/rules.h"
#include "tlsblame/session.h"

struct tb_text_opts {
    bool color;          /* ANSI colour (TTY stdout, NO_COLOR unset, or --color=always) */
    int verbosity;       /* -q = -1, default 0, -v = 1 ... */
    unsigned width;      /* terminal columns for the ladder (80 when not a TTY) */
    bool only_failures;
};

/* One NDJSON line for the session (INTERFACE.md "session" object). */
void tb_report_json_session(FILE *out, const struct tb_session *s, const struct tb_facts *f,
                            const struct tb_verdict *v);
/* {"schema":1,"type":"error","file":...,"frame":...,"message":...}; frame 0 -> null. */
void tb_report_json_error(FILE *out, const char *file, uint64_t frame, const char *message);
/* Text report of one session: a line for a success, the full block for a failure. */
void tb_report_text_session(FILE *out, const struct tb_session *s, const struct tb_facts *f,
                            const struct tb_verdict *v, const struct tb_text_opts *o);
/* The ladder diagram alone (also used by tests). */
void tb_report_ladder(FILE *out, const struct tb_session *s, const struct tb_verdict *v,
                      const struct tb_text_opts *o);

/* Run summary: counts by outcome, cause, server, client certificate subject, file. */
struct tb_summary;
struct tb_summary *tb_summary_new(void);
void tb_summary_free(struct tb_summary *sum);
void tb_summary_add(struct tb_summary *sum, const struct tb_session *s, const struct tb_facts *f,
                    const struct tb_verdict *v);
void tb_summary_add_error(struct tb_summary *sum, const char *file);
void tb_summary_add_packets(struct tb_summary *sum, uint64_t packets, uint64_t bytes);
void tb_summary_set_drops(struct tb_summary *sum, uint64_t received, uint64_t dropped);
/* Merge src into dst (batch workers). */
void tb_summary_merge(struct tb_summary *dst, const struct tb_summary *src);
void tb_summary_print_text(FILE *out, const struct tb_summary *sum, const struct tb_text_opts *o);
void tb_summary_print_json(FILE *out, const struct tb_summary *sum);
uint64_t tb_summary_sessions(const struct tb_summary *sum);
uint64_t tb_summary_errors(const struct tb_summary *sum);

/* JSON writing helpers (json.c). Strings are escaped; invalid UTF-8 becomes U+FFFD. */
void tb_json_string(FILE *out, const char *s);
void tb_json_string_n(FILE *out, const char *s, size_t n);
/* RFC 3339 UTC with microseconds: "2014-06-22T13:01:02.123456Z". */
void tb_format_time_us(int64_t ts_us, char out[32]);
void tb_format_time_s(int64_t ts_s, char out[32]);
/* Text-safe copy of a wire string: non-printable bytes as \xNN. */
const char *tb_text_escape(const char *s, struct tb_arena *a);

#endif
