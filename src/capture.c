/*
 * capture.c - libpcap front end (the only file with <pcap.h>). Files are
 * opened with microsecond precision (libpcap scales nanosecond files), so
 * every later stage works in microseconds. A damaged file still yields the
 * packets before the damage; the message names the frame that failed.
 *
 * Classic pcap files on disk are read by our own loop (libpcap still opens
 * and validates them and compiles the filter): libpcap reads through stdio,
 * which copies every packet twice and makes a system call per 4 KiB, about
 * a third of the time on bulk captures. pcapng, gzip, stdin and interfaces
 * go through libpcap.
 */
#define _GNU_SOURCE /* fopencookie */
#include <errno.h>
#include <fcntl.h>
#include <pcap.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "tlsblame/capture.h"

struct tb_capture {
    pcap_t *pcap;
    FILE *fp;          /* our stream when we opened one (gzip, stdin) */
    gzFile gz;
    uint64_t frame;     /* records read (Wireshark's frame number) */
    uint64_t delivered; /* those that passed the filter (-c counts these) */
    uint64_t file_size;
    bool live;
    pcap_dumper_t *dumper;
    int linktype;
    volatile sig_atomic_t broken;
    struct pcap_reader *own;  /* classic pcap read by us, or NULL, */
    struct pcap_pkthdr own_hdr; /* and the header of its current record */
    struct bpf_program prog;  /* the filter, applied by us when own != NULL */
    bool have_prog;
};

/*
 * Classic pcap (pcap-savefile(5)): a 24-byte file header, then per packet a
 * 16-byte header (seconds, micro- or nanoseconds, captured and wire length)
 * in the writer's byte order, and the captured bytes.
 */
#define PCAP_MAGIC_US 0xa1b2c3d4u
#define PCAP_MAGIC_NS 0xa1b23c4du
#define PCAP_FILE_HDR 24u
#define PCAP_REC_HDR 16u
#define PCAP_MAX_CAPLEN 262144u /* libpcap's MAXIMUM_SNAPLEN: a larger record is damage */
#define READ_CHUNK (256u << 10) /* stays in L2 while its packets are analysed */

struct pcap_reader {
    int fd;
    bool swapped, nsec;
    uint8_t *buf;     /* READ_CHUNK + PCAP_MAX_CAPLEN + PCAP_REC_HDR */
    size_t len, pos;  /* bytes in buf, next record */
    uint64_t offset;  /* file offset of buf[0] */
    bool eof;
};

static ssize_t gz_read(void *cookie, char *out, size_t n)
{
    gzFile gz = cookie;
    unsigned want = n > (1u << 30) ? (1u << 30) : (unsigned)n;
    int got = gzread(gz, out, want);
    return got < 0 ? -1 : (ssize_t)got;
}

static int gz_close(void *cookie)
{
    return gzclose((gzFile)cookie) == Z_OK ? 0 : -1;
}

static bool has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

bool tb_capture_linktype_supported(int linktype)
{
    switch (linktype) {
    case TB_LT_NULL:
    case TB_LT_ETHERNET:
    case TB_LT_PPP:
    case TB_LT_RAW:
    case TB_LT_LOOP:
    case TB_LT_LINUX_SLL:
    case TB_LT_IPV4:
    case TB_LT_IPV6:
    case TB_LT_LINUX_SLL2:
    case TB_LT_DLT_RAW_BSD:
    case TB_LT_DLT_RAW_OPENBSD:
        return true;
    default:
        return false;
    }
}

const char *tb_capture_linktype_name(int linktype)
{
    const char *name = pcap_datalink_val_to_name(linktype);
    return name != NULL ? name : "unknown";
}

static enum tb_err apply_filter(struct tb_capture *c, const char *filter, char *errmsg,
                                size_t errmsg_len)
{
    struct bpf_program prog;

    if (filter == NULL || filter[0] == '\0') {
        return TB_OK;
    }
    if (pcap_compile(c->pcap, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) != 0) {
        snprintf(errmsg, errmsg_len, "bad filter '%s': %s", filter, pcap_geterr(c->pcap));
        return TB_ERR_USAGE;
    }
    if (!c->live) {
        /* Applied per packet by tb_capture_run, which then still counts every
         * record: frame numbers stay Wireshark's under a filter. */
        c->prog = prog;
        c->have_prog = true;
        return TB_OK;
    }
    int rc = pcap_setfilter(c->pcap, &prog);
    pcap_freecode(&prog);
    if (rc != 0) {
        snprintf(errmsg, errmsg_len, "cannot set filter '%s': %s", filter, pcap_geterr(c->pcap));
        return TB_ERR_USAGE;
    }
    return TB_OK;
}

static uint32_t rd32(const uint8_t *p, bool swapped)
{
    uint32_t v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    return swapped ? __builtin_bswap32(v) : v;
}

static void reader_free(struct pcap_reader *r)
{
    if (r != NULL) {
        close(r->fd);
        free(r->buf);
        free(r);
    }
}

/* Our reader for a classic pcap file libpcap accepted; NULL for anything else (libpcap reads it). */
static struct pcap_reader *reader_open(const char *path)
{
    uint8_t hdr[PCAP_FILE_HDR];
    struct pcap_reader *r;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    uint32_t magic;

    if (fd < 0) {
        return NULL;
    }
    if (read(fd, hdr, sizeof hdr) != (ssize_t)sizeof hdr) {
        close(fd);
        return NULL;
    }
    magic = rd32(hdr, false);
    r = calloc(1, sizeof *r);
    if (r == NULL) {
        close(fd);
        return NULL;
    }
    r->fd = fd;
    r->offset = PCAP_FILE_HDR;
    if (magic == PCAP_MAGIC_US || magic == PCAP_MAGIC_NS) {
        r->nsec = magic == PCAP_MAGIC_NS;
    } else if (magic == __builtin_bswap32(PCAP_MAGIC_US) ||
               magic == __builtin_bswap32(PCAP_MAGIC_NS)) {
        r->swapped = true;
        r->nsec = magic == __builtin_bswap32(PCAP_MAGIC_NS);
    } else {
        reader_free(r); /* pcapng, or a variant only libpcap knows */
        return NULL;
    }
    r->buf = malloc(READ_CHUNK + PCAP_MAX_CAPLEN + PCAP_REC_HDR);
    if (r->buf == NULL) {
        reader_free(r);
        return NULL;
    }
    (void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    return r;
}

/* At least want bytes at buf + pos, unless the file ends first. */
static bool reader_fill(struct pcap_reader *r, size_t want, char *errmsg, size_t errmsg_len)
{
    if (r->len - r->pos >= want) {
        return true;
    }
    memmove(r->buf, r->buf + r->pos, r->len - r->pos);
    r->offset += r->pos;
    r->len -= r->pos;
    r->pos = 0;
    while (r->len < want && !r->eof) {
        ssize_t n = read(r->fd, r->buf + r->len, READ_CHUNK);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            snprintf(errmsg, errmsg_len, "read error: %s", strerror(errno));
            return false;
        }
        r->eof = n == 0;
        r->len += (size_t)n;
    }
    return r->len >= want;
}

/* 1: a packet; 0: the end of the file; -1: damage (errmsg says what, without the frame). */
static int reader_next(struct pcap_reader *r, struct pcap_pkthdr *h, const uint8_t **data,
                       char *errmsg, size_t errmsg_len)
{
    const uint8_t *p;

    if (!reader_fill(r, PCAP_REC_HDR, errmsg, errmsg_len)) {
        if (r->len == r->pos) {
            return errmsg[0] == '\0' ? 0 : -1;
        }
        if (errmsg[0] == '\0') {
            snprintf(errmsg, errmsg_len,
                     "truncated dump file; tried to read %u header bytes, only got %zu",
                     PCAP_REC_HDR, r->len - r->pos);
        }
        return -1;
    }
    p = r->buf + r->pos;
    h->ts.tv_sec = (time_t)rd32(p, r->swapped);
    h->ts.tv_usec = (suseconds_t)(r->nsec ? rd32(p + 4, r->swapped) / 1000 : rd32(p + 4, r->swapped));
    h->caplen = rd32(p + 8, r->swapped);
    h->len = rd32(p + 12, r->swapped);
    if (h->caplen > PCAP_MAX_CAPLEN) {
        snprintf(errmsg, errmsg_len,
                 "invalid packet capture length %u, bigger than snaplen of %u", h->caplen,
                 PCAP_MAX_CAPLEN);
        return -1;
    }
    if (!reader_fill(r, PCAP_REC_HDR + h->caplen, errmsg, errmsg_len)) {
        if (errmsg[0] == '\0') {
            snprintf(errmsg, errmsg_len,
                     "truncated dump file; tried to read %u captured bytes, only got %zu",
                     h->caplen, r->len - r->pos - PCAP_REC_HDR);
        }
        return -1;
    }
    *data = r->buf + r->pos + PCAP_REC_HDR;
    r->pos += PCAP_REC_HDR + h->caplen;
    return 1;
}

enum tb_err tb_capture_open_file(const char *path, const char *filter, struct tb_capture **out,
                                 char *errmsg, size_t errmsg_len)
{
    char pcap_err[PCAP_ERRBUF_SIZE] = "";
    enum tb_err err = TB_ERR_IO;
    struct tb_capture *c = calloc(1, sizeof *c);
    struct stat st;

    *out = NULL;
    if (c == NULL) {
        snprintf(errmsg, errmsg_len, "out of memory");
        return TB_ERR_NOMEM;
    }
    if (strcmp(path, "-") == 0) {
        c->pcap = pcap_fopen_offline_with_tstamp_precision(stdin, PCAP_TSTAMP_PRECISION_MICRO,
                                                           pcap_err);
    } else {
        if (stat(path, &st) != 0) {
            snprintf(errmsg, errmsg_len, "cannot open: %s", strerror(errno));
            goto out;
        }
        if (S_ISDIR(st.st_mode)) {
            snprintf(errmsg, errmsg_len, "is a directory");
            goto out;
        }
        c->file_size = (uint64_t)st.st_size;
        if (st.st_size == 0) {
            snprintf(errmsg, errmsg_len, "empty file (0 bytes): not a pcap or pcapng capture");
            err = TB_ERR_FORMAT;
            goto out;
        }
        if (has_suffix(path, ".gz")) {
            cookie_io_functions_t io = {.read = gz_read, .close = gz_close};
            c->gz = gzopen(path, "rb");
            if (c->gz == NULL) {
                snprintf(errmsg, errmsg_len, "cannot open: %s", strerror(errno));
                goto out;
            }
            c->fp = fopencookie(c->gz, "rb", io);
            if (c->fp == NULL) {
                gzclose(c->gz);
                c->gz = NULL;
                snprintf(errmsg, errmsg_len, "cannot open gzip stream");
                goto out;
            }
            c->pcap = pcap_fopen_offline_with_tstamp_precision(c->fp, PCAP_TSTAMP_PRECISION_MICRO,
                                                               pcap_err);
            if (c->pcap != NULL) {
                c->fp = NULL; /* pcap_close closes it */
                c->gz = NULL;
            }
        } else {
            c->pcap = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_MICRO,
                                                              pcap_err);
        }
    }
    if (c->pcap == NULL) {
        /* libpcap says "unknown file format" for text and other non-captures. */
        snprintf(errmsg, errmsg_len, "not a pcap or pcapng capture (%s)", pcap_err);
        err = TB_ERR_FORMAT;
        goto out;
    }
    c->linktype = pcap_datalink(c->pcap);
    if (!tb_capture_linktype_supported(c->linktype)) {
        snprintf(errmsg, errmsg_len, "unsupported link type %d (%s)", c->linktype,
                 tb_capture_linktype_name(c->linktype));
        err = TB_ERR_LINKTYPE;
        goto out;
    }
    if (strcmp(path, "-") != 0 && c->fp == NULL && S_ISREG(st.st_mode)) {
        c->own = reader_open(path);
    }
    err = apply_filter(c, filter, errmsg, errmsg_len);
    if (err != TB_OK) {
        goto out;
    }
    *out = c;
    return TB_OK;
out:
    tb_capture_close(c);
    return err;
}

enum tb_err tb_capture_open_live(const char *ifname, const char *filter,
                                 const struct tb_live_opts *opts, struct tb_capture **out,
                                 char *errmsg, size_t errmsg_len)
{
    char pcap_err[PCAP_ERRBUF_SIZE] = "";
    enum tb_err err = TB_ERR_IO;
    struct tb_capture *c = calloc(1, sizeof *c);
    int rc;

    *out = NULL;
    if (c == NULL) {
        return TB_ERR_NOMEM;
    }
    c->live = true;
    c->pcap = pcap_create(ifname, pcap_err);
    if (c->pcap == NULL) {
        snprintf(errmsg, errmsg_len, "%s", pcap_err);
        goto out;
    }
    /* Certificates need whole packets. */
    (void)pcap_set_snaplen(c->pcap, opts->snaplen > 0 ? opts->snaplen : 262144); /* pre-activate: cannot fail */
    (void)pcap_set_promisc(c->pcap, opts->promisc ? 1 : 0);
    (void)pcap_set_immediate_mode(c->pcap, 1); /* verdicts as they happen */
    (void)pcap_set_buffer_size(c->pcap, (opts->buffer_mb > 0 ? opts->buffer_mb : 32) << 20);
    (void)pcap_set_timeout(c->pcap, 100);
    (void)pcap_set_tstamp_precision(c->pcap, PCAP_TSTAMP_PRECISION_MICRO); /* default anyway */
    rc = pcap_activate(c->pcap);
    if (rc < 0) {
        snprintf(errmsg, errmsg_len, "cannot capture on %s: %s", ifname, pcap_geterr(c->pcap));
        err = TB_ERR_USAGE;
        goto out;
    }
    /* Linux blocks in pcap_next_ex with no packets despite the timeout: read
     * non-blocking and wait in poll() ourselves, so quiet periods tick. */
    if (pcap_setnonblock(c->pcap, 1, pcap_err) != 0) {
        snprintf(errmsg, errmsg_len, "%s: %s", ifname, pcap_err);
        goto out;
    }
    c->linktype = pcap_datalink(c->pcap);
    if (!tb_capture_linktype_supported(c->linktype)) {
        snprintf(errmsg, errmsg_len, "%s: unsupported link type %d (%s)", ifname, c->linktype,
                 tb_capture_linktype_name(c->linktype));
        err = TB_ERR_LINKTYPE;
        goto out;
    }
    err = apply_filter(c, filter, errmsg, errmsg_len);
    if (err != TB_OK) {
        goto out;
    }
    if (opts->write_path != NULL) {
        c->dumper = pcap_dump_open(c->pcap, opts->write_path);
        if (c->dumper == NULL) {
            snprintf(errmsg, errmsg_len, "cannot write %s: %s", opts->write_path,
                     pcap_geterr(c->pcap));
            err = TB_ERR_IO;
            goto out;
        }
    }
    *out = c;
    return TB_OK;
out:
    tb_capture_close(c);
    return err;
}

/*
 * A file may say any time: pcapng carries 64-bit timestamps, a classic pcap
 * header any 32-bit microsecond count. Clamp to +-2^61 us (+-73,000 years) so
 * the product cannot overflow here and differences between two packet times
 * (flow idle timeouts, fragment ages) cannot overflow later.
 */
#define TS_LIMIT_US ((int64_t)1 << 61)

static int64_t packet_time_us(int64_t sec, int64_t usec)
{
    int64_t us;

    if (__builtin_mul_overflow(sec, (int64_t)1000000, &us) ||
        __builtin_add_overflow(us, usec, &us)) {
        return sec < 0 ? -TS_LIMIT_US : TS_LIMIT_US;
    }
    if (us > TS_LIMIT_US) {
        return TS_LIMIT_US;
    }
    return us < -TS_LIMIT_US ? -TS_LIMIT_US : us;
}

/*
 * The next record, as pcap_next_ex returns it (1 a packet, 0 a live timeout,
 * PCAP_ERROR_BREAK the end, PCAP_ERROR damage, why then says what), from our
 * own reader for classic pcap files, else from libpcap.
 */
static int next_record(struct tb_capture *c, struct pcap_pkthdr **hdr, const u_char **bytes,
                       char *why, size_t why_len)
{
    if (c->own != NULL) {
        why[0] = '\0';
        int rc = reader_next(c->own, &c->own_hdr, bytes, why, why_len);
        *hdr = &c->own_hdr;
        return rc > 0 ? 1 : rc == 0 ? PCAP_ERROR_BREAK : PCAP_ERROR;
    }
    int rc = pcap_next_ex(c->pcap, hdr, bytes);
    if (rc == PCAP_ERROR) {
        snprintf(why, why_len, "%s", pcap_geterr(c->pcap));
    }
    return rc;
}

enum tb_err tb_capture_run(struct tb_capture *c, tb_packet_fn fn, void *ctx, uint64_t max_packets,
                           char *errmsg, size_t errmsg_len)
{
    struct pcap_pkthdr *hdr;
    const u_char *bytes;
    char why[PCAP_ERRBUF_SIZE];

    for (;;) {
        if (max_packets > 0 && c->delivered >= max_packets) {
            return TB_OK;
        }
        int rc = next_record(c, &hdr, &bytes, why, sizeof why);
        if (rc == 1) {
            c->frame++;
            if (c->have_prog && pcap_offline_filter(&c->prog, hdr, bytes) == 0) {
                continue;
            }
            c->delivered++;
            struct tb_packet p = {
                .frame = c->frame,
                .ts_us = packet_time_us(hdr->ts.tv_sec, hdr->ts.tv_usec),
                .bytes = bytes,
                .caplen = hdr->caplen,
                .wirelen = hdr->len,
                .linktype = c->linktype,
            };
            if (c->dumper != NULL) {
                pcap_dump((u_char *)c->dumper, hdr, bytes);
                (void)pcap_dump_flush(c->dumper); /* evidence must survive a kill */
            }
            fn(ctx, &p);
            continue;
        }
        if (rc == 0) {
            struct pollfd pfd = {.fd = pcap_get_selectable_fd(c->pcap), .events = POLLIN};
            if (c->broken) {
                return TB_OK;
            }
            if (pfd.fd < 0 || poll(&pfd, 1, 100) == 0) {
                fn(ctx, NULL); /* nothing for 100 ms: a tick, so idle flows can end */
            }
            continue;
        }
        if (rc == PCAP_ERROR_BREAK) {
            return TB_OK;
        }
        snprintf(errmsg, errmsg_len, "frame %llu: %s", (unsigned long long)(c->frame + 1), why);
        return TB_ERR_TRUNCATED;
    }
}

void tb_capture_break(struct tb_capture *c)
{
    c->broken = 1; /* non-blocking reads never see pcap_breakloop() */
    pcap_breakloop(c->pcap);
}

int tb_capture_linktype(const struct tb_capture *c)
{
    return c->linktype;
}

int tb_capture_fd(const struct tb_capture *c)
{
    return pcap_get_selectable_fd(c->pcap);
}

void tb_capture_progress(struct tb_capture *c, uint64_t *pos, uint64_t *size)
{
    FILE *f = c->live || c->own != NULL ? NULL : pcap_file(c->pcap);
    long at = f != NULL ? ftell(f) : -1;

    if (c->own != NULL) {
        at = (long)(c->own->offset + c->own->pos);
    }

    *pos = at > 0 ? (uint64_t)at : 0;
    *size = c->file_size;
}

bool tb_capture_stats(struct tb_capture *c, uint64_t *received, uint64_t *dropped)
{
    struct pcap_stat st;

    if (!c->live || pcap_stats(c->pcap, &st) != 0) {
        return false;
    }
    *received = st.ps_recv;
    *dropped = (uint64_t)st.ps_drop + st.ps_ifdrop;
    return true;
}

void tb_capture_close(struct tb_capture *c)
{
    if (c == NULL) {
        return;
    }
    if (c->dumper != NULL) {
        pcap_dump_close(c->dumper);
    }
    reader_free(c->own);
    if (c->have_prog) {
        pcap_freecode(&c->prog);
    }
    if (c->pcap != NULL) {
        pcap_close(c->pcap);
    }
    if (c->fp != NULL) {
        fclose(c->fp);
    } else if (c->gz != NULL) {
        gzclose(c->gz);
    }
    free(c);
}

const char *tb_capture_lib_version(void)
{
    return pcap_lib_version();
}
