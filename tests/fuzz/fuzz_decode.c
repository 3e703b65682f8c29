/*
 * fuzz_decode.c - tb_decode() on raw frames of every supported link type
 * (and one it does not support). Input layout:
 *
 *   byte 0   link type: index into link_types[] (modulo its size)
 *   then     frames, each: len (2 bytes big-endian), extra (1 byte), bytes
 *            caplen = len (cut at the end of the input), wirelen = caplen +
 *            extra, so snap-length cuts are exercised; every 16th frame the
 *            clock jumps past the fragment timeout.
 *
 * All frames go through one decoder, so IP fragments are reassembled across
 * frames. When a frame decodes to TCP, every byte the result points at is
 * read (memchr), so ASan checks payload/payload_len and l3/l3_len.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "tlsblame/capture.h"
#include "tlsblame/decode.h"
#include "tlsblame/reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const int link_types[] = {
    TB_LT_NULL,      TB_LT_ETHERNET,    TB_LT_PPP,          TB_LT_RAW,
    TB_LT_LOOP,      TB_LT_LINUX_SLL,   TB_LT_IPV4,         TB_LT_IPV6,
    TB_LT_LINUX_SLL2, TB_LT_DLT_RAW_BSD, TB_LT_DLT_RAW_OPENBSD, 147 /* USER0: unsupported */
};

static volatile size_t sink; /* keeps the reads below from being optimised away */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tb_reader in = tb_rd_init(data, size);
    struct tb_decoder *d;
    int linktype;
    int64_t ts_us = 1700000000000000;
    unsigned frame = 0;

    if (size < 1) {
        return 0;
    }
    linktype = link_types[tb_rd_u8(&in) % (sizeof link_types / sizeof link_types[0])];
    d = tb_decoder_new();
    if (d == NULL) {
        return 0;
    }
    while (tb_rd_left(&in) > 0) {
        uint16_t len = tb_rd_u16(&in);
        uint8_t extra = tb_rd_u8(&in);
        if (!tb_rd_ok(&in)) {
            break;
        }
        size_t caplen = tb_rd_left(&in) < len ? tb_rd_left(&in) : len;
        const uint8_t *bytes = tb_rd_bytes(&in, caplen);
        struct tb_pkt pkt;
        const char *reason = NULL;
        char text[48];

        frame++;
        ts_us += (frame % 16 == 0) ? 60LL * 1000000 : 1000;
        memset(&pkt, 0, sizeof pkt);
        switch (tb_decode(d, linktype, bytes, caplen, caplen + extra, ts_us, &pkt, &reason)) {
        case TB_DECODE_TCP:
            if (pkt.payload_len > 0) {
                sink += memchr(pkt.payload, 0x5a, pkt.payload_len) != NULL;
            }
            if (pkt.l3 != NULL && pkt.l3_len > 0) {
                sink += memchr(pkt.l3, 0xa5, pkt.l3_len) != NULL;
            }
            tb_addr_format(pkt.ip_version, pkt.src, text, sizeof text);
            tb_addr_format(pkt.ip_version, pkt.dst, text, sizeof text);
            sink += strlen(text);
            break;
        case TB_DECODE_MALFORMED:
            sink += reason != NULL ? strlen(reason) : 0;
            break;
        case TB_DECODE_SKIP:
        case TB_DECODE_FRAGMENT:
        default:
            break;
        }
    }
    tb_decoder_free(d);
    return 0;
}
