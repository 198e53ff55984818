/*
 * decode.c — entry point of the packet decoders: resets the packet, picks the
 * link-layer decoder by link type, and holds what works on a decoded packet
 * as a whole (checksum verification, event names, address formatting).
 *
 * The layers themselves live in decode_eth.c (link layers), decode_ipv4.c,
 * decode_ipv6.c, decode_tcp.c, decode_udp.c and decode_icmp.c; see
 * decode_int.h for how they chain.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pcap/dlt.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>

#include "decode_int.h"
#include "kanshi/kanshi.h"

#ifndef DLT_LINUX_SLL2
#define DLT_LINUX_SLL2 276
#endif
#ifndef DLT_IPV4
#define DLT_IPV4 228
#endif
#ifndef DLT_IPV6
#define DLT_IPV6 229
#endif
#define LINKTYPE_RAW 101 /* what pcap files say for raw IP */
#define DLT_RAW_OPENBSD 14

static const struct link_decoder {
    int dlt;
    decode_fn fn;
} link_decoders[] = {
    {DLT_EN10MB, decode_ethernet}, /* by far the most common: first */
    {DLT_LINUX_SLL, decode_sll},   {DLT_LINUX_SLL2, decode_sll2}, {DLT_RAW, decode_raw},
    {DLT_RAW_OPENBSD, decode_raw}, {LINKTYPE_RAW, decode_raw},    {DLT_IPV4, decode_raw},
    {DLT_IPV6, decode_raw},        {DLT_NULL, decode_null},       {DLT_LOOP, decode_null},
};

int decode_packet(struct packet *p, int linktype, const uint8_t *data, uint32_t caplen,
                  uint32_t wirelen, uint64_t ts_usec, struct decode_stats *st)
{
    memset(p, 0, sizeof(*p));
    p->ts_usec = ts_usec;
    p->data = data;
    p->caplen = caplen;
    p->wirelen = wirelen;
    p->linktype = linktype;
    st->pkts++;
    st->bytes += caplen;

    for (size_t i = 0; i < KANSHI_ARRAY_LEN(link_decoders); i++)
        if (link_decoders[i].dlt == linktype)
            return link_decoders[i].fn(p, data, caplen, st);
    decode_fail(p, st, DE_LINKTYPE_UNSUPPORTED);
    return -EINVAL;
}

static const char *const decode_event_names[DE_MAX] = {
#define DECODE_EVENT_NAME(e, s) [DE_##e] = s,
    DECODE_EVENTS(DECODE_EVENT_NAME)
#undef DECODE_EVENT_NAME
};

const char *decode_event_name(enum decode_event ev)
{
    if ((unsigned)ev >= DE_MAX)
        return "decoder.unknown";
    return decode_event_names[ev];
}

const char *kanshi_addr_str(const struct kanshi_addr *a, char *buf, size_t len)
{
    if (buf == NULL || len == 0)
        return "";
    if (a == NULL || (a->family != AF_INET && a->family != AF_INET6) ||
        inet_ntop(a->family, a->a, buf, (socklen_t)(len > 64 ? 64 : len)) == NULL)
        buf[0] = '\0';
    return buf;
}

/*
 * Internet checksum (RFC 1071).  The sum is byte-order independent, so words
 * are added in host order; a correct checksum makes the folded sum of the
 * covered bytes (checksum field included) 0xffff in either order.  Only the
 * last chunk summed may have an odd length.
 */
static uint64_t csum_add(uint64_t sum, const uint8_t *b, uint32_t len)
{
    uint32_t w32;
    uint16_t w16;

    while (len >= 8) {
        uint64_t w;
        memcpy(&w, b, 8);
        sum += (w & 0xffffffffu) + (w >> 32);
        b += 8;
        len -= 8;
    }
    if (len >= 4) {
        memcpy(&w32, b, 4);
        sum += w32;
        b += 4;
        len -= 4;
    }
    if (len >= 2) {
        memcpy(&w16, b, 2);
        sum += w16;
        b += 2;
        len -= 2;
    }
    if (len == 1) {
        w16 = 0;
        memcpy(&w16, b, 1); /* the byte is the high half in network order */
        sum += w16;
    }
    return sum;
}

static uint16_t csum_fold(uint64_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)sum;
}

/* Sum of the pseudo-header: addresses of alen bytes, protocol, length. */
static uint64_t csum_pseudo(const uint8_t *src, const uint8_t *dst, uint32_t alen, uint8_t proto,
                            uint32_t len)
{
    uint64_t sum = 0;

    sum = csum_add(sum, src, alen);
    sum = csum_add(sum, dst, alen);
    sum += htons(proto);
    sum += htons((uint16_t)(len >> 16));
    sum += htons((uint16_t)len);
    return sum;
}

/* A Home Address destination option (RFC 6275 6.3) in options header h. */
static void ipv6_home_address(const uint8_t *h, uint32_t hlen, const uint8_t **src)
{
    uint32_t i = 2;

    while (i < hlen) {
        if (h[i] == 0) {
            i++;
            continue;
        }
        if (hlen - i < 2 || (uint32_t)h[i + 1] + 2 > hlen - i)
            return;
        if (h[i] == 201 && h[i + 1] == 16)
            *src = h + i + 2;
        i += (uint32_t)h[i + 1] + 2;
    }
}

/*
 * Addresses of the IPv6 pseudo-header (RFC 8200 8.1): the final destination
 * when a routing header has segments left, and the home address when a
 * destination option carries one, as the receiver will see them.  False
 * when the final destination is not known (a compressed RPL source route).
 * The chain was validated when the packet was decoded; the bounds are
 * checked again all the same.
 */
static bool ipv6_pseudo_addrs(const struct packet *p, const uint8_t **src, const uint8_t **dst)
{
    uint32_t off = 40, hlen;
    uint8_t nh = p->l3[6];

    *src = p->src.a;
    *dst = p->dst.a;
    while (off + 8 <= p->l3_hdr_len) {
        const uint8_t *h = p->l3 + off;

        if (nh == 44)
            hlen = 8;
        else if (nh == 51)
            hlen = ((uint32_t)h[1] + 2) * 4;
        else if (nh == 0 || nh == 43 || nh == 60)
            hlen = ((uint32_t)h[1] + 1) * 8;
        else
            break;
        if (hlen > p->l3_hdr_len - off)
            break;
        if (nh == 43 && h[3] != 0) {
            if ((h[2] == 0 || h[2] == 2) && hlen >= 24)
                *dst = h + hlen - 16; /* the last address listed */
            else if (h[2] == 4 && hlen >= 24)
                *dst = h + 8; /* segment routing: segment list[0] */
            else
                return false;
        } else if (nh == 60) {
            ipv6_home_address(h, hlen, src);
        }
        nh = h[0];
        off += hlen;
    }
    return true;
}

bool decode_checksum_check(struct packet *p)
{
    uint32_t declared, len;
    uint64_t sum;
    bool v4 = p->flags & PKT_IPV4;
    uint32_t alen = v4 ? 4 : 16;
    const uint8_t *src, *dst;

    p->flags &= ~(uint32_t)(PKT_IP_CSUM_BAD | PKT_L4_CSUM_BAD);
    if (v4 && csum_fold(csum_add(0, p->l3, p->l3_hdr_len)) != 0xffff)
        p->flags |= PKT_IP_CSUM_BAD;

    if (!(p->flags & (PKT_TCP | PKT_UDP | PKT_ICMPV4 | PKT_ICMPV6)) || (p->flags & PKT_FRAGMENT))
        return !(p->flags & PKT_IP_CSUM_BAD);
    /* Not judged when part of the packet was not captured. */
    declared = v4 ? decode_rd16(p->l3 + 2) : 40 + (uint32_t)decode_rd16(p->l3 + 4);
    if (p->l3_len < declared)
        return !(p->flags & PKT_IP_CSUM_BAD);
    src = p->src.a;
    dst = p->dst.a;
    if (!v4 && p->l3_hdr_len > 40 && !ipv6_pseudo_addrs(p, &src, &dst))
        return !(p->flags & PKT_IP_CSUM_BAD);

    len = p->l4_len;
    if (p->flags & PKT_TCP) {
        sum = csum_pseudo(src, dst, alen, 6, len);
    } else if (p->flags & PKT_UDP) {
        /* UDP covers its own length, which may end before the IP payload. */
        len = decode_rd16(p->l4 + 4);
        if (v4 && decode_rd16(p->l4 + 6) == 0)
            return !(p->flags & PKT_IP_CSUM_BAD); /* no checksum sent */
        sum = csum_pseudo(src, dst, alen, 17, len);
    } else if (p->flags & PKT_ICMPV4) {
        sum = 0;
    } else {
        sum = csum_pseudo(src, dst, alen, 58, len);
    }
    if (csum_fold(csum_add(sum, p->l4, len)) != 0xffff)
        p->flags |= PKT_L4_CSUM_BAD;
    return !(p->flags & (PKT_IP_CSUM_BAD | PKT_L4_CSUM_BAD));
}
