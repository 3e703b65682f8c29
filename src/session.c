/*
 * session.c - the session record's life: init, timeline events (capped),
 * and release of the certificate references and the arena.
 */
#include <string.h>

#include "tlsblame/session.h"

void tb_endpoint_str(const struct tb_endpoint *e, char out[TB_ENDPOINT_STR_LEN])
{
    /* Two per session in the facts and more in reports: by hand, not snprintf. */
    size_t n = strnlen(e->ip, sizeof e->ip - 1);
    bool v6 = memchr(e->ip, ':', n) != NULL;
    char *p = out;
    char digits[5];
    int d = 0;
    unsigned port = e->port;

    if (v6) {
        *p++ = '[';
    }
    memcpy(p, e->ip, n);
    p += n;
    if (v6) {
        *p++ = ']';
    }
    *p++ = ':';
    do {
        digits[d++] = (char)('0' + port % 10);
        port /= 10;
    } while (port > 0);
    while (d > 0) {
        *p++ = digits[--d];
    }
    *p = '\0';
}

void tb_session_init(struct tb_session *s, uint64_t id, const char *file)
{
    memset(s, 0, sizeof *s);
    s->id = id;
    s->file = file;
    tb_arena_init(&s->arena, TB_SESSION_ARENA_CAP);
}

void tb_session_fini(struct tb_session *s, struct tb_certcache *cache)
{
    for (int d = 0; d < TB_DIR_COUNT; d++) {
        for (size_t i = 0; i < s->chain[d].count; i++) {
            tb_cert_release(cache, s->chain[d].certs[i]);
        }
        s->chain[d].count = 0;
    }
    tb_arena_reset(&s->arena);
}

struct tb_event *tb_session_add_event(struct tb_session *s, enum tb_event_kind kind, enum tb_dir dir,
                                      uint64_t frame, int64_t ts_us)
{
    if (s->event_count >= TB_MAX_EVENTS) {
        s->anomalies |= TB_ANOM_EVENTS_CAP;
        return NULL;
    }
    if (s->event_count == s->event_cap) {
        /* A handshake has a dozen events: start small (the arena clears what it
         * hands out) and double; the old arrays stay in the arena until the end. */
        size_t cap = s->event_cap == 0 ? 32 : s->event_cap * 2;
        cap = cap > TB_MAX_EVENTS ? TB_MAX_EVENTS : cap;
        struct tb_event *grown = tb_arena_alloc(&s->arena, sizeof *grown * cap);
        if (grown == NULL) {
            s->anomalies |= TB_ANOM_ARENA_CAP;
            return NULL;
        }
        if (s->event_count > 0) {
            memcpy(grown, s->events, sizeof *grown * s->event_count);
        }
        s->events = grown;
        s->event_cap = cap;
    }
    struct tb_event *e = &s->events[s->event_count++];
    memset(e, 0, sizeof *e);
    e->kind = kind;
    e->dir = dir;
    e->frame = frame;
    e->ts_us = ts_us;
    return e;
}

const struct tb_alert *tb_session_first_fatal(const struct tb_session *s)
{
    for (size_t i = 0; i < s->alert_count; i++) {
        const struct tb_alert *a = &s->alerts[i];
        /* An encrypted alert that ends a handshake is treated as fatal; close_notify is not. */
        if (a->after_peer_close) {
            continue;
        }
        if (a->level == 2 || (a->encrypted && a->level == 0 && a->likely_fatal)) {
            return a;
        }
    }
    return NULL;
}

const char *tb_outcome_name(enum tb_outcome o)
{
    switch (o) {
    case TB_OUTCOME_SUCCESS:
        return "success";
    case TB_OUTCOME_FAILED:
        return "failed";
    case TB_OUTCOME_INCOMPLETE:
        return "incomplete";
    case TB_OUTCOME_UNKNOWN:
    default:
        return "unknown";
    }
}

uint64_t tb_tcp_close_frame(const struct tb_dir_stats *d)
{
    if (d->fin_frame != 0 && (d->rst_frame == 0 || d->fin_frame < d->rst_frame)) {
        return d->fin_frame;
    }
    return d->rst_frame;
}

uint64_t tb_session_close_frame(const struct tb_session *s, enum tb_dir dir)
{
    /* The first of FIN, RST and an alert (curl ends with close_notify, then the
     * server's FIN comes before the client's own TCP close). */
    uint64_t at = tb_tcp_close_frame(&s->dir[dir]);

    for (size_t i = 0; i < s->alert_count; i++) {
        const struct tb_alert *a = &s->alerts[i];
        if (a->dir == dir && (at == 0 || a->frame < at)) {
            at = a->frame;
            break;
        }
    }
    return at;
}

int tb_http_status(const char *line)
{
    if (line == NULL || strncmp(line, "HTTP/", 5) != 0) {
        return -1;
    }
    const char *sp = strchr(line, ' ');
    if (sp == NULL || strnlen(sp, 4) < 4) {
        return -1;
    }
    int code = 0;
    for (int i = 1; i <= 3; i++) {
        if (sp[i] < '0' || sp[i] > '9') {
            return -1;
        }
        code = code * 10 + (sp[i] - '0');
    }
    return code;
}
