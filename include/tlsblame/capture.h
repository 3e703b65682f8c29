#ifndef TLSBLAME_CAPTURE_H
#define TLSBLAME_CAPTURE_H
/*
 * capture.h - packets in: pcap/pcapng files (also gzip-compressed and "-"
 * for stdin) and live interfaces, with an optional BPF filter. The only
 * module that sees libpcap. Packet bytes are valid only during the callback.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tlsblame/err.h"

/* LINKTYPE_ values we decode (pcap-linktype(7)). */
enum tb_linktype {
    TB_LT_NULL = 0,
    TB_LT_ETHERNET = 1,
    TB_LT_PPP = 9,
    TB_LT_RAW = 101,
    TB_LT_LOOP = 108,
    TB_LT_LINUX_SLL = 113,
    TB_LT_IPV4 = 228,
    TB_LT_IPV6 = 229,
    TB_LT_LINUX_SLL2 = 276,
    TB_LT_DLT_RAW_BSD = 12, /* DLT_RAW on some BSDs */
    TB_LT_DLT_RAW_OPENBSD = 14,
};

struct tb_packet {
    uint64_t frame;     /* 1-based, as Wireshark counts */
    int64_t ts_us;
    const uint8_t *bytes;
    size_t caplen;      /* bytes present */
    size_t wirelen;     /* bytes on the wire */
    int linktype;
};

/* p is NULL for a live read timeout with nothing captured (a clock tick). */
typedef void (*tb_packet_fn)(void *ctx, const struct tb_packet *p);

struct tb_capture;

struct tb_live_opts {
    int snaplen;
    bool promisc;
    int buffer_mb;
    const char *write_path; /* -w: also save packets, or NULL */
};

/* Open a file ("-" = stdin, *.gz read through zlib). errmsg gets the reason. */
enum tb_err tb_capture_open_file(const char *path, const char *filter, struct tb_capture **out,
                                 char *errmsg, size_t errmsg_len) TB_MUST_USE;
enum tb_err tb_capture_open_live(const char *ifname, const char *filter,
                                 const struct tb_live_opts *opts, struct tb_capture **out,
                                 char *errmsg, size_t errmsg_len) TB_MUST_USE;
/*
 * Deliver packets until the end of the file, max_packets (0: no limit),
 * tb_capture_break(), or damage. TB_OK at a clean end; on damage the packets
 * before it were delivered and errmsg says what was wrong and at which frame.
 */
enum tb_err tb_capture_run(struct tb_capture *c, tb_packet_fn fn, void *ctx, uint64_t max_packets,
                           char *errmsg, size_t errmsg_len) TB_MUST_USE;
void tb_capture_break(struct tb_capture *c);
int tb_capture_linktype(const struct tb_capture *c);
bool tb_capture_linktype_supported(int linktype);
const char *tb_capture_linktype_name(int linktype);
/* Byte position in the input file and its size (progress), 0 when unknown. */
void tb_capture_progress(struct tb_capture *c, uint64_t *pos, uint64_t *size);
bool tb_capture_stats(struct tb_capture *c, uint64_t *received, uint64_t *dropped);
int tb_capture_fd(const struct tb_capture *c);
void tb_capture_close(struct tb_capture *c);
const char *tb_capture_lib_version(void);

#endif
