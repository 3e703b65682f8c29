/*
 * keylog.c - NSS key log parser (the format of SSLKEYLOGFILE; see
 * draft-ietf-tls-keylogfile): "LABEL <client_random hex> <secret hex>" per
 * line, '#' comments. Lines are read through a fixed buffer (never longer
 * than TB_MAX_KEYLOG_LINE), client randoms are kept in an open-addressing
 * hash table capped at TB_MAX_KEYLOG_ENTRIES. Also walks the head of a pcapng
 * file for Decryption Secrets Blocks, which libpcap skips.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "tlsblame/hash.h"
#include "tlsblame/keylog.h"
#include "tlsblame/limits.h"
#include "tlsblame/reader.h"

#define READ_CHUNK (64u * 1024u)

/* pcapng (draft-ietf-opsawg-pcapng) block types */
#define PCAPNG_SHB 0x0A0D0D0Au
#define PCAPNG_BOM 0x1A2B3C4Du
#define PCAPNG_PB 0x00000002u  /* obsolete Packet Block */
#define PCAPNG_SPB 0x00000003u
#define PCAPNG_EPB 0x00000006u
#define PCAPNG_DSB 0x0000000Au
#define DSB_TLS_KEY_LOG 0x544c534bu /* "TLSK" */

struct label {
    const char *name;
    int secret;          /* enum tb_keylog_secret, or -1: accepted and ignored */
    size_t len, alt_len; /* allowed secret lengths in bytes */
};

static const struct label labels[] = {
    {"CLIENT_RANDOM", TB_KEYLOG_MASTER_SECRET, 48, 48},
    {"CLIENT_HANDSHAKE_TRAFFIC_SECRET", TB_KEYLOG_CLIENT_HS_TRAFFIC, 32, 48},
    {"SERVER_HANDSHAKE_TRAFFIC_SECRET", TB_KEYLOG_SERVER_HS_TRAFFIC, 32, 48},
    {"CLIENT_TRAFFIC_SECRET_0", TB_KEYLOG_CLIENT_TRAFFIC_0, 32, 48},
    {"SERVER_TRAFFIC_SECRET_0", TB_KEYLOG_SERVER_TRAFFIC_0, 32, 48},
    /* Not needed to read a handshake: 0-RTT data, exporters, RSA pre-master secrets, ECH. */
    {"CLIENT_EARLY_TRAFFIC_SECRET", -1, 0, 0},
    {"EARLY_EXPORTER_SECRET", -1, 0, 0},
    {"EARLY_EXPORTER_MASTER_SECRET", -1, 0, 0},
    {"EXPORTER_SECRET", -1, 0, 0},
    /* OpenSSL 3 logs the secret after each KeyUpdate; decrypt.c derives it (RFC 8446 7.2). */
    {"CLIENT_TRAFFIC_SECRET_N", -1, 0, 0},
    {"SERVER_TRAFFIC_SECRET_N", -1, 0, 0},
    {"RSA", -1, 0, 0},
    {"PMS_CLIENT_RANDOM", -1, 0, 0},
    {"ECH_SECRET", -1, 0, 0},
    {"ECH_CONFIG", -1, 0, 0},
};

struct tb_keylog {
    struct tb_keylog_entry *entries;
    size_t count, alloc;
    uint32_t *slots;            /* entry index + 1; 0 = empty */
    size_t slot_count;          /* power of two, at least twice count */
    bool quiet;
    struct tb_keylog_stats stats;
};

/* One load: the line being assembled and where it came from. */
struct line_reader {
    struct tb_keylog *kl;
    const char *name;
    size_t lineno;
    uint8_t line[TB_MAX_KEYLOG_LINE];
    size_t len;
    bool too_long;
    size_t diags;               /* messages printed for this load */
};

struct tb_keylog *tb_keylog_new(void)
{
    return calloc(1, sizeof(struct tb_keylog));
}

void tb_keylog_free(struct tb_keylog *kl)
{
    if (kl == NULL) {
        return;
    }
    free(kl->entries);
    free(kl->slots);
    free(kl);
}

void tb_keylog_set_quiet(struct tb_keylog *kl, bool quiet)
{
    kl->quiet = quiet;
}

void tb_keylog_stats(const struct tb_keylog *kl, struct tb_keylog_stats *out)
{
    *out = kl->stats;
    out->entries = kl->count;
}

const char *tb_keylog_label(enum tb_keylog_secret which)
{
    for (size_t i = 0; i < sizeof labels / sizeof labels[0]; i++) {
        if (labels[i].secret == (int)which) {
            return labels[i].name;
        }
    }
    return "?";
}

/* The whole random: TLS <= 1.2 clients may put gmt_unix_time in the first 4 bytes. */
static size_t random_hash(const uint8_t random[32])
{
    return (size_t)tb_hash_fnv1a(random, 32);
}

static struct tb_keylog_entry *find_slot(const struct tb_keylog *kl, const uint8_t random[32],
                                         size_t *slot)
{
    size_t mask = kl->slot_count - 1;

    for (size_t i = random_hash(random) & mask;; i = (i + 1) & mask) {
        uint32_t v = kl->slots[i];
        if (v == 0) {
            *slot = i;
            return NULL;
        }
        if (memcmp(kl->entries[v - 1].client_random, random, 32) == 0) {
            *slot = i;
            return &kl->entries[v - 1];
        }
    }
}

static enum tb_err grow_slots(struct tb_keylog *kl)
{
    size_t n = kl->slot_count == 0 ? 64 : kl->slot_count * 2;
    uint32_t *slots = calloc(n, sizeof *slots);

    if (slots == NULL) {
        return TB_ERR_NOMEM;
    }
    free(kl->slots);
    kl->slots = slots;
    kl->slot_count = n;
    for (size_t e = 0; e < kl->count; e++) {
        size_t slot;
        (void)find_slot(kl, kl->entries[e].client_random, &slot); /* empty: entries are distinct */
        kl->slots[slot] = (uint32_t)(e + 1);
    }
    return TB_OK;
}

const struct tb_keylog_entry *tb_keylog_find(const struct tb_keylog *kl,
                                             const uint8_t client_random[32])
{
    size_t slot;

    if (kl == NULL || kl->count == 0) {
        return NULL;
    }
    return find_slot(kl, client_random, &slot);
}

/* The entry for this random, made if new; NULL past the cap or out of memory. */
static struct tb_keylog_entry *entry_for(struct tb_keylog *kl, const uint8_t random[32],
                                         enum tb_err *err)
{
    size_t slot;
    struct tb_keylog_entry *e;

    *err = TB_OK;
    if (kl->slot_count == 0 || (kl->count + 1) * 2 > kl->slot_count) {
        *err = grow_slots(kl);
        if (*err != TB_OK) {
            return NULL;
        }
    }
    e = find_slot(kl, random, &slot);
    if (e != NULL) {
        return e;
    }
    if (kl->count >= TB_MAX_KEYLOG_ENTRIES) {
        *err = TB_ERR_CAP;
        return NULL;
    }
    if (kl->count == kl->alloc) {
        size_t n = kl->alloc == 0 ? 16 : kl->alloc * 2;
        struct tb_keylog_entry *grown = realloc(kl->entries, n * sizeof *grown);
        if (grown == NULL) {
            *err = TB_ERR_NOMEM;
            return NULL;
        }
        kl->entries = grown;
        kl->alloc = n;
    }
    e = &kl->entries[kl->count];
    memset(e, 0, sizeof *e);
    memcpy(e->client_random, random, 32);
    kl->slots[slot] = (uint32_t)(kl->count + 1);
    kl->count++;
    return e;
}

static void malformed(struct line_reader *lr, const char *fmt, ...) TB_PRINTF(2, 3);

static void malformed(struct line_reader *lr, const char *fmt, ...)
{
    struct tb_keylog_stats *st = &lr->kl->stats;
    char why[128];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    st->malformed++;
    if (st->first_malformed_line == 0) {
        st->first_malformed_line = lr->lineno;
        snprintf(st->first_malformed_why, sizeof st->first_malformed_why, "%s", why);
    }
    if (lr->kl->quiet) {
        return;
    }
    lr->diags++;
    if (lr->diags <= TB_MAX_KEYLOG_DIAGS) {
        fprintf(stderr, "tlsblame: %s:%zu: %s; line skipped\n", lr->name, lr->lineno, why);
    } else if (lr->diags == TB_MAX_KEYLOG_DIAGS + 1) {
        fprintf(stderr, "tlsblame: %s: more malformed lines; not reported one by one\n",
                lr->name);
    }
}

static bool is_blank(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

static void skip_blanks(struct tb_reader *r)
{
    while (tb_rd_left(r) > 0 && is_blank(tb_rd_peek_u8(r, 0))) {
        tb_rd_skip(r, 1);
    }
}

/* The next run of non-blank bytes: a child reader over it. */
static struct tb_reader next_field(struct tb_reader *r)
{
    size_t n = 0;

    skip_blanks(r);
    while (n < tb_rd_left(r) && !is_blank(tb_rd_peek_u8(r, n))) {
        n++;
    }
    return tb_rd_sub(r, n);
}

static int hex_value(uint8_t c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* Hex field into out (exactly out_len bytes). Returns a reason or NULL. */
static const char *read_hex(struct tb_reader *field, uint8_t *out, size_t out_len, size_t *bad_col)
{
    size_t i = 0;

    while (tb_rd_left(field) > 0) {
        size_t col = tb_rd_offset(field) + 1;
        int hi = hex_value(tb_rd_u8(field));
        int lo = tb_rd_left(field) > 0 ? hex_value(tb_rd_u8(field)) : -1;
        if (hi < 0 || lo < 0) {
            *bad_col = hi < 0 ? col : col + 1;
            return "not a hex digit";
        }
        if (i >= out_len) {
            return "too long";
        }
        out[i++] = (uint8_t)(hi << 4 | lo);
    }
    return i == out_len ? NULL : "too short";
}

static bool field_is(const struct tb_reader *field, const char *s)
{
    size_t n = strlen(s);

    if (tb_rd_left(field) != n) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (tb_rd_peek_u8(field, i) != (uint8_t)s[i]) {
            return false;
        }
    }
    return true;
}

static void parse_line(struct line_reader *lr, const uint8_t *text, size_t len)
{
    struct tb_keylog *kl = lr->kl;
    struct tb_reader r = tb_rd_init(text, len);
    uint8_t random[32];
    uint8_t secret[TB_KEYLOG_SECRET_MAX];
    size_t bad_col = 0;
    const char *why;

    kl->stats.lines++;
    skip_blanks(&r);
    if (tb_rd_left(&r) == 0 || tb_rd_peek_u8(&r, 0) == '#') {
        kl->stats.ignored++;
        return;
    }
    struct tb_reader label_field = next_field(&r);
    struct tb_reader random_field = next_field(&r);
    struct tb_reader secret_field = next_field(&r);
    skip_blanks(&r);
    const struct label *label = NULL;
    for (size_t i = 0; i < sizeof labels / sizeof labels[0]; i++) {
        if (field_is(&label_field, labels[i].name)) {
            label = &labels[i];
            break;
        }
    }
    if (label == NULL) {
        size_t shown = tb_rd_left(&label_field) > 40 ? 40 : tb_rd_left(&label_field);
        char shown_label[41];
        bool printable = true;
        for (size_t i = 0; i < shown; i++) {
            uint8_t c = tb_rd_peek_u8(&label_field, i);
            printable = printable && c >= 0x20 && c < 0x7f;
            shown_label[i] = (char)c;
        }
        shown_label[shown] = '\0';
        if (printable) {
            malformed(lr, "unknown label \"%s\"", shown_label);
        } else {
            malformed(lr, "not a key log line (no known label)");
        }
        return;
    }
    if (tb_rd_left(&random_field) == 0 || tb_rd_left(&secret_field) == 0 || tb_rd_left(&r) > 0) {
        malformed(lr, "expected 3 fields: %s <client random> <secret>", label->name);
        return;
    }
    if (label->secret < 0) {
        kl->stats.ignored++;
        return;
    }
    size_t random_digits = tb_rd_left(&random_field);
    if (random_digits != 64) {
        malformed(lr, "client random is %zu hex digits, not 64", random_digits);
        return;
    }
    why = read_hex(&random_field, random, sizeof random, &bad_col);
    if (why != NULL) {
        malformed(lr, "column %zu: client random: %s", bad_col, why);
        return;
    }
    size_t digits = tb_rd_left(&secret_field);
    size_t secret_len = digits / 2;
    if (digits % 2 != 0 || (secret_len != label->len && secret_len != label->alt_len)) {
        if (label->len == label->alt_len) {
            malformed(lr, "%s secret is %zu hex digits, not %zu", label->name, digits,
                      label->len * 2);
        } else {
            malformed(lr, "%s secret is %zu hex digits, not %zu or %zu", label->name, digits,
                      label->len * 2, label->alt_len * 2);
        }
        return;
    }
    why = read_hex(&secret_field, secret, secret_len, &bad_col);
    if (why != NULL) {
        malformed(lr, "column %zu: secret: %s", bad_col, why);
        return;
    }
    enum tb_err err;
    struct tb_keylog_entry *e = entry_for(kl, random, &err);
    if (e == NULL) {
        if (err == TB_ERR_CAP && !kl->stats.entries_capped) {
            kl->stats.entries_capped = true;
            if (!kl->quiet) {
                fprintf(stderr, "tlsblame: %s:%zu: more than %u client randoms; the rest of the "
                                "key log is ignored\n",
                        lr->name, lr->lineno, (unsigned)TB_MAX_KEYLOG_ENTRIES);
            }
        }
        return;
    }
    /* A later line for the same random and label wins, as in a log appended to. */
    memcpy(e->secret[label->secret], secret, secret_len);
    e->secret_len[label->secret] = (uint8_t)secret_len;
    kl->stats.secrets++;
}

static void end_line(struct line_reader *lr)
{
    lr->lineno++;
    if (lr->too_long) {
        lr->kl->stats.lines++;
        malformed(lr, "line longer than %u bytes", (unsigned)TB_MAX_KEYLOG_LINE);
    } else {
        parse_line(lr, lr->line, lr->len);
    }
    lr->len = 0;
    lr->too_long = false;
}

static void feed(struct line_reader *lr, const uint8_t *bytes, size_t n)
{
    struct tb_reader r = tb_rd_init(bytes, n);

    while (tb_rd_left(&r) > 0) {
        uint8_t c = tb_rd_u8(&r);
        if (c == '\n') {
            end_line(lr);
        } else if (lr->len < sizeof lr->line) {
            lr->line[lr->len++] = c;
        } else {
            lr->too_long = true;
        }
    }
}

static void finish(struct line_reader *lr)
{
    if (lr->len > 0 || lr->too_long) {
        end_line(lr); /* a last line without a newline */
    }
}

enum tb_err tb_keylog_load_mem(struct tb_keylog *kl, const char *name, const uint8_t *text,
                               size_t len)
{
    struct line_reader *lr = calloc(1, sizeof *lr);

    if (lr == NULL) {
        return TB_ERR_NOMEM;
    }
    lr->kl = kl;
    lr->name = name;
    feed(lr, text, len);
    finish(lr);
    free(lr);
    return TB_OK;
}

enum tb_err tb_keylog_load_file(struct tb_keylog *kl, const char *path)
{
    enum tb_err err = TB_OK;
    struct line_reader *lr = NULL;
    uint8_t *chunk = NULL;
    FILE *fp = fopen(path, "rb");

    if (fp == NULL) {
        if (!kl->quiet) {
            fprintf(stderr, "tlsblame: %s: cannot open key log: %s\n", path, strerror(errno));
        }
        err = TB_ERR_IO;
        goto out;
    }
    lr = calloc(1, sizeof *lr);
    chunk = malloc(READ_CHUNK);
    if (lr == NULL || chunk == NULL) {
        err = TB_ERR_NOMEM;
        goto out;
    }
    lr->kl = kl;
    lr->name = path;
    for (;;) {
        size_t got = fread(chunk, 1, READ_CHUNK, fp);
        feed(lr, chunk, got);
        if (got < READ_CHUNK) {
            break;
        }
    }
    if (ferror(fp)) {
        if (!kl->quiet) {
            fprintf(stderr, "tlsblame: %s: read error in key log after line %zu\n", path,
                    lr->lineno);
        }
        err = TB_ERR_IO;
    }
    finish(lr);
out:
    free(chunk);
    free(lr);
    if (fp != NULL) {
        fclose(fp);
    }
    return err;
}

/* ---- pcapng Decryption Secrets Blocks ---- */

static uint32_t read_u32(const uint8_t raw[4], bool little_endian)
{
    struct tb_reader r = tb_rd_init(raw, 4);
    uint32_t v = tb_rd_u32(&r);
    return little_endian ? __builtin_bswap32(v) : v;
}

/* Skip n bytes of the stream: fseek, which stays inside stdio's buffer for small blocks. */
static bool skip_bytes(FILE *fp, size_t n)
{
    return n <= (size_t)INT32_MAX && fseek(fp, (long)n, SEEK_CUR) == 0;
}

/* DSB body (after type and length): secrets_type, secrets_length, secrets, padding, options. */
static void dsb_body(struct tb_keylog *kl, const char *name, const uint8_t *body, size_t len,
                     bool little_endian, size_t *dsb_count)
{
    struct tb_reader r = tb_rd_init(body, len);
    uint8_t raw[8];

    tb_rd_copy(&r, raw, 8);
    uint32_t type = read_u32(raw, little_endian);
    uint32_t secrets_len = read_u32(raw + 4, little_endian);
    if (!tb_rd_ok(&r) || type != DSB_TLS_KEY_LOG) {
        return; /* WireGuard, ZigBee, SSH...: not ours */
    }
    if (secrets_len > tb_rd_left(&r)) {
        if (!kl->quiet) {
            fprintf(stderr, "tlsblame: %s: decryption secrets block: secrets length %u exceeds "
                            "the block (%zu bytes)\n",
                    name, secrets_len, tb_rd_left(&r));
        }
        return;
    }
    const uint8_t *text = tb_rd_bytes(&r, secrets_len);
    char label[512];
    snprintf(label, sizeof label, "%s (pcapng decryption secrets)", name);
    if (text != NULL && tb_keylog_load_mem(kl, label, text, secrets_len) == TB_OK) {
        (*dsb_count)++;
    }
}

enum tb_err tb_keylog_load_pcapng_stream(struct tb_keylog *kl, const char *name, FILE *fp,
                                         size_t *dsb_count)
{
    enum tb_err err = TB_OK;
    bool little_endian = true;
    uint8_t *body = NULL;
    uint8_t hdr[8];

    *dsb_count = 0;
    for (size_t blocks = 0; blocks < TB_MAX_PCAPNG_BLOCKS_SCANNED; blocks++) {
        if (fread(hdr, 1, sizeof hdr, fp) != sizeof hdr) {
            if (blocks == 0) {
                err = TB_ERR_FORMAT;
            }
            break; /* end of file */
        }
        /* 0x0A0D0D0A reads the same in both byte orders; other types need the section's. */
        uint32_t type = read_u32(hdr, little_endian);
        if (blocks == 0 && type != PCAPNG_SHB) {
            err = TB_ERR_FORMAT; /* pcap, or not a capture: libpcap will say */
            break;
        }
        if (type == PCAPNG_SHB) {
            uint8_t bom[4];
            if (fread(bom, 1, sizeof bom, fp) != sizeof bom) {
                break;
            }
            /* The byte-order magic decides how this section's numbers read. */
            if (read_u32(bom, false) == PCAPNG_BOM) {
                little_endian = false;
            } else if (read_u32(bom, true) == PCAPNG_BOM) {
                little_endian = true;
            } else {
                err = blocks == 0 ? TB_ERR_FORMAT : TB_OK;
                break;
            }
            uint32_t total = read_u32(hdr + 4, little_endian);
            if (total < 28 || total % 4 != 0 || !skip_bytes(fp, total - 12)) {
                break;
            }
            continue;
        }
        uint32_t total = read_u32(hdr + 4, little_endian);
        if (total < 12 || total % 4 != 0) {
            tb_trace("%s: pcapng block %zu: total length %u; secrets walk stops", name, blocks,
                     total);
            break;
        }
        if (type == PCAPNG_EPB || type == PCAPNG_SPB || type == PCAPNG_PB) {
            /* editcap --inject-secrets and dumpcap write secrets before the packets. */
            break;
        }
        size_t body_len = total - 12;
        if (type != PCAPNG_DSB || body_len > TB_MAX_PCAPNG_DSB) {
            if (type == PCAPNG_DSB && !kl->quiet) {
                fprintf(stderr, "tlsblame: %s: decryption secrets block of %zu bytes exceeds "
                                "%u; skipped\n",
                        name, body_len, (unsigned)TB_MAX_PCAPNG_DSB);
            }
            if (!skip_bytes(fp, body_len + 4)) {
                break;
            }
            continue;
        }
        body = malloc(body_len + 4);
        if (body == NULL) {
            err = TB_ERR_NOMEM;
            break;
        }
        if (fread(body, 1, body_len + 4, fp) != body_len + 4) {
            break; /* truncated file: libpcap reports it */
        }
        dsb_body(kl, name, body, body_len, little_endian, dsb_count);
        free(body);
        body = NULL;
    }
    free(body);
    return err;
}

enum tb_err tb_keylog_load_pcapng(struct tb_keylog *kl, const char *path, size_t *dsb_count)
{
    enum tb_err err;
    FILE *fp = fopen(path, "rb");

    *dsb_count = 0;
    if (fp == NULL) {
        return TB_ERR_IO; /* the capture stage reports it */
    }
    err = tb_keylog_load_pcapng_stream(kl, path, fp, dsb_count);
    fclose(fp);
    return err;
}
