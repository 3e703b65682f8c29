/*
 * classify.c - nDPI, STARTTLS preambles and hello fingerprints; the only
 * file that includes <ndpi_api.h>.
 *
 * nDPI (Debian's 4.2) sees the first TB_CLASSIFY_MAX_PACKETS packets of a
 * flow as L3 packets, then gives up; its flow state (688 bytes plus what its
 * dissectors hang on it) is freed the moment it has decided. What 4.2 does
 * not do, this file does itself: it follows the plaintext of STARTTLS-style
 * protocols to the first TLS record (4.2 labels an SMTP STARTTLS flow as
 * clear-text SMTP and never looks further) and notices a server refusing to
 * start TLS; it computes JA4, which 4.2 has not, and JA3/JA3S where nDPI did
 * not see the hello. nDPI is a label and a hint: no handshake fact comes
 * from it.
 */
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <ndpi_api.h>

#include "tlsblame/classify.h"
#include "ndpi_module.h"
#include "tlsblame/err.h"
#include "tlsblame/hash.h"
#include "tlsblame/memo.h"
#include "tlsblame/reader.h"

struct tb_classifier {
    struct ndpi_detection_module_struct *mod;
    uint32_t flow_size;
    bool measured;              /* -v: time and count nDPI (two clock reads per packet) */
    struct tb_classify_stats stats;
};

/* ---- nDPI's memory, made visible ---- */

/*
 * nDPI allocates through set_ndpi_malloc()/set_ndpi_free() hooks, which are
 * process-wide. The free hook gets no size, so both sides count with
 * malloc_usable_size(): a block nDPI frees that it did not allocate through
 * the hook only skews the counter, it never corrupts anything. Installed for
 * -v only, which prints the counts: otherwise every allocation of every -j
 * worker would go through the same two atomic counters.
 */
/* nDPI 4.2 (ndpi_api.h): module setup "MUST NOT run in parallel"; -j workers take turns. */
static pthread_mutex_t ndpi_module_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_llong ndpi_mem_live;
static atomic_llong ndpi_mem_peak;
static pthread_once_t ndpi_hooks_once = PTHREAD_ONCE_INIT;

static void *counted_malloc(size_t n)
{
    void *p = malloc(n);

    if (p != NULL) {
        long long size = (long long)malloc_usable_size(p);
        long long now = atomic_fetch_add(&ndpi_mem_live, size) + size;
        long long peak = atomic_load(&ndpi_mem_peak);
        while (now > peak && !atomic_compare_exchange_weak(&ndpi_mem_peak, &peak, now)) {
            /* peak reloaded by the failed exchange */
        }
    }
    return p;
}

static void counted_free(void *p)
{
    if (p == NULL) {
        return;
    }
    atomic_fetch_sub(&ndpi_mem_live, (long long)malloc_usable_size(p));
    free(p);
}

static void install_hooks(void)
{
    set_ndpi_malloc(counted_malloc);
    set_ndpi_free(counted_free);
}

static uint64_t now_ns(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
        return 0;
    }
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t elapsed_ns(uint64_t since)
{
    uint64_t now = now_ns();
    return now > since ? now - since : 0;
}

/* ---- the detection module ---- */

struct tb_classifier *tb_classify_new(void)
{
    struct tb_classifier *c = calloc(1, sizeof *c);
    NDPI_PROTOCOL_BITMASK all;
    uint64_t t0;

    if (c == NULL) {
        return NULL;
    }
    c->measured = tb_verbosity() >= 1;
    if (c->measured) {
        (void)pthread_once(&ndpi_hooks_once, install_hooks); /* only fails on misuse */
    }
    t0 = now_ns();
    (void)pthread_mutex_lock(&ndpi_module_lock); /* a static mutex: cannot fail */
    /* Not ndpi_enable_ja3_plus: plain JA3, comparable with every other tool. */
    c->mod = ndpi_init_detection_module(ndpi_no_prefs);
    if (c->mod != NULL) {
        NDPI_BITMASK_SET_ALL(all);
        ndpi_set_protocol_detection_bitmask2(c->mod, &all);
        ndpi_finalize_initialization(c->mod);
    }
    (void)pthread_mutex_unlock(&ndpi_module_lock);
    if (c->mod == NULL) {
        free(c);
        return NULL;
    }
    c->flow_size = ndpi_detection_get_sizeof_ndpi_flow_struct();
    c->stats.init_ns = elapsed_ns(t0);
    c->stats.ndpi_ns = c->stats.init_ns;
    return c;
}

void tb_classify_free(struct tb_classifier *c)
{
    if (c == NULL) {
        return;
    }
    (void)pthread_mutex_lock(&ndpi_module_lock); /* a static mutex: cannot fail */
    ndpi_exit_detection_module(c->mod);
    (void)pthread_mutex_unlock(&ndpi_module_lock);
    free(c);
}

bool tb_classify_reset(struct tb_classifier *c)
{
    if (!tb_ndpi_forget_flows(c->mod)) {
        return false;
    }
    memset(&c->stats, 0, sizeof c->stats);
    return true;
}

void tb_classify_stats(const struct tb_classifier *c, struct tb_classify_stats *out)
{
    memset(out, 0, sizeof *out);
    if (c != NULL) {
        *out = c->stats;
    }
    out->mem_live = atomic_load(&ndpi_mem_live);
    out->mem_peak = atomic_load(&ndpi_mem_peak);
}

const char *tb_classify_ndpi_version(void)
{
    return ndpi_revision();
}

/* ---- nDPI per flow ---- */

void tb_classify_flow_init(struct tb_classifier *c, struct tb_classify_flow *cf)
{
    memset(cf, 0, sizeof *cf);
    if (c == NULL) {
        cf->ndpi_done = true;
        return;
    }
    cf->ndpi_flow = ndpi_flow_malloc(c->flow_size);
    if (cf->ndpi_flow == NULL) {
        cf->ndpi_done = true; /* out of memory: the flow is analyzed without a label */
        return;
    }
    memset(cf->ndpi_flow, 0, c->flow_size);
    c->stats.flows++;
}

static bool is_hex32(const char *s)
{
    size_t n = strnlen(s, 33);

    if (n != 32) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) {
            return false;
        }
    }
    return true;
}

/* Protocols whose state in nDPI's union is the TLS one (tls_quic). */
static bool tls_family(uint16_t id)
{
    switch (id) {
    case NDPI_PROTOCOL_TLS:
    case NDPI_PROTOCOL_MAIL_SMTPS:
    case NDPI_PROTOCOL_MAIL_IMAPS:
    case NDPI_PROTOCOL_MAIL_POPS:
    case NDPI_PROTOCOL_DTLS:
    case NDPI_PROTOCOL_QUIC:
        return true;
    default:
        return false;
    }
}

/* Writes nDPI's answer into s; true if it included a client JA3. */
static bool record_ndpi(struct tb_classifier *c, struct ndpi_flow_struct *flow,
                        ndpi_protocol proto, struct tb_session *s)
{
    struct tb_arena *a = &s->arena;
    uint16_t main_id = proto.master_protocol != NDPI_PROTOCOL_UNKNOWN ? proto.master_protocol
                                                                      : proto.app_protocol;
    char name[64];

    if (main_id != NDPI_PROTOCOL_UNKNOWN) {
        c->stats.detected++;
        s->ndpi_protocol = tb_arena_strdup(a, ndpi_get_proto_name(c->mod, main_id));
        s->ndpi_app = tb_arena_strdup(a, ndpi_protocol2name(c->mod, proto, name, sizeof name));
    } else {
        c->stats.undecided++;
    }
    if (proto.category != NDPI_PROTOCOL_CATEGORY_UNSPECIFIED) {
        s->ndpi_category = tb_arena_strdup(a, ndpi_category_get_name(c->mod, proto.category));
    }
    s->ndpi_risk_count = 0;
    for (int i = 1; i < NDPI_MAX_RISK; i++) {
        if ((flow->risk & ((ndpi_risk)1 << i)) == 0) {
            continue;
        }
        if (s->ndpi_risk_count == sizeof s->ndpi_risks / sizeof s->ndpi_risks[0]) {
            /* 16 slots, 41 risks in 4.2: never seen together, but said aloud if they are. */
            tb_trace("session %llu: more than %zu nDPI risks, the rest not kept",
                     (unsigned long long)s->id, s->ndpi_risk_count);
            break;
        }
        /* Copied: 4.2 formats unknown risks into a static buffer. */
        s->ndpi_risks[s->ndpi_risk_count++] = tb_arena_strdup(a, ndpi_risk2str((ndpi_risk_enum)i));
    }
    if (tls_family(proto.master_protocol) || tls_family(proto.app_protocol)) {
        const char *ja3c = flow->protos.tls_quic.ja3_client;
        const char *ja3s = flow->protos.tls_quic.ja3_server;
        if (is_hex32(ja3c)) {
            s->ja3 = tb_arena_strndup(a, ja3c, 32);
        }
        if (is_hex32(ja3s)) {
            s->ja3s = tb_arena_strndup(a, ja3s, 32);
        }
        return is_hex32(ja3c);
    }
    return false;
}

/* nDPI is done with this flow: take its answer and free its state now. */
static void ndpi_finish(struct tb_classifier *c, struct tb_classify_flow *cf, struct tb_session *s)
{
    struct ndpi_flow_struct *flow = cf->ndpi_flow;
    uint8_t guessed = 0;
    uint64_t t0 = c->measured ? now_ns() : 0;

    /* No guess: a port-based guess is exactly what tlsblame must not report as a finding. */
    ndpi_protocol proto = ndpi_detection_giveup(c->mod, flow, 0, &guessed);
    cf->ndpi_gave_ja3 = record_ndpi(c, flow, proto, s);
    ndpi_free_flow(flow);
    if (c->measured) {
        c->stats.ndpi_ns += elapsed_ns(t0);
    }
    cf->ndpi_flow = NULL;
    cf->ndpi_done = true;
}

static void ndpi_feed(struct tb_classifier *c, struct tb_classify_flow *cf, struct tb_session *s,
                      const struct tb_pkt *pkt, int64_t ts_us)
{
    struct ndpi_flow_struct *flow = cf->ndpi_flow;
    uint64_t ts_ms = ts_us > 0 ? (uint64_t)ts_us / 1000u : 0;
    uint64_t t0;
    bool known, more;

    /* Reassembled IP fragments have no single L3 packet; nDPI takes 16-bit lengths. */
    if (pkt->l3 == NULL || pkt->l3_len == 0 || pkt->l3_len > UINT16_MAX) {
        return;
    }
    /* Once data flows, a bare ACK tells nDPI nothing (its three-way handshake
     * tracking has had the ACK before the first data): about a third of the
     * packets of a handshake, and a call into nDPI each. */
    bool bare_ack = pkt->payload_len == 0 && pkt->payload_missing == 0 &&
                    (pkt->tcp_flags & (TB_TCP_SYN | TB_TCP_FIN | TB_TCP_RST)) == 0;
    if (bare_ack && cf->ndpi_saw_data) {
        return;
    }
    cf->ndpi_saw_data = cf->ndpi_saw_data || pkt->payload_len > 0 || pkt->payload_missing > 0;
    t0 = c->measured ? now_ns() : 0;
    ndpi_protocol proto =
        ndpi_detection_process_packet(c->mod, flow, pkt->l3, (unsigned short)pkt->l3_len, ts_ms);
    known = proto.master_protocol != NDPI_PROTOCOL_UNKNOWN ||
            proto.app_protocol != NDPI_PROTOCOL_UNKNOWN;
    more = known && ndpi_extra_dissection_possible(c->mod, flow) != 0;
    if (c->measured) {
        c->stats.ndpi_ns += elapsed_ns(t0);
    }
    c->stats.packets++;
    cf->ndpi_packets++;
    cf->ndpi_detected = known;
    if ((known && !more) || cf->ndpi_packets >= TB_CLASSIFY_MAX_PACKETS) {
        ndpi_finish(c, cf, s);
    }
}

/* ---- STARTTLS preambles ---- */

static const char *const preamble_names[] = {
    [TB_PREAMBLE_NONE] = NULL,         [TB_PREAMBLE_SMTP] = "SMTP",
    [TB_PREAMBLE_IMAP] = "IMAP",       [TB_PREAMBLE_POP3] = "POP3",
    [TB_PREAMBLE_FTP] = "FTP",         [TB_PREAMBLE_XMPP] = "XMPP",
    [TB_PREAMBLE_POSTGRESQL] = "PostgreSQL", [TB_PREAMBLE_LDAP] = "LDAP",
    [TB_PREAMBLE_MYSQL] = "MySQL",     [TB_PREAMBLE_IRC] = "IRC",
};

const char *tb_classify_preamble_name(enum tb_preamble p)
{
    if ((size_t)p >= sizeof preamble_names / sizeof preamble_names[0]) {
        return NULL;
    }
    return preamble_names[p];
}

/* PostgreSQL frontend messages without a type byte (protocol 3.0, "Message Formats"). */
#define PG_SSL_REQUEST_CODE 80877103u  /* 1234 << 16 | 5679 */
#define PG_GSSENC_REQUEST_CODE 80877104u
#define PG_PROTOCOL_3_0 0x00030000u
/* MySQL capability flag CLIENT_SSL (include/mysql_com.h). */
#define MYSQL_CLIENT_SSL 0x00000800u
/* RFC 4511 4.14.1 StartTLS requestName */
static const char ldap_starttls_oid[] = "1.3.6.1.4.1.1466.20037";

/* The next line of r without CR/LF, truncated to cap - 1 bytes. False once r is empty. */
static bool next_line(struct tb_reader *r, char *line, size_t cap)
{
    size_t n = 0;

    if (tb_rd_left(r) == 0) {
        return false;
    }
    while (tb_rd_left(r) > 0) {
        uint8_t ch = tb_rd_u8(r);
        if (ch == '\n') {
            break;
        }
        if (ch != '\r' && n + 1 < cap) {
            line[n++] = (char)ch;
        }
    }
    line[n] = '\0';
    return true;
}

static void first_line(const uint8_t *bytes, size_t len, char *line, size_t cap)
{
    struct tb_reader r = tb_rd_init(bytes, len);

    if (!next_line(&r, line, cap)) {
        line[0] = '\0';
    }
}

static bool starts_with(const char *s, const char *prefix)
{
    return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

/* A command alone on its line ("STARTTLS", "STLS"), trailing blanks allowed. */
static bool is_command(const char *line, const char *cmd)
{
    size_t n = strlen(cmd);

    if (strncasecmp(line, cmd, n) != 0) {
        return false;
    }
    for (const char *p = line + n; *p != '\0'; p++) {
        if (*p != ' ' && *p != '\t') {
            return false;
        }
    }
    return true;
}

/* Three digits then space, dash or end: an SMTP/FTP reply code, else -1. */
static int reply_code(const char *line)
{
    if (strlen(line) < 3) {
        return -1;
    }
    for (int i = 0; i < 3; i++) {
        if (line[i] < '0' || line[i] > '9') {
            return -1;
        }
    }
    if (line[3] != '\0' && line[3] != ' ' && line[3] != '-') {
        return -1;
    }
    return (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
}

/* The bytes as text, NUL-free, truncated (XML is searched as a string). */
static void as_text(const uint8_t *bytes, size_t len, char *out, size_t cap)
{
    struct tb_reader r = tb_rd_init(bytes, len);
    size_t n = 0;

    while (tb_rd_left(&r) > 0 && n + 1 < cap) {
        uint8_t ch = tb_rd_u8(&r);
        out[n++] = ch == '\0' ? ' ' : (char)ch;
    }
    out[n] = '\0';
}

static bool looks_like_tls_record(const uint8_t *bytes, size_t len)
{
    struct tb_reader r = tb_rd_init(bytes, len);
    uint8_t type = tb_rd_u8(&r);
    uint8_t major = tb_rd_u8(&r);
    uint8_t minor = tb_rd_u8(&r);

    if (!tb_rd_ok(&r)) {
        return false;
    }
    if (type >= 20 && type <= 24 && major == 3 && minor <= 4) {
        return true;
    }
    /* SSLv2-compatible ClientHello (RFC 5246 E.2): 2-byte length with the high bit, type 1. */
    return (type & 0x80) != 0 && minor == 1;
}

/* X.690 8.1.3 definite length; 0 with the reader failed for forms LDAP never sends. */
static size_t ber_length(struct tb_reader *r)
{
    uint8_t first = tb_rd_u8(r);
    size_t len = 0;

    if ((first & 0x80) == 0) {
        return first;
    }
    unsigned count = first & 0x7fu;
    if (count == 0 || count > 4) {
        tb_rd_fail(r, TB_ERR_LENGTH); /* indefinite, or longer than any LDAP message */
        return 0;
    }
    for (unsigned i = 0; i < count; i++) {
        len = len << 8 | tb_rd_u8(r);
    }
    return len;
}

/*
 * RFC 4511 4.2: LDAPMessage ::= SEQUENCE { messageID INTEGER, protocolOp
 * CHOICE { [APPLICATION n] ... } }. Reads up to the protocolOp tag, which
 * it returns (0 if this is not an LDAPMessage), leaving r on its length.
 */
static uint8_t ldap_op(struct tb_reader *r)
{
    if (tb_rd_u8(r) != 0x30) {
        return 0;
    }
    (void)ber_length(r); /* the message may continue past the bytes we hold */
    if (tb_rd_u8(r) != 0x02) {
        return 0;
    }
    size_t id_len = ber_length(r);
    if (id_len < 1 || id_len > 4) {
        return 0;
    }
    tb_rd_skip(r, id_len);
    uint8_t op = tb_rd_u8(r);
    if (!tb_rd_ok(r) || (op & 0xc0) != 0x40) {
        return 0; /* protocolOp is always APPLICATION-class */
    }
    return op;
}

static bool mysql_greeting(const uint8_t *bytes, size_t len)
{
    /* Protocol::HandshakeV10: 3-byte little-endian length, sequence 0, protocol 10, version. */
    struct tb_reader r = tb_rd_init(bytes, len);
    uint32_t plen = tb_rd_u8(&r);
    plen |= (uint32_t)tb_rd_u8(&r) << 8;
    plen |= (uint32_t)tb_rd_u8(&r) << 16;
    uint8_t seq = tb_rd_u8(&r);
    uint8_t version = tb_rd_u8(&r);
    uint8_t first = tb_rd_u8(&r);

    return tb_rd_ok(&r) && seq == 0 && version == 10 && plen >= 20 && plen < 1024 &&
           first >= '0' && first <= '9';
}

static bool pg_message(const uint8_t *bytes, size_t len, uint32_t *code)
{
    struct tb_reader r = tb_rd_init(bytes, len);
    uint32_t mlen = tb_rd_u32(&r);

    *code = tb_rd_u32(&r);
    return tb_rd_ok(&r) && mlen >= 8 && mlen <= 10000;
}

/* RFC 3501 9: tag = 1*<any ASTRING-CHAR except "+">, then SP: the command after it, or NULL. */
static const char *imap_after_tag(const char *line)
{
    const char *sp = strchr(line, ' ');

    if (sp == NULL || sp == line) {
        return NULL;
    }
    for (const char *p = line; p < sp; p++) {
        if (*p <= ' ' || *p > '~' || *p == '+' || *p == '*' || *p == '(' || *p == ')' ||
            *p == '{' || *p == '"' || *p == '\\' || *p == '%') {
            return NULL;
        }
    }
    return sp + 1;
}

static bool imap_command(const char *line, const char *cmd, char *tag, size_t tag_len)
{
    const char *rest = imap_after_tag(line);

    if (rest == NULL || !is_command(rest, cmd)) {
        return false;
    }
    if (tag != NULL && tag_len > 0) {
        size_t n = (size_t)(rest - 1 - line);
        if (n >= tag_len) {
            n = 0; /* too long to keep: any tagged answer will do */
        }
        memcpy(tag, line, n);
        tag[n] = '\0';
    }
    return true;
}

/* Commands an IMAP client sends first (RFC 3501 6.1, 6.2). */
static bool imap_first_command(const char *line)
{
    static const char *const cmds[] = {"CAPABILITY", "STARTTLS", "LOGIN", "AUTHENTICATE", "ID",
                                       "NOOP"};
    const char *rest = imap_after_tag(line);

    if (rest == NULL) {
        return false;
    }
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        size_t n = strlen(cmds[i]);
        if (strncasecmp(rest, cmds[i], n) == 0 && (rest[n] == ' ' || rest[n] == '\0')) {
            return true;
        }
    }
    return false;
}

static bool port_in(uint16_t port, const uint16_t *ports, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (ports[i] == port) {
            return true;
        }
    }
    return false;
}

enum tb_preamble tb_classify_preamble(const uint8_t *client_first, size_t client_len,
                                      const uint8_t *server_first, size_t server_len,
                                      uint16_t server_port)
{
    static const uint16_t smtp_ports[] = {25, 465, 587, 2525};
    static const uint16_t ftp_ports[] = {21, 990};
    char cl[TB_CLASSIFY_LINE_MAX + 1], sl[TB_CLASSIFY_LINE_MAX + 1];
    uint32_t code;

    /* Binary first: they would not survive as text. */
    if (client_len > 0) {
        struct tb_reader r = tb_rd_init(client_first, client_len);
        if (pg_message(client_first, client_len, &code) &&
            (code == PG_SSL_REQUEST_CODE || code == PG_GSSENC_REQUEST_CODE ||
             code == PG_PROTOCOL_3_0)) {
            return TB_PREAMBLE_POSTGRESQL;
        }
        if (ldap_op(&r) != 0) {
            return TB_PREAMBLE_LDAP;
        }
    }
    if (server_len > 0 && mysql_greeting(server_first, server_len)) {
        return TB_PREAMBLE_MYSQL;
    }
    first_line(client_first, client_len, cl, sizeof cl);
    first_line(server_first, server_len, sl, sizeof sl);

    /* The client's first command names most protocols by itself. */
    if (starts_with(cl, "EHLO ") || starts_with(cl, "HELO ") || is_command(cl, "EHLO")) {
        return TB_PREAMBLE_SMTP;
    }
    if (starts_with(cl, "AUTH TLS") || starts_with(cl, "AUTH SSL") || is_command(cl, "FEAT")) {
        return TB_PREAMBLE_FTP;
    }
    if (is_command(cl, "STLS") || is_command(cl, "CAPA")) {
        return TB_PREAMBLE_POP3;
    }
    if (starts_with(cl, "<?xml") || starts_with(cl, "<stream:stream")) {
        return TB_PREAMBLE_XMPP;
    }
    if (imap_first_command(cl)) {
        return TB_PREAMBLE_IMAP;
    }
    /* Then the server's greeting. */
    if (starts_with(sl, "* OK") || starts_with(sl, "* PREAUTH")) {
        return TB_PREAMBLE_IMAP;
    }
    if (starts_with(sl, "+OK")) {
        return TB_PREAMBLE_POP3;
    }
    if (starts_with(sl, "<?xml") || starts_with(sl, "<stream:stream")) {
        return TB_PREAMBLE_XMPP;
    }
    if (reply_code(sl) == 220) {
        /* "220" greets in both SMTP (RFC 5321 4.2) and FTP (RFC 959 5.4). */
        if (strstr(sl, "SMTP") != NULL ||
            port_in(server_port, smtp_ports, sizeof smtp_ports / sizeof smtp_ports[0])) {
            return TB_PREAMBLE_SMTP;
        }
        if (strstr(sl, "FTP") != NULL ||
            port_in(server_port, ftp_ports, sizeof ftp_ports / sizeof ftp_ports[0])) {
            return TB_PREAMBLE_FTP;
        }
        return TB_PREAMBLE_NONE; /* wait for the client's first command */
    }
    if (sl[0] == ':' && strchr(sl, ' ') != NULL) {
        return TB_PREAMBLE_IRC; /* RFC 1459 2.3.1 prefix */
    }
    /* IRC clients speak first (IRCv3 STARTTLS before registration). */
    if (server_len == 0 &&
        (is_command(cl, "STARTTLS") || starts_with(cl, "CAP LS") || starts_with(cl, "NICK "))) {
        return TB_PREAMBLE_IRC;
    }
    return TB_PREAMBLE_NONE;
}

const char *tb_classify_preamble_protocol(const uint8_t *client_first, size_t client_len,
                                          const uint8_t *server_first, size_t server_len,
                                          uint16_t server_port)
{
    return tb_classify_preamble_name(
        tb_classify_preamble(client_first, client_len, server_first, server_len, server_port));
}

static bool ldap_starttls_request(const uint8_t *bytes, size_t len)
{
    struct tb_reader r = tb_rd_init(bytes, len);

    /* RFC 4511 4.12: ExtendedRequest ::= [APPLICATION 23] SEQUENCE { requestName [0] LDAPOID } */
    if (ldap_op(&r) != 0x77) {
        return false;
    }
    struct tb_reader req = tb_rd_sub(&r, ber_length(&r));
    if (tb_rd_u8(&req) != 0x80) {
        return false;
    }
    size_t n = ber_length(&req);
    const uint8_t *oid = tb_rd_bytes(&req, n);
    return oid != NULL && n == sizeof ldap_starttls_oid - 1 &&
           memcmp(oid, ldap_starttls_oid, n) == 0;
}

bool tb_classify_starttls_request(enum tb_preamble p, const uint8_t *bytes, size_t len, char *tag,
                                  size_t tag_len)
{
    struct tb_reader r = tb_rd_init(bytes, len);
    char line[TB_CLASSIFY_LINE_MAX + 1];
    char text[512];
    uint32_t code;

    if (tag != NULL && tag_len > 0) {
        tag[0] = '\0';
    }
    switch (p) {
    case TB_PREAMBLE_POSTGRESQL:
        return pg_message(bytes, len, &code) && code == PG_SSL_REQUEST_CODE;
    case TB_PREAMBLE_LDAP:
        return ldap_starttls_request(bytes, len);
    case TB_PREAMBLE_MYSQL: {
        /* SSLRequest: 3-byte length, sequence 1, capability flags with CLIENT_SSL. */
        tb_rd_skip(&r, 3);
        uint8_t seq = tb_rd_u8(&r);
        uint32_t caps = tb_rd_u8(&r);
        caps |= (uint32_t)tb_rd_u8(&r) << 8;
        return tb_rd_ok(&r) && seq == 1 && (caps & MYSQL_CLIENT_SSL) != 0;
    }
    case TB_PREAMBLE_XMPP:
        as_text(bytes, len, text, sizeof text);
        return strstr(text, "<starttls") != NULL;
    case TB_PREAMBLE_SMTP:
    case TB_PREAMBLE_IRC:
    case TB_PREAMBLE_POP3:
    case TB_PREAMBLE_FTP:
    case TB_PREAMBLE_IMAP:
        while (next_line(&r, line, sizeof line)) {
            bool asked = false;
            switch (p) {
            case TB_PREAMBLE_SMTP:
            case TB_PREAMBLE_IRC:
                asked = is_command(line, "STARTTLS");
                break;
            case TB_PREAMBLE_POP3:
                asked = is_command(line, "STLS");
                break;
            case TB_PREAMBLE_FTP:
                /* RFC 4217 4: AUTH TLS; AUTH SSL / TLS-C / TLS-P are older spellings. */
                asked = starts_with(line, "AUTH TLS") || starts_with(line, "AUTH SSL");
                break;
            case TB_PREAMBLE_IMAP:
                asked = imap_command(line, "STARTTLS", tag, tag_len);
                break;
            case TB_PREAMBLE_NONE:
            case TB_PREAMBLE_XMPP:
            case TB_PREAMBLE_POSTGRESQL:
            case TB_PREAMBLE_LDAP:
            case TB_PREAMBLE_MYSQL:
            default:
                break;
            }
            if (asked) {
                return true;
            }
        }
        return false;
    case TB_PREAMBLE_NONE:
    default:
        return false;
    }
}

static void copy_line(char *out, size_t out_len, const char *line)
{
    if (out != NULL && out_len > 0) {
        (void)snprintf(out, out_len, "%s", line); /* truncation is intended */
    }
}

/* RFC 4511 4.12 ExtendedResponse ::= [APPLICATION 24] SEQUENCE { COMPONENTS OF LDAPResult } */
static enum tb_starttls_answer ldap_answer(const uint8_t *bytes, size_t len, char *out,
                                           size_t out_len)
{
    struct tb_reader r = tb_rd_init(bytes, len);
    char diag[TB_CLASSIFY_LINE_MAX + 1] = "";

    if (ldap_op(&r) != 0x78) {
        return TB_STARTTLS_NO_ANSWER;
    }
    struct tb_reader res = tb_rd_sub(&r, ber_length(&r));
    if (tb_rd_u8(&res) != 0x0a) {
        return TB_STARTTLS_NO_ANSWER; /* resultCode ENUMERATED */
    }
    size_t n = ber_length(&res);
    if (n < 1 || n > 4) {
        return TB_STARTTLS_NO_ANSWER;
    }
    uint32_t result = 0;
    for (size_t i = 0; i < n; i++) {
        result = result << 8 | tb_rd_u8(&res);
    }
    if (!tb_rd_ok(&res)) {
        return TB_STARTTLS_NO_ANSWER;
    }
    if (result == 0) {
        copy_line(out, out_len, "extendedResponse success");
        return TB_STARTTLS_ACCEPTED;
    }
    /* matchedDN, then diagnosticMessage: both OCTET STRING. */
    if (tb_rd_u8(&res) == 0x04) {
        tb_rd_skip(&res, ber_length(&res));
        if (tb_rd_u8(&res) == 0x04) {
            size_t dn = ber_length(&res);
            const uint8_t *msg = tb_rd_bytes(&res, dn);
            if (msg != NULL) {
                as_text(msg, dn, diag, sizeof diag);
            }
        }
    }
    if (out != NULL && out_len > 0) {
        (void)snprintf(out, out_len, "extendedResponse resultCode %u%s%s", result,
                       diag[0] != '\0' ? ": " : "", diag);
    }
    return TB_STARTTLS_REFUSED;
}

static enum tb_starttls_answer line_answer(enum tb_preamble p, const char *tag, const char *line)
{
    int code = reply_code(line);

    switch (p) {
    case TB_PREAMBLE_SMTP:
        /* RFC 3207 4: 220 ready; 454 TLS not available; 501/502/503 not understood. */
        if (code == 220) {
            return TB_STARTTLS_ACCEPTED;
        }
        return code >= 400 && code < 600 ? TB_STARTTLS_REFUSED : TB_STARTTLS_NO_ANSWER;
    case TB_PREAMBLE_FTP:
        /* RFC 4217 4: 234 accepted; 431, 500, 502, 504, 534 refused. */
        if (code == 234) {
            return TB_STARTTLS_ACCEPTED;
        }
        return code >= 400 && code < 600 ? TB_STARTTLS_REFUSED : TB_STARTTLS_NO_ANSWER;
    case TB_PREAMBLE_POP3:
        /* RFC 2595 4: +OK, or -ERR. */
        if (starts_with(line, "+OK")) {
            return TB_STARTTLS_ACCEPTED;
        }
        return starts_with(line, "-ERR") ? TB_STARTTLS_REFUSED : TB_STARTTLS_NO_ANSWER;
    case TB_PREAMBLE_IMAP: {
        /* RFC 3501 6.2.1: tagged OK, or NO/BAD; untagged ("*") and continuations are not it. */
        const char *rest = line;
        if (line[0] == '*' || line[0] == '+') {
            return TB_STARTTLS_NO_ANSWER;
        }
        if (tag != NULL && tag[0] != '\0') {
            size_t n = strlen(tag);
            if (strncmp(line, tag, n) != 0 || line[n] != ' ') {
                return TB_STARTTLS_NO_ANSWER;
            }
            rest = line + n + 1;
        } else {
            const char *sp = strchr(line, ' ');
            if (sp == NULL) {
                return TB_STARTTLS_NO_ANSWER;
            }
            rest = sp + 1;
        }
        if (starts_with(rest, "OK")) {
            return TB_STARTTLS_ACCEPTED;
        }
        return starts_with(rest, "NO") || starts_with(rest, "BAD") ? TB_STARTTLS_REFUSED
                                                                   : TB_STARTTLS_NO_ANSWER;
    }
    case TB_PREAMBLE_IRC: {
        /* IRCv3 tls extension: RPL_STARTTLS 670, ERR_STARTTLS 691; 421 unknown command. */
        const char *p2 = line;
        if (p2[0] == ':') {
            p2 = strchr(p2, ' ');
            if (p2 == NULL) {
                return TB_STARTTLS_NO_ANSWER;
            }
            p2++;
        }
        code = reply_code(p2);
        if (code == 670) {
            return TB_STARTTLS_ACCEPTED;
        }
        return code == 691 || code == 421 ? TB_STARTTLS_REFUSED : TB_STARTTLS_NO_ANSWER;
    }
    case TB_PREAMBLE_NONE:
    case TB_PREAMBLE_XMPP:
    case TB_PREAMBLE_POSTGRESQL:
    case TB_PREAMBLE_LDAP:
    case TB_PREAMBLE_MYSQL:
    default:
        return TB_STARTTLS_NO_ANSWER;
    }
}

enum tb_starttls_answer tb_classify_starttls_answer(enum tb_preamble p, const char *tag,
                                                    const uint8_t *bytes, size_t len, char *line,
                                                    size_t line_len)
{
    struct tb_reader r = tb_rd_init(bytes, len);
    char text[512];
    char one[TB_CLASSIFY_LINE_MAX + 1];

    if (line != NULL && line_len > 0) {
        line[0] = '\0';
    }
    switch (p) {
    case TB_PREAMBLE_POSTGRESQL: {
        /* One byte: 'S' TLS follows, 'N' no TLS; an ErrorResponse 'E' from pre-7.2 servers. */
        uint8_t answer = tb_rd_u8(&r);
        if (!tb_rd_ok(&r)) {
            return TB_STARTTLS_NO_ANSWER;
        }
        if (answer == 'S') {
            copy_line(line, line_len, "S");
            return TB_STARTTLS_ACCEPTED;
        }
        if (answer == 'N') {
            copy_line(line, line_len, "N (the server declined the SSLRequest)");
            return TB_STARTTLS_REFUSED;
        }
        if (answer == 'E') {
            copy_line(line, line_len, "E (error response to the SSLRequest)");
            return TB_STARTTLS_REFUSED;
        }
        return TB_STARTTLS_NO_ANSWER;
    }
    case TB_PREAMBLE_LDAP:
        return ldap_answer(bytes, len, line, line_len);
    case TB_PREAMBLE_XMPP: {
        /* RFC 6120 5.4.2.2/5.4.2.3: <proceed/> or <failure/> in the xmpp-tls namespace. */
        as_text(bytes, len, text, sizeof text);
        const char *at = strstr(text, "<proceed");
        if (at != NULL) {
            first_line((const uint8_t *)at, strlen(at), one, sizeof one);
            copy_line(line, line_len, one);
            return TB_STARTTLS_ACCEPTED;
        }
        at = strstr(text, "<failure");
        if (at != NULL) {
            first_line((const uint8_t *)at, strlen(at), one, sizeof one);
            copy_line(line, line_len, one);
            return TB_STARTTLS_REFUSED;
        }
        return TB_STARTTLS_NO_ANSWER;
    }
    case TB_PREAMBLE_SMTP:
    case TB_PREAMBLE_FTP:
    case TB_PREAMBLE_POP3:
    case TB_PREAMBLE_IMAP:
    case TB_PREAMBLE_IRC:
        while (next_line(&r, one, sizeof one)) {
            enum tb_starttls_answer a = line_answer(p, tag, one);
            if (a != TB_STARTTLS_NO_ANSWER) {
                copy_line(line, line_len, one);
                return a;
            }
        }
        return TB_STARTTLS_NO_ANSWER;
    case TB_PREAMBLE_MYSQL: /* no answer: TLS follows the client's SSLRequest */
    case TB_PREAMBLE_NONE:
    default:
        return TB_STARTTLS_NO_ANSWER;
    }
}

static void preamble_done(struct tb_classify_flow *cf)
{
    cf->preamble_done = true;
}

static void preamble_feed(struct tb_classify_flow *cf, struct tb_session *s, enum tb_dir dir,
                          const struct tb_pkt *pkt)
{
    size_t len = pkt->payload_len;
    bool first = !cf->seen_payload[dir];

    if (len == 0) {
        return;
    }
    /*
     * Each byte once, in capture order: a retransmission or overlap is
     * skipped, a jump forward (loss) accepted. Commands and their answers
     * are one segment each in every stack we have seen; a line split across
     * segments is simply not recognised.
     */
    if (!first && (int32_t)(pkt->seq - cf->next_seq[dir]) < 0) {
        return;
    }
    cf->seen_payload[dir] = true;
    cf->next_seq[dir] = pkt->seq + (uint32_t)(len & 0xffffffffu);
    cf->payloads[dir]++;
    cf->scanned_len[dir] += len > TB_CLASSIFY_PREAMBLE_BYTES ? TB_CLASSIFY_PREAMBLE_BYTES
                                                             : (uint32_t)len;
    if (looks_like_tls_record(pkt->payload, len)) {
        preamble_done(cf); /* TLS starts here: the TLS layer takes over */
        return;
    }
    if (first) {
        struct tb_reader r = tb_rd_init(pkt->payload, len);
        size_t n = len < TB_CLASSIFY_FIRST_LEN ? len : TB_CLASSIFY_FIRST_LEN;
        tb_rd_copy(&r, cf->first[dir], n);
        cf->first_len[dir] = (uint8_t)n;
    }
    if (cf->preamble == TB_PREAMBLE_NONE) {
        cf->preamble = tb_classify_preamble(cf->first[TB_DIR_C2S], cf->first_len[TB_DIR_C2S],
                                            cf->first[TB_DIR_S2C], cf->first_len[TB_DIR_S2C],
                                            s->server.port);
        if (cf->preamble == TB_PREAMBLE_NONE) {
            if (cf->seen_payload[TB_DIR_C2S] && cf->seen_payload[TB_DIR_S2C]) {
                preamble_done(cf); /* both sides spoke, in no protocol we follow */
            }
            return;
        }
        s->preamble_protocol = tb_classify_preamble_name(cf->preamble);
    }
    if (dir == TB_DIR_C2S && !cf->starttls_asked) {
        cf->starttls_asked = tb_classify_starttls_request(cf->preamble, pkt->payload, len,
                                                          cf->imap_tag, sizeof cf->imap_tag);
        if (cf->starttls_asked && cf->preamble == TB_PREAMBLE_MYSQL) {
            preamble_done(cf); /* MySQL: TLS follows the SSLRequest unanswered */
            return;
        }
    } else if (dir == TB_DIR_S2C && cf->starttls_asked) {
        char line[TB_CLASSIFY_LINE_MAX + 1];
        enum tb_starttls_answer a = tb_classify_starttls_answer(
            cf->preamble, cf->imap_tag, pkt->payload, len, line, sizeof line);
        if (a == TB_STARTTLS_REFUSED) {
            s->preamble_refusal = tb_arena_strdup(&s->arena, line);
        }
        if (a != TB_STARTTLS_NO_ANSWER) {
            preamble_done(cf);
            return;
        }
    }
    if (cf->payloads[dir] >= TB_CLASSIFY_PREAMBLE_PAYLOADS ||
        cf->scanned_len[dir] >= TB_CLASSIFY_PREAMBLE_BYTES) {
        preamble_done(cf); /* a long plaintext conversation: not a preamble to TLS */
    }
}

/* ---- per packet, per flow end ---- */

void tb_classify_packet(struct tb_classifier *c, struct tb_classify_flow *cf, struct tb_session *s,
                        enum tb_dir dir, const struct tb_pkt *pkt, int64_t ts_us)
{
    if (!cf->ndpi_done && cf->ndpi_flow != NULL && c != NULL) {
        ndpi_feed(c, cf, s, pkt, ts_us);
    }
    if (!cf->preamble_done) {
        preamble_feed(cf, s, dir, pkt);
    }
}

bool tb_classify_flow_idle(const struct tb_classify_flow *cf)
{
    return cf->ndpi_done && cf->preamble_done;
}

void tb_classify_flow_end(struct tb_classifier *c, struct tb_classify_flow *cf,
                          struct tb_session *s)
{
    char fp[40];

    if (cf->ended) {
        return;
    }
    cf->ended = true;
    if (cf->ndpi_flow != NULL) {
        if (c != NULL) {
            ndpi_finish(c, cf, s);
        } else {
            ndpi_free_flow(cf->ndpi_flow);
            cf->ndpi_flow = NULL;
        }
    }
    cf->ndpi_done = true;
    cf->preamble_done = true;
    if (s->ja3 == NULL && tb_classify_ja3(&s->ch, fp)) {
        s->ja3 = tb_arena_strdup(&s->arena, fp);
    }
    if (s->ja3s == NULL && tb_classify_ja3s(&s->sh, fp)) {
        s->ja3s = tb_arena_strdup(&s->arena, fp);
    }
    if (tb_classify_ja4(&s->ch, fp)) {
        s->ja4 = tb_arena_strdup(&s->arena, fp);
    }
    /* The plaintext refusal is the verdict: no TLS handshake ever started. */
    if (s->preamble_refusal != NULL && !s->ch.seen) {
        s->outcome = TB_OUTCOME_FAILED;
    }
}

/* ---- fingerprints ---- */

/* RFC 8701 2: GREASE values are 0x?A?A with both bytes equal. */
static bool is_grease(uint16_t v)
{
    return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

static bool list_complete(const struct tb_u16_list *l)
{
    return l->total == l->count;
}

struct text {
    char s[2048]; /* 5 lists of at most TB_MAX_LIST values of at most 6 characters */
    size_t len;
    bool overflow;
};

/* Appends n bytes; a text that would overflow is marked and never hashed. */
/* Not "= {0}": that would clear the 2 KB buffer on every fingerprint. */
static void text_init(struct text *t)
{
    t->len = 0;
    t->overflow = false;
    t->s[0] = '\0';
}

static void text_append(struct text *t, const char *p, size_t n)
{
    if (t->overflow || n >= sizeof t->s - t->len) {
        t->overflow = true;
        return;
    }
    memcpy(t->s + t->len, p, n);
    t->len += n;
    t->s[t->len] = '\0';
}

static void text_str(struct text *t, const char *str)
{
    text_append(t, str, strlen(str));
}

/* Formatting by hand: snprintf per value made JA4 cost as much as nDPI per flow. */
static void text_dec(struct text *t, const char *sep, unsigned v)
{
    char digits[12];
    size_t n = sizeof digits;

    do {
        digits[--n] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0 && n > 0);
    text_str(t, sep);
    text_append(t, digits + n, sizeof digits - n);
}

static void text_hex(struct text *t, const char *sep, unsigned v)
{
    static const char hexdig[] = "0123456789abcdef";
    char four[4] = {hexdig[(v >> 12) & 0xf], hexdig[(v >> 8) & 0xf], hexdig[(v >> 4) & 0xf],
                    hexdig[v & 0xf]};

    text_str(t, sep);
    text_append(t, four, sizeof four);
}

/* JA3: decimal values joined by '-', GREASE left out (as every JA3 implementation does). */
static void text_list(struct text *t, const struct tb_u16_list *l, bool skip_grease)
{
    bool any = false;

    for (size_t i = 0; i < l->count; i++) {
        if (skip_grease && is_grease(l->v[i])) {
            continue;
        }
        text_dec(t, any ? "-" : "", l->v[i]);
        any = true;
    }
}

static bool md5_hex(const struct text *t, char out[33])
{
    uint8_t digest[TB_MD5_LEN];

    if (t->overflow || tb_hash_md5(t->s, t->len, digest) != TB_OK) {
        return false;
    }
    tb_hash_hex(digest, sizeof digest, out);
    return true;
}

bool tb_classify_ja3(const struct tb_client_hello *ch, char out[33])
{
    struct text t;

    text_init(&t);

    /* JA3: SSLVersion,Ciphers,Extensions,EllipticCurves,EllipticCurvePointFormats */
    if (!ch->seen || !list_complete(&ch->cipher_suites) || !list_complete(&ch->extensions) ||
        !list_complete(&ch->groups) || !list_complete(&ch->ec_point_formats)) {
        return false;
    }
    text_dec(&t, "", ch->legacy_version);
    text_str(&t, ",");
    text_list(&t, &ch->cipher_suites, true);
    text_str(&t, ",");
    text_list(&t, &ch->extensions, true);
    text_str(&t, ",");
    text_list(&t, &ch->groups, true);
    text_str(&t, ",");
    text_list(&t, &ch->ec_point_formats, false);
    return md5_hex(&t, out);
}

bool tb_classify_ja3s(const struct tb_server_hello *sh, char out[33])
{
    struct text t;

    text_init(&t);

    /* JA3S: SSLVersion,Cipher,Extensions */
    if (!sh->seen || !list_complete(&sh->extensions)) {
        return false;
    }
    text_dec(&t, "", sh->legacy_version);
    text_dec(&t, ",", sh->cipher);
    text_str(&t, ",");
    text_list(&t, &sh->extensions, true);
    return md5_hex(&t, out);
}

/* JA4 hex list: 4 lower-case hex digits per value, comma-separated. */
static void text_hex_list(struct text *t, const uint16_t *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        text_hex(t, i == 0 ? "" : ",", v[i]);
    }
}

/*
 * The last lists hashed, per thread (memo.h): a capture's clients are a
 * handful of programs that send the same lists again and again, and two
 * SHA-256 per ClientHello were ~3% of a handshake-heavy run.
 */
static const struct tb_memo_shape sha12_memo = {TB_MEMO_JA4_SHA, 64, 1024, 13};

/* First 12 hex characters of SHA-256 of the text; "000000000000" for an empty list. */
static bool sha12(const struct text *t, char out[13])
{
    uint8_t digest[TB_SHA256_LEN];
    char hex[2 * TB_SHA256_LEN + 1];
    size_t kept_len = 0;
    const char *kept;

    if (t->overflow) {
        return false;
    }
    if (t->len == 0) {
        memcpy(out, "000000000000", 13);
        return true;
    }
    kept = tb_memo_get(&sha12_memo, t->s, t->len, &kept_len);
    if (kept != NULL && kept_len == 13) {
        memcpy(out, kept, 13);
        return true;
    }
    if (tb_hash_sha256(t->s, t->len, digest) != TB_OK) {
        return false;
    }
    tb_hash_hex(digest, sizeof digest, hex);
    memcpy(out, hex, 12);
    out[12] = '\0';
    tb_memo_put(&sha12_memo, t->s, t->len, out, 13);
    return true;
}

static const char *ja4_version(uint16_t v)
{
    switch (v) {
    case 0x0304:
        return "13";
    case 0x0303:
        return "12";
    case 0x0302:
        return "11";
    case 0x0301:
        return "10";
    case 0x0300:
        return "s3";
    case 0x0200:
    case 0x0002:
        return "s2";
    case 0x0100:
        return "s1";
    default:
        return "00";
    }
}

static bool alnum(char ch)
{
    return (ch >= '0' && ch <= '9') || (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z');
}

/* Insertion sort: a few dozen values, where glibc's qsort allocates and merges. */
static void sort_u16(uint16_t *v, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        uint16_t x = v[i];
        size_t j = i;
        while (j > 0 && v[j - 1] > x) {
            v[j] = v[j - 1];
            j--;
        }
        v[j] = x;
    }
}

/*
 * FoxIO JA4 (technical_details/JA4.md): "t" + version + "d"/"i" + cipher
 * count + extension count + ALPN first/last character, "_", SHA-256/12 of
 * the sorted ciphers, "_", SHA-256/12 of the sorted extensions without SNI
 * and ALPN, "_", the signature algorithms in wire order. GREASE is ignored
 * everywhere; counts stop at 99.
 */
bool tb_classify_ja4(const struct tb_client_hello *ch, char out[40])
{
    static const char hexdig[] = "0123456789abcdef";
    uint16_t ciphers[TB_MAX_LIST], exts[TB_MAX_LIST], sigs[TB_MAX_LIST];
    size_t n_ciphers = 0, n_exts_all = 0, n_exts = 0, n_sigs = 0;
    uint16_t version = ch->legacy_version;
    bool sni = false;
    char alpn[3] = "00";
    char part_b[13], part_c[13];
    struct text t;

    text_init(&t);

    if (!ch->seen || !list_complete(&ch->cipher_suites) || !list_complete(&ch->extensions) ||
        !list_complete(&ch->sig_algs) || !list_complete(&ch->versions)) {
        return false;
    }
    /* Version: the highest supported_versions entry if the extension is there. */
    if (ch->versions.count > 0) {
        version = 0;
        for (size_t i = 0; i < ch->versions.count; i++) {
            if (!is_grease(ch->versions.v[i]) && ch->versions.v[i] > version) {
                version = ch->versions.v[i];
            }
        }
    }
    for (size_t i = 0; i < ch->cipher_suites.count; i++) {
        if (!is_grease(ch->cipher_suites.v[i])) {
            ciphers[n_ciphers++] = ch->cipher_suites.v[i];
        }
    }
    for (size_t i = 0; i < ch->extensions.count; i++) {
        uint16_t e = ch->extensions.v[i];
        if (is_grease(e)) {
            continue;
        }
        n_exts_all++;
        if (e == 0x0000) {
            sni = true;
        } else if (e != 0x0010) {
            exts[n_exts++] = e;
        }
    }
    for (size_t i = 0; i < ch->sig_algs.count; i++) {
        if (!is_grease(ch->sig_algs.v[i])) {
            sigs[n_sigs++] = ch->sig_algs.v[i];
        }
    }
    /* ALPN: first and last character of the first value; hex nibbles if not alphanumeric. */
    if (ch->alpn_count > 0 && ch->alpn[0] != NULL && ch->alpn[0][0] != '\0') {
        const char *v = ch->alpn[0];
        char first = v[0], last = v[strlen(v) - 1];
        if (alnum(first) && alnum(last)) {
            alpn[0] = first;
            alpn[1] = last;
        } else {
            alpn[0] = hexdig[((uint8_t)first) >> 4];
            alpn[1] = hexdig[((uint8_t)last) & 0x0f];
        }
    }
    sort_u16(ciphers, n_ciphers);
    sort_u16(exts, n_exts);

    text_hex_list(&t, ciphers, n_ciphers);
    if (!sha12(&t, part_b)) {
        return false;
    }
    t.len = 0;
    text_hex_list(&t, exts, n_exts);
    if (n_sigs > 0) {
        text_str(&t, "_");
        text_hex_list(&t, sigs, n_sigs);
    }
    if (!sha12(&t, part_c)) {
        return false;
    }
    (void)snprintf(out, 40, "t%s%c%02u%02u%c%c_%s_%s", ja4_version(version), sni ? 'd' : 'i',
                   (unsigned)(n_ciphers > 99 ? 99 : n_ciphers),
                   (unsigned)(n_exts_all > 99 ? 99 : n_exts_all), alpn[0], alpn[1], part_b,
                   part_c);
    return true;
}
