/*
 * decode.h — layer 2 to layer 4 decoding of captured packets.
 *
 * decode_packet() turns captured bytes into a struct packet.  It never reads
 * past caplen and never allocates.  Malformed input is not an error of the
 * program: the decoder records a named event (like Suricata's decoder events),
 * bumps its counter in struct decode_stats, and stops decoding at the layer
 * that was malformed.  What was decoded before stays valid (a packet with a
 * broken TCP header still has its IP fields).
 *
 * Thread use: decode_packet() is reentrant; each worker owns its own
 * struct decode_stats.
 */
#ifndef KANSHI_DECODE_H
#define KANSHI_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "kanshi/packet.h"

/*
 * Decoder events: X(ENUM_NAME, "suricata.style.name").  The names follow
 * Suricata's decoder event names where Suricata has one.
 */
#define DECODE_EVENTS(X)                                                      \
    X(ETH_PKT_TOO_SMALL, "decoder.ethernet.pkt_too_small")                     \
    X(ETH_UNKNOWN_ETHERTYPE, "decoder.ethernet.unknown_ethertype")             \
    X(VLAN_HEADER_TOO_SMALL, "decoder.vlan.header_too_small")                  \
    X(VLAN_TOO_MANY_LAYERS, "decoder.vlan.too_many_layers")                    \
    X(SLL_PKT_TOO_SMALL, "decoder.sll.pkt_too_small")                          \
    X(SLL2_PKT_TOO_SMALL, "decoder.sll2.pkt_too_small")                        \
    X(NULL_PKT_TOO_SMALL, "decoder.null.pkt_too_small")                        \
    X(NULL_UNSUPPORTED_TYPE, "decoder.null.unsupported_type")                  \
    X(RAW_INVALID_IPV, "decoder.raw.invalid_ip_version")                       \
    X(LINKTYPE_UNSUPPORTED, "decoder.unsupported_linktype")                    \
    X(IPV4_PKT_TOO_SMALL, "decoder.ipv4.pkt_too_small")                        \
    X(IPV4_HLEN_TOO_SMALL, "decoder.ipv4.hlen_too_small")                      \
    X(IPV4_IPLEN_SMALLER_THAN_HLEN, "decoder.ipv4.iplen_smaller_than_hlen")    \
    X(IPV4_TRUNC_PKT, "decoder.ipv4.trunc_pkt")                                \
    X(IPV4_WRONG_IP_VER, "decoder.ipv4.wrong_ip_version")                      \
    X(IPV4_OPT_INVALID, "decoder.ipv4.opt_invalid")                            \
    X(IPV4_OPT_INVALID_LEN, "decoder.ipv4.opt_invalid_len")                    \
    X(IPV4_OPT_MALFORMED, "decoder.ipv4.opt_malformed")                        \
    X(IPV4_OPT_PAD_REQUIRED, "decoder.ipv4.opt_pad_required")                  \
    X(IPV4_OPT_EOL_REQUIRED, "decoder.ipv4.opt_eol_required")                  \
    X(IPV4_OPT_DUPLICATE, "decoder.ipv4.opt_duplicate")                        \
    X(IPV4_OPT_UNKNOWN, "decoder.ipv4.opt_unknown")                            \
    X(IPV4_FRAG_PKT_TOO_LARGE, "decoder.ipv4.frag_pkt_too_large")              \
    X(IPV6_PKT_TOO_SMALL, "decoder.ipv6.pkt_too_small")                        \
    X(IPV6_TRUNC_PKT, "decoder.ipv6.trunc_pkt")                                \
    X(IPV6_TRUNC_EXTHDR, "decoder.ipv6.trunc_exthdr")                          \
    X(IPV6_WRONG_IP_VER, "decoder.ipv6.wrong_ip_version")                      \
    X(IPV6_EXTHDR_DUPL_FH, "decoder.ipv6.exthdr_dupl_fh")                      \
    X(IPV6_EXTHDR_DUPL_RH, "decoder.ipv6.exthdr_dupl_rh")                      \
    X(IPV6_EXTHDR_DUPL_HH, "decoder.ipv6.exthdr_dupl_hh")                      \
    X(IPV6_EXTHDR_DUPL_DH, "decoder.ipv6.exthdr_dupl_dh")                      \
    X(IPV6_EXTHDR_DUPL_AH, "decoder.ipv6.exthdr_dupl_ah")                      \
    X(IPV6_EXTHDR_DUPL_EH, "decoder.ipv6.exthdr_dupl_eh")                      \
    X(IPV6_EXTHDR_INVALID_OPTLEN, "decoder.ipv6.exthdr_invalid_optlen")        \
    X(IPV6_HOPOPTS_NOT_FIRST, "decoder.ipv6.hopopts_not_first")                \
    X(IPV6_UNKNOWN_NEXT_HEADER, "decoder.ipv6.unknown_next_header")            \
    X(IPV6_FRAG_PKT_TOO_LARGE, "decoder.ipv6.frag_pkt_too_large")              \
    X(IPV6_FRAG_INVALID_LENGTH, "decoder.ipv6.frag_invalid_length")            \
    X(IPV6_WITH_ICMPV4, "decoder.ipv6.icmpv4")                                 \
    X(IPV4_WITH_ICMPV6, "decoder.ipv4.icmpv6")                                 \
    X(TCP_PKT_TOO_SMALL, "decoder.tcp.pkt_too_small")                          \
    X(TCP_HLEN_TOO_SMALL, "decoder.tcp.hlen_too_small")                        \
    X(TCP_INVALID_OPTLEN, "decoder.tcp.invalid_optlen")                        \
    X(TCP_OPT_INVALID_LEN, "decoder.tcp.opt_invalid_len")                      \
    X(TCP_OPT_DUPLICATE, "decoder.tcp.opt_duplicate")                          \
    X(UDP_PKT_TOO_SMALL, "decoder.udp.pkt_too_small")                          \
    X(UDP_HLEN_TOO_SMALL, "decoder.udp.hlen_too_small")                        \
    X(UDP_HLEN_INVALID, "decoder.udp.hlen_invalid")                            \
    X(UDP_LEN_INVALID, "decoder.udp.len_invalid")                              \
    X(ICMPV4_PKT_TOO_SMALL, "decoder.icmpv4.pkt_too_small")                    \
    X(ICMPV4_UNKNOWN_TYPE, "decoder.icmpv4.unknown_type")                      \
    X(ICMPV4_UNKNOWN_CODE, "decoder.icmpv4.unknown_code")                      \
    X(ICMPV6_PKT_TOO_SMALL, "decoder.icmpv6.pkt_too_small")                    \
    X(ICMPV6_UNKNOWN_TYPE, "decoder.icmpv6.unknown_type")                      \
    X(ICMPV6_UNKNOWN_CODE, "decoder.icmpv6.unknown_code")                      \
    X(GRE_PKT_TOO_SMALL, "decoder.gre.pkt_too_small")                          \
    X(GRE_WRONG_VERSION, "decoder.gre.wrong_version")                          \
    X(GRE_VERSION0_RECUR, "decoder.gre.version0_recur")                        \
    X(GRE_VERSION0_FLAGS, "decoder.gre.version0_flags")                        \
    X(GRE_VERSION0_HDR_TOO_BIG, "decoder.gre.version0_hdr_too_big")            \
    X(GRE_VERSION0_MALFORMED_SRE_HDR, "decoder.gre.version0_malformed_sre_hdr") \
    X(GRE_VERSION1_CHKSUM, "decoder.gre.version1_chksum")                      \
    X(GRE_VERSION1_ROUTE, "decoder.gre.version1_route")                        \
    X(GRE_VERSION1_SSR, "decoder.gre.version1_ssr")                            \
    X(GRE_VERSION1_RECUR, "decoder.gre.version1_recur")                        \
    X(GRE_VERSION1_FLAGS, "decoder.gre.version1_flags")                        \
    X(GRE_VERSION1_NO_KEY, "decoder.gre.version1_no_key")                      \
    X(GRE_VERSION1_WRONG_PROTOCOL, "decoder.gre.version1_wrong_protocol")      \
    X(GRE_VERSION1_HDR_TOO_BIG, "decoder.gre.version1_hdr_too_big")            \
    X(ERSPAN_HEADER_TOO_SMALL, "decoder.erspan.header_too_small")              \
    X(ERSPAN_UNSUPPORTED_VERSION, "decoder.erspan.unsupported_version")        \
    X(ERSPAN_TOO_MANY_VLAN_LAYERS, "decoder.erspan.too_many_vlan_layers")      \
    X(PPP_PKT_TOO_SMALL, "decoder.ppp.pkt_too_small")                          \
    X(PPPVJU_PKT_TOO_SMALL, "decoder.ppp.vju_pkt_too_small")                   \
    X(PPPIPV4_PKT_TOO_SMALL, "decoder.ppp.ip4_pkt_too_small")                  \
    X(PPPIPV6_PKT_TOO_SMALL, "decoder.ppp.ip6_pkt_too_small")                  \
    X(PPP_WRONG_TYPE, "decoder.ppp.wrong_type")                                \
    X(PPP_UNSUP_PROTO, "decoder.ppp.unsup_proto")                              \
    X(PPPOE_PKT_TOO_SMALL, "decoder.pppoe.pkt_too_small")                      \
    X(PPPOE_WRONG_CODE, "decoder.pppoe.wrong_code")                            \
    X(PPPOE_MALFORMED_TAGS, "decoder.pppoe.malformed_tags")                    \
    X(MPLS_HEADER_TOO_SMALL, "decoder.mpls.header_too_small")                  \
    X(MPLS_PKT_TOO_SMALL, "decoder.mpls.pkt_too_small")                        \
    X(MPLS_BAD_LABEL_ROUTER_ALERT, "decoder.mpls.bad_label_router_alert")      \
    X(MPLS_BAD_LABEL_IMPLICIT_NULL, "decoder.mpls.bad_label_implicit_null")    \
    X(MPLS_BAD_LABEL_RESERVED, "decoder.mpls.bad_label_reserved")              \
    X(MPLS_UNKNOWN_PAYLOAD_TYPE, "decoder.mpls.unknown_payload_type")          \
    X(VXLAN_UNKNOWN_PAYLOAD_TYPE, "decoder.vxlan.unknown_payload_type")        \
    X(GENEVE_UNKNOWN_PAYLOAD_TYPE, "decoder.geneve.unknown_payload_type")      \
    X(IPV4_IN_IPV6_PKT_TOO_SMALL, "decoder.ipv6.ipv4_in_ipv6_too_small")       \
    X(IPV4_IN_IPV6_WRONG_IP_VER, "decoder.ipv6.ipv4_in_ipv6_wrong_version")    \
    X(IPV6_IN_IPV6_PKT_TOO_SMALL, "decoder.ipv6.ipv6_in_ipv6_too_small")       \
    X(IPV6_IN_IPV6_WRONG_IP_VER, "decoder.ipv6.ipv6_in_ipv6_wrong_version")    \
    X(TOO_MANY_LAYERS, "decoder.too_many_layers")

enum decode_event {
#define DECODE_EVENT_ENUM(e, s) DE_##e,
    DECODE_EVENTS(DECODE_EVENT_ENUM)
#undef DECODE_EVENT_ENUM
        DE_MAX
};

/* Per-worker decoder counters.  Plain integers: one thread owns them. */
struct decode_stats {
    uint64_t pkts, bytes;
    uint64_t ethernet, vlan, sll, sll2, null, raw;
    uint64_t ipv4, ipv6, tcp, udp, icmpv4, icmpv6;
    uint64_t frag4, frag6;  /* fragments seen (not reassembled here) */
    uint64_t other_l4;      /* IP packets of another protocol (GRE, ESP, SCTP, ...) */
    /* Tunnel headers seen (GRE, VXLAN, Geneve, Teredo, ERSPAN; IPv4/IPv6 in
     * IPv4/IPv6: GRE and IP in IP count in other_l4 too), link-layer steps
     * (MPLS, PPPoE, PPP), and the inner packets decode_tunnel_packet() was
     * asked for: those are not in pkts/bytes, but their layers are in the
     * per-protocol counters above. */
    uint64_t gre, vxlan, geneve, teredo, erspan, ipip;
    uint64_t mpls, pppoe, ppp;
    uint64_t tunnel_pkts;
    uint64_t invalid;       /* packets with at least one event */
    uint64_t events[DE_MAX];
};

/* Suricata-style name of an event, e.g. "decoder.ipv4.trunc_pkt". */
const char *decode_event_name(enum decode_event ev);

/*
 * Decodes one captured packet of link type `linktype` (a DLT_* value as
 * libpcap reports it: DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_RAW,
 * DLT_IPV4, DLT_IPV6, DLT_NULL, DLT_LOOP).  Resets *p, then fills it.
 * data/caplen are the captured bytes, wirelen the original length.
 *
 * Returns 0 when the packet decoded to at least an IP header, -EINVAL when
 * it did not (no IP layer: malformed, unsupported link type or ethertype).
 * Either way st->pkts/bytes and the event counters are updated.
 */
int decode_packet(struct packet *p, int linktype, const uint8_t *data, uint32_t caplen,
                  uint32_t wirelen, uint64_t ts_usec, struct decode_stats *st);

/* Nested tunnels whose inner packets are decoded; a deeper one raises
 * decoder.too_many_layers.  Link-layer steps (MPLS, PPPoE, PPP) in one
 * packet are bounded by DECODE_MAX_LAYERS the same way. */
#define DECODE_TUNNEL_MAX_DEPTH 4
#define DECODE_MAX_LAYERS 16

/* Link type of an ERSPAN type II payload (GRE protocol 0x88be with a
 * sequence number): kanshi's own, outside the 16-bit range of DLT_* values. */
#define DECODE_LINKTYPE_ERSPAN2 0x10001

/*
 * Decodes the packet that outer's tunnel carries (outer has PKT_TUNNEL) as a
 * packet of its own, the way Suricata decodes its tunnel packets: resets *p,
 * fills it from outer->tunnel_data/tunnel_len with the link decoder of
 * outer->tunnel_linktype (DLT_EN10MB, DLT_RAW, DLT_IPV4, DLT_IPV6, DLT_PPP
 * or DECODE_LINKTYPE_ERSPAN2), and sets p->tunnel_depth to one more than
 * outer's.  p shares outer's capture time and VLAN ids (flows inside a
 * tunnel stay apart per VLAN) and points into the same capture buffer.
 * Counts st->tunnel_pkts and the layers decoded, not st->pkts/bytes.
 *
 * Returns 0 when p decoded to at least an IP header; -EINVAL when it did
 * not, when outer has no tunnel, or when outer is already at
 * DECODE_TUNNEL_MAX_DEPTH (event decoder.too_many_layers on p).
 */
int decode_tunnel_packet(struct packet *p, const struct packet *outer, struct decode_stats *st);

/*
 * Verifies the IPv4 header checksum and the TCP/UDP/ICMP/ICMPv6 checksum of a
 * decoded packet, setting PKT_IP_CSUM_BAD / PKT_L4_CSUM_BAD.  Returns true
 * when all present checksums are correct (a zero UDP-over-IPv4 checksum counts
 * as correct).  Packets whose L4 data was not fully captured are not judged.
 */
bool decode_checksum_check(struct packet *p);

/* Formats p's address as text into buf (INET6_ADDRSTRLEN bytes suffice). */
const char *kanshi_addr_str(const struct kanshi_addr *a, char *buf, size_t len);

#endif
