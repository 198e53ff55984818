/*
 * packet.h — the decoded view of one captured packet.
 *
 * The decoder (sensor/decode*.c) fills a struct packet from the captured bytes
 * without copying them: every pointer here points into the capture buffer and
 * is only valid until the next packet is read.  A field is meaningful only when
 * its PKT_* flag is set; e.g. sp/dp need PKT_TCP or PKT_UDP.
 *
 * Addresses are kept in network byte order in a 16-byte array; IPv4 uses the
 * first 4 bytes and family AF_INET.
 */
#ifndef KANSHI_PACKET_H
#define KANSHI_PACKET_H

#include <stdbool.h>
#include <stdint.h>

struct flow;

struct kanshi_addr {
    uint8_t family; /* AF_INET, AF_INET6, or 0 when absent */
    uint8_t a[16];
};

/* What the decoder established about a packet. */
enum {
    PKT_IPV4 = 1u << 0,
    PKT_IPV6 = 1u << 1,
    PKT_TCP = 1u << 2,
    PKT_UDP = 1u << 3,
    PKT_ICMPV4 = 1u << 4,
    PKT_ICMPV6 = 1u << 5,
    PKT_FRAGMENT = 1u << 6,   /* an IP fragment: no L4 fields until reassembly */
    PKT_INVALID = 1u << 7,    /* a decoder event made the packet unusable past L3 */
    PKT_IPV4_OPTS = 1u << 8,  /* IPv4 header carried options (see ipopts) */
    PKT_VLAN = 1u << 9,
    PKT_L4_CSUM_BAD = 1u << 10, /* set by decode_checksum_check(), not by decode */
    PKT_IP_CSUM_BAD = 1u << 11,
    PKT_TUNNEL = 1u << 12, /* carries a tunnel: tunnel_* describe the inner packet */
    PKT_PSEUDO = 1u << 13, /* made by the worker at a flow's end, not captured */
    PKT_PROTO_DETECT_DONE = 1u << 14, /* protocol detection ended for its direction
                                         (app_layer_pd_flag) */
};

/* TCP flag bits as on the wire (byte 13 of the TCP header). */
enum {
    TH_FIN = 0x01,
    TH_SYN = 0x02,
    TH_RST = 0x04,
    TH_PUSH = 0x08,
    TH_ACK = 0x10,
    TH_URG = 0x20,
    TH_ECE = 0x40,
    TH_CWR = 0x80,
};

/* IPv4 options seen (bit per option kind, for the ipopts keyword). */
enum {
    IPOPT_BIT_RR = 1u << 0,
    IPOPT_BIT_LSRR = 1u << 1,
    IPOPT_BIT_EOL = 1u << 2,
    IPOPT_BIT_NOP = 1u << 3,
    IPOPT_BIT_TS = 1u << 4,
    IPOPT_BIT_SEC = 1u << 5,
    IPOPT_BIT_ESEC = 1u << 6,
    IPOPT_BIT_SSRR = 1u << 7,
    IPOPT_BIT_SATID = 1u << 8,
    IPOPT_BIT_OTHER = 1u << 9,
};

/* IPv4 fragment flag bits, as in the top 3 bits of the frag field >> 13. */
enum { IPFRAG_RF = 0x4, IPFRAG_DF = 0x2, IPFRAG_MF = 0x1 };

#define PACKET_MAX_EVENTS 4

struct packet {
    /* Capture. */
    uint64_t ts_usec; /* capture time, microseconds since the epoch */
    const uint8_t *data;
    uint32_t caplen;  /* bytes captured */
    uint32_t wirelen; /* bytes on the wire */
    int linktype;     /* DLT_* of the capture */

    uint32_t flags; /* PKT_* */

    /* Layer 2. */
    uint16_t vlan_id[2];
    uint8_t vlan_count;

    /* Layer 3. */
    struct kanshi_addr src, dst;
    const uint8_t *l3;    /* start of the IP header */
    uint32_t l3_len;      /* IP total length as clamped to the capture */
    uint16_t l3_hdr_len;  /* IP header length incl. options / extension headers */
    uint8_t ip_proto;     /* L4 protocol (after IPv6 extension headers) */
    uint8_t ttl;          /* TTL or hop limit */
    uint8_t tos;          /* TOS or traffic class */
    uint8_t frag_flags;   /* IPFRAG_* (IPv6: MF only) */
    uint16_t frag_offset; /* fragment offset in 8-byte units */
    uint32_t ip_id;       /* IPv4 id, or IPv6 fragment id */
    uint16_t ipopts;      /* IPOPT_BIT_* */

    /* Layer 4. */
    const uint8_t *l4;
    uint32_t l4_len; /* L4 header + payload bytes present */
    uint16_t sp, dp; /* host order; ICMP: 0 */
    uint32_t tcp_seq, tcp_ack;
    uint16_t tcp_win;
    uint8_t tcp_flags;
    uint8_t icmp_type, icmp_code;
    uint16_t icmp_id, icmp_seq; /* echo request/reply only */

    /* Application payload (TCP/UDP/ICMP data). */
    const uint8_t *payload;
    uint32_t payload_len;

    /*
     * Tunnels (PKT_TUNNEL): the packet a GRE, VXLAN, Geneve, Teredo or
     * IP-in-IP header of this packet carries, from its first byte to the end
     * of what the outer packet holds of it, and the link type to decode it
     * with (decode_tunnel_packet()).  tunnel_depth is 0 for a captured
     * packet and n for the inner packet of the n-th nested tunnel.  layers
     * counts the link-layer steps (MPLS, PPPoE, ...) the decoder took.
     */
    const uint8_t *tunnel_data;
    uint32_t tunnel_len;
    int tunnel_linktype;
    uint8_t tunnel_depth;
    uint8_t layers;

    /* Decoder events raised for this packet (first PACKET_MAX_EVENTS). */
    uint16_t events[PACKET_MAX_EVENTS];
    uint8_t nevents;

    /* Set by the flow table. */
    struct flow *flow;
    uint8_t dir; /* FLOW_DIR_TOSERVER or FLOW_DIR_TOCLIENT */
};

#endif
