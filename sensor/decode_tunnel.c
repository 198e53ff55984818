/*
 * decode_tunnel.c — tunnels and the link-layer steps that wrap IP: GRE (with
 * PPTP's enhanced GRE and ERSPAN types I and II), VXLAN, Geneve, Teredo,
 * IPv4/IPv6 in IPv4/IPv6, MPLS and PPPoE/PPP.
 *
 * Two kinds, as in Suricata:
 *   - MPLS, PPPoE and PPP are link-layer steps: decode_eth.c hands them the
 *     bytes after their ethertype and they go on inline to IPv4/IPv6 (or, for
 *     an MPLS pseudowire, Ethernet), so the packet is decoded as the IP packet
 *     they carry.
 *   - GRE, VXLAN, Geneve, Teredo and IP-in-IP create an inner packet: the
 *     outer one is decoded and inspected as itself (its flow is the GRE or
 *     UDP 4789 flow), and the tunnel header only records where the inner
 *     packet is and how to decode it (PKT_TUNNEL, packet.tunnel_*).  The
 *     worker then calls decode_tunnel_packet() and inspects the inner packet
 *     as one of its own, with its own flow.
 *
 * Malformed tunnel headers raise Suricata's decoder events on the outer
 * packet, which keeps what was decoded before.  UDP tunnels are recognised
 * by port (VXLAN 4789, Geneve 6081, Teredo 3544, either direction) and only
 * when the payload really has their shape; otherwise the datagram is plain
 * UDP.  Nesting is bounded twice: link-layer steps per packet
 * (DECODE_MAX_LAYERS) and tunnels within tunnels (DECODE_TUNNEL_MAX_DEPTH).
 * A UDP tunnel header raises no PKT_INVALID: the datagram is already a valid
 * UDP packet with its flow, and stays one.
 */
#include <errno.h>
#include <pcap/dlt.h>
#include <stddef.h>
#include <string.h>

#include "decode_int.h"
#include "kanshi/kanshi.h"

#ifndef DLT_IPV4
#define DLT_IPV4 228
#endif
#ifndef DLT_IPV6
#define DLT_IPV6 229
#endif

#define ETH_HDR_LEN 14
#define IPV4_HDR_LEN 20
#define IPV6_HDR_LEN 40

#define GRE_HDR_LEN 4
#define GRE_SRE_HDR_LEN 4
#define GRE_PROTO_PPP 0x880b
#define GRE_PROTO_TEB 0x6558    /* transparent Ethernet bridging */
#define GRE_PROTO_ERSPAN 0x88be /* type II with a sequence number, else type I */
#define ERSPAN2_HDR_LEN 8

#define VXLAN_PORT 4789
#define VXLAN_HDR_LEN 8
#define GENEVE_PORT 6081
#define GENEVE_HDR_LEN 8
#define TEREDO_PORT 3544
#define TEREDO_ORIGIN_LEN 8

#define MPLS_HDR_LEN 4
#define MPLS_PW_CW_LEN 4 /* pseudowire control word before an Ethernet frame */
#define MPLS_MAX_RESERVED_LABEL 15

#define PPPOE_HDR_LEN 6
#define PPP_HDR_LEN 4 /* address, control, protocol as PPP over GRE sends them */

enum {
    GRE_F_CSUM = 0x80,
    GRE_F_ROUTE = 0x40,
    GRE_F_KEY = 0x20,
    GRE_F_SEQ = 0x10,
    GRE_F_SSR = 0x08,
    GRE_F_RECUR = 0x07,
    GRE_V1_ACK = 0x80, /* second byte */
    GRE_V_FLAGS = 0x78,
    GRE_V_VERSION = 0x07,
};

enum {
    ETHERTYPE_IPV4 = 0x0800,
    ETHERTYPE_ARP = 0x0806,
    ETHERTYPE_IPV6 = 0x86dd,
    ETHERTYPE_VLAN = 0x8100,
    ETHERTYPE_QINQ = 0x88a8,
    ETHERTYPE_QINQ_OLD = 0x9100,
};

/* One more link-layer step for p; false (and too_many_layers) past the bound. */
static bool tunnel_layer(struct packet *p, struct decode_stats *st)
{
    if (p->layers >= DECODE_MAX_LAYERS) {
        decode_fail(p, st, DE_TOO_MANY_LAYERS);
        return false;
    }
    p->layers++;
    return true;
}

/* Records that p carries a packet of link type linktype at b[0..len). */
static void tunnel_set(struct packet *p, int linktype, const uint8_t *b, uint32_t len)
{
    p->flags |= PKT_TUNNEL;
    p->tunnel_data = b;
    p->tunnel_len = len;
    p->tunnel_linktype = linktype;
}

/* ------------------------------------------------------------------------ */
/* PPP and PPPoE                                                            */

/*
 * PPP protocols that are valid but carry no IP (control protocols, other
 * network layers): unsup_proto, as Suricata; anything else is wrong_type.
 * Suricata's list, plus CCP, compressed datagrams, multilink and EAP, which
 * ordinary PPPoE links send.
 */
static const uint16_t ppp_non_ip[] = {
    0x0023, 0x0025, 0x0027, 0x0029, 0x002b, 0x002d, 0x0031, 0x0033, 0x0035, 0x003d, 0x00fd,
    0x0201, 0x0231, 0x0281, 0x0283, 0x1001, 0x8021, 0x8023, 0x8025, 0x8027, 0x8029, 0x802b,
    0x8033, 0x8035, 0x8057, 0x80fd, 0x8281, 0xc021, 0xc023, 0xc025, 0xc223, 0xc227,
};

/*
 * The PPP protocol field at b (one byte when its low bit is set, RFC 1661
 * protocol-field compression), then the datagram.  0 once an IP header was
 * decoded.
 */
static int ppp_payload(struct packet *p, const uint8_t *b, uint32_t len, struct decode_stats *st)
{
    uint16_t proto;
    uint32_t n;

    if (len < 1 || (!(b[0] & 1) && len < 2)) {
        decode_fail(p, st, DE_PPP_PKT_TOO_SMALL);
        return -EINVAL;
    }
    if (b[0] & 1) {
        proto = b[0];
        n = 1;
    } else {
        proto = decode_rd16(b);
        n = 2;
    }
    b += n;
    len -= n;
    switch (proto) {
    case 0x0021: /* IPv4 */
        if (len < IPV4_HDR_LEN) {
            decode_fail(p, st, DE_PPPIPV4_PKT_TOO_SMALL);
            return -EINVAL;
        }
        return decode_ipv4(p, b, len, st);
    case 0x0057: /* IPv6 */
        if (len < IPV6_HDR_LEN) {
            decode_fail(p, st, DE_PPPIPV6_PKT_TOO_SMALL);
            return -EINVAL;
        }
        return decode_ipv6(p, b, len, st);
    case 0x002f: /* Van Jacobson uncompressed TCP/IP: an IPv4 header leads */
        if (len < IPV4_HDR_LEN) {
            decode_fail(p, st, DE_PPPVJU_PKT_TOO_SMALL);
            return -EINVAL;
        }
        if (b[0] >> 4 == 4)
            return decode_ipv4(p, b, len, st);
        return -EINVAL;
    default:
        break;
    }
    for (size_t i = 0; i < KANSHI_ARRAY_LEN(ppp_non_ip); i++) {
        if (ppp_non_ip[i] == proto) {
            decode_event(p, st, DE_PPP_UNSUP_PROTO);
            return -EINVAL;
        }
    }
    decode_fail(p, st, DE_PPP_WRONG_TYPE);
    return -EINVAL;
}

/* PPP as PPTP's GRE carries it: address 0xff and control 0x03 (may be left
 * out, RFC 1661 address-and-control-field compression), then the protocol. */
static int decode_ppp(struct packet *p, const uint8_t *b, uint32_t len, struct decode_stats *st)
{
    st->ppp++;
    if (!tunnel_layer(p, st))
        return -EINVAL;
    if (len < 2) {
        decode_fail(p, st, DE_PPP_PKT_TOO_SMALL);
        return -EINVAL;
    }
    if (b[0] == 0xff && b[1] == 0x03) {
        if (len < PPP_HDR_LEN) {
            decode_fail(p, st, DE_PPP_PKT_TOO_SMALL);
            return -EINVAL;
        }
        b += 2;
        len -= 2;
    }
    return ppp_payload(p, b, len, st);
}

/*
 * PPPoE session stage (RFC 2516): version/type, code (0), session id,
 * length, then one PPP frame without address and control.  A zero length
 * carries nothing.
 */
int decode_pppoe_session(struct packet *p, const uint8_t *b, uint32_t len, struct decode_stats *st)
{
    st->pppoe++;
    if (!tunnel_layer(p, st))
        return -EINVAL;
    if (len < PPPOE_HDR_LEN + 1) {
        decode_fail(p, st, DE_PPPOE_PKT_TOO_SMALL);
        return -EINVAL;
    }
    if (decode_rd16(b + 4) == 0)
        return -EINVAL;
    return ppp_payload(p, b + PPPOE_HDR_LEN, len - PPPOE_HDR_LEN, st);
}

/*
 * PPPoE discovery stage: no IP, only checked and counted.  Codes PADI,
 * PADO, PADR, PADS, PADT; the tags (type, length, value) must fit the
 * length, which must fit the frame.
 */
int decode_pppoe_discovery(struct packet *p, const uint8_t *b, uint32_t len,
                           struct decode_stats *st)
{
    static const uint8_t codes[] = {0x09, 0x07, 0x19, 0x65, 0xa7};
    uint32_t plen, off;
    bool known = false;

    st->pppoe++;
    if (len < PPPOE_HDR_LEN) {
        decode_event(p, st, DE_PPPOE_PKT_TOO_SMALL);
        return -EINVAL;
    }
    for (size_t i = 0; i < sizeof(codes); i++)
        known |= b[1] == codes[i];
    if (!known) {
        decode_event(p, st, DE_PPPOE_WRONG_CODE);
        return -EINVAL;
    }
    plen = decode_rd16(b + 4);
    if (plen > len - PPPOE_HDR_LEN) {
        decode_event(p, st, DE_PPPOE_MALFORMED_TAGS);
        return -EINVAL;
    }
    for (off = 0; off < plen;) {
        uint32_t tlen;

        if (plen - off < 4) {
            decode_event(p, st, DE_PPPOE_MALFORMED_TAGS);
            break;
        }
        tlen = decode_rd16(b + PPPOE_HDR_LEN + off + 2);
        if (tlen > plen - off - 4) {
            decode_event(p, st, DE_PPPOE_MALFORMED_TAGS);
            break;
        }
        off += 4 + tlen;
    }
    return -EINVAL;
}

/* ------------------------------------------------------------------------ */
/* MPLS                                                                     */

/*
 * An MPLS label stack (RFC 3032) up to the entry with the bottom-of-stack
 * bit, then what the bottom label says: 0 IPv4 explicit null, 2 IPv6
 * explicit null.  Other reserved labels should not be at the bottom (events,
 * nothing decoded).  For an ordinary label the payload is guessed from its
 * first nibble, as Suricata does: 4 IPv4, 6 IPv6, 0 a pseudowire control
 * word and an Ethernet frame (RFC 4448).
 */
int decode_mpls(struct packet *p, const uint8_t *b, uint32_t len, struct decode_stats *st)
{
    uint32_t shim, label;
    enum decode_event ev = DE_MAX;

    st->mpls++;
    if (!tunnel_layer(p, st))
        return -EINVAL;
    do {
        if (len < MPLS_HDR_LEN) {
            decode_fail(p, st, DE_MPLS_HEADER_TOO_SMALL);
            return -EINVAL;
        }
        shim = decode_rd32(b);
        b += MPLS_HDR_LEN;
        len -= MPLS_HDR_LEN;
    } while (!(shim & 0x100));

    label = shim >> 12;
    if (label == 0)
        return decode_ipv4(p, b, len, st);
    if (label == 2)
        return decode_ipv6(p, b, len, st);
    if (label == 1)
        ev = DE_MPLS_BAD_LABEL_ROUTER_ALERT;
    else if (label == 3)
        ev = DE_MPLS_BAD_LABEL_IMPLICIT_NULL;
    else if (label < MPLS_MAX_RESERVED_LABEL)
        ev = DE_MPLS_BAD_LABEL_RESERVED;
    if (ev != DE_MAX) {
        decode_event(p, st, ev);
        return -EINVAL;
    }
    /* The guess needs a byte; a pseudowire needs its whole control word. */
    if (len < MPLS_PW_CW_LEN) {
        decode_fail(p, st, DE_MPLS_PKT_TOO_SMALL);
        return -EINVAL;
    }
    switch (b[0] >> 4) {
    case 4:
        return decode_ipv4(p, b, len, st);
    case 6:
        return decode_ipv6(p, b, len, st);
    case 0:
        return decode_ethernet_nested(p, b + MPLS_PW_CW_LEN, len - MPLS_PW_CW_LEN, st);
    default:
        decode_fail(p, st, DE_MPLS_UNKNOWN_PAYLOAD_TYPE);
        return -EINVAL;
    }
}

/* ------------------------------------------------------------------------ */
/* GRE                                                                      */

/*
 * Version 0 (RFC 1701/2784/2890): checksum and offset (present when either
 * the checksum or the routing bit is set), key, sequence number, then source
 * route entries until the null one.  Recursion control and the flags of the
 * second byte must be zero.  Returns the header length, 0 when malformed.
 */
static uint32_t gre_v0(struct packet *p, const uint8_t *b, uint32_t len, struct decode_stats *st)
{
    uint32_t hlen = GRE_HDR_LEN;

    if (b[0] & GRE_F_RECUR) {
        decode_fail(p, st, DE_GRE_VERSION0_RECUR);
        return 0;
    }
    if (b[1] & GRE_V_FLAGS) {
        decode_fail(p, st, DE_GRE_VERSION0_FLAGS);
        return 0;
    }
    if (b[0] & GRE_F_KEY)
        hlen += 4;
    if (b[0] & GRE_F_SEQ)
        hlen += 4;
    if (b[0] & (GRE_F_CSUM | GRE_F_ROUTE))
        hlen += 4;
    if (hlen > len) {
        decode_fail(p, st, DE_GRE_VERSION0_HDR_TOO_BIG);
        return 0;
    }
    if (b[0] & GRE_F_ROUTE) {
        /* Each entry: address family (2), offset (1), length (1), data. */
        for (;;) {
            const uint8_t *sre;

            if (len - hlen < GRE_SRE_HDR_LEN) {
                decode_fail(p, st, DE_GRE_VERSION0_MALFORMED_SRE_HDR);
                return 0;
            }
            sre = b + hlen;
            hlen += GRE_SRE_HDR_LEN;
            if (decode_rd16(sre) == 0 && sre[3] == 0)
                break;
            if (sre[3] > len - hlen) {
                decode_fail(p, st, DE_GRE_VERSION0_MALFORMED_SRE_HDR);
                return 0;
            }
            hlen += sre[3];
        }
    }
    return hlen;
}

/*
 * Version 1, PPTP's enhanced GRE (RFC 2637): no checksum, routing, strict
 * source route or recursion; protocol PPP; a key (payload length, call id);
 * optional sequence and acknowledgement numbers.  Returns the header length,
 * 0 when malformed.
 */
static uint32_t gre_v1(struct packet *p, const uint8_t *b, uint32_t len, struct decode_stats *st)
{
    uint32_t hlen = GRE_HDR_LEN + 4;
    enum decode_event ev = DE_MAX;

    if (b[0] & GRE_F_CSUM)
        ev = DE_GRE_VERSION1_CHKSUM;
    else if (b[0] & GRE_F_ROUTE)
        ev = DE_GRE_VERSION1_ROUTE;
    else if (b[0] & GRE_F_SSR)
        ev = DE_GRE_VERSION1_SSR;
    else if (b[0] & GRE_F_RECUR)
        ev = DE_GRE_VERSION1_RECUR;
    else if (b[1] & GRE_V_FLAGS)
        ev = DE_GRE_VERSION1_FLAGS;
    else if (decode_rd16(b + 2) != GRE_PROTO_PPP)
        ev = DE_GRE_VERSION1_WRONG_PROTOCOL;
    else if (!(b[0] & GRE_F_KEY))
        ev = DE_GRE_VERSION1_NO_KEY;
    if (ev != DE_MAX) {
        decode_fail(p, st, ev);
        return 0;
    }
    if (b[0] & GRE_F_SEQ)
        hlen += 4;
    if (b[1] & GRE_V1_ACK)
        hlen += 4;
    if (hlen > len) {
        decode_fail(p, st, DE_GRE_VERSION1_HDR_TOO_BIG);
        return 0;
    }
    return hlen;
}

void decode_gre(struct packet *p, const uint8_t *b, uint32_t len, uint32_t ip_plen,
                struct decode_stats *st)
{
    uint32_t hlen;
    uint16_t proto;
    uint8_t flags;

    (void)ip_plen;
    st->gre++;
    st->other_l4++; /* not TCP, UDP or ICMP: the L4 counters stay as they were */
    if (len < GRE_HDR_LEN) {
        decode_fail(p, st, DE_GRE_PKT_TOO_SMALL);
        return;
    }
    switch (b[1] & GRE_V_VERSION) {
    case 0:
        hlen = gre_v0(p, b, len, st);
        break;
    case 1:
        hlen = gre_v1(p, b, len, st);
        /* A zero payload length: only an acknowledgement, no PPP frame. */
        if (hlen != 0 && decode_rd16(b + 4) == 0)
            return;
        break;
    default:
        decode_fail(p, st, DE_GRE_WRONG_VERSION);
        return;
    }
    if (hlen == 0)
        return;

    flags = b[0];
    proto = decode_rd16(b + 2);
    b += hlen;
    len -= hlen;
    switch (proto) {
    case ETHERTYPE_IPV4:
        tunnel_set(p, DLT_IPV4, b, len);
        break;
    case ETHERTYPE_IPV6:
        tunnel_set(p, DLT_IPV6, b, len);
        break;
    case GRE_PROTO_TEB:
        tunnel_set(p, DLT_EN10MB, b, len);
        break;
    case GRE_PROTO_PPP:
        tunnel_set(p, DLT_PPP, b, len);
        break;
    case GRE_PROTO_ERSPAN:
        st->erspan++;
        if (flags & GRE_F_SEQ)
            tunnel_set(p, DECODE_LINKTYPE_ERSPAN2, b, len);
        else
            tunnel_set(p, DLT_EN10MB, b, len); /* type I: the mirrored frame */
        break;
    default:
        break; /* ARP, ERSPAN III, WCCP, ...: nothing kanshi inspects */
    }
}

/*
 * ERSPAN type II header: version (1) and the mirrored frame's VLAN id, CoS,
 * encapsulation, truncation, session id, index; then that frame.  The VLAN
 * id joins the packet's as Suricata does.
 */
static int decode_erspan2(struct packet *p, const uint8_t *b, uint32_t len, struct decode_stats *st)
{
    uint16_t vlan;

    if (len < ERSPAN2_HDR_LEN) {
        decode_fail(p, st, DE_ERSPAN_HEADER_TOO_SMALL);
        return -EINVAL;
    }
    if (b[0] >> 4 != 1) {
        decode_fail(p, st, DE_ERSPAN_UNSUPPORTED_VERSION);
        return -EINVAL;
    }
    vlan = decode_rd16(b) & 0x0fff;
    if (vlan != 0) {
        if (p->vlan_count >= KANSHI_ARRAY_LEN(p->vlan_id)) {
            decode_fail(p, st, DE_ERSPAN_TOO_MANY_VLAN_LAYERS);
            return -EINVAL;
        }
        p->vlan_id[p->vlan_count++] = vlan;
        p->flags |= PKT_VLAN;
    }
    return decode_ethernet(p, b + ERSPAN2_HDR_LEN, len - ERSPAN2_HDR_LEN, st);
}

/* ------------------------------------------------------------------------ */
/* IPv4 and IPv6 in IPv4 or IPv6 (protocols 4 and 41)                       */

void decode_ipip(struct packet *p, const uint8_t *b, uint32_t len, uint32_t ip_plen,
                 struct decode_stats *st)
{
    bool inner6 = p->ip_proto == 41;
    uint32_t min = inner6 ? IPV6_HDR_LEN : IPV4_HDR_LEN;

    st->ipip++;
    st->other_l4++;
    if (p->flags & PKT_IPV6) {
        /* Suricata checks these for an IPv6 outer header only. */
        if (ip_plen < min) {
            decode_fail(p, st,
                        inner6 ? DE_IPV6_IN_IPV6_PKT_TOO_SMALL : DE_IPV4_IN_IPV6_PKT_TOO_SMALL);
            return;
        }
        if (len > 0 && b[0] >> 4 != (inner6 ? 6 : 4)) {
            decode_event(p, st,
                         inner6 ? DE_IPV6_IN_IPV6_WRONG_IP_VER : DE_IPV4_IN_IPV6_WRONG_IP_VER);
            return;
        }
    }
    if (len > 0)
        tunnel_set(p, inner6 ? DLT_IPV6 : DLT_IPV4, b, len);
}

/* ------------------------------------------------------------------------ */
/* UDP tunnels                                                              */

/*
 * Teredo (RFC 4380): IPv6 in UDP, maybe after an origin indication.  There
 * is no field that proves it, so, as Suricata: an IPv6 header whose payload
 * length accounts for exactly the rest of the datagram, a non-zero hop limit,
 * and no hop-by-hop header too short to be one.  Authentication headers
 * belong to qualification, not tunnelled traffic: not a tunnel.
 */
static bool udp_teredo(struct packet *p, const uint8_t *b, uint32_t len, struct decode_stats *st)
{
    uint32_t off = 0, plen;
    const uint8_t *h;

    if (len < IPV6_HDR_LEN)
        return false;
    if (b[0] == 0) {
        if (b[1] != 0 || len < TEREDO_ORIGIN_LEN + IPV6_HDR_LEN)
            return false;
        off = TEREDO_ORIGIN_LEN;
    }
    h = b + off;
    if (h[0] >> 4 != 6 || h[7] == 0)
        return false;
    plen = decode_rd16(h + 4);
    if (h[6] == 0 && plen < 8)
        return false;
    if (len != off + IPV6_HDR_LEN + plen)
        return false;
    st->teredo++;
    tunnel_set(p, DLT_IPV6, h, len - off);
    return true;
}

/*
 * Geneve (RFC 8926): version 0, option length in 4-byte words, O and C
 * flags, reserved bits zero, protocol type, VNI, then options whose lengths
 * must add up to the option length.  The protocol is an ethertype.
 */
static bool udp_geneve(struct packet *p, const uint8_t *b, uint32_t len, struct decode_stats *st)
{
    uint32_t hlen, off;
    uint16_t proto;

    if (len < GENEVE_HDR_LEN)
        return false;
    hlen = GENEVE_HDR_LEN + (uint32_t)(b[0] & 0x3f) * 4;
    if (hlen > len || b[0] >> 6 != 0 || (b[1] & 0x3f) != 0 || b[7] != 0)
        return false;
    for (off = GENEVE_HDR_LEN; off < hlen;) /* class (2), type, length in words */
        off += 4 + (uint32_t)(b[off + 3] & 0x1f) * 4;
    if (off != hlen)
        return false;
    st->geneve++;
    proto = decode_rd16(b + 2);
    switch (proto) {
    case ETHERTYPE_IPV4:
        tunnel_set(p, DLT_IPV4, b + hlen, len - hlen);
        break;
    case ETHERTYPE_IPV6:
        tunnel_set(p, DLT_IPV6, b + hlen, len - hlen);
        break;
    case GRE_PROTO_TEB:
        tunnel_set(p, DLT_EN10MB, b + hlen, len - hlen);
        break;
    case ETHERTYPE_ARP:
        break;
    default:
        decode_event(p, st, DE_GENEVE_UNKNOWN_PAYLOAD_TYPE);
        break;
    }
    return true;
}

/*
 * VXLAN (RFC 7348): flags with the I bit (a valid VNI), reserved, VNI,
 * reserved zero byte, then an Ethernet frame.  Frames of IPv4, IPv6 and
 * VLAN-tagged traffic are tunnels; ARP is counted; another ethertype is an
 * event.
 */
static bool udp_vxlan(struct packet *p, const uint8_t *b, uint32_t len, struct decode_stats *st)
{
    uint16_t type;

    if (len < VXLAN_HDR_LEN + ETH_HDR_LEN || !(b[0] & 0x08) || b[7] != 0)
        return false;
    st->vxlan++;
    type = decode_rd16(b + VXLAN_HDR_LEN + 12);
    switch (type) {
    case ETHERTYPE_IPV4:
    case ETHERTYPE_IPV6:
    case ETHERTYPE_VLAN:
    case ETHERTYPE_QINQ:
    case ETHERTYPE_QINQ_OLD:
        tunnel_set(p, DLT_EN10MB, b + VXLAN_HDR_LEN, len - VXLAN_HDR_LEN);
        break;
    case ETHERTYPE_ARP:
        break;
    default:
        decode_event(p, st, DE_VXLAN_UNKNOWN_PAYLOAD_TYPE);
        break;
    }
    return true;
}

void decode_udp_tunnel(struct packet *p, struct decode_stats *st)
{
    const uint8_t *b = p->payload;
    uint32_t len = p->payload_len;

    if ((p->sp == TEREDO_PORT || p->dp == TEREDO_PORT) && udp_teredo(p, b, len, st))
        return;
    if ((p->sp == GENEVE_PORT || p->dp == GENEVE_PORT) && udp_geneve(p, b, len, st))
        return;
    if (p->sp == VXLAN_PORT || p->dp == VXLAN_PORT)
        udp_vxlan(p, b, len, st);
}

/* ------------------------------------------------------------------------ */
/* inner packets                                                            */

static const struct tunnel_decoder {
    int linktype;
    decode_fn fn;
} tunnel_decoders[] = {
    {DLT_IPV4, decode_ipv4},
    {DLT_IPV6, decode_ipv6},
    {DLT_EN10MB, decode_ethernet},
    {DLT_PPP, decode_ppp},
    {DECODE_LINKTYPE_ERSPAN2, decode_erspan2},
    {DLT_RAW, decode_raw},
};

int decode_tunnel_packet(struct packet *p, const struct packet *outer, struct decode_stats *st)
{
    memset(p, 0, sizeof(*p));
    if (!(outer->flags & PKT_TUNNEL) || outer->tunnel_data == NULL)
        return -EINVAL;
    p->ts_usec = outer->ts_usec;
    p->data = outer->tunnel_data;
    p->caplen = outer->tunnel_len;
    /* What the snaplen cut off the outer packet is missing here too. */
    p->wirelen = outer->tunnel_len + decode_uncaptured(outer);
    p->linktype = outer->tunnel_linktype;
    p->tunnel_depth = (uint8_t)(outer->tunnel_depth + 1);
    p->vlan_id[0] = outer->vlan_id[0];
    p->vlan_id[1] = outer->vlan_id[1];
    p->vlan_count = outer->vlan_count;
    p->flags = outer->flags & PKT_VLAN;
    if (outer->tunnel_depth >= DECODE_TUNNEL_MAX_DEPTH) {
        decode_fail(p, st, DE_TOO_MANY_LAYERS);
        return -EINVAL;
    }
    st->tunnel_pkts++;
    for (size_t i = 0; i < KANSHI_ARRAY_LEN(tunnel_decoders); i++)
        if (tunnel_decoders[i].linktype == p->linktype)
            return tunnel_decoders[i].fn(p, p->data, p->caplen, st);
    decode_fail(p, st, DE_LINKTYPE_UNSUPPORTED);
    return -EINVAL;
}
