/*
 * decode.c - L2 to L4, between capture.c and flow.c. Reads packet bytes only
 * through tb_reader; the declared IP length (not the captured length) says
 * how much TCP payload there was, so a snap-length cut is reported as
 * missing bytes rather than read past. Tunnels are peeled iteratively with a
 * depth cap: the packet never chooses how deep we go.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tlsblame/capture.h"
#include "tlsblame/decode.h"
#include "tlsblame/limits.h"
#include "tlsblame/reader.h"

#define FRAG_SLOTS 16
#define FRAG_MAX_DGRAM 65535u
#define FRAG_TIMEOUT_US (30LL * 1000000)
#define ETH_IPV4 0x0800
#define ETH_IPV6 0x86dd
#define ETH_VLAN 0x8100
#define ETH_QINQ 0x88a8
#define ETH_QINQ_OLD 0x9100
#define ETH_PPPOE 0x8864
#define ETH_MPLS 0x8847
#define IPPROTO_TCP_ 6
#define IPPROTO_UDP_ 17
#define IPPROTO_IPIP_ 4
#define IPPROTO_IPV6_ 41
#define IPPROTO_GRE_ 47

struct frag_slot {
    bool used;
    uint8_t ip_version;
    uint8_t src[16], dst[16];
    uint32_t id;
    uint8_t proto;
    int64_t first_us;
    size_t total_len;            /* payload length once the last fragment is seen, else 0 */
    size_t have_len;             /* bytes received (no double count: bitmap in 8-byte units) */
    uint8_t *payload;            /* FRAG_MAX_DGRAM */
    uint8_t *got;                /* 1 bit per 8-byte unit */
    uint8_t header[60];          /* IPv4 header of the first fragment for nDPI */
    size_t header_len;
};

struct tb_decoder {
    struct frag_slot slot[FRAG_SLOTS];
    uint8_t *dgram;              /* reassembled datagram (header + payload) */
    size_t dgram_cap;
};

enum layer { L_ETHERTYPE, L_IP, L_DONE };

struct tb_decoder *tb_decoder_new(void)
{
    struct tb_decoder *d = calloc(1, sizeof *d);

    if (d == NULL) {
        return NULL;
    }
    d->dgram_cap = FRAG_MAX_DGRAM + 60;
    d->dgram = malloc(d->dgram_cap);
    if (d->dgram == NULL) {
        free(d);
        return NULL;
    }
    for (size_t i = 0; i < FRAG_SLOTS; i++) {
        d->slot[i].payload = malloc(FRAG_MAX_DGRAM);
        d->slot[i].got = calloc(FRAG_MAX_DGRAM / 8 / 8 + 1, 1);
        if (d->slot[i].payload == NULL || d->slot[i].got == NULL) {
            tb_decoder_free(d);
            return NULL;
        }
    }
    return d;
}

void tb_decoder_free(struct tb_decoder *d)
{
    if (d == NULL) {
        return;
    }
    for (size_t i = 0; i < FRAG_SLOTS; i++) {
        free(d->slot[i].payload);
        free(d->slot[i].got);
    }
    free(d->dgram);
    free(d);
}

void tb_addr_format(uint8_t ip_version, const uint8_t addr[16], char *out, size_t out_len)
{
    if (ip_version != 6 && out_len >= 16) {
        /* Every connection's two endpoints: by hand, inet_ntop goes through sprintf. */
        char *p = out;
        for (int i = 0; i < 4; i++) {
            unsigned v = addr[i];
            if (v >= 100) {
                *p++ = (char)('0' + v / 100);
            }
            if (v >= 10) {
                *p++ = (char)('0' + v / 10 % 10);
            }
            *p++ = (char)('0' + v % 10);
            *p++ = i < 3 ? '.' : '\0';
        }
        return;
    }
    if (inet_ntop(ip_version == 6 ? AF_INET6 : AF_INET, addr, out, (socklen_t)out_len) == NULL) {
        snprintf(out, out_len, "?");
    }
}

static bool tcp_decode(struct tb_reader *ip_payload, size_t declared_len, struct tb_pkt *pkt,
                       const char **reason)
{
    struct tb_reader *r = ip_payload;
    size_t start = tb_rd_offset(r);

    pkt->sport = tb_rd_u16(r);
    pkt->dport = tb_rd_u16(r);
    pkt->seq = tb_rd_u32(r);
    pkt->ack = tb_rd_u32(r);
    uint8_t off = tb_rd_u8(r);
    pkt->tcp_flags = tb_rd_u8(r);
    pkt->window = tb_rd_u16(r);
    tb_rd_skip(r, 4); /* checksum, urgent pointer */
    if (!tb_rd_ok(r)) {
        *reason = "TCP header cut short";
        return false;
    }
    size_t hdr_len = (size_t)(off >> 4) * 4;
    if (hdr_len < 20 || hdr_len > declared_len) {
        *reason = "TCP data offset outside the segment";
        return false;
    }
    tb_rd_skip(r, hdr_len - 20); /* options */
    if (!tb_rd_ok(r)) {
        *reason = "TCP options cut short";
        return false;
    }
    size_t payload_declared = declared_len - hdr_len;
    size_t present = tb_rd_left(r);
    if (present > payload_declared) {
        present = payload_declared; /* link-layer padding after the IP datagram */
    }
    pkt->payload = tb_rd_bytes(r, present);
    pkt->payload_len = present;
    pkt->payload_missing = payload_declared - present;
    (void)start;
    return true;
}

static struct frag_slot *frag_find(struct tb_decoder *d, const struct tb_pkt *pkt, uint32_t id,
                                   uint8_t proto, int64_t ts_us)
{
    struct frag_slot *free_slot = NULL, *oldest = NULL;

    for (size_t i = 0; i < FRAG_SLOTS; i++) {
        struct frag_slot *s = &d->slot[i];
        if (s->used && ts_us - s->first_us > FRAG_TIMEOUT_US) {
            s->used = false; /* expired: the rest never came */
        }
        if (!s->used) {
            if (free_slot == NULL) {
                free_slot = s;
            }
            continue;
        }
        if (s->ip_version == pkt->ip_version && s->id == id && s->proto == proto &&
            memcmp(s->src, pkt->src, 16) == 0 && memcmp(s->dst, pkt->dst, 16) == 0) {
            return s;
        }
        if (oldest == NULL || s->first_us < oldest->first_us) {
            oldest = s;
        }
    }
    struct frag_slot *s = free_slot != NULL ? free_slot : oldest;
    s->used = true;
    s->ip_version = pkt->ip_version;
    memcpy(s->src, pkt->src, 16);
    memcpy(s->dst, pkt->dst, 16);
    s->id = id;
    s->proto = proto;
    s->first_us = ts_us;
    s->total_len = 0;
    s->have_len = 0;
    s->header_len = 0;
    memset(s->got, 0, FRAG_MAX_DGRAM / 8 / 8 + 1);
    return s;
}

/*
 * Store one fragment; return true and a reader over the whole payload when
 * the datagram is complete. Overlapping fragments: first copy wins.
 */
static bool frag_add(struct tb_decoder *d, struct frag_slot *s, size_t offset, bool more,
                     struct tb_reader *frag, struct tb_reader *whole)
{
    size_t n = tb_rd_left(frag);

    if (offset > FRAG_MAX_DGRAM || n > FRAG_MAX_DGRAM - offset) {
        s->used = false;
        return false;
    }
    const uint8_t *bytes = tb_rd_bytes(frag, n);
    for (size_t at = 0; at < n; at += 8) {
        size_t unit = (offset + at) / 8;
        uint8_t bit = (uint8_t)(1u << (unit % 8));
        size_t len = n - at < 8 ? n - at : 8;
        if ((s->got[unit / 8] & bit) == 0) {
            s->got[unit / 8] |= bit;
            memcpy(s->payload + offset + at, bytes + at, len);
            s->have_len += len;
        }
    }
    if (!more) {
        s->total_len = offset + n;
    }
    if (s->total_len == 0 || s->have_len < s->total_len) {
        return false;
    }
    memcpy(d->dgram, s->payload, s->total_len);
    *whole = tb_rd_init(d->dgram, s->total_len);
    s->used = false;
    return true;
}

/* RFC 7348 VXLAN, RFC 8926 Geneve, 3GPP TS 29.281 GTP-U: peel to the inner frame. */
static enum layer udp_tunnel(struct tb_reader *r, uint16_t dport, uint16_t sport, uint16_t *ethertype)
{
    if (dport == 4789 || sport == 4789) {
        tb_rd_skip(r, 8);
        *ethertype = 0;
        return L_ETHERTYPE;
    }
    if (dport == 6081 || sport == 6081) {
        uint8_t ver_optlen = tb_rd_u8(r);
        tb_rd_skip(r, 1);
        uint16_t proto = tb_rd_u16(r);
        tb_rd_skip(r, 4 + (size_t)(ver_optlen & 0x3f) * 4);
        if (proto == 0x6558) {
            *ethertype = 0;
            return L_ETHERTYPE;
        }
        *ethertype = proto;
        return L_IP;
    }
    if (dport == 2152 || sport == 2152) {
        uint8_t flags = tb_rd_u8(r);
        uint8_t msg_type = tb_rd_u8(r);
        tb_rd_skip(r, 6); /* length, TEID */
        if ((flags & 0x07) != 0) {
            tb_rd_skip(r, 3);
            uint8_t next = tb_rd_u8(r);
            for (int i = 0; next != 0 && i < TB_MAX_DEPTH && tb_rd_ok(r); i++) {
                uint8_t units = tb_rd_u8(r);
                if (units == 0) {
                    tb_rd_fail(r, TB_ERR_LENGTH);
                    break;
                }
                tb_rd_skip(r, (size_t)units * 4 - 2);
                next = tb_rd_u8(r);
            }
        }
        if (msg_type != 0xff) {
            return L_DONE;
        }
        *ethertype = 0xffff; /* IP, version from the first nibble */
        return L_IP;
    }
    return L_DONE;
}

enum tb_decode_result tb_decode(struct tb_decoder *d, int linktype, const uint8_t *bytes,
                                size_t caplen, size_t wirelen, int64_t ts_us, struct tb_pkt *pkt,
                                const char **reason)
{
    struct tb_reader r = tb_rd_init(bytes, caplen);
    uint16_t ethertype = 0xffff; /* 0xffff: IP of either version, from the version nibble */
    enum layer next = L_IP;

    /* Bytes the snap length cut off; an IP length claiming more than that lies. */
    size_t cut = wirelen > caplen ? wirelen - caplen : 0;

    memset(pkt, 0, sizeof *pkt);
    *reason = NULL;
    switch (linktype) {
    case TB_LT_ETHERNET:
        next = L_ETHERTYPE;
        ethertype = 0;
        break;
    case TB_LT_NULL:
    case TB_LT_LOOP: {
        /* NULL is host byte order, LOOP network order; AF_INET6 is 24, 28 or 30 by OS. */
        uint32_t family = tb_rd_u32(&r);
        if (linktype == TB_LT_NULL && family > 0xffff) {
            family = ((family & 0xff) << 24) | ((family & 0xff00) << 8) |
                     ((family >> 8) & 0xff00) | (family >> 24);
        }
        if (family != 2 && family != 24 && family != 28 && family != 30) {
            return TB_DECODE_SKIP;
        }
        break;
    }
    case TB_LT_LINUX_SLL:
        tb_rd_skip(&r, 14);
        ethertype = tb_rd_u16(&r);
        break;
    case TB_LT_LINUX_SLL2:
        ethertype = tb_rd_u16(&r);
        tb_rd_skip(&r, 18);
        break;
    case TB_LT_PPP: {
        uint16_t proto = tb_rd_u16(&r);
        if (proto == 0xff03) {
            proto = tb_rd_u16(&r);
        }
        ethertype = proto == 0x0021 ? ETH_IPV4 : proto == 0x0057 ? ETH_IPV6 : 1;
        break;
    }
    case TB_LT_RAW:
    case TB_LT_DLT_RAW_BSD:
    case TB_LT_DLT_RAW_OPENBSD:
        break;
    case TB_LT_IPV4:
        ethertype = ETH_IPV4;
        break;
    case TB_LT_IPV6:
        ethertype = ETH_IPV6;
        break;
    default:
        *reason = "unsupported link type";
        return TB_DECODE_MALFORMED;
    }

    for (int depth = 0; depth < TB_MAX_DEPTH; depth++) {
        if (!tb_rd_ok(&r)) {
            *reason = "link-layer header cut short";
            return TB_DECODE_MALFORMED;
        }
        if (next == L_ETHERTYPE) {
            if (ethertype == 0) {
                tb_rd_skip(&r, 12); /* MAC addresses */
                ethertype = tb_rd_u16(&r);
            }
            switch (ethertype) {
            case ETH_VLAN:
            case ETH_QINQ:
            case ETH_QINQ_OLD:
                tb_rd_skip(&r, 2);
                ethertype = tb_rd_u16(&r);
                continue;
            case ETH_PPPOE: {
                /* RFC 2516: the session header's length bounds the PPP frame; bytes
                 * past it are padding even when an IP length claims them. */
                tb_rd_skip(&r, 4);
                uint16_t ppp_len = tb_rd_u16(&r);
                uint16_t proto = tb_rd_u16(&r);
                ethertype = proto == 0x0021 ? ETH_IPV4 : proto == 0x0057 ? ETH_IPV6 : 1;
                if (ppp_len >= 2 && (size_t)ppp_len - 2 < tb_rd_left(&r)) {
                    r = tb_rd_sub(&r, (size_t)ppp_len - 2);
                    r.parent = NULL;
                }
                continue;
            }
            case ETH_MPLS: {
                uint32_t label;
                int n = 0;
                do {
                    label = tb_rd_u32(&r);
                } while ((label & 0x100) == 0 && tb_rd_ok(&r) && ++n < TB_MAX_DEPTH);
                ethertype = 0xffff;
                next = L_IP;
                continue;
            }
            case ETH_IPV4:
            case ETH_IPV6:
                next = L_IP;
                continue;
            default:
                return TB_DECODE_SKIP;
            }
        }
        if (next != L_IP) {
            return TB_DECODE_SKIP;
        }
        /* IP */
        uint8_t vnib = tb_rd_peek_u8(&r, 0) >> 4;
        if (!tb_rd_ok(&r) || tb_rd_left(&r) == 0) {
            *reason = "IP header missing";
            return TB_DECODE_MALFORMED;
        }
        if (ethertype == ETH_IPV4 && vnib != 4) {
            *reason = "IPv4 packet with another version number";
            return TB_DECODE_MALFORMED;
        }
        if (ethertype == ETH_IPV6 && vnib != 6) {
            *reason = "IPv6 packet with another version number";
            return TB_DECODE_MALFORMED;
        }
        size_t ip_start = tb_rd_offset(&r);
        const uint8_t *ip_hdr = r.buf + ip_start;
        uint8_t proto;
        size_t l4_declared;
        struct tb_reader l4;
        if (vnib == 4) {
            uint8_t vihl = tb_rd_u8(&r);
            tb_rd_skip(&r, 1);
            uint16_t total = tb_rd_u16(&r);
            uint16_t id = tb_rd_u16(&r);
            uint16_t frag = tb_rd_u16(&r);
            tb_rd_skip(&r, 1);
            proto = tb_rd_u8(&r);
            tb_rd_skip(&r, 2);
            pkt->ip_version = 4;
            memset(pkt->src, 0, 16);
            memset(pkt->dst, 0, 16);
            tb_rd_copy(&r, pkt->src, 4);
            tb_rd_copy(&r, pkt->dst, 4);
            size_t ihl = (size_t)(vihl & 0x0f) * 4;
            if (!tb_rd_ok(&r)) {
                *reason = "IPv4 header cut short";
                return TB_DECODE_MALFORMED;
            }
            if (total == 0 && tb_rd_left(&r) + 20 >= ihl) {
                /* TCP segmentation offload: the sender's NIC fills the length in later,
                 * so captures on the sending host show 0. The frame is the datagram. */
                size_t whole = tb_rd_left(&r) + 20 + cut;
                total = (uint16_t)(whole > 0xffff ? 0xffff : whole);
            }
            if (ihl < 20 || total < ihl) {
                *reason = "IPv4 header length or total length invalid";
                return TB_DECODE_MALFORMED;
            }
            tb_rd_skip(&r, ihl - 20); /* options */
            if (!tb_rd_ok(&r)) {
                /* Without this, a fragment's header copy below reads ihl bytes past the frame. */
                *reason = "IPv4 options cut short";
                return TB_DECODE_MALFORMED;
            }
            size_t present = tb_rd_left(&r);
            size_t want = (size_t)total - ihl;
            if (present > want) {
                present = want;
            }
            l4 = tb_rd_sub(&r, present);
            l4_declared = want; /* what was sent, whatever the snap length kept (capped by cut) */
            pkt->l3 = ip_hdr;
            pkt->l3_len = ihl + present;
            bool more = (frag & 0x2000) != 0;
            size_t offset = (size_t)(frag & 0x1fff) * 8;
            if (more || offset != 0) {
                if (present < want) {
                    *reason = "IPv4 fragment cut short by the snap length";
                    return TB_DECODE_MALFORMED;
                }
                struct frag_slot *s = frag_find(d, pkt, id, proto, ts_us);
                if (offset == 0) {
                    memcpy(s->header, ip_hdr, ihl);
                    s->header_len = ihl;
                }
                struct tb_reader whole;
                if (!frag_add(d, s, offset, more, &l4, &whole)) {
                    return TB_DECODE_FRAGMENT;
                }
                l4 = whole;
                l4_declared = tb_rd_left(&whole);
                pkt->l3 = NULL;
                pkt->l3_len = 0;
            }
        } else if (vnib == 6) {
            tb_rd_skip(&r, 4);
            uint16_t plen = tb_rd_u16(&r);
            proto = tb_rd_u8(&r);
            tb_rd_skip(&r, 1);
            pkt->ip_version = 6;
            tb_rd_copy(&r, pkt->src, 16);
            tb_rd_copy(&r, pkt->dst, 16);
            if (!tb_rd_ok(&r)) {
                *reason = "IPv6 header cut short";
                return TB_DECODE_MALFORMED;
            }
            size_t present = tb_rd_left(&r);
            if (present > plen) {
                present = plen;
            }
            l4 = tb_rd_sub(&r, present);
            pkt->l3 = ip_hdr;
            pkt->l3_len = 40 + present;
            size_t remaining_declared = plen;
            bool fragmented = false;
            uint32_t frag_id = 0;
            size_t frag_off = 0;
            bool frag_more = false;
            /* Extension headers (RFC 8200 4): iterate, bounded. */
            for (int ext = 0; ext < TB_MAX_DEPTH; ext++) {
                if (proto == 0 || proto == 43 || proto == 60) {
                    uint8_t nh = tb_rd_u8(&l4);
                    size_t len = ((size_t)tb_rd_u8(&l4) + 1) * 8;
                    tb_rd_skip(&l4, len - 2);
                    remaining_declared = remaining_declared >= len ? remaining_declared - len : 0;
                    proto = nh;
                } else if (proto == 51) {
                    uint8_t nh = tb_rd_u8(&l4);
                    size_t len = ((size_t)tb_rd_u8(&l4) + 2) * 4;
                    tb_rd_skip(&l4, len - 2);
                    remaining_declared = remaining_declared >= len ? remaining_declared - len : 0;
                    proto = nh;
                } else if (proto == 44) {
                    uint8_t nh = tb_rd_u8(&l4);
                    tb_rd_skip(&l4, 1);
                    uint16_t fo = tb_rd_u16(&l4);
                    frag_id = tb_rd_u32(&l4);
                    frag_off = (size_t)(fo >> 3) * 8;
                    frag_more = (fo & 1) != 0;
                    fragmented = frag_more || frag_off != 0;
                    remaining_declared = remaining_declared >= 8 ? remaining_declared - 8 : 0;
                    proto = nh;
                } else {
                    break;
                }
            }
            if (!tb_rd_ok(&l4)) {
                *reason = "IPv6 extension header cut short";
                return TB_DECODE_MALFORMED;
            }
            l4_declared = remaining_declared;
            if (fragmented) {
                struct frag_slot *s = frag_find(d, pkt, frag_id, proto, ts_us);
                struct tb_reader whole;
                if (!frag_add(d, s, frag_off, frag_more, &l4, &whole)) {
                    return TB_DECODE_FRAGMENT;
                }
                l4 = whole;
                l4_declared = tb_rd_left(&whole);
                pkt->l3 = NULL;
                pkt->l3_len = 0;
            }
        } else {
            *reason = "not an IP packet";
            return TB_DECODE_MALFORMED;
        }

        switch (proto) {
        case IPPROTO_TCP_:
            if (!tcp_decode(&l4, l4_declared, pkt, reason)) {
                return TB_DECODE_MALFORMED;
            }
            if (pkt->payload_missing > cut) {
                pkt->payload_missing = cut;
            }
            return TB_DECODE_TCP;
        case IPPROTO_IPIP_:
        case IPPROTO_IPV6_:
            r = l4;
            r.parent = NULL;
            ethertype = proto == IPPROTO_IPIP_ ? ETH_IPV4 : ETH_IPV6;
            next = L_IP;
            continue;
        case IPPROTO_GRE_: {
            uint16_t flags = tb_rd_u16(&l4);
            uint16_t gproto = tb_rd_u16(&l4);
            if ((flags & 0x8000) != 0) {
                tb_rd_skip(&l4, 4);
            }
            if ((flags & 0x2000) != 0) {
                tb_rd_skip(&l4, 4);
            }
            if ((flags & 0x1000) != 0) {
                tb_rd_skip(&l4, 4);
            }
            r = l4;
            r.parent = NULL;
            if (gproto == 0x6558) {
                ethertype = 0;
                next = L_ETHERTYPE;
            } else {
                ethertype = gproto;
                next = gproto == ETH_IPV4 || gproto == ETH_IPV6 ? L_IP : L_DONE;
            }
            continue;
        }
        case IPPROTO_UDP_: {
            uint16_t sport = tb_rd_u16(&l4);
            uint16_t dport = tb_rd_u16(&l4);
            tb_rd_skip(&l4, 4);
            next = udp_tunnel(&l4, dport, sport, &ethertype);
            r = l4;
            r.parent = NULL;
            if (next == L_DONE) {
                return TB_DECODE_SKIP;
            }
            continue;
        }
        default:
            return TB_DECODE_SKIP;
        }
    }
    *reason = "too many nested encapsulations";
    return TB_DECODE_MALFORMED;
}
