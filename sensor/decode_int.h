/*
 * decode_int.h — private to the packet decoders (sensor/decode*.c).
 *
 * The decoders form a chain: decode.c picks the link-layer decoder by link
 * type (decode_eth.c), which hands the network header to decode_ipv4.c or
 * decode_ipv6.c, which hand the payload to decode_tcp.c, decode_udp.c or
 * decode_icmp.c; decode_tunnel.c holds the steps between (MPLS, PPPoE) and
 * the tunnels (GRE, VXLAN, Geneve, Teredo, IP-in-IP).  Each stage gets the
 * bytes from its own header to the end of what is present (b, len) and never
 * looks outside them.
 *
 * Return convention of the link and network stages: 0 once an IP header has
 * been decoded, -EINVAL when the packet has no usable IP layer.  The L4 stages
 * return nothing: what they find is in struct packet (flags and events).
 */
#ifndef KANSHI_DECODE_INT_H
#define KANSHI_DECODE_INT_H

#include <stdint.h>

#include "kanshi/decode.h"
#include "kanshi/packet.h"

/* Big-endian reads; callers have checked the bounds. */
static inline uint16_t decode_rd16(const uint8_t *b)
{
    return (uint16_t)((unsigned)b[0] << 8 | b[1]);
}

static inline uint32_t decode_rd32(const uint8_t *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/*
 * Records decoder event ev for p: counts it, keeps the first
 * PACKET_MAX_EVENTS in p->events, and counts the packet as invalid on its
 * first event.  Whether decoding goes on is the caller's decision.
 */
static inline void decode_event(struct packet *p, struct decode_stats *st, enum decode_event ev)
{
    st->events[ev]++;
    if (p->nevents == 0)
        st->invalid++;
    if (p->nevents < PACKET_MAX_EVENTS)
        p->events[p->nevents++] = (uint16_t)ev;
}

/* Records ev and marks the packet unusable past the layer that raised it. */
static inline void decode_fail(struct packet *p, struct decode_stats *st, enum decode_event ev)
{
    decode_event(p, st, ev);
    p->flags |= PKT_INVALID;
}

/*
 * Bytes of the original packet that were not captured (snaplen cut).  A
 * length field pointing past caplen is only malformed when it also points
 * past the packet on the wire.
 */
static inline uint32_t decode_uncaptured(const struct packet *p)
{
    return p->wirelen > p->caplen ? p->wirelen - p->caplen : 0;
}

/* A decoder stage that may end in an IP layer (see the return convention). */
typedef int (*decode_fn)(struct packet *p, const uint8_t *b, uint32_t len, struct decode_stats *st);

/*
 * An L4 stage: b/len are the IP payload bytes present, ip_plen the payload
 * length the IP header declares (>= len; more when the capture was cut).
 */
typedef void (*decode_l4_fn)(struct packet *p, const uint8_t *b, uint32_t len, uint32_t ip_plen,
                             struct decode_stats *st);

/* decode_eth.c: link layers. */
int decode_ethernet(struct packet *p, const uint8_t *b, uint32_t len, struct decode_stats *st);
int decode_ethernet_nested(struct packet *p, const uint8_t *b, uint32_t len,
                           struct decode_stats *st);
int decode_sll(struct packet *p, const uint8_t *b, uint32_t len, struct decode_stats *st);
int decode_sll2(struct packet *p, const uint8_t *b, uint32_t len, struct decode_stats *st);
int decode_null(struct packet *p, const uint8_t *b, uint32_t len, struct decode_stats *st);
int decode_raw(struct packet *p, const uint8_t *b, uint32_t len, struct decode_stats *st);

/* decode_ipv4.c, decode_ipv6.c */
int decode_ipv4(struct packet *p, const uint8_t *b, uint32_t len, struct decode_stats *st);
int decode_ipv6(struct packet *p, const uint8_t *b, uint32_t len, struct decode_stats *st);

/* decode_tcp.c, decode_udp.c, decode_icmp.c */
void decode_tcp(struct packet *p, const uint8_t *b, uint32_t len, uint32_t ip_plen,
                struct decode_stats *st);
void decode_udp(struct packet *p, const uint8_t *b, uint32_t len, uint32_t ip_plen,
                struct decode_stats *st);
void decode_icmpv4(struct packet *p, const uint8_t *b, uint32_t len, uint32_t ip_plen,
                   struct decode_stats *st);
void decode_icmpv6(struct packet *p, const uint8_t *b, uint32_t len, uint32_t ip_plen,
                   struct decode_stats *st);

/*
 * decode_tunnel.c: link-layer steps by ethertype (MPLS unicast/multicast,
 * PPPoE session and discovery), tunnels by IP protocol (GRE 47; IPv4 4 and
 * IPv6 41 in IP, which one from p->ip_proto), and the UDP tunnels, tried on a
 * decoded UDP datagram (PKT_UDP, payload set) by decode_udp().
 */
int decode_mpls(struct packet *p, const uint8_t *b, uint32_t len, struct decode_stats *st);
int decode_pppoe_session(struct packet *p, const uint8_t *b, uint32_t len,
                         struct decode_stats *st);
int decode_pppoe_discovery(struct packet *p, const uint8_t *b, uint32_t len,
                           struct decode_stats *st);
void decode_gre(struct packet *p, const uint8_t *b, uint32_t len, uint32_t ip_plen,
                struct decode_stats *st);
void decode_ipip(struct packet *p, const uint8_t *b, uint32_t len, uint32_t ip_plen,
                 struct decode_stats *st);
void decode_udp_tunnel(struct packet *p, struct decode_stats *st);

#endif
