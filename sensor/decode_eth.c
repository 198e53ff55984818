/*
 * decode_eth.c — link-layer decoders: Ethernet II with 802.1Q/QinQ tags,
 * Linux cooked capture (SLL, SLL2), BSD loopback (DLT_NULL/DLT_LOOP) and raw
 * IP.  Each strips its header and hands the rest to the IPv4 or IPv6 decoder,
 * or to MPLS or PPPoE (decode_tunnel.c), which go on to IP themselves.
 *
 * Ethernet, VLAN and both cooked formats carry an ethertype, so they share
 * one dispatch table.  Frames that are simply not IP (ARP, LLDP, STP, ...)
 * are normal traffic: they end decoding with -EINVAL but raise no event; only
 * an ethertype nobody has heard of is an event.
 */
#include <errno.h>
#include <stddef.h>

#include "decode_int.h"
#include "kanshi/kanshi.h"

#define ETH_HDR_LEN 14
#define VLAN_HDR_LEN 4
#define VLAN_MAX_LAYERS 2 /* size of packet.vlan_id */
#define SLL_HDR_LEN 16
#define SLL2_HDR_LEN 20
#define NULL_HDR_LEN 4

/* Below this an Ethernet "type" is an 802.3 length (LLC/SNAP frames). */
#define ETHERTYPE_MIN 0x0600

static int eth_vlan(struct packet *p, const uint8_t *b, uint32_t len, struct decode_stats *st);

static const struct eth_proto {
    uint16_t type;
    decode_fn fn;
} eth_protos[] = {
    {0x0800, decode_ipv4}, /* IPv4 first: the common case ends the scan at once */
    {0x86dd, decode_ipv6}, {0x8100, eth_vlan}, /* 802.1Q */
    {0x88a8, eth_vlan},                        /* 802.1ad QinQ service tag */
    {0x9100, eth_vlan},                        /* pre-standard QinQ */
    {0x8847, decode_mpls},                     /* MPLS unicast */
    {0x8848, decode_mpls},                     /* MPLS multicast */
    {0x8864, decode_pppoe_session},            /* PPPoE session stage */
    {0x8863, decode_pppoe_discovery},          /* PPPoE discovery: checked, no IP */
};

/*
 * Ethertypes that are ordinary non-IP traffic on a gateway or campus LAN.
 * Seeing them is not suspicious, so they raise no unknown_ethertype event.
 */
static const uint16_t eth_known_non_ip[] = {
    0x0806,                 /* ARP */
    0x8035,                 /* RARP */
    0x0842,                 /* Wake-on-LAN */
    0x22f0,                 /* AVTP */
    0x22f3,                 /* TRILL */
    0x6002, 0x6003, 0x6004, /* DEC MOP, DECnet, LAT */
    0x809b, 0x80f3,         /* AppleTalk, AARP */
    0x8137,                 /* IPX */
    0x8808,                 /* Ethernet flow control (PAUSE) */
    0x8809,                 /* slow protocols (LACP, OAM) */
    0x880b,                 /* PPP */
    0x886f,                 /* Microsoft NLB */
    0x887b, 0x88e1,         /* HomePlug */
    0x888e,                 /* EAPOL (802.1X) */
    0x8892,                 /* PROFINET */
    0x8899,                 /* Realtek RRCP/RLDP */
    0x88a2,                 /* ATA over Ethernet */
    0x88a4,                 /* EtherCAT */
    0x88b5, 0x88b6,         /* local experimental */
    0x88b8, 0x88b9, 0x88ba, /* IEC 61850 GOOSE, GSE, SV */
    0x88be,                 /* ERSPAN */
    0x88c7,                 /* 802.11i pre-authentication */
    0x88cc,                 /* LLDP */
    0x88d9,                 /* LLTD */
    0x88e3,                 /* MRP */
    0x88e5,                 /* MACsec */
    0x88e7,                 /* provider backbone bridging */
    0x88f5, 0x88f6,         /* MVRP, MMRP */
    0x88f7,                 /* PTP */
    0x88f8,                 /* NC-SI */
    0x88fb,                 /* PRP */
    0x8902,                 /* CFM (802.1ag) */
    0x8903,                 /* Cisco FabricPath */
    0x8906, 0x8914,         /* FCoE, FIP */
    0x8915,                 /* RoCE */
    0x891d,                 /* TTEthernet */
    0x8926,                 /* VN-Tag */
    0x892f,                 /* HSR */
    0x893a,                 /* IEEE 1905.1 */
    0x894f,                 /* NSH */
    0x9000,                 /* configuration testing protocol (loopback) */
};

static bool eth_is_known_non_ip(uint16_t type)
{
    for (size_t i = 0; i < KANSHI_ARRAY_LEN(eth_known_non_ip); i++)
        if (eth_known_non_ip[i] == type)
            return true;
    return false;
}

/* Hands b (the bytes after a header carrying ethertype `type`) on. */
static int eth_dispatch(struct packet *p, uint16_t type, const uint8_t *b, uint32_t len,
                        struct decode_stats *st)
{
    for (size_t i = 0; i < KANSHI_ARRAY_LEN(eth_protos); i++)
        if (eth_protos[i].type == type)
            return eth_protos[i].fn(p, b, len, st);
    if (type >= ETHERTYPE_MIN && !eth_is_known_non_ip(type))
        decode_event(p, st, DE_ETH_UNKNOWN_ETHERTYPE);
    return -EINVAL;
}

/* One 802.1Q/802.1ad tag: TCI (PCP, DEI, 12-bit VLAN id), inner ethertype. */
static int eth_vlan(struct packet *p, const uint8_t *b, uint32_t len, struct decode_stats *st)
{
    if (len < VLAN_HDR_LEN) {
        decode_fail(p, st, DE_VLAN_HEADER_TOO_SMALL);
        return -EINVAL;
    }
    if (p->vlan_count >= VLAN_MAX_LAYERS) {
        decode_fail(p, st, DE_VLAN_TOO_MANY_LAYERS);
        return -EINVAL;
    }
    p->vlan_id[p->vlan_count++] = decode_rd16(b) & 0x0fff;
    p->flags |= PKT_VLAN;
    st->vlan++;
    return eth_dispatch(p, decode_rd16(b + 2), b + VLAN_HDR_LEN, len - VLAN_HDR_LEN, st);
}

/* Ethernet II: destination MAC, source MAC, ethertype. */
int decode_ethernet(struct packet *p, const uint8_t *b, uint32_t len, struct decode_stats *st)
{
    if (len < ETH_HDR_LEN) {
        decode_fail(p, st, DE_ETH_PKT_TOO_SMALL);
        return -EINVAL;
    }
    st->ethernet++;
    return eth_dispatch(p, decode_rd16(b + 12), b + ETH_HDR_LEN, len - ETH_HDR_LEN, st);
}

/* An Ethernet frame inside a link-layer step of the same packet (an MPLS
 * pseudowire): st->ethernet counts packets' own Ethernet headers only. */
int decode_ethernet_nested(struct packet *p, const uint8_t *b, uint32_t len,
                           struct decode_stats *st)
{
    if (len < ETH_HDR_LEN) {
        decode_fail(p, st, DE_ETH_PKT_TOO_SMALL);
        return -EINVAL;
    }
    return eth_dispatch(p, decode_rd16(b + 12), b + ETH_HDR_LEN, len - ETH_HDR_LEN, st);
}

/*
 * Linux cooked v1: packet type (2), ARPHRD type (2), address length (2),
 * address (8), protocol (2).  The protocol is an ethertype, or a small
 * number (< 0x600) for non-Ethernet framings, which we do not decode.
 */
int decode_sll(struct packet *p, const uint8_t *b, uint32_t len, struct decode_stats *st)
{
    if (len < SLL_HDR_LEN) {
        decode_fail(p, st, DE_SLL_PKT_TOO_SMALL);
        return -EINVAL;
    }
    st->sll++;
    return eth_dispatch(p, decode_rd16(b + 14), b + SLL_HDR_LEN, len - SLL_HDR_LEN, st);
}

/*
 * Linux cooked v2: protocol (2), reserved (2), interface index (4), ARPHRD
 * type (2), packet type (1), address length (1), address (8).
 */
int decode_sll2(struct packet *p, const uint8_t *b, uint32_t len, struct decode_stats *st)
{
    if (len < SLL2_HDR_LEN) {
        decode_fail(p, st, DE_SLL2_PKT_TOO_SMALL);
        return -EINVAL;
    }
    st->sll2++;
    return eth_dispatch(p, decode_rd16(b), b + SLL2_HDR_LEN, len - SLL2_HDR_LEN, st);
}

/*
 * BSD loopback: a 4-byte address family.  DLT_LOOP writes it in network
 * order, DLT_NULL in the byte order of the capturing host, which we do not
 * know; families are small numbers, so a value with high bits set is the
 * other order.  The IPv6 family differs between BSDs (24, 28, 30).
 */
static const struct null_family {
    uint32_t family;
    decode_fn fn;
} null_families[] = {
    {2, decode_ipv4},  /* AF_INET everywhere */
    {24, decode_ipv6}, /* NetBSD, OpenBSD, BSD/OS */
    {28, decode_ipv6}, /* FreeBSD, DragonFly */
    {30, decode_ipv6}, /* macOS */
};

int decode_null(struct packet *p, const uint8_t *b, uint32_t len, struct decode_stats *st)
{
    uint32_t family;

    if (len < NULL_HDR_LEN) {
        decode_fail(p, st, DE_NULL_PKT_TOO_SMALL);
        return -EINVAL;
    }
    family = decode_rd32(b);
    if (family > 0xffff)
        family = __builtin_bswap32(family);
    st->null++;
    for (size_t i = 0; i < KANSHI_ARRAY_LEN(null_families); i++)
        if (null_families[i].family == family)
            return null_families[i].fn(p, b + NULL_HDR_LEN, len - NULL_HDR_LEN, st);
    decode_event(p, st, DE_NULL_UNSUPPORTED_TYPE);
    return -EINVAL;
}

/* Raw IP (DLT_RAW, DLT_IPV4, DLT_IPV6): the version nibble says which. */
int decode_raw(struct packet *p, const uint8_t *b, uint32_t len, struct decode_stats *st)
{
    unsigned version = len > 0 ? b[0] >> 4 : 0;

    if (version == 4) {
        st->raw++;
        return decode_ipv4(p, b, len, st);
    }
    if (version == 6) {
        st->raw++;
        return decode_ipv6(p, b, len, st);
    }
    decode_fail(p, st, DE_RAW_INVALID_IPV);
    return -EINVAL;
}
