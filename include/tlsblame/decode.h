#ifndef TLSBLAME_DECODE_H
#define TLSBLAME_DECODE_H
/*
 * decode.h - link layer to TCP: Ethernet (802.1Q, QinQ, PPPoE), Linux SLL and
 * SLL2, BSD NULL/LOOP, raw IP, PPP; IPv4 with options and fragments, IPv6
 * with extension headers; IP-in-IP, GRE, VXLAN, Geneve and GTP-U tunnels.
 * No allocation per packet: the fragment pool is allocated once.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tlsblame/err.h"

struct tb_pkt {
    uint8_t ip_version;       /* 4 or 6 */
    uint8_t src[16], dst[16]; /* IPv4 in the first 4 bytes */
    uint16_t sport, dport;
    uint8_t tcp_flags;        /* TB_TCP_* */
    uint32_t seq, ack;
    uint16_t window;
    const uint8_t *payload;   /* TCP payload bytes present in the capture */
    size_t payload_len;
    size_t payload_missing;   /* bytes the snap length cut off */
    const uint8_t *l3;        /* innermost IP header (nDPI wants L3 packets) */
    size_t l3_len;
};

#define TB_TCP_FIN 0x01
#define TB_TCP_SYN 0x02
#define TB_TCP_RST 0x04
#define TB_TCP_PSH 0x08
#define TB_TCP_ACK 0x10

enum tb_decode_result {
    TB_DECODE_TCP,        /* pkt filled */
    TB_DECODE_SKIP,       /* not TCP (UDP, ARP, ...): ignored */
    TB_DECODE_FRAGMENT,   /* an IP fragment was stored; nothing to deliver yet */
    TB_DECODE_MALFORMED,  /* reason set */
};

struct tb_decoder;

struct tb_decoder *tb_decoder_new(void);
void tb_decoder_free(struct tb_decoder *d);
/*
 * Decode one captured frame. Pointers in pkt point into bytes or into the
 * decoder's fragment buffer, valid until the next call.
 */
enum tb_decode_result tb_decode(struct tb_decoder *d, int linktype, const uint8_t *bytes,
                                size_t caplen, size_t wirelen, int64_t ts_us, struct tb_pkt *pkt,
                                const char **reason);
/* Format an address ("10.0.0.1", "2001:db8::1") without name resolution. */
void tb_addr_format(uint8_t ip_version, const uint8_t addr[16], char *out, size_t out_len);

#endif
