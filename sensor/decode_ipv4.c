/*
 * decode_ipv4.c — the IPv4 header: length checks, options, fragments, and
 * dispatch of the payload to the L4 decoder by protocol number.
 *
 * Lengths: the header must be complete and the total length must cover it.
 * Bytes after the total length (Ethernet padding) are ignored.  A total
 * length past the captured bytes is malformed (trunc_pkt) unless the capture
 * itself was cut short by the snaplen: then l3_len is clamped to what was
 * captured and the L4 decoders see the part that is present.
 *
 * Options are validated the way Suricata does it: a length that does not fit
 * or a malformed route/timestamp pointer stops decoding at L3 (PKT_INVALID);
 * duplicates, unknown kinds and missing padding are only recorded.
 *
 * Fragments are flagged and counted but their payload is not decoded:
 * reassembly, a later stage, puts them together first.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>

#include "decode_int.h"
#include "kanshi/kanshi.h"

#define IPV4_HDR_LEN 20
#define IPV4_MAXPACKET 65535

enum {
    IPV4_OPT_EOL = 0,
    IPV4_OPT_NOP = 1,
};

struct ipv4_opt {
    uint8_t type;
    uint8_t min_len, max_len;
    uint16_t bit;                                              /* IPOPT_BIT_* */
    enum decode_event (*check)(const uint8_t *o, uint8_t len); /* DE_MAX: fine */
};

/*
 * Record route, loose and strict source route (RFC 791): type, length,
 * pointer, then addresses.  The pointer is 1-based from the option start,
 * at least 4, on an address boundary, and at most one past the end (full).
 */
static enum decode_event ipv4_opt_route(const uint8_t *o, uint8_t len)
{
    uint8_t ptr = o[2];

    if (ptr < 4 || ptr % 4 != 0 || ptr > len + 1)
        return DE_IPV4_OPT_MALFORMED;
    return DE_MAX;
}

/*
 * Timestamp (RFC 791): type, length, pointer, overflow/flag, then records of
 * 4 bytes (timestamps only, flag 0) or 8 bytes (address + timestamp, flags
 * 1 and 3).
 */
static enum decode_event ipv4_opt_ts(const uint8_t *o, uint8_t len)
{
    uint8_t ptr = o[2], flag = o[3] & 0x0f;
    unsigned rec;

    if (ptr < 5 || ptr > len + 1)
        return DE_IPV4_OPT_MALFORMED;
    if (flag == 0)
        rec = 4;
    else if (flag == 1 || flag == 3)
        rec = 8;
    else
        return DE_IPV4_OPT_MALFORMED;
    if ((ptr - 5) % rec != 0)
        return DE_IPV4_OPT_MALFORMED;
    return DE_MAX;
}

/* The options kanshi parses; their index is their bit in the duplicate mask. */
static const struct ipv4_opt ipv4_opts[] = {
    {7, 3, 40, IPOPT_BIT_RR, ipv4_opt_route},
    {68, 5, 40, IPOPT_BIT_TS, ipv4_opt_ts},
    {131, 3, 40, IPOPT_BIT_LSRR, ipv4_opt_route},
    {137, 3, 40, IPOPT_BIT_SSRR, ipv4_opt_route},
    {130, 3, 40, IPOPT_BIT_SEC, NULL},  /* RFC 1108 basic security */
    {133, 3, 40, IPOPT_BIT_ESEC, NULL}, /* RFC 1108 extended security */
    {136, 4, 4, IPOPT_BIT_SATID, NULL}, /* stream id */
    {148, 4, 4, IPOPT_BIT_OTHER, NULL}, /* router alert (RFC 2113), common */
};

/* Other option kinds IANA has assigned: recorded as "other", not an event. */
static const uint8_t ipv4_opts_assigned[] = {
    10, 11, 12, 15, 25, 30, 82, 94, 134, 142, 144, 145, 147, 149, 151, 152, 158, 205, 222,
};

static bool ipv4_opt_assigned(uint8_t type)
{
    for (size_t i = 0; i < KANSHI_ARRAY_LEN(ipv4_opts_assigned); i++)
        if (ipv4_opts_assigned[i] == type)
            return true;
    return false;
}

/* Walks the options o[0..len); returns -1 when they make the packet unusable. */
static int ipv4_options(struct packet *p, const uint8_t *o, uint32_t len, struct decode_stats *st)
{
    uint32_t seen = 0, i = 0;
    int ret = 0;

    while (i < len) {
        uint8_t type = o[i], olen;
        const struct ipv4_opt *opt = NULL;

        if (type == IPV4_OPT_EOL) {
            p->ipopts |= IPOPT_BIT_EOL;
            /* What follows the end of the list is padding and must be zero. */
            for (i++; i < len; i++) {
                if (o[i] != 0) {
                    decode_event(p, st, DE_IPV4_OPT_PAD_REQUIRED);
                    break;
                }
            }
            break;
        }
        if (type == IPV4_OPT_NOP) {
            p->ipopts |= IPOPT_BIT_NOP;
            i++;
            continue;
        }
        if (len - i < 2) {
            /* A multi-byte kind in the last byte: the list should have had
             * an end-of-list there. */
            decode_event(p, st, DE_IPV4_OPT_EOL_REQUIRED);
            break;
        }
        olen = o[i + 1];
        if (olen < 2 || olen > len - i) {
            decode_fail(p, st, DE_IPV4_OPT_INVALID_LEN);
            return -1;
        }
        for (size_t k = 0; k < KANSHI_ARRAY_LEN(ipv4_opts); k++) {
            if (ipv4_opts[k].type == type) {
                opt = &ipv4_opts[k];
                if (seen & (1u << k))
                    decode_event(p, st, DE_IPV4_OPT_DUPLICATE);
                seen |= 1u << k;
                break;
            }
        }
        if (opt != NULL) {
            enum decode_event ev = DE_MAX;

            if (olen < opt->min_len || olen > opt->max_len)
                ev = DE_IPV4_OPT_INVALID_LEN;
            else if (opt->check != NULL)
                ev = opt->check(o + i, olen);
            if (ev != DE_MAX) {
                /* Keep walking: later options may still be worth a bit. */
                decode_fail(p, st, ev);
                ret = -1;
            }
            p->ipopts |= opt->bit;
        } else {
            if (!ipv4_opt_assigned(type))
                decode_event(p, st, DE_IPV4_OPT_UNKNOWN);
            p->ipopts |= IPOPT_BIT_OTHER;
        }
        i += olen;
    }
    return ret;
}

static void ipv4_icmpv6(struct packet *p, const uint8_t *b, uint32_t len, uint32_t ip_plen,
                        struct decode_stats *st)
{
    (void)b;
    (void)len;
    (void)ip_plen;
    decode_fail(p, st, DE_IPV4_WITH_ICMPV6);
}

/* L4 decoders by protocol number; NULL: another protocol, not decoded. */
static const decode_l4_fn ipv4_l4[256] = {
    [1] = decode_icmpv4,
    [4] = decode_ipip,  /* IPv4 in IP: a tunnel */
    [6] = decode_tcp,
    [17] = decode_udp,
    [41] = decode_ipip, /* IPv6 in IP: a tunnel */
    [47] = decode_gre,
    [58] = ipv4_icmpv6,
};

int decode_ipv4(struct packet *p, const uint8_t *b, uint32_t len, struct decode_stats *st)
{
    uint32_t hlen, tot, frag;
    decode_l4_fn l4;

    if (len < IPV4_HDR_LEN) {
        decode_fail(p, st, DE_IPV4_PKT_TOO_SMALL);
        return -EINVAL;
    }
    if (b[0] >> 4 != 4) {
        decode_fail(p, st, DE_IPV4_WRONG_IP_VER);
        return -EINVAL;
    }
    hlen = (uint32_t)(b[0] & 0x0f) * 4;
    if (hlen < IPV4_HDR_LEN) {
        decode_fail(p, st, DE_IPV4_HLEN_TOO_SMALL);
        return -EINVAL;
    }
    tot = decode_rd16(b + 2);
    if (tot < hlen) {
        decode_fail(p, st, DE_IPV4_IPLEN_SMALLER_THAN_HLEN);
        return -EINVAL;
    }
    /* len + uncaptured cannot wrap: it is at most wirelen. */
    if (tot > len + decode_uncaptured(p) || hlen > len) {
        decode_fail(p, st, DE_IPV4_TRUNC_PKT);
        return -EINVAL;
    }

    p->flags |= PKT_IPV4;
    p->l3 = b;
    p->l3_len = tot < len ? tot : len;
    p->l3_hdr_len = (uint16_t)hlen;
    p->tos = b[1];
    p->ip_id = decode_rd16(b + 4);
    frag = decode_rd16(b + 6);
    p->frag_flags = (uint8_t)(frag >> 13);
    p->frag_offset = frag & 0x1fff;
    p->ttl = b[8];
    p->ip_proto = b[9];
    p->src.family = AF_INET;
    memcpy(p->src.a, b + 12, 4);
    p->dst.family = AF_INET;
    memcpy(p->dst.a, b + 16, 4);
    st->ipv4++;

    if (hlen > IPV4_HDR_LEN) {
        p->flags |= PKT_IPV4_OPTS;
        if (ipv4_options(p, b + IPV4_HDR_LEN, hlen - IPV4_HDR_LEN, st) != 0)
            return 0;
    }

    if ((p->frag_flags & IPFRAG_MF) || p->frag_offset != 0) {
        p->flags |= PKT_FRAGMENT;
        st->frag4++;
        if ((uint32_t)p->frag_offset * 8 + (tot - hlen) > IPV4_MAXPACKET)
            decode_fail(p, st, DE_IPV4_FRAG_PKT_TOO_LARGE);
        return 0;
    }

    p->l4 = b + hlen;
    p->l4_len = p->l3_len - hlen;
    l4 = ipv4_l4[p->ip_proto];
    if (l4 != NULL)
        l4(p, p->l4, p->l4_len, tot - hlen, st);
    else
        st->other_l4++;
    return 0;
}
