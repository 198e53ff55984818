/*
 * decode_ipv6.c — the IPv6 header and its extension header chain, then
 * dispatch of the upper-layer header to the L4 decoder.
 *
 * Lengths follow decode_ipv4.c: a payload length past the packet on the wire
 * is trunc_pkt; a capture cut by the snaplen is decoded as far as present.
 *
 * The chain walk is bounded: a legitimate chain has at most six headers
 * (hop-by-hop, destination options, routing, destination options, AH,
 * fragment), and any more must repeat one, which raises a duplicate event.
 * Past IPV6_MAX_EXTHDRS the walk gives up.
 *
 * Fragments (other than atomic ones, offset 0 without MF) stop the walk at
 * the fragment header: what follows belongs to reassembly.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>

#include "decode_int.h"
#include "kanshi/kanshi.h"

#define IPV6_HDR_LEN 40
#define IPV6_FRAG_HDR_LEN 8
#define IPV6_MAX_EXTHDRS 8
#define IPV6_MAXPACKET 65535

/* What a next-header value means to the chain walk. */
enum ipv6_ext {
    EXT_NONE = 0, /* an upper-layer protocol: the chain ends */
    EXT_HOP,
    EXT_ROUTING,
    EXT_DSTOPTS,
    EXT_FRAG,
    EXT_AH,
    EXT_ESP,
    EXT_NONXT,
};

static const uint8_t ipv6_ext_kind[256] = {
    [0] = EXT_HOP, [43] = EXT_ROUTING, [44] = EXT_FRAG,    [50] = EXT_ESP,
    [51] = EXT_AH, [59] = EXT_NONXT,   [60] = EXT_DSTOPTS,
};

static void ipv6_icmpv4(struct packet *p, const uint8_t *b, uint32_t len, uint32_t ip_plen,
                        struct decode_stats *st)
{
    (void)b;
    (void)len;
    (void)ip_plen;
    decode_fail(p, st, DE_IPV6_WITH_ICMPV4);
}

/* L4 decoders by next header; NULL: another protocol, not decoded. */
static const decode_l4_fn ipv6_l4[256] = {
    [1] = ipv6_icmpv4,
    [4] = decode_ipip,  /* IPv4 in IP: a tunnel */
    [6] = decode_tcp,
    [17] = decode_udp,
    [41] = decode_ipip, /* IPv6 in IP: a tunnel */
    [47] = decode_gre,
    [58] = decode_icmpv6,
};

/*
 * Options of a hop-by-hop or destination options header (h[2..len)): TLVs,
 * except Pad1, a single zero byte.  An option running past the header is
 * recorded; the header length itself was already checked, so decoding goes
 * on.
 */
static void ipv6_check_opts(struct packet *p, const uint8_t *h, uint32_t len,
                            struct decode_stats *st)
{
    uint32_t i = 2;

    while (i < len) {
        if (h[i] == 0) {
            i++;
            continue;
        }
        if (len - i < 2 || (uint32_t)h[i + 1] + 2 > len - i) {
            decode_event(p, st, DE_IPV6_EXTHDR_INVALID_OPTLEN);
            return;
        }
        i += (uint32_t)h[i + 1] + 2;
    }
}

/* Sets the L4 fields for upper-layer protocol nh at b[off..] and decodes it. */
static void ipv6_upper(struct packet *p, uint8_t nh, uint32_t off, uint32_t tot,
                       struct decode_stats *st)
{
    decode_l4_fn l4 = ipv6_l4[nh];

    p->ip_proto = nh;
    p->l3_hdr_len = (uint16_t)off;
    p->l4 = p->l3 + off;
    p->l4_len = p->l3_len - off;
    if (l4 != NULL) {
        l4(p, p->l4, p->l4_len, tot - off, st);
        return;
    }
    /* Conservative: only numbers IANA has not assigned (146-252, 255). */
    if ((nh >= 146 && nh <= 252) || nh == 255)
        decode_event(p, st, DE_IPV6_UNKNOWN_NEXT_HEADER);
    st->other_l4++;
}

int decode_ipv6(struct packet *p, const uint8_t *b, uint32_t len, struct decode_stats *st)
{
    uint32_t tot, off = IPV6_HDR_LEN, plen;
    unsigned seen = 0;         /* 1 << enum ipv6_ext of headers seen */
    bool dst_since_rt = false; /* a destination options header since the routing one */
    uint8_t nh;

    if (len < IPV6_HDR_LEN) {
        decode_fail(p, st, DE_IPV6_PKT_TOO_SMALL);
        return -EINVAL;
    }
    if (b[0] >> 4 != 6) {
        decode_fail(p, st, DE_IPV6_WRONG_IP_VER);
        return -EINVAL;
    }
    tot = IPV6_HDR_LEN + (uint32_t)decode_rd16(b + 4);
    if (tot > len + decode_uncaptured(p)) {
        decode_fail(p, st, DE_IPV6_TRUNC_PKT);
        return -EINVAL;
    }

    p->flags |= PKT_IPV6;
    p->l3 = b;
    p->l3_len = tot < len ? tot : len;
    p->l3_hdr_len = IPV6_HDR_LEN;
    p->tos = (uint8_t)(decode_rd16(b) >> 4);
    p->ttl = b[7];
    p->src.family = AF_INET6;
    memcpy(p->src.a, b + 8, 16);
    p->dst.family = AF_INET6;
    memcpy(p->dst.a, b + 24, 16);
    st->ipv6++;

    nh = b[6];
    p->ip_proto = nh;
    for (unsigned n = 0;; n++) {
        const uint8_t *h = b + off;
        uint32_t avail = p->l3_len - off, hlen;
        enum ipv6_ext kind = ipv6_ext_kind[nh];

        if (kind == EXT_NONE) {
            ipv6_upper(p, nh, off, tot, st);
            return 0;
        }
        if (kind == EXT_ESP || kind == EXT_NONXT) {
            /* Nothing we can read follows: encrypted, or no next header. */
            p->ip_proto = nh;
            p->l3_hdr_len = (uint16_t)off;
            p->l4 = h;
            p->l4_len = avail;
            st->other_l4++;
            return 0;
        }
        if (n >= IPV6_MAX_EXTHDRS) {
            /* Only repeated headers get here, and they raised events. */
            p->flags |= PKT_INVALID;
            return 0;
        }
        if (avail < 2) {
            decode_fail(p, st, DE_IPV6_TRUNC_EXTHDR);
            return 0;
        }
        if (kind == EXT_FRAG)
            hlen = IPV6_FRAG_HDR_LEN;
        else if (kind == EXT_AH)
            hlen = ((uint32_t)h[1] + 2) * 4;
        else
            hlen = ((uint32_t)h[1] + 1) * 8;
        if (hlen > avail) {
            decode_fail(p, st, DE_IPV6_TRUNC_EXTHDR);
            return 0;
        }

        switch (kind) {
        case EXT_HOP:
            if (n != 0)
                decode_event(p, st, DE_IPV6_HOPOPTS_NOT_FIRST);
            if (seen & (1u << EXT_HOP))
                decode_event(p, st, DE_IPV6_EXTHDR_DUPL_HH);
            ipv6_check_opts(p, h, hlen, st);
            break;
        case EXT_DSTOPTS:
            /* Allowed twice: before a routing header and before the upper
             * layer (RFC 8200 4.1). */
            if (dst_since_rt)
                decode_event(p, st, DE_IPV6_EXTHDR_DUPL_DH);
            dst_since_rt = true;
            ipv6_check_opts(p, h, hlen, st);
            break;
        case EXT_ROUTING:
            if (seen & (1u << EXT_ROUTING))
                decode_event(p, st, DE_IPV6_EXTHDR_DUPL_RH);
            dst_since_rt = false;
            break;
        case EXT_AH:
            if (seen & (1u << EXT_AH))
                decode_event(p, st, DE_IPV6_EXTHDR_DUPL_AH);
            break;
        case EXT_FRAG: {
            uint16_t fo = decode_rd16(h + 2);

            if (seen & (1u << EXT_FRAG))
                decode_event(p, st, DE_IPV6_EXTHDR_DUPL_FH);
            p->frag_offset = fo >> 3;
            p->frag_flags = (fo & 1) ? IPFRAG_MF : 0;
            p->ip_id = decode_rd32(h + 4);
            if (p->frag_offset == 0 && !(fo & 1))
                break; /* atomic fragment (RFC 6946): a whole packet */
            p->flags |= PKT_FRAGMENT;
            st->frag6++;
            p->ip_proto = h[0];
            p->l3_hdr_len = (uint16_t)(off + hlen);
            plen = tot - (off + hlen); /* fragmentable part, as declared */
            if ((fo & 1) && plen % 8 != 0)
                decode_fail(p, st, DE_IPV6_FRAG_INVALID_LENGTH);
            else if ((uint32_t)p->frag_offset * 8 + plen > IPV6_MAXPACKET)
                decode_fail(p, st, DE_IPV6_FRAG_PKT_TOO_LARGE);
            return 0;
        }
        default:
            break;
        }
        seen |= 1u << kind;
        nh = h[0];
        off += hlen;
    }
}
