/*
 * x509.c - one certificate DER -> struct tb_cert, plus Name strings, host
 * matching, PEM and the --ca-file trust store.
 *
 * Two readers look at every DER:
 *  - mbedTLS (mbedtls_x509_crt_parse_der_with_ext_cb) decides whether the
 *    certificate is well formed, and owns the public key used for every
 *    signature check (self-signed, chain links, CertificateVerify);
 *  - our own DER walk over struct tb_reader reads the facts, including what
 *    mbedTLS 2.28 does not expose (IP/URI/email SANs, SKI, AKI, unknown
 *    critical extensions, RFC 4514 strings) and everything it can still read
 *    from a DER that mbedTLS refuses.
 *
 * mbedTLS 2.28 knows neither Ed25519/Ed448 nor RSASSA-PSS or DSA keys, and
 * fails the whole certificate on them (UNKNOWN_SIG_ALG / UNKNOWN_PK_ALG).
 * Such a certificate is not malformed: when mbedTLS fails only for that
 * reason and our own walk read the complete certificate, it is reported as
 * parsed (parsed == true, parse_error == NULL) with every field filled, and
 * tb_x509_crt() returns NULL, so signature checks on it say "unknown".
 * Any other mbedTLS failure gives parsed == false, mbedTLS's error text, and
 * the fields our walk could read before the damage.
 *
 * Strings keep wire bytes as they were, except that a NUL byte (which would
 * end a C string early, the classic "www.bank.com\0.evil.com" trick) becomes
 * U+FFFD, and DNs are RFC 4514 strings.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/version.h>
#include <mbedtls/error.h>
#include <mbedtls/md.h>
#include <mbedtls/pem.h>
#include <mbedtls/pk.h>
#include <mbedtls/sha256.h>
#include <mbedtls/x509_crt.h>

#include "tlsblame/buf.h"
#include "tlsblame/reader.h"
#include "x509_int.h"

/* A DN string longer than this is cut with "..." (a Name may be 64 KiB of RDNs). */
#define X509_MAX_DN_STR (64u * 1024u)
/* Per-cert string arena: every string is at most a few times the DER it came from. */
#define X509_ARENA_BASE (64u * 1024u)
#define X509_ARENA_PER_BYTE 16u
/* Pointer lists (SAN, EKU, KU) of one cert. */
#define X509_MAX_LIST_BYTES (1024u * 1024u)

/* DER universal tags used below. */
enum der_tag {
    DER_BOOLEAN = 0x01,
    DER_INTEGER = 0x02,
    DER_BIT_STRING = 0x03,
    DER_OCTET_STRING = 0x04,
    DER_NULL = 0x05,
    DER_OID = 0x06,
    DER_UTF8_STRING = 0x0c,
    DER_NUMERIC_STRING = 0x12,
    DER_PRINTABLE_STRING = 0x13,
    DER_T61_STRING = 0x14,
    DER_IA5_STRING = 0x16,
    DER_UTC_TIME = 0x17,
    DER_GENERALIZED_TIME = 0x18,
    DER_VISIBLE_STRING = 0x1a,
    DER_UNIVERSAL_STRING = 0x1c,
    DER_BMP_STRING = 0x1e,
    DER_SEQUENCE = 0x30,
    DER_SET = 0x31,
    DER_CTX0 = 0xa0, /* [0] constructed */
    DER_CTX3 = 0xa3,
};

struct x509_impl {
    struct tb_arena arena; /* every string and list of the cert */
    uint8_t *der;          /* owned copy; mbedTLS's crt points into it */
    mbedtls_x509_crt crt;
    bool has_crt;
};

struct oid {
    const uint8_t *p;
    size_t len;
};
#define OID(s) {(const uint8_t *)(s), sizeof(s) - 1}

/* ------------------------------------------------------------------ DER */

static struct tb_reader rd_empty(struct tb_reader *r)
{
    struct tb_reader e = {.buf = r->buf, .pos = r->end, .end = r->end, .parent = r};

    e.err = r->err;
    return e;
}

/* X.690 8.1.3 definite length; DER forbids the indefinite form. */
static size_t der_len(struct tb_reader *r)
{
    uint8_t first = tb_rd_u8(r);
    size_t len = 0;

    if (first < 0x80) {
        return first;
    }
    unsigned n = first & 0x7fu;
    if (n == 0 || n > 4) { /* 4 GiB is already far past any cap */
        tb_rd_fail(r, TB_ERR_VALUE);
        return 0;
    }
    for (unsigned i = 0; i < n; i++) {
        len = len << 8 | tb_rd_u8(r);
    }
    return len;
}

/* One TLV: its tag, and a child reader over its contents (consumed from r). */
static struct tb_reader der_tlv(struct tb_reader *r, uint8_t *tag)
{
    *tag = tb_rd_u8(r);
    if ((*tag & 0x1fu) == 0x1fu) { /* high tag numbers: X.509 never uses them */
        tb_rd_fail(r, TB_ERR_VALUE);
    }
    size_t len = der_len(r);
    if (!tb_rd_ok(r)) {
        return rd_empty(r);
    }
    return tb_rd_sub(r, len);
}

static bool der_peek(const struct tb_reader *r, uint8_t tag)
{
    return tb_rd_left(r) > 0 && tb_rd_peek_u8(r, 0) == tag;
}

/* The next TLV must carry tag; else r fails with TB_ERR_VALUE. */
static struct tb_reader der_expect(struct tb_reader *r, uint8_t tag)
{
    uint8_t got;

    if (tb_rd_left(r) > 0 && !der_peek(r, tag)) {
        tb_rd_fail(r, TB_ERR_VALUE);
        return rd_empty(r);
    }
    return der_tlv(r, &got);
}

/*
 * Like der_expect, but a length running past the end is cut to what is
 * there and *cut is set: a certificate truncated by the capture (or by a
 * buggy sender) still shows the fields before the cut.
 */
static struct tb_reader der_expect_cut(struct tb_reader *r, uint8_t tag, bool *cut)
{
    if (!der_peek(r, tag)) {
        tb_rd_fail(r, tb_rd_left(r) == 0 ? TB_ERR_TRUNCATED : TB_ERR_VALUE);
        return rd_empty(r);
    }
    tb_rd_skip(r, 1);
    size_t len = der_len(r);
    if (!tb_rd_ok(r)) {
        return rd_empty(r);
    }
    if (len > tb_rd_left(r)) {
        *cut = true;
        len = tb_rd_left(r);
    }
    return tb_rd_sub(r, len);
}

/* The whole next TLV (tag, length, contents) as bytes, consumed; NULL on failure. */
static const uint8_t *der_raw_tlv(struct tb_reader *r, size_t *n)
{
    struct tb_reader probe = *r;
    uint8_t tag;

    probe.parent = NULL;
    (void)der_tlv(&probe, &tag); /* only its extent matters */
    *n = 0;
    if (!tb_rd_ok(&probe)) {
        tb_rd_fail(r, probe.err);
        return NULL;
    }
    *n = tb_rd_offset(&probe) - tb_rd_offset(r);
    return tb_rd_bytes(r, *n);
}

/* Contents of the whole reader as one span. */
static struct oid rd_rest(struct tb_reader *r)
{
    struct oid o;

    o.len = tb_rd_left(r);
    o.p = tb_rd_bytes(r, o.len);
    return o;
}

static bool oid_eq(struct oid a, struct oid b)
{
    return a.p != NULL && b.p != NULL && a.len == b.len && memcmp(a.p, b.p, a.len) == 0;
}

/* ---------------------------------------------------------- string output */

struct strout {
    struct tb_buf b;
    enum tb_err err; /* sticky */
};

static void so_init(struct strout *o, size_t max)
{
    tb_buf_init(&o->b, max);
    o->err = TB_OK;
}

static void so_add(struct strout *o, const void *p, size_t n)
{
    if (o->err == TB_OK) {
        o->err = tb_buf_append(&o->b, p, n);
    }
}

static void so_str(struct strout *o, const char *s)
{
    so_add(o, s, strlen(s));
}

static void so_byte(struct strout *o, uint8_t c)
{
    so_add(o, &c, 1);
}

static void so_hex(struct strout *o, struct oid bytes)
{
    static const char digits[] = "0123456789abcdef";
    struct tb_reader r = tb_rd_init(bytes.p, bytes.len);

    while (tb_rd_left(&r) > 0) {
        uint8_t v = tb_rd_u8(&r);
        so_byte(o, (uint8_t)digits[v >> 4]);
        so_byte(o, (uint8_t)digits[v & 0xfu]);
    }
}

static void so_utf8(struct strout *o, uint32_t cp)
{
    if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || cp == 0) {
        cp = 0xfffd;
    }
    if (cp < 0x80) {
        so_byte(o, (uint8_t)cp);
    } else if (cp < 0x800) {
        so_byte(o, (uint8_t)(0xc0 | cp >> 6));
        so_byte(o, (uint8_t)(0x80 | (cp & 0x3f)));
    } else if (cp < 0x10000) {
        so_byte(o, (uint8_t)(0xe0 | cp >> 12));
        so_byte(o, (uint8_t)(0x80 | (cp >> 6 & 0x3f)));
        so_byte(o, (uint8_t)(0x80 | (cp & 0x3f)));
    } else {
        so_byte(o, (uint8_t)(0xf0 | cp >> 18));
        so_byte(o, (uint8_t)(0x80 | (cp >> 12 & 0x3f)));
        so_byte(o, (uint8_t)(0x80 | (cp >> 6 & 0x3f)));
        so_byte(o, (uint8_t)(0x80 | (cp & 0x3f)));
    }
}

/* Wire bytes kept as they were, NUL -> U+FFFD (see the file comment). */
static void so_wire(struct strout *o, struct oid bytes)
{
    struct tb_reader r = tb_rd_init(bytes.p, bytes.len);

    while (tb_rd_left(&r) > 0) {
        uint8_t c = tb_rd_u8(&r);
        if (c == 0) {
            so_utf8(o, 0);
        } else {
            so_byte(o, c);
        }
    }
}

/* Finish into the arena; NULL when out of memory. */
static char *so_finish(struct strout *o, struct tb_arena *a)
{
    char *s = NULL;

    if (o->err == TB_OK || o->err == TB_ERR_CAP) {
        s = tb_arena_strndup(a, o->b.len > 0 ? (const char *)o->b.bytes : "", o->b.len);
    }
    tb_buf_fini(&o->b);
    return s;
}

/* X.660 dotted form of OID contents. */
static void so_oid(struct strout *o, struct oid oid)
{
    struct tb_reader r = tb_rd_init(oid.p, oid.len);
    uint64_t v = 0;
    bool first = true;
    char num[32];

    if (oid.len == 0) {
        so_str(o, "<empty OID>");
        return;
    }
    while (tb_rd_left(&r) > 0) {
        uint8_t c = tb_rd_u8(&r);
        if (v > (UINT64_MAX >> 7)) { /* an arc past 64 bits: show the bytes */
            so_str(o, "#");
            so_hex(o, oid);
            return;
        }
        v = v << 7 | (c & 0x7fu);
        if (c & 0x80u) {
            continue;
        }
        if (first) {
            unsigned top = v < 40 ? 0u : v < 80 ? 1u : 2u;
            (void)snprintf(num, sizeof num, "%u.%llu", top,
                           (unsigned long long)(v - 40u * top)); /* always fits */
            first = false;
        } else {
            (void)snprintf(num, sizeof num, ".%llu", (unsigned long long)v); /* always fits */
        }
        so_str(o, num);
        v = 0;
    }
}

static char *oid_string(struct oid oid, struct tb_arena *a)
{
    struct strout o;

    so_init(&o, 4096);
    so_oid(&o, oid);
    return so_finish(&o, a);
}

/* ------------------------------------------------------------ RFC 4514 */

struct attr_name {
    struct oid oid;
    const char *name;
};

/* RFC 4514 3 short names, then the names OpenSSL prints for common others. */
static const struct attr_name attr_names[] = {
    {OID("\x55\x04\x03"), "CN"},
    {OID("\x55\x04\x07"), "L"},
    {OID("\x55\x04\x08"), "ST"},
    {OID("\x55\x04\x0a"), "O"},
    {OID("\x55\x04\x0b"), "OU"},
    {OID("\x55\x04\x06"), "C"},
    {OID("\x55\x04\x09"), "STREET"},
    {OID("\x09\x92\x26\x89\x93\xf2\x2c\x64\x01\x19"), "DC"},
    {OID("\x09\x92\x26\x89\x93\xf2\x2c\x64\x01\x01"), "UID"},
    {OID("\x2a\x86\x48\x86\xf7\x0d\x01\x09\x01"), "emailAddress"},
    {OID("\x55\x04\x05"), "serialNumber"},
    {OID("\x55\x04\x04"), "SN"},
    {OID("\x55\x04\x2a"), "GN"},
    {OID("\x55\x04\x0c"), "title"},
    {OID("\x55\x04\x2b"), "initials"},
    {OID("\x55\x04\x2c"), "generationQualifier"},
    {OID("\x55\x04\x2e"), "dnQualifier"},
    {OID("\x55\x04\x41"), "pseudonym"},
    {OID("\x55\x04\x0f"), "businessCategory"},
    {OID("\x55\x04\x11"), "postalCode"},
    {OID("\x55\x04\x61"), "organizationIdentifier"},
    {OID("\x2b\x06\x01\x04\x01\x82\x37\x3c\x02\x01\x03"), "jurisdictionC"},
    {OID("\x2b\x06\x01\x04\x01\x82\x37\x3c\x02\x01\x02"), "jurisdictionST"},
    {OID("\x2b\x06\x01\x04\x01\x82\x37\x3c\x02\x01\x01"), "jurisdictionL"},
};

static const struct oid oid_cn = OID("\x55\x04\x03");

static const char *attr_short_name(struct oid oid)
{
    for (size_t i = 0; i < sizeof attr_names / sizeof attr_names[0]; i++) {
        if (oid_eq(oid, attr_names[i].oid)) {
            return attr_names[i].name;
        }
    }
    return NULL;
}

/*
 * Decode a directory string value to UTF-8 bytes. false: not a string type
 * (the caller prints it as #hex, RFC 4514 2.4).
 */
static bool dn_value_utf8(uint8_t tag, struct tb_reader *v, struct strout *o)
{
    switch (tag) {
    case DER_UTF8_STRING:
    case DER_PRINTABLE_STRING:
    case DER_IA5_STRING:
    case DER_VISIBLE_STRING:
    case DER_NUMERIC_STRING:
        while (tb_rd_left(v) > 0) {
            uint8_t c = tb_rd_u8(v);
            if (c == 0) {
                so_utf8(o, 0);
            } else {
                so_byte(o, c);
            }
        }
        return true;
    case DER_T61_STRING: /* as OpenSSL does: Latin-1 */
        while (tb_rd_left(v) > 0) {
            so_utf8(o, tb_rd_u8(v));
        }
        return true;
    case DER_BMP_STRING: /* UCS-2 big endian */
        while (tb_rd_left(v) > 1) {
            so_utf8(o, tb_rd_u16(v));
        }
        if (tb_rd_left(v) > 0) {
            so_utf8(o, 0xfffd);
        }
        return true;
    case DER_UNIVERSAL_STRING: /* UCS-4 big endian */
        while (tb_rd_left(v) > 3) {
            so_utf8(o, tb_rd_u32(v));
        }
        if (tb_rd_left(v) > 0) {
            so_utf8(o, 0xfffd);
        }
        return true;
    default:
        return false;
    }
}

/* RFC 4514 2.4 escaping of an attribute value (already UTF-8). */
static void dn_escape(struct strout *o, const struct tb_buf *val)
{
    struct tb_reader r = tb_rd_init(val->bytes, val->len);
    static const char hex[] = "0123456789ABCDEF";

    while (tb_rd_left(&r) > 0) {
        bool first = tb_rd_offset(&r) == 0;
        uint8_t c = tb_rd_u8(&r);
        bool last = tb_rd_left(&r) == 0;

        if (c == '"' || c == '+' || c == ',' || c == ';' || c == '<' || c == '>' || c == '\\' ||
            (first && (c == '#' || c == ' ')) || (last && c == ' ')) {
            so_byte(o, '\\');
            so_byte(o, c);
        } else if (c < 0x20 || c == 0x7f) { /* controls as \XX: allowed, and keeps lines whole */
            so_byte(o, '\\');
            so_byte(o, (uint8_t)hex[c >> 4]);
            so_byte(o, (uint8_t)hex[c & 0xfu]);
        } else {
            so_byte(o, c);
        }
    }
}

/* One AttributeTypeAndValue into o; its CN value (unescaped) into cn when asked. */
static void dn_atv(struct tb_reader *atv, struct strout *o, struct strout *cn)
{
    struct tb_reader t = der_expect(atv, DER_OID);
    struct oid type = rd_rest(&t);
    size_t raw_len;

    const uint8_t *raw = der_raw_tlv(atv, &raw_len);
    if (!tb_rd_ok(atv) || type.len == 0) {
        tb_rd_fail(atv, TB_ERR_VALUE);
        return;
    }
    const char *name = attr_short_name(type);
    if (name != NULL) {
        so_str(o, name);
    } else {
        so_oid(o, type);
    }
    so_byte(o, '=');

    struct tb_reader whole = tb_rd_init(raw, raw_len);
    uint8_t tag;
    struct tb_reader v = der_tlv(&whole, &tag);
    struct strout val;
    so_init(&val, X509_MAX_DN_STR);
    if (name != NULL && dn_value_utf8(tag, &v, &val)) {
        dn_escape(o, &val.b);
        if (cn != NULL && oid_eq(type, oid_cn)) {
            tb_buf_clear(&cn->b);
            so_add(cn, val.b.bytes, val.b.len);
        }
    } else { /* RFC 4514 2.4: unknown type, or not a string: #hex of the BER */
        so_byte(o, '#');
        so_hex(o, (struct oid){raw, raw_len});
    }
    if (val.err != TB_OK && o->err == TB_OK) {
        o->err = val.err;
    }
    tb_buf_fini(&val.b);
}

/*
 * Name ::= SEQUENCE OF RelativeDistinguishedName (a SET OF ATV), printed in
 * reverse order (RFC 4514 2.1). Iterative: an RDN's position is saved in a
 * first pass, then the RDNs are printed last to first.
 */
static enum tb_err dn_build(const uint8_t *der, size_t len, struct strout *o, struct strout *cn)
{
    struct tb_reader whole = tb_rd_init(der, len);
    struct tb_reader name = der_expect(&whole, DER_SEQUENCE);
    struct tb_buf spans;
    enum tb_err err;

    tb_buf_init(&spans, X509_MAX_LIST_BYTES);
    if (tb_rd_left(&whole) == 0 && len == 0) {
        tb_rd_fail(&whole, TB_ERR_TRUNCATED);
    }
    while (tb_rd_left(&name) > 0) {
        struct oid span;
        span.p = der_raw_tlv(&name, &span.len);
        if (span.p == NULL) {
            break;
        }
        err = tb_buf_append(&spans, &span, sizeof span);
        if (err != TB_OK) {
            goto out;
        }
    }
    err = tb_rd_done(&whole);
    if (err != TB_OK) {
        goto out;
    }
    size_t count = spans.len / sizeof(struct oid);
    for (size_t i = count; i-- > 0;) {
        struct oid span;
        memcpy(&span, spans.bytes + i * sizeof span, sizeof span);
        struct tb_reader rr = tb_rd_init(span.p, span.len);
        struct tb_reader rdn = der_expect(&rr, DER_SET);
        bool first = true;
        if (i + 1 < count) {
            so_byte(o, ',');
        }
        if (tb_rd_left(&rdn) == 0) {
            tb_rd_fail(&rr, TB_ERR_LENGTH); /* RFC 5280: SET SIZE (1..MAX) */
        }
        while (tb_rd_left(&rdn) > 0) {
            struct tb_reader atv = der_expect(&rdn, DER_SEQUENCE);
            if (!first) {
                so_byte(o, '+');
            }
            first = false;
            dn_atv(&atv, o, cn);
            (void)tb_rd_done(&atv); /* failure propagates to rr */
        }
        err = tb_rd_done(&rr);
        if (err != TB_OK) {
            goto out;
        }
    }
    err = TB_OK;
out:
    tb_buf_fini(&spans);
    return err;
}

void tb_x509_dn_format(const uint8_t *der, size_t len, char *out, size_t out_len)
{
    struct strout o;

    if (out_len == 0) {
        return;
    }
    so_init(&o, X509_MAX_DN_STR);
    if (dn_build(der, len, &o, NULL) != TB_OK) {
        (void)snprintf(out, out_len, "<malformed Name>"); /* truncation is fine */
    } else {
        size_t n = o.b.len < out_len ? o.b.len : out_len - 1;
        if (n > 0) {
            memcpy(out, o.b.bytes, n);
        }
        out[n] = '\0';
        if (o.err == TB_ERR_CAP || n < o.b.len) {
            (void)snprintf(out + (n > 3 ? n - 3 : 0), 4, "..."); /* marks the cut */
        }
    }
    tb_buf_fini(&o.b);
}

static char *dn_string(const uint8_t *der, size_t len, struct tb_arena *a, char **cn_out)
{
    struct strout o, cn;
    char *s;

    so_init(&o, X509_MAX_DN_STR);
    so_init(&cn, X509_MAX_DN_STR);
    enum tb_err err = dn_build(der, len, &o, &cn);
    if (err != TB_OK && err != TB_ERR_NOMEM) {
        tb_buf_clear(&o.b);
        o.err = TB_OK;
        so_str(&o, "<malformed Name>");
    } else if (o.err == TB_ERR_CAP) {
        o.err = TB_OK;
        o.b.max += 4;
        so_str(&o, "...");
    }
    if (cn_out != NULL) {
        *cn_out = NULL;
        if (err == TB_OK && cn.b.len > 0) {
            *cn_out = so_finish(&cn, a);
        }
    }
    tb_buf_fini(&cn.b);
    s = so_finish(&o, a);
    return s;
}

char *tb_x509_dn_string(const uint8_t *der, size_t len, struct tb_arena *a)
{
    return dn_string(der, len, a, NULL);
}

char *tb_x509_dn_cn(const uint8_t *der, size_t len, struct tb_arena *a)
{
    struct tb_arena scratch;
    char *cn = NULL;

    tb_arena_init(&scratch, X509_ARENA_BASE + 4 * X509_MAX_DN_STR);
    (void)dn_string(der, len, &scratch, &cn); /* only the CN is wanted */
    char *out = cn != NULL ? tb_arena_strdup(a, cn) : NULL;
    tb_arena_reset(&scratch);
    return out;
}

/* --------------------------------------------------------------- time */

int64_t tb_x509_unix_time(int year, int mon, int day, int hour, int min, int sec)
{
    /* days_from_civil (H. Hinnant): proleptic Gregorian, no TZ, no timegm. */
    int64_t y = (int64_t)year - (mon <= 2 ? 1 : 0);
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t mp = mon > 2 ? mon - 3 : mon + 9;
    int64_t doy = (153 * mp + 2) / 5 + day - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    int64_t days = era * 146097 + doe - 719468;
    return days * 86400 + (int64_t)hour * 3600 + (int64_t)min * 60 + sec;
}

int64_t tb_x509_mbedtls_time(const mbedtls_x509_time *t)
{
    return tb_x509_unix_time(t->year, t->mon, t->day, t->hour, t->min, t->sec);
}

static int read_digits(struct tb_reader *r, unsigned n)
{
    int v = 0;

    for (unsigned i = 0; i < n; i++) {
        uint8_t c = tb_rd_u8(r);
        if (c < '0' || c > '9') {
            tb_rd_fail(r, TB_ERR_VALUE);
            return 0;
        }
        v = v * 10 + (c - '0');
    }
    return v;
}

/* RFC 5280 4.1.2.5: UTCTime YYMMDDHHMMSSZ (YY < 50 is 20YY), GeneralizedTime YYYYMMDDHHMMSSZ. */
static bool der_time(struct tb_reader *r, int64_t *out)
{
    uint8_t tag;
    struct tb_reader t = der_tlv(r, &tag);
    int year;
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

    if (tag == DER_UTC_TIME) {
        year = read_digits(&t, 2);
        year += year < 50 ? 2000 : 1900;
    } else if (tag == DER_GENERALIZED_TIME) {
        year = read_digits(&t, 4);
    } else {
        tb_rd_fail(&t, TB_ERR_VALUE);
        return false;
    }
    int mon = read_digits(&t, 2);
    int day = read_digits(&t, 2);
    int hour = read_digits(&t, 2);
    int min = read_digits(&t, 2);
    int sec = read_digits(&t, 2);
    if (tb_rd_u8(&t) != 'Z' || tb_rd_done(&t) != TB_OK) {
        return false;
    }
    if (mon < 1 || mon > 12 || day < 1 || day > mdays[mon - 1] || hour > 23 || min > 59 ||
        sec > 60) {
        return false;
    }
    *out = tb_x509_unix_time(year, mon, day, hour, min, sec);
    return true;
}

/* ----------------------------------------------------------- the walk */

struct build {
    struct tb_cert *c;
    struct x509_impl *impl;
    struct tb_arena *a;
    struct tb_buf san, eku, ku; /* arrays of const char * */
    enum tb_err err;            /* TB_ERR_NOMEM only */
};

static void b_add(struct build *b, struct tb_buf *list, const char *s)
{
    /* TB_ERR_CAP: past X509_MAX_LIST_BYTES of pointers (131072 names), not listed */
    if (tb_buf_append(list, &s, sizeof s) == TB_ERR_NOMEM) {
        b->err = TB_ERR_NOMEM;
    }
}

/* s was just made in the arena: NULL means out of memory. */
static void b_keep(struct build *b, char *s, struct tb_buf *list)
{
    if (s == NULL) {
        b->err = TB_ERR_NOMEM;
        return;
    }
    if (list != NULL) {
        b_add(b, list, s);
    }
}

static const char **b_list(struct build *b, struct tb_buf *list, size_t *count)
{
    *count = list->len / sizeof(char *);
    if (*count == 0) {
        return NULL;
    }
    const char **out = tb_arena_memdup(b->a, list->bytes, list->len);
    if (out == NULL) {
        b->err = TB_ERR_NOMEM;
        *count = 0;
    }
    return out;
}

struct alg_name {
    struct oid oid;
    const char *name;
    bool weak;
};

/* Signature algorithms, named as OpenSSL prints them. */
static const struct alg_name sig_algs[] = {
    {OID("\x2a\x86\x48\x86\xf7\x0d\x01\x01\x0b"), "sha256WithRSAEncryption", false},
    {OID("\x2a\x86\x48\x86\xf7\x0d\x01\x01\x0c"), "sha384WithRSAEncryption", false},
    {OID("\x2a\x86\x48\x86\xf7\x0d\x01\x01\x0d"), "sha512WithRSAEncryption", false},
    {OID("\x2a\x86\x48\x86\xf7\x0d\x01\x01\x0e"), "sha224WithRSAEncryption", false},
    {OID("\x2a\x86\x48\x86\xf7\x0d\x01\x01\x05"), "sha1WithRSAEncryption", true},
    {OID("\x2a\x86\x48\x86\xf7\x0d\x01\x01\x04"), "md5WithRSAEncryption", true},
    {OID("\x2a\x86\x48\x86\xf7\x0d\x01\x01\x03"), "md4WithRSAEncryption", true},
    {OID("\x2a\x86\x48\x86\xf7\x0d\x01\x01\x02"), "md2WithRSAEncryption", true},
    {OID("\x2a\x86\x48\x86\xf7\x0d\x01\x01\x0a"), "rsassaPss", false}, /* weak: see hash */
    {OID("\x2b\x0e\x03\x02\x1d"), "sha1WithRSA", true},
    {OID("\x2a\x86\x48\xce\x3d\x04\x01"), "ecdsa-with-SHA1", true},
    {OID("\x2a\x86\x48\xce\x3d\x04\x03\x01"), "ecdsa-with-SHA224", false},
    {OID("\x2a\x86\x48\xce\x3d\x04\x03\x02"), "ecdsa-with-SHA256", false},
    {OID("\x2a\x86\x48\xce\x3d\x04\x03\x03"), "ecdsa-with-SHA384", false},
    {OID("\x2a\x86\x48\xce\x3d\x04\x03\x04"), "ecdsa-with-SHA512", false},
    {OID("\x2b\x65\x70"), "ED25519", false},
    {OID("\x2b\x65\x71"), "ED448", false},
    {OID("\x2a\x86\x48\xce\x38\x04\x03"), "dsaWithSHA1", true},
    {OID("\x60\x86\x48\x01\x65\x03\x04\x03\x01"), "dsa_with_SHA224", false},
    {OID("\x60\x86\x48\x01\x65\x03\x04\x03\x02"), "dsa_with_SHA256", false},
};

static const struct oid oid_rsassa_pss = OID("\x2a\x86\x48\x86\xf7\x0d\x01\x01\x0a");
static const struct oid oid_sha1 = OID("\x2b\x0e\x03\x02\x1a");
static const struct oid oid_md5 = OID("\x2a\x86\x48\x86\xf7\x0d\x02\x05");

/*
 * RFC 4055 3.1 RSASSA-PSS-params: hashAlgorithm [0] defaults to SHA-1, so a
 * PSS signature without parameters is a SHA-1 signature.
 */
static bool pss_hash_weak(struct tb_reader params)
{
    struct tb_reader seq = der_expect(&params, DER_SEQUENCE);

    if (!der_peek(&seq, DER_CTX0)) {
        return true;
    }
    struct tb_reader h = der_expect(&seq, DER_CTX0);
    struct tb_reader alg = der_expect(&h, DER_SEQUENCE);
    struct tb_reader o = der_expect(&alg, DER_OID);
    struct oid hash = rd_rest(&o);
    return oid_eq(hash, oid_sha1) || oid_eq(hash, oid_md5);
}

static void walk_sig_alg(struct build *b, struct tb_reader *alg_id)
{
    struct tb_reader o = der_expect(alg_id, DER_OID);
    struct oid oid = rd_rest(&o);

    if (!tb_rd_ok(alg_id)) {
        return;
    }
    for (size_t i = 0; i < sizeof sig_algs / sizeof sig_algs[0]; i++) {
        if (oid_eq(oid, sig_algs[i].oid)) {
            b->c->sig_alg = sig_algs[i].name;
            b->c->sig_weak = sig_algs[i].weak;
            if (oid_eq(oid, oid_rsassa_pss)) {
                b->c->sig_weak = pss_hash_weak(*alg_id);
            }
            return;
        }
    }
    char *s = oid_string(oid, b->a);
    b_keep(b, s, NULL);
    b->c->sig_alg = s;
}

struct curve_name {
    struct oid oid;
    const char *name;
    unsigned bits;
};

static const struct curve_name curves[] = {
    {OID("\x2a\x86\x48\xce\x3d\x03\x01\x07"), "P-256", 256},
    {OID("\x2b\x81\x04\x00\x22"), "P-384", 384},
    {OID("\x2b\x81\x04\x00\x23"), "P-521", 521},
    {OID("\x2b\x81\x04\x00\x21"), "P-224", 224},
    {OID("\x2a\x86\x48\xce\x3d\x03\x01\x01"), "P-192", 192},
    {OID("\x2b\x81\x04\x00\x0a"), "secp256k1", 256},
    {OID("\x2b\x24\x03\x03\x02\x08\x01\x01\x07"), "brainpoolP256r1", 256},
    {OID("\x2b\x24\x03\x03\x02\x08\x01\x01\x0b"), "brainpoolP384r1", 384},
    {OID("\x2b\x24\x03\x03\x02\x08\x01\x01\x0d"), "brainpoolP512r1", 512},
};

static const struct oid oid_rsa = OID("\x2a\x86\x48\x86\xf7\x0d\x01\x01\x01");
static const struct oid oid_ec = OID("\x2a\x86\x48\xce\x3d\x02\x01");
static const struct oid oid_ed25519 = OID("\x2b\x65\x70");
static const struct oid oid_ed448 = OID("\x2b\x65\x71");
static const struct oid oid_dsa = OID("\x2a\x86\x48\xce\x38\x04\x01");

/* Bits of a positive INTEGER's contents. */
static unsigned int_bits(struct tb_reader *r)
{
    struct tb_reader v = der_expect(r, DER_INTEGER);

    while (tb_rd_left(&v) > 0 && tb_rd_peek_u8(&v, 0) == 0) {
        tb_rd_skip(&v, 1);
    }
    size_t n = tb_rd_left(&v);
    if (n == 0 || n > 0xffffff) {
        return 0;
    }
    unsigned bits = (unsigned)n * 8;
    for (uint8_t top = tb_rd_u8(&v); (top & 0x80u) == 0; top = (uint8_t)(top << 1)) {
        bits--;
    }
    return bits;
}

static void walk_spki(struct build *b, struct tb_reader *spki)
{
    struct tb_cert *c = b->c;
    struct tb_reader alg = der_expect(spki, DER_SEQUENCE);
    struct tb_reader o = der_expect(&alg, DER_OID);
    struct oid oid = rd_rest(&o);
    struct tb_reader key = der_expect(spki, DER_BIT_STRING);
    char desc[96];

    if (!tb_rd_ok(spki)) {
        return;
    }
    (void)tb_rd_u8(&key); /* unused bits: 0 for every key type here */
    if (oid_eq(oid, oid_rsa) || oid_eq(oid, oid_rsassa_pss)) {
        struct tb_reader rsa = der_expect(&key, DER_SEQUENCE);
        c->key_type = oid_eq(oid, oid_rsa) ? TB_KEY_RSA : TB_KEY_RSA_PSS;
        c->key_bits = int_bits(&rsa);
        (void)snprintf(desc, sizeof desc, "%s %u", c->key_type == TB_KEY_RSA ? "RSA" : "RSA-PSS",
                       c->key_bits); /* fits */
    } else if (oid_eq(oid, oid_ec)) {
        c->key_type = TB_KEY_EC;
        if (der_peek(&alg, DER_OID)) {
            struct tb_reader co = der_expect(&alg, DER_OID);
            struct oid curve = rd_rest(&co);
            for (size_t i = 0; i < sizeof curves / sizeof curves[0]; i++) {
                if (oid_eq(curve, curves[i].oid)) {
                    c->curve = curves[i].name;
                    c->key_bits = curves[i].bits;
                }
            }
            if (c->curve == NULL) {
                char *s = oid_string(curve, b->a);
                b_keep(b, s, NULL);
                c->curve = s;
            }
        } else { /* RFC 5480 forbids explicit parameters; say so rather than guess */
            c->curve = "explicit";
        }
        (void)snprintf(desc, sizeof desc, "EC %s", c->curve != NULL ? c->curve : "?"); /* cut ok */
    } else if (oid_eq(oid, oid_ed25519)) {
        c->key_type = TB_KEY_ED25519;
        c->key_bits = 256;
        (void)snprintf(desc, sizeof desc, "Ed25519"); /* fits */
    } else if (oid_eq(oid, oid_ed448)) {
        c->key_type = TB_KEY_ED448;
        c->key_bits = 456;
        (void)snprintf(desc, sizeof desc, "Ed448"); /* fits */
    } else if (oid_eq(oid, oid_dsa)) {
        struct tb_reader params = der_expect(&alg, DER_SEQUENCE);
        c->key_type = TB_KEY_DSA;
        c->key_bits = int_bits(&params); /* p */
        (void)snprintf(desc, sizeof desc, "DSA %u", c->key_bits); /* fits */
    } else {
        struct strout so;
        so_init(&so, 4096);
        so_oid(&so, oid);
        so_byte(&so, 0);
        (void)snprintf(desc, sizeof desc, "%s", so.err == TB_OK ? (const char *)so.b.bytes : "?");
        tb_buf_fini(&so.b);
    }
    char *s = tb_arena_strdup(b->a, desc);
    b_keep(b, s, NULL);
    c->key_desc = s;
}

/* ---------------------------------------------------------- extensions */

static const struct oid oid_ext_ski = OID("\x55\x1d\x0e");
static const struct oid oid_ext_ku = OID("\x55\x1d\x0f");
static const struct oid oid_ext_san = OID("\x55\x1d\x11");
static const struct oid oid_ext_bc = OID("\x55\x1d\x13");
static const struct oid oid_ext_aki = OID("\x55\x1d\x23");
static const struct oid oid_ext_eku = OID("\x55\x1d\x25");

/*
 * Extensions a verifier such as OpenSSL understands, so a critical one is
 * not "unknown": RFC 5280 4.2 (2.5.29.x), AIA/SIA, TLS feature (RFC 7633),
 * Netscape cert type, RFC 3779 IP/AS resources, OCSP no-check, CT SCTs.
 */
static bool ext_known(struct oid oid)
{
    static const struct oid known[] = {
        OID("\x2b\x06\x01\x05\x05\x07\x01\x01"),  OID("\x2b\x06\x01\x05\x05\x07\x01\x0b"),
        OID("\x2b\x06\x01\x05\x05\x07\x01\x18"),  OID("\x60\x86\x48\x01\x86\xf8\x42\x01\x01"),
        OID("\x2b\x06\x01\x05\x05\x07\x01\x07"),  OID("\x2b\x06\x01\x05\x05\x07\x01\x08"),
        OID("\x2b\x06\x01\x05\x05\x07\x30\x01\x05"),
        OID("\x2b\x06\x01\x04\x01\xd6\x79\x02\x04\x02"),
    };
    static const uint8_t rfc5280[] = {9,  14, 15, 16, 17, 18, 19, 30,
                                      31, 32, 33, 35, 36, 37, 46, 54};

    if (oid.len == 3 && memcmp(oid.p, "\x55\x1d", 2) == 0) {
        struct tb_reader r = tb_rd_init(oid.p, oid.len);
        tb_rd_skip(&r, 2);
        uint8_t arc = tb_rd_u8(&r);
        for (size_t i = 0; i < sizeof rfc5280; i++) {
            if (arc == rfc5280[i]) {
                return true;
            }
        }
        return false;
    }
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        if (oid_eq(oid, known[i])) {
            return true;
        }
    }
    return false;
}

static const char *const ku_names[] = {
    "digitalSignature", "nonRepudiation", "keyEncipherment", "dataEncipherment", "keyAgreement",
    "keyCertSign",      "cRLSign",        "encipherOnly",    "decipherOnly",
};

/* RFC 5280 4.2.1.3: KeyUsage BIT STRING, bit 0 is the most significant bit of the first byte. */
static void ext_key_usage(struct build *b, struct tb_reader *v)
{
    struct tb_reader bits = der_expect(v, DER_BIT_STRING);
    unsigned index = 0;

    (void)tb_rd_u8(&bits); /* unused bits are zero in DER */
    b->c->has_key_usage = true;
    while (tb_rd_left(&bits) > 0) {
        uint8_t byte = tb_rd_u8(&bits);
        for (unsigned j = 0; j < 8; j++, index++) {
            if ((byte & (0x80u >> j)) != 0 && index < sizeof ku_names / sizeof ku_names[0]) {
                b->c->key_usage |= 1u << index;
            }
        }
    }
    for (unsigned i = 0; i < sizeof ku_names / sizeof ku_names[0]; i++) {
        if (b->c->key_usage & (1u << i)) {
            b_add(b, &b->ku, ku_names[i]);
        }
    }
}

struct eku_name {
    struct oid oid;
    const char *name;
    unsigned bit;
};

static const struct eku_name eku_names[] = {
    {OID("\x2b\x06\x01\x05\x05\x07\x03\x01"), "serverAuth", TB_EKU_SERVER_AUTH},
    {OID("\x2b\x06\x01\x05\x05\x07\x03\x02"), "clientAuth", TB_EKU_CLIENT_AUTH},
    {OID("\x2b\x06\x01\x05\x05\x07\x03\x03"), "codeSigning", TB_EKU_CODE_SIGNING},
    {OID("\x2b\x06\x01\x05\x05\x07\x03\x04"), "emailProtection", TB_EKU_EMAIL},
    {OID("\x2b\x06\x01\x05\x05\x07\x03\x08"), "timeStamping", TB_EKU_TIME_STAMPING},
    {OID("\x2b\x06\x01\x05\x05\x07\x03\x09"), "OCSPSigning", TB_EKU_OCSP_SIGNING},
    {OID("\x55\x1d\x25\x00"), "anyExtendedKeyUsage", TB_EKU_ANY},
};

static void ext_eku(struct build *b, struct tb_reader *v)
{
    struct tb_reader seq = der_expect(v, DER_SEQUENCE);

    b->c->has_eku = true;
    while (tb_rd_left(&seq) > 0) {
        struct tb_reader o = der_expect(&seq, DER_OID);
        struct oid oid = rd_rest(&o);
        bool found = false;
        for (size_t i = 0; i < sizeof eku_names / sizeof eku_names[0]; i++) {
            if (oid_eq(oid, eku_names[i].oid)) {
                b->c->eku |= eku_names[i].bit;
                b_add(b, &b->eku, eku_names[i].name);
                found = true;
            }
        }
        if (!found && oid.p != NULL) {
            b->c->eku |= TB_EKU_OTHER;
            b_keep(b, oid_string(oid, b->a), &b->eku);
        }
    }
}

/* RFC 5280 4.2.1.9 BasicConstraints ::= SEQUENCE { cA BOOLEAN DEFAULT FALSE, pathLen OPTIONAL } */
static void ext_basic_constraints(struct build *b, struct tb_reader *v)
{
    struct tb_reader seq = der_expect(v, DER_SEQUENCE);

    b->c->has_basic_constraints = true;
    if (der_peek(&seq, DER_BOOLEAN)) {
        struct tb_reader ca = der_expect(&seq, DER_BOOLEAN);
        b->c->is_ca = tb_rd_u8(&ca) != 0;
    }
    if (der_peek(&seq, DER_INTEGER)) {
        struct tb_reader n = der_expect(&seq, DER_INTEGER);
        int len = 0;
        if (tb_rd_left(&n) > 0 && tb_rd_left(&n) <= 3 && (tb_rd_peek_u8(&n, 0) & 0x80u) == 0) {
            while (tb_rd_left(&n) > 0) {
                len = len << 8 | tb_rd_u8(&n);
            }
            b->c->path_len = len;
        }
    }
}

static char *hex_string(struct oid bytes, struct tb_arena *a)
{
    struct strout o;

    so_init(&o, 2 * bytes.len + 1);
    so_hex(&o, bytes);
    return so_finish(&o, a);
}

static void ext_ski(struct build *b, struct tb_reader *v)
{
    struct tb_reader id = der_expect(v, DER_OCTET_STRING);
    struct oid bytes = rd_rest(&id);

    if (tb_rd_ok(v) && bytes.p != NULL) {
        char *s = hex_string(bytes, b->a);
        b_keep(b, s, NULL);
        b->c->ski_hex = s;
    }
}

/* RFC 5280 4.2.1.1 AuthorityKeyIdentifier: keyIdentifier [0] IMPLICIT OCTET STRING */
static void ext_aki(struct build *b, struct tb_reader *v)
{
    struct tb_reader seq = der_expect(v, DER_SEQUENCE);

    if (der_peek(&seq, 0x80)) {
        struct tb_reader id = der_expect(&seq, 0x80);
        struct oid bytes = rd_rest(&id);
        if (bytes.p != NULL) {
            char *s = hex_string(bytes, b->a);
            b_keep(b, s, NULL);
            b->c->aki_hex = s;
        }
    }
}

/* RFC 5280 4.2.1.6 GeneralName, in the words OpenSSL uses where it has them. */
static void san_entry(struct build *b, uint8_t tag, struct tb_reader *v, struct oid raw)
{
    struct strout o;
    struct oid content = rd_rest(v);

    so_init(&o, raw.len + 64);
    switch (tag) {
    case 0x81:
        so_str(&o, "email:");
        so_wire(&o, content);
        break;
    case 0x82:
        so_str(&o, "DNS:");
        so_wire(&o, content);
        break;
    case 0x86:
        so_str(&o, "URI:");
        so_wire(&o, content);
        break;
    case 0x87: {
        char ip[INET6_ADDRSTRLEN];
        struct tb_reader r = tb_rd_init(content.p, content.len);
        if (content.len == 4) {
            struct in_addr a4;
            tb_rd_copy(&r, &a4, sizeof a4);
            so_str(&o, "IP:");
            so_str(&o, inet_ntop(AF_INET, &a4, ip, sizeof ip) != NULL ? ip : "?");
        } else if (content.len == 16) {
            struct in6_addr a6;
            tb_rd_copy(&r, &a6, sizeof a6);
            so_str(&o, "IP:");
            so_str(&o, inet_ntop(AF_INET6, &a6, ip, sizeof ip) != NULL ? ip : "?");
        } else { /* RFC 5280: 4 or 16 octets in a SAN */
            so_str(&o, "IP:<invalid length>#");
            so_hex(&o, content);
        }
        break;
    }
    case 0xa4: { /* directoryName [4] EXPLICIT Name */
        so_str(&o, "DirName:");
        char *dn = tb_x509_dn_string(content.p, content.len, b->a);
        so_str(&o, dn != NULL ? dn : "");
        break;
    }
    case 0xa0: { /* otherName: type-id and a value we do not decode */
        struct tb_reader r = tb_rd_init(content.p, content.len);
        struct tb_reader t = der_expect(&r, DER_OID);
        so_str(&o, "othername:");
        so_oid(&o, rd_rest(&t));
        break;
    }
    case 0x88: /* registeredID [8] IMPLICIT OID */
        so_str(&o, "RID:");
        so_oid(&o, content);
        break;
    default: /* x400Address, ediPartyName */
        so_str(&o, "other:#");
        so_hex(&o, raw);
        break;
    }
    b_keep(b, so_finish(&o, b->a), &b->san);
}

static void ext_san(struct build *b, struct tb_reader *v)
{
    struct tb_reader seq = der_expect(v, DER_SEQUENCE);

    while (tb_rd_left(&seq) > 0 && b->err == TB_OK) {
        struct oid raw;
        raw.p = der_raw_tlv(&seq, &raw.len);
        if (raw.p == NULL) {
            break;
        }
        struct tb_reader one = tb_rd_init(raw.p, raw.len);
        uint8_t tag;
        struct tb_reader content = der_tlv(&one, &tag);
        san_entry(b, tag, &content, raw);
    }
}

/* Extensions ::= SEQUENCE SIZE (1..MAX) OF Extension; each value read on its own reader. */
static void walk_extensions(struct build *b, struct tb_reader *exts)
{
    struct tb_reader seq = der_expect(exts, DER_SEQUENCE);

    while (tb_rd_left(&seq) > 0 && b->err == TB_OK) {
        struct tb_reader ext = der_expect(&seq, DER_SEQUENCE);
        struct tb_reader o = der_expect(&ext, DER_OID);
        struct oid oid = rd_rest(&o);
        bool critical = false;
        if (der_peek(&ext, DER_BOOLEAN)) {
            struct tb_reader crit = der_expect(&ext, DER_BOOLEAN);
            critical = tb_rd_u8(&crit) != 0;
        }
        struct tb_reader octets = der_expect(&ext, DER_OCTET_STRING);
        struct oid value = rd_rest(&octets);
        if (!tb_rd_ok(&ext) || value.p == NULL) {
            break;
        }
        struct tb_reader v = tb_rd_init(value.p, value.len);
        if (oid_eq(oid, oid_ext_ku)) {
            ext_key_usage(b, &v);
        } else if (oid_eq(oid, oid_ext_eku)) {
            ext_eku(b, &v);
        } else if (oid_eq(oid, oid_ext_bc)) {
            ext_basic_constraints(b, &v);
        } else if (oid_eq(oid, oid_ext_san)) {
            ext_san(b, &v);
        } else if (oid_eq(oid, oid_ext_ski)) {
            ext_ski(b, &v);
        } else if (oid_eq(oid, oid_ext_aki)) {
            ext_aki(b, &v);
        } else if (critical && !ext_known(oid) && !b->c->unknown_critical_ext) {
            char *s = oid_string(oid, b->a);
            b_keep(b, s, NULL);
            b->c->unknown_critical_ext = true;
            b->c->unknown_critical_oid = s;
        }
    }
}

/*
 * RFC 5280 4.1. Returns true when the whole Certificate was read; fields are
 * filled as far as the walk got either way.
 */
static bool walk_cert(struct build *b)
{
    struct tb_cert *c = b->c;
    struct tb_reader whole = tb_rd_init(c->der, c->der_len);
    bool cut = false;
    struct tb_reader cert = der_expect_cut(&whole, DER_SEQUENCE, &cut);
    struct tb_reader tbs = der_expect_cut(&cert, DER_SEQUENCE, &cut);

    if (!tb_rd_ok(&cert)) {
        return false;
    }
    c->version = 1;
    if (der_peek(&tbs, DER_CTX0)) {
        struct tb_reader ver = der_expect(&tbs, DER_CTX0);
        struct tb_reader n = der_expect(&ver, DER_INTEGER);
        uint8_t v = tb_rd_u8(&n);
        c->version = tb_rd_done(&n) == TB_OK && v <= 2 ? v + 1 : 0;
    }
    struct tb_reader serial = der_expect(&tbs, DER_INTEGER);
    struct oid sn = rd_rest(&serial);
    if (sn.p != NULL) {
        struct tb_reader r = tb_rd_init(sn.p, sn.len);
        while (tb_rd_left(&r) > 1 && tb_rd_peek_u8(&r, 0) == 0) { /* sign padding */
            tb_rd_skip(&r, 1);
        }
        char *s = hex_string(rd_rest(&r), b->a);
        b_keep(b, s, NULL);
        c->serial_hex = s;
    }
    struct tb_reader tbs_sig = der_expect(&tbs, DER_SEQUENCE);
    walk_sig_alg(b, &tbs_sig);

    c->issuer_raw = der_raw_tlv(&tbs, &c->issuer_raw_len);
    struct tb_reader validity = der_expect(&tbs, DER_SEQUENCE);
    c->subject_raw = der_raw_tlv(&tbs, &c->subject_raw_len);
    if (tb_rd_ok(&tbs)) {
        int64_t nb = 0, na = 0;
        if (der_time(&validity, &nb) && der_time(&validity, &na)) {
            c->not_before = nb;
            c->not_after = na;
            c->has_validity = true;
        }
    }
    struct tb_reader spki = der_expect(&tbs, DER_SEQUENCE);
    walk_spki(b, &spki);
    if (der_peek(&tbs, 0x81)) { /* issuerUniqueID */
        (void)der_expect(&tbs, 0x81);
    }
    if (der_peek(&tbs, 0x82)) { /* subjectUniqueID */
        (void)der_expect(&tbs, 0x82);
    }
    if (der_peek(&tbs, DER_CTX3)) {
        struct tb_reader exts = der_expect(&tbs, DER_CTX3);
        walk_extensions(b, &exts);
    }
    bool tbs_ok = tb_rd_done(&tbs) == TB_OK;

    /* The outer signatureAlgorithm is what OpenSSL prints; it equals the TBS one. */
    struct tb_reader outer_alg = der_expect(&cert, DER_SEQUENCE);
    if (tb_rd_ok(&cert)) {
        walk_sig_alg(b, &outer_alg);
    }
    (void)der_expect(&cert, DER_BIT_STRING);
    return !cut && tbs_ok && tb_rd_done(&cert) == TB_OK && tb_rd_done(&whole) == TB_OK;
}

/* ------------------------------------------------------------ mbedTLS */

/*
 * mbedTLS 2.28 refuses a certificate with a critical extension it does not
 * implement; we want the certificate anyway (the peer's verdict on it is
 * what tlsblame explains), and our own walk records the OID.
 */
static int accept_any_ext(void *ctx, mbedtls_x509_crt const *crt, mbedtls_x509_buf const *oid,
                          int critical, const unsigned char *p, const unsigned char *end)
{
    (void)ctx;
    (void)crt;
    (void)oid;
    (void)critical;
    (void)p;
    (void)end;
    return 0;
}

/* The high-level part of an mbedTLS error code (mbedtls/error.h layout). */
static int mbedtls_high(int ret)
{
    return ret < 0 ? -((-ret) & 0xff80) : ret;
}

static char *mbedtls_text(int ret, struct tb_arena *a)
{
    char text[200];

    mbedtls_strerror(ret, text, sizeof text);
    return tb_arena_printf(a, "mbedTLS: %s (-0x%04x)", text, (unsigned)-ret);
}

int tb_x509_parse_into(mbedtls_x509_crt *chain, const struct tb_cert *cert)
{
    if (tb_x509_crt(cert) == NULL) {
        return MBEDTLS_ERR_X509_BAD_INPUT_DATA;
    }
    return mbedtls_x509_crt_parse_der_with_ext_cb(chain, cert->der, cert->der_len, 0,
                                                  accept_any_ext, NULL);
}

enum tb_tri tb_x509_signed_by(const struct tb_cert *child, const struct tb_cert *issuer)
{
    const mbedtls_x509_crt *cc = tb_x509_crt(child);
    const mbedtls_x509_crt *ic = tb_x509_crt(issuer);
    unsigned char hash[MBEDTLS_MD_MAX_SIZE];

    if (cc == NULL || ic == NULL) {
        return TB_TRI_UNKNOWN;
    }
    const mbedtls_md_info_t *md = mbedtls_md_info_from_type(cc->sig_md);
    if (md == NULL || mbedtls_md(md, cc->tbs.p, cc->tbs.len, hash) != 0) {
        return TB_TRI_UNKNOWN;
    }
    if (!mbedtls_pk_can_do(&ic->pk, cc->sig_pk)) {
        return TB_TRI_NO;
    }
    /* mbedtls_pk_verify_ext takes a non-const context; verification does not modify it. */
    mbedtls_pk_context *pk = (mbedtls_pk_context *)(uintptr_t)&ic->pk;
    int ret = mbedtls_pk_verify_ext(cc->sig_pk, cc->sig_opts, pk, cc->sig_md, hash,
                                    mbedtls_md_get_size(md), cc->sig.p, cc->sig.len);
    return tb_tri_from_bool(ret == 0);
}

/* ------------------------------------------------------------- the cert */

const mbedtls_x509_crt *tb_x509_crt(const struct tb_cert *cert)
{
    const struct x509_impl *impl = cert != NULL ? cert->impl : NULL;

    return impl != NULL && impl->has_crt ? &impl->crt : NULL;
}

static void sha256_of(struct tb_cert *c)
{
    static const char digits[] = "0123456789abcdef";

    if (mbedtls_sha256_ret(c->der, c->der_len, c->sha256, 0) != 0) {
        memset(c->sha256, 0, sizeof c->sha256); /* software SHA-256 cannot fail */
    }
    for (size_t i = 0; i < sizeof c->sha256; i++) {
        c->sha256_hex[2 * i] = digits[c->sha256[i] >> 4];
        c->sha256_hex[2 * i + 1] = digits[c->sha256[i] & 0xfu];
    }
    c->sha256_hex[64] = '\0';
}

enum tb_err tb_x509_cert_init(struct tb_cert *c, const uint8_t *der, size_t len)
{
    enum tb_err err = TB_ERR_NOMEM;
    struct x509_impl *impl = calloc(1, sizeof *impl);
    struct build b = {.c = c};

    memset(c, 0, sizeof *c);
    tb_buf_init(&b.san, X509_MAX_LIST_BYTES);
    tb_buf_init(&b.eku, X509_MAX_LIST_BYTES);
    tb_buf_init(&b.ku, X509_MAX_LIST_BYTES);
    if (impl == NULL) {
        goto out;
    }
    c->impl = impl;
    mbedtls_x509_crt_init(&impl->crt);
    size_t cap = len > (SIZE_MAX - X509_ARENA_BASE) / X509_ARENA_PER_BYTE
                     ? SIZE_MAX
                     : X509_ARENA_BASE + X509_ARENA_PER_BYTE * len;
    tb_arena_init(&impl->arena, cap);
    impl->der = malloc(len > 0 ? len : 1);
    if (impl->der == NULL) {
        goto out;
    }
    if (len > 0) {
        memcpy(impl->der, der, len);
    }
    c->der = impl->der;
    c->der_len = len;
    c->path_len = -1;
    c->subject = "";
    c->issuer = "";
    c->serial_hex = "";
    c->sig_alg = "";
    c->key_desc = "";
    sha256_of(c);

    b.impl = impl;
    b.a = &impl->arena;
    bool walked = walk_cert(&b);
    if (b.err != TB_OK) {
        goto out;
    }
    if (c->subject_raw != NULL) {
        char *cn = NULL;
        char *s = dn_string(c->subject_raw, c->subject_raw_len, b.a, &cn);
        b_keep(&b, s, NULL);
        c->subject = s;
        c->subject_cn = cn;
    }
    if (c->issuer_raw != NULL) {
        char *cn = NULL;
        char *s = dn_string(c->issuer_raw, c->issuer_raw_len, b.a, &cn);
        b_keep(&b, s, NULL);
        c->issuer = s;
        c->issuer_cn = cn;
    }
    c->san = b_list(&b, &b.san, &c->san_count);
    c->eku_names = b_list(&b, &b.eku, &c->eku_count);
    c->ku_names = b_list(&b, &b.ku, &c->ku_count);
    if (b.err != TB_OK) {
        goto out;
    }

    int ret = mbedtls_x509_crt_parse_der_with_ext_cb(&impl->crt, impl->der, len, 0,
                                                     accept_any_ext, NULL);
    int high = mbedtls_high(ret);
    if (ret == 0) {
        impl->has_crt = true;
        c->parsed = true;
    } else if (walked && (high == MBEDTLS_ERR_X509_UNKNOWN_SIG_ALG ||
                          high == MBEDTLS_ERR_PK_UNKNOWN_PK_ALG)) {
        c->parsed = true; /* an algorithm mbedTLS 2.28 lacks; see the file comment */
    } else {
        c->parsed = false;
        c->parse_error = mbedtls_text(ret, b.a);
        if (c->parse_error == NULL) {
            goto out;
        }
    }
    if (!impl->has_crt) {
        mbedtls_x509_crt_free(&impl->crt); /* a failed parse may leave pieces */
        mbedtls_x509_crt_init(&impl->crt);
    }

    c->self_issued = c->subject_raw != NULL && c->issuer_raw != NULL &&
                     c->subject_raw_len == c->issuer_raw_len &&
                     memcmp(c->subject_raw, c->issuer_raw, c->subject_raw_len) == 0;
    if (c->self_issued) {
        enum tb_tri v = tb_x509_signed_by(c, c);
        if (v == TB_TRI_UNKNOWN) {
            /*
             * Ed25519 & co.: mbedTLS 2.28 cannot check it. A self-issued cert
             * whose AKI (if any) names its own key is taken as self-signed;
             * a re-keyed CA's cross certificate has a different AKI.
             */
            c->self_signed = c->parsed && (c->aki_hex == NULL || c->ski_hex == NULL ||
                                           strcmp(c->aki_hex, c->ski_hex) == 0);
        } else {
            c->self_signed = v == TB_TRI_YES;
        }
    }
    err = TB_OK;
out:
    tb_buf_fini(&b.san);
    tb_buf_fini(&b.eku);
    tb_buf_fini(&b.ku);
    if (err != TB_OK) {
        tb_x509_cert_fini(c);
    }
    return err;
}

void tb_x509_cert_fini(struct tb_cert *c)
{
    struct x509_impl *impl = c != NULL ? c->impl : NULL;

    if (impl == NULL) {
        return;
    }
    mbedtls_x509_crt_free(&impl->crt);
    tb_arena_reset(&impl->arena);
    free(impl->der);
    free(impl);
    memset(c, 0, sizeof *c);
}

/* -------------------------------------------------------- host names */

/* RFC 6125 6.4.3: "*" only as the whole left-most label, and never as "*.com". */
static bool dns_match(const char *pattern, const char *host, size_t host_len)
{
    size_t plen = strlen(pattern);

    if (plen > 0 && pattern[plen - 1] == '.') {
        plen--;
    }
    if (plen == host_len && strncasecmp(pattern, host, host_len) == 0) {
        return true;
    }
    if (plen < 4 || strncmp(pattern, "*.", 2) != 0) {
        return false;
    }
    const char *suffix = pattern + 1; /* ".example.com" */
    size_t slen = plen - 1;
    if (memchr(suffix + 1, '.', slen - 1) == NULL) { /* needs two labels after the "*" */
        return false;
    }
    const char *dot = memchr(host, '.', host_len);
    if (dot == NULL || dot == host) { /* the "*" covers exactly one non-empty label */
        return false;
    }
    size_t rest = host_len - (size_t)(dot - host);
    return rest == slen && strncasecmp(dot, suffix, slen) == 0;
}

enum tb_tri tb_cert_matches_host(const struct tb_cert *cert, const char *host)
{
    uint8_t ip[16];
    char canon[INET6_ADDRSTRLEN];
    bool have_dns = false;

    if (cert == NULL || host == NULL || host[0] == '\0') {
        return TB_TRI_UNKNOWN;
    }
    if (inet_pton(AF_INET, host, ip) == 1 || inet_pton(AF_INET6, host, ip) == 1) {
        /* RFC 6125 does not match IP literals against DNS names or the CN. */
        int af = strchr(host, ':') != NULL ? AF_INET6 : AF_INET;
        if (inet_ntop(af, ip, canon, sizeof canon) == NULL) {
            return TB_TRI_UNKNOWN;
        }
        for (size_t i = 0; i < cert->san_count; i++) {
            if (strncmp(cert->san[i], "IP:", 3) == 0 && strcmp(cert->san[i] + 3, canon) == 0) {
                return TB_TRI_YES;
            }
        }
        return cert->san_count == 0 && cert->subject_cn == NULL && !cert->parsed ? TB_TRI_UNKNOWN
                                                                                 : TB_TRI_NO;
    }
    size_t host_len = strlen(host);
    if (host[host_len - 1] == '.') { /* absolute form names the same host */
        host_len--;
    }
    for (size_t i = 0; i < cert->san_count; i++) {
        if (strncmp(cert->san[i], "DNS:", 4) == 0) {
            have_dns = true;
            if (dns_match(cert->san[i] + 4, host, host_len)) {
                return TB_TRI_YES;
            }
        }
    }
    if (have_dns) {
        return TB_TRI_NO;
    }
    /* RFC 6125 6.4.4: the CN only when there is no DNS SAN at all. */
    if (cert->subject_cn != NULL) {
        return tb_tri_from_bool(dns_match(cert->subject_cn, host, host_len));
    }
    return cert->parsed ? TB_TRI_NO : TB_TRI_UNKNOWN;
}

/* -------------------------------------------------------------- PEM */

#define PEM_BEGIN "-----BEGIN CERTIFICATE-----\n"
#define PEM_END "-----END CERTIFICATE-----\n"

char *tb_cert_pem(const struct tb_cert *cert, struct tb_arena *a)
{
    size_t need = 0;

    if (cert == NULL || cert->der_len == 0) {
        return NULL;
    }
    /* First call sizes the output (base64 + a newline per 64 chars + armour). */
    (void)mbedtls_pem_write_buffer(PEM_BEGIN, PEM_END, cert->der, cert->der_len, NULL, 0, &need);
    unsigned char *out = tb_arena_alloc(a, need + 1);
    if (out == NULL) {
        return NULL;
    }
    if (mbedtls_pem_write_buffer(PEM_BEGIN, PEM_END, cert->der, cert->der_len, out, need + 1,
                                 &need) != 0) {
        return NULL;
    }
    return (char *)out;
}

/* ------------------------------------------------------------- trust */

struct tb_trust {
    mbedtls_x509_crt crts;
    size_t count;
};

/*
 * mbedTLS computes some values lazily on first use of a key and stores them
 * in the key (the comb table of an EC group, grp->T). A trust store shared by
 * worker threads must not be written to, so each anchor's key is used once
 * here, before any thread sees it: a verify of a dummy signature fills the
 * caches (its failure is expected).
 */
static void warm_up_key(mbedtls_pk_context *pk)
{
    static const unsigned char hash[32] = {1};
    static const unsigned char ecdsa_sig[] = {0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01};
    unsigned char zeros[1024] = {0};

    if (mbedtls_pk_can_do(pk, MBEDTLS_PK_ECDSA)) {
        (void)mbedtls_pk_verify(pk, MBEDTLS_MD_SHA256, hash, sizeof hash, ecdsa_sig,
                                sizeof ecdsa_sig); /* expected to fail */
    } else if (mbedtls_pk_can_do(pk, MBEDTLS_PK_RSA) && mbedtls_pk_get_len(pk) <= sizeof zeros) {
        (void)mbedtls_pk_verify(pk, MBEDTLS_MD_SHA256, hash, sizeof hash, zeros,
                                mbedtls_pk_get_len(pk)); /* expected to fail */
    }
}

enum tb_err tb_trust_load(const char *pem_path, struct tb_trust **out)
{
    enum tb_err err = TB_ERR_NOMEM;
    struct tb_trust *t = calloc(1, sizeof *t);
    struct tb_where w = {.file = pem_path, .stage = "ca-file", .offset = -1};

    *out = NULL;
    if (t == NULL) {
        goto out;
    }
    mbedtls_x509_crt_init(&t->crts);
    int ret = mbedtls_x509_crt_parse_file(&t->crts, pem_path);
    for (mbedtls_x509_crt *c = &t->crts; c != NULL && c->version != 0; c = c->next) {
        t->count++;
        warm_up_key(&c->pk);
    }
    if (ret < 0 || t->count == 0) {
        char text[200];
        if (ret < 0) {
            mbedtls_strerror(ret, text, sizeof text);
        } else {
            (void)snprintf(text, sizeof text, "no certificate could be read"); /* fits */
        }
        tb_diag(&w, "cannot load trust anchors: %s", text);
        err = ret == MBEDTLS_ERR_X509_FILE_IO_ERROR || ret == MBEDTLS_ERR_PK_FILE_IO_ERROR
                  ? TB_ERR_IO
                  : TB_ERR_SYNTAX;
        goto out;
    }
    if (ret > 0) {
        tb_diag(&w, "%d certificate(s) could not be read and are not trusted; %zu loaded", ret,
                t->count);
    }
    *out = t;
    t = NULL;
    err = TB_OK;
out:
    tb_trust_free(t);
    return err;
}

void tb_trust_free(struct tb_trust *trust)
{
    if (trust == NULL) {
        return;
    }
    mbedtls_x509_crt_free(&trust->crts);
    free(trust);
}

size_t tb_trust_count(const struct tb_trust *trust)
{
    return trust != NULL ? trust->count : 0;
}

const mbedtls_x509_crt *tb_trust_crts(const struct tb_trust *trust)
{
    return trust != NULL && trust->count > 0 ? &trust->crts : NULL;
}

const char *tb_x509_lib_version(void)
{
    static char version[40];

    if (version[0] == '\0') {
        mbedtls_version_get_string_full(version);
    }
    return version;
}
