/*
 * decode_test.c — unit tests of the packet decoders (sensor/decode*.c).
 *
 * Packets are built here byte by byte with small builders that compute their
 * own checksums (independently of decode.c), then decoded from an exactly
 * sized heap copy so the sanitizer build catches any read past caplen.  The
 * last test decodes the shared pcap corpus when it is present.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "kanshi/decode.h"
#include "kanshi/packet.h"
#include "test.h"

#ifndef DLT_LINUX_SLL2
#define DLT_LINUX_SLL2 276
#endif

#define V4_SRC 0xc0000201u /* 192.0.2.1 */
#define V4_DST 0xc6336402u /* 198.51.100.2 */
static const uint8_t v6_src[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
static const uint8_t v6_dst[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 2};
/* Addresses mk_ipv6() writes; a test may point them elsewhere for a while. */
static const uint8_t *mk6_src = v6_src, *mk6_dst = v6_dst;

/* ------------------------------------------------------------------------ */
/* builders                                                                 */

static void put16(uint8_t *b, uint16_t v)
{
    b[0] = (uint8_t)(v >> 8);
    b[1] = (uint8_t)v;
}

static void put32(uint8_t *b, uint32_t v)
{
    put16(b, (uint16_t)(v >> 16));
    put16(b + 2, (uint16_t)v);
}

static uint32_t t_sum(const uint8_t *b, size_t n, uint32_t sum)
{
    size_t i;

    for (i = 0; i + 1 < n; i += 2)
        sum += (uint32_t)b[i] << 8 | b[i + 1];
    if (i < n)
        sum += (uint32_t)b[i] << 8;
    return sum;
}

static uint16_t t_csum(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

static size_t l4_csum_off(uint8_t proto)
{
    return proto == 6 ? 16 : proto == 17 ? 6 : 2;
}

/* Bytes an L4 checksum covers: UDP covers its own length. */
static size_t l4_csum_len(uint8_t proto, const uint8_t *seg, size_t l4len)
{
    size_t ulen;

    if (proto != 17 || l4len < 8)
        return l4len;
    ulen = (size_t)seg[4] << 8 | seg[5];
    return ulen < l4len ? ulen : l4len;
}

/* TCP header (data offset from the options) + payload, checksum left 0. */
static size_t mk_tcp(uint8_t *out, uint16_t sp, uint16_t dp, uint8_t flags, const uint8_t *opts,
                     size_t olen, const void *pl, size_t plen)
{
    memset(out, 0, 20);
    put16(out, sp);
    put16(out + 2, dp);
    put32(out + 4, 0x01020304);
    put32(out + 8, 0x0a0b0c0d);
    out[12] = (uint8_t)((20 + olen) / 4 << 4);
    out[13] = flags;
    put16(out + 14, 64240);
    if (olen)
        memcpy(out + 20, opts, olen);
    if (plen)
        memcpy(out + 20 + olen, pl, plen);
    return 20 + olen + plen;
}

static size_t mk_udp(uint8_t *out, uint16_t sp, uint16_t dp, const void *pl, size_t plen)
{
    put16(out, sp);
    put16(out + 2, dp);
    put16(out + 4, (uint16_t)(8 + plen));
    put16(out + 6, 0);
    if (plen)
        memcpy(out + 8, pl, plen);
    return 8 + plen;
}

static size_t mk_icmp(uint8_t *out, uint8_t type, uint8_t code, uint16_t id, uint16_t seq,
                      const void *pl, size_t plen)
{
    out[0] = type;
    out[1] = code;
    put16(out + 2, 0);
    put16(out + 4, id);
    put16(out + 6, seq);
    if (plen)
        memcpy(out + 8, pl, plen);
    return 8 + plen;
}

static void fix_ipv4_csum(uint8_t *ip)
{
    size_t hlen = (size_t)(ip[0] & 0x0f) * 4;

    put16(ip + 10, 0);
    put16(ip + 10, t_csum(t_sum(ip, hlen, 0)));
}

/* IPv4 header with options + l4; computes both checksums. */
static size_t mk_ipv4(uint8_t *out, uint8_t proto, const uint8_t *opts, size_t olen,
                      const uint8_t *l4, size_t l4len)
{
    size_t hlen = 20 + olen;
    uint8_t *seg = out + hlen;

    memset(out, 0, 20);
    out[0] = (uint8_t)(0x40 | hlen / 4);
    out[1] = 0x10;
    put16(out + 2, (uint16_t)(hlen + l4len));
    put16(out + 4, 0x1234);
    put16(out + 6, 0x4000); /* DF */
    out[8] = 64;
    out[9] = proto;
    put32(out + 12, V4_SRC);
    put32(out + 16, V4_DST);
    if (olen)
        memcpy(out + 20, opts, olen);
    memmove(seg, l4, l4len);
    if (proto == 6 || proto == 17 || proto == 1) {
        uint32_t sum = 0;
        uint16_t c;

        size_t clen = l4_csum_len(proto, seg, l4len);

        put16(seg + l4_csum_off(proto), 0);
        if (proto != 1)
            sum = t_sum(out + 12, 8, 0) + proto + (uint32_t)clen;
        c = t_csum(t_sum(seg, clen, sum));
        if (proto == 17 && c == 0)
            c = 0xffff;
        put16(seg + l4_csum_off(proto), c);
    }
    fix_ipv4_csum(out);
    return hlen + l4len;
}

/* IPv6 header, extension headers (first_nh names the first), upper layer. */
static size_t mk_ipv6(uint8_t *out, uint8_t first_nh, const uint8_t *ext, size_t extlen,
                      uint8_t proto, const uint8_t *l4, size_t l4len)
{
    uint8_t *seg = out + 40 + extlen;

    memset(out, 0, 40);
    put32(out, 0x60000000u | 0x2a << 20 | 0x12345);
    put16(out + 4, (uint16_t)(extlen + l4len));
    out[6] = extlen ? first_nh : proto;
    out[7] = 63;
    memcpy(out + 8, mk6_src, 16);
    memcpy(out + 24, mk6_dst, 16);
    if (extlen)
        memcpy(out + 40, ext, extlen);
    memmove(seg, l4, l4len);
    if (proto == 6 || proto == 17 || proto == 58) {
        size_t clen = l4_csum_len(proto, seg, l4len);
        uint32_t sum = t_sum(out + 8, 32, 0) + proto + (uint32_t)clen;
        uint16_t c;

        put16(seg + l4_csum_off(proto), 0);
        c = t_csum(t_sum(seg, clen, sum));
        if (proto == 17 && c == 0)
            c = 0xffff;
        put16(seg + l4_csum_off(proto), c);
    }
    return 40 + extlen + l4len;
}

/* Hop-by-hop or destination options header of len bytes (multiple of 8). */
static size_t ext_opts(uint8_t *out, uint8_t nh, size_t len)
{
    memset(out, 0, len);
    out[0] = nh;
    out[1] = (uint8_t)(len / 8 - 1);
    out[2] = 1; /* PadN */
    out[3] = (uint8_t)(len - 4);
    return len;
}

/* Type 2 routing header (one address), with segments left. */
static size_t ext_routing(uint8_t *out, uint8_t nh, uint8_t segleft)
{
    memset(out, 0, 24);
    out[0] = nh;
    out[1] = 2;
    out[2] = 2;
    out[3] = segleft;
    memcpy(out + 8, v6_dst, 16);
    return 24;
}

static size_t ext_frag(uint8_t *out, uint8_t nh, uint16_t off, bool mf, uint32_t id)
{
    out[0] = nh;
    out[1] = 0;
    put16(out + 2, (uint16_t)(off << 3 | (mf ? 1 : 0)));
    put32(out + 4, id);
    return 8;
}

static size_t ext_ah(uint8_t *out, uint8_t nh)
{
    memset(out, 0, 24);
    out[0] = nh;
    out[1] = 4;            /* (4 + 2) * 4 = 24 bytes */
    put32(out + 4, 0x100); /* SPI */
    return 24;
}

static size_t mk_eth(uint8_t *out, uint16_t type, const uint8_t *pl, size_t n)
{
    static const uint8_t macs[12] = {0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2};

    memcpy(out, macs, 12);
    put16(out + 12, type);
    memmove(out + 14, pl, n);
    return 14 + n;
}

/* Ethernet with ntags VLAN tags (tpid, vid) pairs. */
static size_t mk_eth_vlan(uint8_t *out, const uint16_t *tags, int ntags, uint16_t type,
                          const uint8_t *pl, size_t n)
{
    uint8_t tmp[2048];
    size_t off = 0;

    for (int i = 0; i < ntags; i++) {
        put16(tmp + off + 2, i + 1 < ntags ? tags[2 * i + 2] : type);
        put16(tmp + off, (uint16_t)(0x2000 | tags[2 * i + 1])); /* PCP 1 */
        off += 4;
    }
    memcpy(tmp + off, pl, n);
    return mk_eth(out, ntags ? tags[0] : type, tmp, off + n);
}

static size_t mk_sll(uint8_t *out, uint16_t proto, const uint8_t *pl, size_t n)
{
    memset(out, 0, 16);
    put16(out, 0);     /* to us */
    put16(out + 2, 1); /* ARPHRD_ETHER */
    put16(out + 4, 6);
    memcpy(out + 6, "\x02\0\0\0\0\x01", 6);
    put16(out + 14, proto);
    memmove(out + 16, pl, n);
    return 16 + n;
}

static size_t mk_sll2(uint8_t *out, uint16_t proto, const uint8_t *pl, size_t n)
{
    memset(out, 0, 20);
    put16(out, proto);
    put32(out + 4, 2); /* ifindex */
    put16(out + 8, 1); /* ARPHRD_ETHER */
    out[10] = 4;       /* outgoing */
    out[11] = 6;
    memcpy(out + 12, "\x02\0\0\0\0\x01", 6);
    memmove(out + 20, pl, n);
    return 20 + n;
}

static size_t mk_null(uint8_t *out, uint32_t family, bool big, const uint8_t *pl, size_t n)
{
    if (big)
        put32(out, family);
    else {
        out[0] = (uint8_t)family;
        out[1] = (uint8_t)(family >> 8);
        out[2] = (uint8_t)(family >> 16);
        out[3] = (uint8_t)(family >> 24);
    }
    memmove(out + 4, pl, n);
    return 4 + n;
}

/* Common packets. */
static const uint8_t tcp_opts_syn[] = {2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0,
                                       0, 1, 0,    0,    0, 0, 1, 3,  3, 7};

static size_t pkt_v4_tcp(uint8_t *out)
{
    uint8_t l4[128];
    size_t n =
        mk_tcp(l4, 40000, 80, TH_SYN | TH_ACK, tcp_opts_syn, sizeof(tcp_opts_syn), "hello", 5);
    return mk_ipv4(out, 6, NULL, 0, l4, n);
}

static size_t pkt_v6_udp(uint8_t *out)
{
    uint8_t l4[128];
    size_t n = mk_udp(l4, 5353, 53, "dns?!", 5);
    return mk_ipv6(out, 0, NULL, 0, 17, l4, n);
}

/* ------------------------------------------------------------------------ */
/* decoding helpers                                                         */

static struct decode_stats st;
static uint8_t *heap_copy;

/* Decodes an exact heap copy of b[0..n) with wirelen; valid until the next call. */
static int dec_wire(struct packet *p, int dlt, const uint8_t *b, size_t n, size_t wirelen)
{
    free(heap_copy);
    heap_copy = malloc(n ? n : 1);
    if (n)
        memcpy(heap_copy, b, n);
    return decode_packet(p, dlt, heap_copy, (uint32_t)n, (uint32_t)wirelen, 1000, &st);
}

static int dec(struct packet *p, int dlt, const uint8_t *b, size_t n)
{
    return dec_wire(p, dlt, b, n, n);
}

static bool has_event(const struct packet *p, enum decode_event e)
{
    for (int i = 0; i < p->nevents; i++)
        if (p->events[i] == e)
            return true;
    return false;
}

#define CHECK_EVENT(p, e)                                                                          \
    do {                                                                                           \
        if (!has_event((p), (e))) {                                                                \
            fprintf(stderr, "%s:%d: %s: event %s not raised (%d events)\n", __FILE__, __LINE__,    \
                    test_cur_name, decode_event_name(e), (p)->nevents);                            \
            test_cur_failed = 1;                                                                   \
        }                                                                                          \
    } while (0)

/* ------------------------------------------------------------------------ */
/* valid packets                                                            */

TEST(eth_ipv4_tcp)
{
    uint8_t ip[256], f[300];
    struct packet p;
    char buf[INET6_ADDRSTRLEN];
    size_t n = mk_eth(f, 0x0800, ip, pkt_v4_tcp(ip));

    memset(&st, 0, sizeof(st));
    CHECK_INT(dec(&p, DLT_EN10MB, f, n), 0);
    CHECK_INT(p.flags, PKT_IPV4 | PKT_TCP);
    CHECK_INT(p.nevents, 0);
    CHECK_INT(p.caplen, n);
    CHECK_INT(p.wirelen, n);
    CHECK_INT(p.ts_usec, 1000);
    CHECK_INT(p.linktype, DLT_EN10MB);
    CHECK(p.data == heap_copy);
    CHECK(p.l3 == heap_copy + 14);
    CHECK_INT(p.l3_len, 20 + 20 + sizeof(tcp_opts_syn) + 5);
    CHECK_INT(p.l3_hdr_len, 20);
    CHECK_INT(p.ip_proto, 6);
    CHECK_INT(p.ttl, 64);
    CHECK_INT(p.tos, 0x10);
    CHECK_INT(p.ip_id, 0x1234);
    CHECK_INT(p.frag_flags, IPFRAG_DF);
    CHECK_INT(p.frag_offset, 0);
    CHECK_INT(p.src.family, AF_INET);
    CHECK_STR(kanshi_addr_str(&p.src, buf, sizeof(buf)), "192.0.2.1");
    CHECK_STR(kanshi_addr_str(&p.dst, buf, sizeof(buf)), "198.51.100.2");
    CHECK(p.l4 == heap_copy + 34);
    CHECK_INT(p.l4_len, 20 + sizeof(tcp_opts_syn) + 5);
    CHECK_INT(p.sp, 40000);
    CHECK_INT(p.dp, 80);
    CHECK_INT(p.tcp_seq, 0x01020304);
    CHECK_INT(p.tcp_ack, 0x0a0b0c0d);
    CHECK_INT(p.tcp_win, 64240);
    CHECK_INT(p.tcp_flags, TH_SYN | TH_ACK);
    CHECK_INT(p.payload_len, 5);
    CHECK(p.payload != NULL && memcmp(p.payload, "hello", 5) == 0);
    CHECK(decode_checksum_check(&p));
    CHECK_INT(p.flags & (PKT_IP_CSUM_BAD | PKT_L4_CSUM_BAD), 0);
    CHECK_INT(st.pkts, 1);
    CHECK_INT(st.bytes, n);
    CHECK_INT(st.ethernet, 1);
    CHECK_INT(st.ipv4, 1);
    CHECK_INT(st.tcp, 1);
    CHECK_INT(st.invalid, 0);
}

TEST(eth_ipv4_udp_padded)
{
    uint8_t l4[64], ip[128], f[200];
    struct packet p;
    size_t n = mk_udp(l4, 1024, 53, "abc", 3);

    n = mk_ipv4(ip, 17, NULL, 0, l4, n);
    n = mk_eth(f, 0x0800, ip, n);
    /* Ethernet pads short frames to 60 bytes: the padding is not IP. */
    memset(f + n, 0xee, 60 - n);
    memset(&st, 0, sizeof(st));
    CHECK_INT(dec(&p, DLT_EN10MB, f, 60), 0);
    CHECK_INT(p.flags, PKT_IPV4 | PKT_UDP);
    CHECK_INT(p.l3_len, 31);
    CHECK_INT(p.l4_len, 11);
    CHECK_INT(p.sp, 1024);
    CHECK_INT(p.dp, 53);
    CHECK_INT(p.payload_len, 3);
    CHECK(memcmp(p.payload, "abc", 3) == 0);
    CHECK(decode_checksum_check(&p));
    CHECK_INT(st.udp, 1);
    CHECK_INT(st.invalid, 0);
}

TEST(eth_ipv4_icmp_echo)
{
    uint8_t l4[64], ip[128], f[200];
    struct packet p;
    size_t n = mk_icmp(l4, 8, 0, 0x4242, 7, "ping", 4);

    n = mk_eth(f, 0x0800, ip, mk_ipv4(ip, 1, NULL, 0, l4, n));
    memset(&st, 0, sizeof(st));
    CHECK_INT(dec(&p, DLT_EN10MB, f, n), 0);
    CHECK_INT(p.flags, PKT_IPV4 | PKT_ICMPV4);
    CHECK_INT(p.icmp_type, 8);
    CHECK_INT(p.icmp_code, 0);
    CHECK_INT(p.icmp_id, 0x4242);
    CHECK_INT(p.icmp_seq, 7);
    CHECK_INT(p.sp, 0);
    CHECK_INT(p.payload_len, 4);
    CHECK(decode_checksum_check(&p));
    CHECK_INT(st.icmpv4, 1);

    /* Not an echo: id and seq stay 0. */
    n = mk_icmp(l4, 3, 3, 0, 0, NULL, 0);
    memcpy(l4 + 8, f + 14, 28); /* original datagram */
    n = mk_eth(f, 0x0800, ip, mk_ipv4(ip, 1, NULL, 0, l4, n + 28));
    CHECK_INT(dec(&p, DLT_EN10MB, f, n), 0);
    CHECK_INT(p.flags, PKT_IPV4 | PKT_ICMPV4);
    CHECK_INT(p.icmp_type, 3);
    CHECK_INT(p.icmp_code, 3);
    CHECK_INT(p.icmp_id, 0);
    CHECK_INT(p.nevents, 0);
}

TEST(eth_ipv6_tcp_udp_icmpv6)
{
    uint8_t l4[128], ip[256], f[300];
    struct packet p;
    char buf[INET6_ADDRSTRLEN];
    size_t n;

    memset(&st, 0, sizeof(st));
    n = mk_eth(f, 0x86dd, ip, pkt_v6_udp(ip));
    CHECK_INT(dec(&p, DLT_EN10MB, f, n), 0);
    CHECK_INT(p.flags, PKT_IPV6 | PKT_UDP);
    CHECK_INT(p.src.family, AF_INET6);
    CHECK_STR(kanshi_addr_str(&p.src, buf, sizeof(buf)), "2001:db8::1");
    CHECK_STR(kanshi_addr_str(&p.dst, buf, sizeof(buf)), "2001:db8::2");
    CHECK_INT(p.ttl, 63);
    CHECK_INT(p.tos, 0x2a);
    CHECK_INT(p.l3_hdr_len, 40);
    CHECK_INT(p.l3_len, 53);
    CHECK_INT(p.ip_proto, 17);
    CHECK_INT(p.sp, 5353);
    CHECK_INT(p.dp, 53);
    CHECK_INT(p.payload_len, 5);
    CHECK(decode_checksum_check(&p));

    n = mk_tcp(l4, 443, 50000, TH_ACK | TH_PUSH, NULL, 0, "x", 1);
    n = mk_eth(f, 0x86dd, ip, mk_ipv6(ip, 0, NULL, 0, 6, l4, n));
    CHECK_INT(dec(&p, DLT_EN10MB, f, n), 0);
    CHECK_INT(p.flags, PKT_IPV6 | PKT_TCP);
    CHECK_INT(p.sp, 443);
    CHECK_INT(p.payload_len, 1);
    CHECK(decode_checksum_check(&p));

    n = mk_icmp(l4, 128, 0, 99, 3, "ping6", 5);
    n = mk_eth(f, 0x86dd, ip, mk_ipv6(ip, 0, NULL, 0, 58, l4, n));
    CHECK_INT(dec(&p, DLT_EN10MB, f, n), 0);
    CHECK_INT(p.flags, PKT_IPV6 | PKT_ICMPV6);
    CHECK_INT(p.icmp_type, 128);
    CHECK_INT(p.icmp_id, 99);
    CHECK_INT(p.icmp_seq, 3);
    CHECK_INT(p.payload_len, 5);
    CHECK_INT(p.nevents, 0);
    CHECK(decode_checksum_check(&p));
    CHECK_INT(st.ipv6, 3);
    CHECK_INT(st.udp, 1);
    CHECK_INT(st.tcp, 1);
    CHECK_INT(st.icmpv6, 1);
    CHECK_INT(st.invalid, 0);
}

/* ------------------------------------------------------------------------ */
/* link layers                                                              */

TEST(vlan_and_qinq)
{
    uint8_t ip[256], f[300];
    struct packet p;
    size_t iplen = pkt_v4_tcp(ip), n;
    static const uint16_t one[] = {0x8100, 100};
    static const uint16_t qinq[] = {0x88a8, 200, 0x8100, 300};
    static const uint16_t q9100[] = {0x9100, 7, 0x8100, 4095};
    static const uint16_t three[] = {0x88a8, 1, 0x8100, 2, 0x8100, 3};

    memset(&st, 0, sizeof(st));
    n = mk_eth_vlan(f, one, 1, 0x0800, ip, iplen);
    CHECK_INT(dec(&p, DLT_EN10MB, f, n), 0);
    CHECK_INT(p.flags, PKT_VLAN | PKT_IPV4 | PKT_TCP);
    CHECK_INT(p.vlan_count, 1);
    CHECK_INT(p.vlan_id[0], 100);
    CHECK(p.l3 == heap_copy + 18);

    n = mk_eth_vlan(f, qinq, 2, 0x0800, ip, iplen);
    CHECK_INT(dec(&p, DLT_EN10MB, f, n), 0);
    CHECK_INT(p.flags, PKT_VLAN | PKT_IPV4 | PKT_TCP);
    CHECK_INT(p.vlan_count, 2);
    CHECK_INT(p.vlan_id[0], 200);
    CHECK_INT(p.vlan_id[1], 300);

    n = mk_eth_vlan(f, q9100, 2, 0x0800, ip, iplen);
    CHECK_INT(dec(&p, DLT_EN10MB, f, n), 0);
    CHECK_INT(p.vlan_id[0], 7);
    CHECK_INT(p.vlan_id[1], 4095);
    CHECK_INT(st.vlan, 5);

    n = mk_eth_vlan(f, three, 3, 0x0800, ip, iplen);
    CHECK_INT(dec(&p, DLT_EN10MB, f, n), -EINVAL);
    CHECK_EVENT(&p, DE_VLAN_TOO_MANY_LAYERS);
    CHECK_INT(p.flags & (PKT_IPV4 | PKT_TCP), 0);
    CHECK_INT(st.events[DE_VLAN_TOO_MANY_LAYERS], 1);

    /* A tag cut short. */
    n = mk_eth_vlan(f, one, 1, 0x0800, ip, iplen);
    CHECK_INT(dec(&p, DLT_EN10MB, f, 16), -EINVAL);
    CHECK_EVENT(&p, DE_VLAN_HEADER_TOO_SMALL);
}

TEST(eth_non_ip)
{
    uint8_t f[100], pl[46] = {0};
    struct packet p;
    size_t n;

    memset(&st, 0, sizeof(st));
    n = mk_eth(f, 0x0806, pl, 28); /* ARP */
    CHECK_INT(dec(&p, DLT_EN10MB, f, n), -EINVAL);
    CHECK_INT(p.nevents, 0);
    CHECK_INT(p.flags, 0);
    n = mk_eth(f, 0x88cc, pl, 46); /* LLDP */
    CHECK_INT(dec(&p, DLT_EN10MB, f, n), -EINVAL);
    CHECK_INT(p.nevents, 0);
    n = mk_eth(f, 38, pl, 38); /* 802.3 length + LLC (STP) */
    CHECK_INT(dec(&p, DLT_EN10MB, f, n), -EINVAL);
    CHECK_INT(p.nevents, 0);
    CHECK_INT(st.invalid, 0);
    CHECK_INT(st.ethernet, 3);

    n = mk_eth(f, 0x1234, pl, 46);
    CHECK_INT(dec(&p, DLT_EN10MB, f, n), -EINVAL);
    CHECK_EVENT(&p, DE_ETH_UNKNOWN_ETHERTYPE);
    CHECK_INT(st.invalid, 1);

    CHECK_INT(dec(&p, DLT_EN10MB, f, 13), -EINVAL);
    CHECK_EVENT(&p, DE_ETH_PKT_TOO_SMALL);
    CHECK_INT(st.ethernet, 4);
}

TEST(cooked_linux)
{
    uint8_t ip[256], f[300], pl[28] = {0};
    struct packet p;
    size_t iplen = pkt_v4_tcp(ip), n;

    memset(&st, 0, sizeof(st));
    n = mk_sll(f, 0x0800, ip, iplen);
    CHECK_INT(dec(&p, DLT_LINUX_SLL, f, n), 0);
    CHECK_INT(p.flags, PKT_IPV4 | PKT_TCP);
    CHECK(p.l3 == heap_copy + 16);
    CHECK_INT(st.sll, 1);
    CHECK_INT(dec(&p, DLT_LINUX_SLL, f, 15), -EINVAL);
    CHECK_EVENT(&p, DE_SLL_PKT_TOO_SMALL);

    n = mk_sll2(f, 0x86dd, ip, pkt_v6_udp(ip));
    CHECK_INT(dec(&p, DLT_LINUX_SLL2, f, n), 0);
    CHECK_INT(p.flags, PKT_IPV6 | PKT_UDP);
    CHECK(p.l3 == heap_copy + 20);
    CHECK_INT(st.sll2, 1);
    CHECK_INT(dec(&p, DLT_LINUX_SLL2, f, 19), -EINVAL);
    CHECK_EVENT(&p, DE_SLL2_PKT_TOO_SMALL);

    /* A VLAN tag inside cooked capture, and non-IP protocols. */
    {
        uint8_t tagged[300];
        put16(tagged, 42);
        put16(tagged + 2, 0x0800);
        iplen = pkt_v4_tcp(tagged + 4);
        n = mk_sll(f, 0x8100, tagged, iplen + 4);
        CHECK_INT(dec(&p, DLT_LINUX_SLL, f, n), 0);
        CHECK_INT(p.vlan_count, 1);
        CHECK_INT(p.vlan_id[0], 42);
    }
    n = mk_sll(f, 0x0806, pl, sizeof(pl));
    CHECK_INT(dec(&p, DLT_LINUX_SLL, f, n), -EINVAL);
    CHECK_INT(p.nevents, 0);
    n = mk_sll2(f, 0x0004, pl, sizeof(pl)); /* 802.2 LLC */
    CHECK_INT(dec(&p, DLT_LINUX_SLL2, f, n), -EINVAL);
    CHECK_INT(p.nevents, 0);
}

TEST(bsd_loopback)
{
    uint8_t ip4[256], ip6[256], f[300];
    struct packet p;
    size_t n4 = pkt_v4_tcp(ip4), n6 = pkt_v6_udp(ip6), n;
    static const uint32_t v6fam[] = {24, 28, 30};

    memset(&st, 0, sizeof(st));
    for (int big = 0; big <= 1; big++) {
        n = mk_null(f, 2, big, ip4, n4);
        CHECK_INT(dec(&p, DLT_NULL, f, n), 0);
        CHECK_INT(p.flags, PKT_IPV4 | PKT_TCP);
        CHECK_INT(dec(&p, DLT_LOOP, f, n), 0);
        CHECK_INT(p.flags, PKT_IPV4 | PKT_TCP);
        for (size_t i = 0; i < 3; i++) {
            n = mk_null(f, v6fam[i], big, ip6, n6);
            CHECK_INT(dec(&p, DLT_NULL, f, n), 0);
            CHECK_INT(p.flags, PKT_IPV6 | PKT_UDP);
            CHECK(p.l3 == heap_copy + 4);
        }
    }
    CHECK_INT(st.null, 10);
    n = mk_null(f, 7, false, ip4, n4);
    CHECK_INT(dec(&p, DLT_NULL, f, n), -EINVAL);
    CHECK_EVENT(&p, DE_NULL_UNSUPPORTED_TYPE);
    CHECK_INT(dec(&p, DLT_LOOP, f, 3), -EINVAL);
    CHECK_EVENT(&p, DE_NULL_PKT_TOO_SMALL);
}

TEST(raw_ip)
{
    uint8_t ip4[256], ip6[256];
    struct packet p;
    size_t n4 = pkt_v4_tcp(ip4), n6 = pkt_v6_udp(ip6);
    static const int dlts[] = {DLT_RAW, 12, 14, 101, 228, 229};

    memset(&st, 0, sizeof(st));
    for (size_t i = 0; i < sizeof(dlts) / sizeof(dlts[0]); i++) {
        CHECK_INT(dec(&p, dlts[i], ip4, n4), 0);
        CHECK_INT(p.flags, PKT_IPV4 | PKT_TCP);
        CHECK(p.l3 == heap_copy);
        CHECK_INT(dec(&p, dlts[i], ip6, n6), 0);
        CHECK_INT(p.flags, PKT_IPV6 | PKT_UDP);
    }
    CHECK_INT(st.raw, 12);
    ip4[0] = 0x55;
    CHECK_INT(dec(&p, DLT_RAW, ip4, n4), -EINVAL);
    CHECK_EVENT(&p, DE_RAW_INVALID_IPV);
    CHECK_INT(dec(&p, DLT_RAW, ip4, 0), -EINVAL);
    CHECK_EVENT(&p, DE_RAW_INVALID_IPV);

    CHECK_INT(dec(&p, 147 /* DLT_USER0 */, ip6, n6), -EINVAL);
    CHECK_EVENT(&p, DE_LINKTYPE_UNSUPPORTED);
    CHECK_INT(p.linktype, 147);
    CHECK_INT(st.pkts, 15);
}

/* ------------------------------------------------------------------------ */
/* IPv4                                                                     */

/* Decodes IPv4 with options opts + a TCP segment; returns the packet. */
static int dec_v4_opts(struct packet *p, const uint8_t *opts, size_t olen)
{
    uint8_t l4[64], ip[128];
    size_t n = mk_tcp(l4, 1, 2, TH_SYN, NULL, 0, NULL, 0);

    n = mk_ipv4(ip, 6, opts, olen, l4, n);
    return dec(p, DLT_RAW, ip, n);
}

TEST(ipv4_options_valid)
{
    struct packet p;
    /* RR with room for 2 addresses, TS (flag 1, one record used), NOP, EOL */
    static const uint8_t o1[] = {7,  11, 8,  1, 2, 3, 4, 0, 0, 0, 0, /* RR, ptr 8: one filled */
                                 68, 20, 13, 1, 1, 2, 3, 4, 0, 0, 0, 5, 0,
                                 0,  0,  0,  0, 0, 0, 0, 1, 0, 0, 0, 0};
    static const uint8_t o2[] = {131, 7,  4, 0, 0,   0, 0, 137, 7, 8, 1, 1,   1, 1,
                                 130, 11, 0, 0, 0,   0, 0, 0,   0, 0, 0, 133, 3, 1,
                                 136, 4,  0, 1, 148, 4, 0, 0,   0, 0, 0, 0};
    static const uint8_t rtralt[] = {148, 4, 0, 0};

    memset(&st, 0, sizeof(st));
    CHECK_INT(sizeof(o1) % 4, 0);
    CHECK_INT(sizeof(o2) % 4, 0);
    CHECK_INT(dec_v4_opts(&p, o1, sizeof(o1)), 0);
    CHECK_INT(p.nevents, 0);
    CHECK_INT(p.flags, PKT_IPV4 | PKT_IPV4_OPTS | PKT_TCP);
    CHECK_INT(p.ipopts, IPOPT_BIT_RR | IPOPT_BIT_TS | IPOPT_BIT_NOP | IPOPT_BIT_EOL);
    CHECK_INT(p.l3_hdr_len, 20 + sizeof(o1));
    CHECK(decode_checksum_check(&p));

    CHECK_INT(dec_v4_opts(&p, o2, sizeof(o2)), 0);
    CHECK_INT(p.nevents, 0);
    CHECK_INT(p.flags, PKT_IPV4 | PKT_IPV4_OPTS | PKT_TCP);
    CHECK_INT(p.ipopts, IPOPT_BIT_LSRR | IPOPT_BIT_SSRR | IPOPT_BIT_SEC | IPOPT_BIT_ESEC |
                            IPOPT_BIT_SATID | IPOPT_BIT_OTHER | IPOPT_BIT_EOL);

    CHECK_INT(dec_v4_opts(&p, rtralt, sizeof(rtralt)), 0);
    CHECK_INT(p.nevents, 0);
    CHECK_INT(p.ipopts, IPOPT_BIT_OTHER);
    CHECK_INT(st.invalid, 0);
}

TEST(ipv4_options_malformed)
{
    struct packet p;
    static const uint8_t too_long[] = {7, 9, 4, 0, 0, 0, 0, 0}; /* runs past the header */
    static const uint8_t zero_len[] = {7, 0, 4, 0};
    static const uint8_t one_len[] = {130, 1, 0, 0};
    static const uint8_t rr_ptr[] = {7, 7, 5, 0, 0, 0, 0, 0};      /* pointer not aligned */
    static const uint8_t rr_ptr_big[] = {7, 7, 12, 0, 0, 0, 0, 0}; /* past the end */
    static const uint8_t rr_short[] = {7, 2, 0, 0};                /* no pointer */
    static const uint8_t ts_flag[] = {68, 8, 5, 2, 0, 0, 0, 0};    /* flag 2 */
    static const uint8_t ts_ptr[] = {68, 12, 9, 1, 0, 0, 0, 0, 0, 0, 0, 0}; /* not on a record */
    static const uint8_t satid_len[] = {136, 3, 0, 0};
    static const uint8_t dup[] = {136, 4, 0, 1, 136, 4, 0, 2};
    static const uint8_t unknown[] = {99, 4, 0, 0};
    static const uint8_t eol_req[] = {1, 1, 1, 7};
    static const uint8_t pad_req[] = {0, 0, 5, 0};

    memset(&st, 0, sizeof(st));
    CHECK_INT(dec_v4_opts(&p, too_long, sizeof(too_long)), 0);
    CHECK_EVENT(&p, DE_IPV4_OPT_INVALID_LEN);
    CHECK_INT(p.flags, PKT_IPV4 | PKT_IPV4_OPTS | PKT_INVALID);
    CHECK(p.l4 == NULL);
    CHECK_INT(dec_v4_opts(&p, zero_len, sizeof(zero_len)), 0);
    CHECK_EVENT(&p, DE_IPV4_OPT_INVALID_LEN);
    CHECK_INT(p.flags & PKT_TCP, 0);
    CHECK_INT(dec_v4_opts(&p, one_len, sizeof(one_len)), 0);
    CHECK_EVENT(&p, DE_IPV4_OPT_INVALID_LEN);
    CHECK_INT(dec_v4_opts(&p, rr_short, sizeof(rr_short)), 0);
    CHECK_EVENT(&p, DE_IPV4_OPT_INVALID_LEN);
    CHECK_INT(p.flags & PKT_INVALID, PKT_INVALID);
    CHECK_INT(dec_v4_opts(&p, satid_len, sizeof(satid_len)), 0);
    CHECK_EVENT(&p, DE_IPV4_OPT_INVALID_LEN);

    CHECK_INT(dec_v4_opts(&p, rr_ptr, sizeof(rr_ptr)), 0);
    CHECK_EVENT(&p, DE_IPV4_OPT_MALFORMED);
    CHECK_INT(p.flags & (PKT_TCP | PKT_INVALID), PKT_INVALID);
    CHECK_INT(dec_v4_opts(&p, rr_ptr_big, sizeof(rr_ptr_big)), 0);
    CHECK_EVENT(&p, DE_IPV4_OPT_MALFORMED);
    CHECK_INT(dec_v4_opts(&p, ts_flag, sizeof(ts_flag)), 0);
    CHECK_EVENT(&p, DE_IPV4_OPT_MALFORMED);
    CHECK_INT(dec_v4_opts(&p, ts_ptr, sizeof(ts_ptr)), 0);
    CHECK_EVENT(&p, DE_IPV4_OPT_MALFORMED);

    /* Warnings only: the packet goes on to TCP. */
    CHECK_INT(dec_v4_opts(&p, dup, sizeof(dup)), 0);
    CHECK_EVENT(&p, DE_IPV4_OPT_DUPLICATE);
    CHECK_INT(p.flags & (PKT_TCP | PKT_INVALID), PKT_TCP);
    CHECK_INT(dec_v4_opts(&p, unknown, sizeof(unknown)), 0);
    CHECK_EVENT(&p, DE_IPV4_OPT_UNKNOWN);
    CHECK_INT(p.ipopts, IPOPT_BIT_OTHER);
    CHECK_INT(p.flags & PKT_TCP, PKT_TCP);
    CHECK_INT(dec_v4_opts(&p, eol_req, sizeof(eol_req)), 0);
    CHECK_EVENT(&p, DE_IPV4_OPT_EOL_REQUIRED);
    CHECK_INT(p.flags & PKT_TCP, PKT_TCP);
    CHECK_INT(dec_v4_opts(&p, pad_req, sizeof(pad_req)), 0);
    CHECK_EVENT(&p, DE_IPV4_OPT_PAD_REQUIRED);
    CHECK_INT(p.flags & PKT_TCP, PKT_TCP);
    CHECK_INT(st.ipv4, 13);
    CHECK_INT(st.invalid, 13);
}

TEST(ipv4_header_malformed)
{
    uint8_t ip[256], f[300];
    struct packet p;
    size_t n = pkt_v4_tcp(ip);

    memset(&st, 0, sizeof(st));
    memcpy(f, ip, n);
    f[0] = 0x44; /* IHL 4 */
    CHECK_INT(dec(&p, DLT_RAW, f, n), -EINVAL);
    CHECK_EVENT(&p, DE_IPV4_HLEN_TOO_SMALL);
    CHECK_INT(p.flags, PKT_INVALID);

    memcpy(f, ip, n);
    put16(f + 2, 19); /* total length < header length */
    CHECK_INT(dec(&p, DLT_RAW, f, n), -EINVAL);
    CHECK_EVENT(&p, DE_IPV4_IPLEN_SMALLER_THAN_HLEN);

    memcpy(f, ip, n);
    put16(f + 2, (uint16_t)(n + 1)); /* longer than the packet */
    CHECK_INT(dec(&p, DLT_RAW, f, n), -EINVAL);
    CHECK_EVENT(&p, DE_IPV4_TRUNC_PKT);

    memcpy(f, ip, n);
    f[0] = 0x4f; /* IHL 15 = 60 bytes, more than the packet's header */
    put16(f + 2, 40);
    CHECK_INT(dec(&p, DLT_RAW, f, 40), -EINVAL);
    CHECK_EVENT(&p, DE_IPV4_IPLEN_SMALLER_THAN_HLEN);

    /* Version 6 behind ethertype IPv4, and the other way round. */
    n = mk_eth(f, 0x0800, ip, pkt_v6_udp(ip));
    CHECK_INT(dec(&p, DLT_EN10MB, f, n), -EINVAL);
    CHECK_EVENT(&p, DE_IPV4_WRONG_IP_VER);
    n = mk_eth(f, 0x86dd, ip, pkt_v4_tcp(ip));
    CHECK_INT(dec(&p, DLT_EN10MB, f, n), -EINVAL);
    CHECK_EVENT(&p, DE_IPV6_WRONG_IP_VER);

    CHECK_INT(dec(&p, DLT_RAW, ip, 19), -EINVAL);
    CHECK_EVENT(&p, DE_IPV4_PKT_TOO_SMALL);
    CHECK_INT(st.ipv4, 0);
    CHECK_INT(st.invalid, 7);
}

TEST(ipv4_snaplen_cut)
{
    uint8_t ip[256];
    struct packet p;
    size_t n = pkt_v4_tcp(ip);

    /* Captured 62 of n bytes: decoded as far as present, no event. */
    memset(&st, 0, sizeof(st));
    CHECK_INT(dec_wire(&p, DLT_RAW, ip, 62, n), 0);
    CHECK_INT(p.nevents, 0);
    CHECK_INT(p.flags, PKT_IPV4 | PKT_TCP);
    CHECK_INT(p.l3_len, 62);
    CHECK_INT(p.payload_len, 2);
    /* Not judged: the segment is incomplete. */
    CHECK(decode_checksum_check(&p));
    CHECK_INT(p.flags & PKT_L4_CSUM_BAD, 0);
    /* But the IP header checksum still is. */
    ip[8] = 1;
    CHECK_INT(dec_wire(&p, DLT_RAW, ip, 62, n), 0);
    CHECK(!decode_checksum_check(&p));
    CHECK_INT(p.flags & (PKT_IP_CSUM_BAD | PKT_L4_CSUM_BAD), PKT_IP_CSUM_BAD);

    /* The wire length does not excuse a total length past the wire. */
    put16(ip + 2, (uint16_t)(n + 10));
    CHECK_INT(dec_wire(&p, DLT_RAW, ip, 62, n), -EINVAL);
    CHECK_EVENT(&p, DE_IPV4_TRUNC_PKT);
}

TEST(ipv4_fragments)
{
    uint8_t l4[64], ip[128];
    struct packet p;
    size_t n = mk_udp(l4, 1, 2, "0123456789abcdef", 16);

    memset(&st, 0, sizeof(st));
    n = mk_ipv4(ip, 17, NULL, 0, l4, n);
    put16(ip + 6, 0x2000); /* MF, offset 0 */
    fix_ipv4_csum(ip);
    CHECK_INT(dec(&p, DLT_RAW, ip, n), 0);
    CHECK_INT(p.flags, PKT_IPV4 | PKT_FRAGMENT);
    CHECK_INT(p.frag_flags, IPFRAG_MF);
    CHECK_INT(p.frag_offset, 0);
    CHECK_INT(p.ip_proto, 17);
    CHECK(p.l4 == NULL);
    CHECK(decode_checksum_check(&p));

    put16(ip + 6, 100); /* last fragment at 800 */
    fix_ipv4_csum(ip);
    CHECK_INT(dec(&p, DLT_RAW, ip, n), 0);
    CHECK_INT(p.flags, PKT_IPV4 | PKT_FRAGMENT);
    CHECK_INT(p.frag_offset, 100);
    CHECK_INT(p.nevents, 0);
    CHECK_INT(st.frag4, 2);
    CHECK_INT(st.udp, 0);

    put16(ip + 6, 0x1fff); /* 65528 + 24 bytes > 65535 */
    fix_ipv4_csum(ip);
    CHECK_INT(dec(&p, DLT_RAW, ip, n), 0);
    CHECK_EVENT(&p, DE_IPV4_FRAG_PKT_TOO_LARGE);
    CHECK_INT(p.flags, PKT_IPV4 | PKT_FRAGMENT | PKT_INVALID);
}

TEST(ipv4_other_protocols)
{
    uint8_t ip[128], l4[64];
    struct packet p;
    size_t n;

    memset(&st, 0, sizeof(st));
    memset(l4, 0, sizeof(l4));
    n = mk_ipv4(ip, 47, NULL, 0, l4, 16); /* GRE */
    CHECK_INT(dec(&p, DLT_RAW, ip, n), 0);
    CHECK_INT(p.flags, PKT_IPV4);
    CHECK_INT(p.ip_proto, 47);
    CHECK(p.l4 == heap_copy + 20);
    CHECK_INT(p.l4_len, 16);
    CHECK_INT(st.other_l4, 1);
    CHECK(decode_checksum_check(&p));

    n = mk_icmp(l4, 128, 0, 1, 1, NULL, 0);
    n = mk_ipv4(ip, 58, NULL, 0, l4, n);
    CHECK_INT(dec(&p, DLT_RAW, ip, n), 0);
    CHECK_EVENT(&p, DE_IPV4_WITH_ICMPV6);
    CHECK_INT(p.flags, PKT_IPV4 | PKT_INVALID);
}

/* ------------------------------------------------------------------------ */
/* IPv6                                                                     */

TEST(ipv6_extension_headers)
{
    uint8_t ext[256], l4[128], ip[512];
    struct packet p;
    size_t e = 0, n, tl;

    memset(&st, 0, sizeof(st));
    /* hop-by-hop, destination options, routing, destination options, AH, TCP */
    e += ext_opts(ext + e, 60, 8);
    e += ext_opts(ext + e, 43, 16);
    e += ext_routing(ext + e, 60, 0);
    e += ext_opts(ext + e, 51, 8);
    e += ext_ah(ext + e, 6);
    tl = mk_tcp(l4, 22, 2222, TH_ACK, tcp_opts_syn, sizeof(tcp_opts_syn), "ssh", 3);
    n = mk_ipv6(ip, 0, ext, e, 6, l4, tl);
    CHECK_INT(dec(&p, DLT_RAW, ip, n), 0);
    CHECK_INT(p.nevents, 0);
    CHECK_INT(p.flags, PKT_IPV6 | PKT_TCP);
    CHECK_INT(p.ip_proto, 6);
    CHECK_INT(p.l3_hdr_len, 40 + e);
    CHECK(p.l4 == heap_copy + 40 + e);
    CHECK_INT(p.l4_len, tl);
    CHECK_INT(p.sp, 22);
    CHECK_INT(p.payload_len, 3);
    CHECK(decode_checksum_check(&p));
    heap_copy[n - 1] ^= 1;
    CHECK(!decode_checksum_check(&p));
    CHECK_INT(p.flags & PKT_L4_CSUM_BAD, PKT_L4_CSUM_BAD);

    /* ESP and no-next-header end the chain. */
    e = ext_opts(ext, 50, 8);
    memset(ext + e, 0xaa, 16);
    n = mk_ipv6(ip, 0, ext, e + 16, 50, l4, 0);
    CHECK_INT(dec(&p, DLT_RAW, ip, n), 0);
    CHECK_INT(p.flags, PKT_IPV6);
    CHECK_INT(p.ip_proto, 50);
    CHECK_INT(p.l3_hdr_len, 48);
    CHECK_INT(p.l4_len, 16);
    n = mk_ipv6(ip, 59, NULL, 0, 59, l4, 0);
    CHECK_INT(dec(&p, DLT_RAW, ip, n), 0);
    CHECK_INT(p.flags, PKT_IPV6);
    CHECK_INT(p.ip_proto, 59);
    CHECK_INT(p.nevents, 0);
    CHECK_INT(st.other_l4, 2);
    CHECK_INT(st.invalid, 0);
}

/*
 * The IPv6 pseudo-header holds the addresses the receiver sees: the final
 * destination of a routing header, the home address of a destination
 * option.  Built by checksumming with those, then patching the header.
 */
TEST(ipv6_pseudo_header_addresses)
{
    static const uint8_t final[16] = {0x20, 0x01, 0x0d, 0xb8, 0xff, [15] = 0x99};
    uint8_t ext[64], l4[64], ip[256];
    struct packet p;
    size_t e, n, tl = mk_udp(l4, 1, 2, "routed", 6);

    /* type 2 routing header, one segment left, final destination inside */
    e = ext_routing(ext, 17, 1);
    memcpy(ext + 8, final, 16);
    n = mk_ipv6(ip, 43, ext, e, 17, l4, tl);
    CHECK_INT(dec(&p, DLT_RAW, ip, n), 0);
    CHECK(!decode_checksum_check(&p)); /* computed over the header's address */
    mk6_dst = final;
    n = mk_ipv6(ip, 43, ext, e, 17, l4, tl);
    mk6_dst = v6_dst;
    memcpy(ip + 24, v6_dst, 16);
    CHECK_INT(dec(&p, DLT_RAW, ip, n), 0);
    CHECK(decode_checksum_check(&p));
    /* with no segment left the header's destination is the final one */
    ip[40 + 3] = 0;
    CHECK_INT(dec(&p, DLT_RAW, ip, n), 0);
    CHECK(!decode_checksum_check(&p));

    /* segment routing header (type 4): segment list[0] is the final hop */
    ext[2] = 4;
    mk6_dst = final;
    n = mk_ipv6(ip, 43, ext, e, 17, l4, tl);
    mk6_dst = v6_dst;
    memcpy(ip + 24, v6_dst, 16);
    CHECK_INT(dec(&p, DLT_RAW, ip, n), 0);
    CHECK(decode_checksum_check(&p));

    /* RPL (type 3) compresses its addresses: not judged */
    ext[2] = 3;
    n = mk_ipv6(ip, 43, ext, e, 17, l4, tl);
    ip[n - 1] ^= 0xff;
    CHECK_INT(dec(&p, DLT_RAW, ip, n), 0);
    CHECK(decode_checksum_check(&p));
    CHECK_INT(p.flags & PKT_L4_CSUM_BAD, 0);

    /* home address option: PadN(2), then type 201 length 16 */
    memset(ext, 0, 24);
    ext[0] = 17;
    ext[1] = 2;
    ext[2] = 1;
    ext[3] = 2;
    ext[6] = 201;
    ext[7] = 16;
    memcpy(ext + 8, final, 16);
    mk6_src = final;
    n = mk_ipv6(ip, 60, ext, 24, 17, l4, tl);
    mk6_src = v6_src;
    memcpy(ip + 8, v6_src, 16);
    CHECK_INT(dec(&p, DLT_RAW, ip, n), 0);
    CHECK_INT(p.nevents, 0);
    CHECK(decode_checksum_check(&p));
    ext[6] = 202; /* another option: the header's source counts */
    mk6_src = final;
    n = mk_ipv6(ip, 60, ext, 24, 17, l4, tl);
    mk6_src = v6_src;
    memcpy(ip + 8, v6_src, 16);
    CHECK_INT(dec(&p, DLT_RAW, ip, n), 0);
    CHECK(!decode_checksum_check(&p));
}

TEST(ipv6_fragments)
{
    uint8_t ext[64], l4[128], ip[512];
    struct packet p;
    size_t e, n, tl = mk_udp(l4, 7, 9, "0123456789abcdef", 16);

    memset(&st, 0, sizeof(st));
    /* First fragment: offset 0, MF. */
    e = ext_frag(ext, 17, 0, true, 0xdeadbeef);
    n = mk_ipv6(ip, 44, ext, e, 17, l4, tl);
    CHECK_INT(dec(&p, DLT_RAW, ip, n), 0);
    CHECK_INT(p.flags, PKT_IPV6 | PKT_FRAGMENT);
    CHECK_INT(p.frag_flags, IPFRAG_MF);
    CHECK_INT(p.frag_offset, 0);
    CHECK_INT(p.ip_id, 0xdeadbeef);
    CHECK_INT(p.ip_proto, 17);
    CHECK_INT(p.l3_hdr_len, 48);
    CHECK(p.l4 == NULL);
    CHECK_INT(p.nevents, 0);

    /* Later fragment behind a hop-by-hop header. */
    e = ext_opts(ext, 44, 8);
    e += ext_frag(ext + e, 17, 3, false, 5);
    n = mk_ipv6(ip, 0, ext, e, 17, l4, tl);
    CHECK_INT(dec(&p, DLT_RAW, ip, n), 0);
    CHECK_INT(p.flags, PKT_IPV6 | PKT_FRAGMENT);
    CHECK_INT(p.frag_offset, 3);
    CHECK_INT(p.frag_flags, 0);
    CHECK_INT(st.frag6, 2);
    CHECK(decode_checksum_check(&p));

    /* Atomic fragment: a whole packet, decoded. */
    e = ext_frag(ext, 17, 0, false, 6);
    n = mk_ipv6(ip, 44, ext, e, 17, l4, tl);
    CHECK_INT(dec(&p, DLT_RAW, ip, n), 0);
    CHECK_INT(p.flags, PKT_IPV6 | PKT_UDP);
    CHECK_INT(p.ip_id, 6);
    CHECK(decode_checksum_check(&p));
    CHECK_INT(st.frag6, 2);

    /* MF with a length that is not a multiple of 8. */
    e = ext_frag(ext, 17, 1, true, 7);
    n = mk_ipv6(ip, 44, ext, e, 17, l4, 20);
    CHECK_INT(dec(&p, DLT_RAW, ip, n), 0);
    CHECK_EVENT(&p, DE_IPV6_FRAG_INVALID_LENGTH);
    CHECK_INT(p.flags, PKT_IPV6 | PKT_FRAGMENT | PKT_INVALID);

    /* Past 65535 bytes once reassembled. */
    e = ext_frag(ext, 17, 8190, false, 8);
    n = mk_ipv6(ip, 44, ext, e, 17, l4, tl);
    CHECK_INT(dec(&p, DLT_RAW, ip, n), 0);
    CHECK_EVENT(&p, DE_IPV6_FRAG_PKT_TOO_LARGE);

    /* Fragment header cut short. */
    e = ext_frag(ext, 17, 1, true, 7);
    n = mk_ipv6(ip, 44, ext, 6, 17, l4, 0);
    CHECK_INT(dec(&p, DLT_RAW, ip, n), 0);
    CHECK_EVENT(&p, DE_IPV6_TRUNC_EXTHDR);
    CHECK_INT(p.flags, PKT_IPV6 | PKT_INVALID);
}

TEST(ipv6_extension_malformed)
{
    uint8_t ext[512], l4[64], ip[1024];
    struct packet p;
    size_t e, n, tl = mk_udp(l4, 1, 2, NULL, 0);

    memset(&st, 0, sizeof(st));
    /* hop-by-hop twice */
    e = ext_opts(ext, 0, 8);
    e += ext_opts(ext + e, 17, 8);
    n = mk_ipv6(ip, 0, ext, e, 17, l4, tl);
    CHECK_INT(dec(&p, DLT_RAW, ip, n), 0);
    CHECK_EVENT(&p, DE_IPV6_HOPOPTS_NOT_FIRST);
    CHECK_EVENT(&p, DE_IPV6_EXTHDR_DUPL_HH);
    CHECK_INT(p.flags & PKT_UDP, PKT_UDP);

    /* hop-by-hop after destination options */
    e = ext_opts(ext, 0, 8);
    e += ext_opts(ext + e, 17, 8);
    n = mk_ipv6(ip, 60, ext, e, 17, l4, tl);
    CHECK_INT(dec(&p, DLT_RAW, ip, n), 0);
    CHECK_EVENT(&p, DE_IPV6_HOPOPTS_NOT_FIRST);
    CHECK(!has_event(&p, DE_IPV6_EXTHDR_DUPL_HH));

    /* destination options twice without a routing header between */
    e = ext_opts(ext, 60, 8);
    e += ext_opts(ext + e, 17, 8);
    n = mk_ipv6(ip, 60, ext, e, 17, l4, tl);
    CHECK_INT(dec(&p, DLT_RAW, ip, n), 0);
    CHECK_EVENT(&p, DE_IPV6_EXTHDR_DUPL_DH);

    /* routing twice, AH twice */
    e = ext_routing(ext, 43, 0);
    e += ext_routing(ext + e, 17, 0);
    n = mk_ipv6(ip, 43, ext, e, 17, l4, tl);
    CHECK_INT(dec(&p, DLT_RAW, ip, n), 0);
    CHECK_EVENT(&p, DE_IPV6_EXTHDR_DUPL_RH);
    e = ext_ah(ext, 51);
    e += ext_ah(ext + e, 17);
    n = mk_ipv6(ip, 51, ext, e, 17, l4, tl);
    CHECK_INT(dec(&p, DLT_RAW, ip, n), 0);
    CHECK_EVENT(&p, DE_IPV6_EXTHDR_DUPL_AH);

    /* an atomic fragment header, then another */
    e = ext_frag(ext, 44, 0, false, 1);
    e += ext_frag(ext + e, 17, 0, false, 2);
    n = mk_ipv6(ip, 44, ext, e, 17, l4, tl);
    CHECK_INT(dec(&p, DLT_RAW, ip, n), 0);
    CHECK_EVENT(&p, DE_IPV6_EXTHDR_DUPL_FH);

    /* an option running past its header */
    e = ext_opts(ext, 17, 8);
    ext[3] = 5;
    n = mk_ipv6(ip, 0, ext, e, 17, l4, tl);
    CHECK_INT(dec(&p, DLT_RAW, ip, n), 0);
    CHECK_EVENT(&p, DE_IPV6_EXTHDR_INVALID_OPTLEN);
    CHECK_INT(p.flags & PKT_UDP, PKT_UDP);

    /* a header longer than the payload */
    e = ext_opts(ext, 17, 8);
    ext[1] = 3;
    n = mk_ipv6(ip, 60, ext, e, 17, l4, tl);
    CHECK_INT(dec(&p, DLT_RAW, ip, n), 0);
    CHECK_EVENT(&p, DE_IPV6_TRUNC_EXTHDR);
    CHECK_INT(p.flags, PKT_IPV6 | PKT_INVALID);

    /* twenty destination options headers: the walk stops */
    e = 0;
    for (int i = 0; i < 20; i++)
        e += ext_opts(ext + e, i == 19 ? 17 : 60, 8);
    n = mk_ipv6(ip, 60, ext, e, 17, l4, tl);
    CHECK_INT(dec(&p, DLT_RAW, ip, n), 0);
    CHECK_EVENT(&p, DE_IPV6_EXTHDR_DUPL_DH);
    CHECK_INT(p.flags, PKT_IPV6 | PKT_INVALID);

    /* payload length past the packet, header cut */
    n = pkt_v6_udp(ip);
    CHECK_INT(dec(&p, DLT_RAW, ip, n - 1), -EINVAL);
    CHECK_EVENT(&p, DE_IPV6_TRUNC_PKT);
    CHECK_INT(dec(&p, DLT_RAW, ip, 39), -EINVAL);
    CHECK_EVENT(&p, DE_IPV6_PKT_TOO_SMALL);

    /* ICMPv4 inside IPv6; an unassigned next header */
    n = mk_icmp(l4, 8, 0, 1, 1, NULL, 0);
    n = mk_ipv6(ip, 0, NULL, 0, 1, l4, n);
    CHECK_INT(dec(&p, DLT_RAW, ip, n), 0);
    CHECK_EVENT(&p, DE_IPV6_WITH_ICMPV4);
    CHECK_INT(p.flags, PKT_IPV6 | PKT_INVALID);
    n = mk_ipv6(ip, 0, NULL, 0, 200, l4, 8);
    CHECK_INT(dec(&p, DLT_RAW, ip, n), 0);
    CHECK_EVENT(&p, DE_IPV6_UNKNOWN_NEXT_HEADER);
    CHECK_INT(p.flags, PKT_IPV6);
    n = mk_ipv6(ip, 0, NULL, 0, 132, l4, 8); /* SCTP: known, not decoded */
    CHECK_INT(dec(&p, DLT_RAW, ip, n), 0);
    CHECK_INT(p.nevents, 0);
    CHECK_INT(p.ip_proto, 132);
}

/* ------------------------------------------------------------------------ */
/* TCP, UDP, ICMP                                                           */

static int dec_v4_tcp(struct packet *p, const uint8_t *opts, size_t olen, uint8_t doff)
{
    uint8_t l4[128], ip[256];
    size_t n = mk_tcp(l4, 1000, 2000, TH_ACK, opts, olen, "data", 4);

    if (doff)
        l4[12] = (uint8_t)(doff << 4);
    n = mk_ipv4(ip, 6, NULL, 0, l4, n);
    return dec(p, DLT_RAW, ip, n);
}

TEST(tcp_header_and_options)
{
    struct packet p;
    static const uint8_t sack[] = {1, 1, 5, 18, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4};
    static const uint8_t mss_len[] = {2, 3, 5, 0};
    static const uint8_t past[] = {1, 1, 8, 10};
    static const uint8_t zero[] = {8, 0, 0, 0};
    static const uint8_t dup[] = {2, 4, 5, 0xb4, 2, 4, 5, 0xb4};
    static const uint8_t last[] = {1, 1, 1, 2};
    static const uint8_t unknown_kind[] = {77, 4, 0, 0};

    memset(&st, 0, sizeof(st));
    CHECK_INT(dec_v4_tcp(&p, tcp_opts_syn, sizeof(tcp_opts_syn), 0), 0);
    CHECK_INT(p.flags, PKT_IPV4 | PKT_TCP);
    CHECK_INT(p.nevents, 0);
    CHECK_INT(p.payload_len, 4);
    CHECK(memcmp(p.payload, "data", 4) == 0);
    CHECK_INT(dec_v4_tcp(&p, sack, sizeof(sack), 0), 0);
    CHECK_INT(p.nevents, 0);
    CHECK_INT(dec_v4_tcp(&p, unknown_kind, sizeof(unknown_kind), 0), 0);
    CHECK_INT(p.nevents, 0);

    CHECK_INT(dec_v4_tcp(&p, mss_len, sizeof(mss_len), 0), 0);
    CHECK_EVENT(&p, DE_TCP_OPT_INVALID_LEN);
    CHECK_INT(p.flags, PKT_IPV4 | PKT_TCP);
    CHECK_INT(dec_v4_tcp(&p, past, sizeof(past), 0), 0);
    CHECK_EVENT(&p, DE_TCP_OPT_INVALID_LEN);
    CHECK_INT(dec_v4_tcp(&p, zero, sizeof(zero), 0), 0);
    CHECK_EVENT(&p, DE_TCP_OPT_INVALID_LEN);
    CHECK_INT(dec_v4_tcp(&p, dup, sizeof(dup), 0), 0);
    CHECK_EVENT(&p, DE_TCP_OPT_DUPLICATE);
    CHECK_INT(dec_v4_tcp(&p, last, sizeof(last), 0), 0);
    CHECK_EVENT(&p, DE_TCP_INVALID_OPTLEN);
    CHECK_INT(p.flags & PKT_TCP, PKT_TCP);

    /* Data offset below 5, and past the segment. */
    CHECK_INT(dec_v4_tcp(&p, NULL, 0, 4), 0);
    CHECK_EVENT(&p, DE_TCP_HLEN_TOO_SMALL);
    CHECK_INT(p.flags, PKT_IPV4 | PKT_INVALID);
    CHECK_INT(dec_v4_tcp(&p, NULL, 0, 7), 0);
    CHECK_EVENT(&p, DE_TCP_PKT_TOO_SMALL);
    CHECK_INT(p.flags, PKT_IPV4 | PKT_INVALID);
    CHECK_INT(st.tcp, 8);
}

static int dec_v4_udp(struct packet *p, int ulen_delta, size_t ip_extra)
{
    uint8_t l4[128], ip[256];
    size_t n = mk_udp(l4, 53, 3333, "answer", 6);

    memset(l4 + n, 0x77, ip_extra);
    put16(l4 + 4, (uint16_t)(14 + ulen_delta));
    n = mk_ipv4(ip, 17, NULL, 0, l4, n + ip_extra);
    return dec(p, DLT_RAW, ip, n);
}

TEST(udp_lengths)
{
    uint8_t ip[64], l4[8];
    struct packet p;
    size_t n;

    memset(&st, 0, sizeof(st));
    CHECK_INT(dec_v4_udp(&p, 0, 0), 0);
    CHECK_INT(p.flags, PKT_IPV4 | PKT_UDP);
    CHECK_INT(p.payload_len, 6);
    CHECK(decode_checksum_check(&p));

    /* UDP length shorter than the IP payload: payload ends where UDP says. */
    CHECK_INT(dec_v4_udp(&p, 0, 5), 0);
    CHECK_INT(p.flags, PKT_IPV4 | PKT_UDP);
    CHECK_INT(p.nevents, 0);
    CHECK_INT(p.payload_len, 6);
    CHECK_INT(p.l4_len, 19);
    CHECK(decode_checksum_check(&p));

    CHECK_INT(dec_v4_udp(&p, 1, 0), 0);
    CHECK_EVENT(&p, DE_UDP_HLEN_INVALID);
    CHECK_INT(p.flags, PKT_IPV4 | PKT_INVALID);
    CHECK_INT(dec_v4_udp(&p, -7, 0), 0);
    CHECK_EVENT(&p, DE_UDP_LEN_INVALID);
    CHECK_INT(p.flags, PKT_IPV4 | PKT_INVALID);

    /* An IP payload too short for a UDP header. */
    memset(l4, 0, sizeof(l4));
    n = mk_ipv4(ip, 17, NULL, 0, l4, 7);
    CHECK_INT(dec(&p, DLT_RAW, ip, n), 0);
    CHECK_EVENT(&p, DE_UDP_HLEN_TOO_SMALL);
    /* Room for it on the wire, but the capture stopped inside it. */
    n = mk_ipv4(ip, 17, NULL, 0, l4, 8);
    CHECK_INT(dec_wire(&p, DLT_RAW, ip, 25, n), 0);
    CHECK_EVENT(&p, DE_UDP_PKT_TOO_SMALL);
    CHECK_INT(st.udp, 2);
}

TEST(icmp_types_and_codes)
{
    uint8_t l4[64], ip[128];
    struct packet p;
    size_t n;
    struct {
        uint8_t v6, type, code;
        int ev; /* -1: none */
    } cases[] = {
        {0, 0, 0, -1},
        {0, 0, 1, DE_ICMPV4_UNKNOWN_CODE},
        {0, 3, 15, -1},
        {0, 3, 16, DE_ICMPV4_UNKNOWN_CODE},
        {0, 11, 2, DE_ICMPV4_UNKNOWN_CODE},
        {0, 9, 16, -1},
        {0, 43, 4, -1},
        {0, 44, 0, DE_ICMPV4_UNKNOWN_TYPE},
        {0, 200, 0, DE_ICMPV4_UNKNOWN_TYPE},
        {0, 253, 9, -1},
        {1, 1, 8, -1},
        {1, 1, 9, DE_ICMPV6_UNKNOWN_CODE},
        {1, 129, 0, -1},
        {1, 129, 1, DE_ICMPV6_UNKNOWN_CODE},
        {1, 135, 0, -1},
        {1, 5, 0, DE_ICMPV6_UNKNOWN_TYPE},
        {1, 100, 0, -1},
        {1, 161, 4, -1},
        {1, 162, 0, DE_ICMPV6_UNKNOWN_TYPE},
        {1, 255, 0, -1},
    };

    memset(&st, 0, sizeof(st));
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        n = mk_icmp(l4, cases[i].type, cases[i].code, 1, 2, "x", 1);
        n = cases[i].v6 ? mk_ipv6(ip, 0, NULL, 0, 58, l4, n) : mk_ipv4(ip, 1, NULL, 0, l4, n);
        CHECK_INT(dec(&p, DLT_RAW, ip, n), 0);
        CHECK_INT(p.flags & (PKT_ICMPV4 | PKT_ICMPV6), cases[i].v6 ? PKT_ICMPV6 : PKT_ICMPV4);
        CHECK_INT(p.icmp_type, cases[i].type);
        if (cases[i].ev < 0) {
            if (p.nevents != 0)
                fprintf(stderr, "case %zu: unexpected %s\n", i, decode_event_name(p.events[0]));
            CHECK_INT(p.nevents, 0);
        } else {
            CHECK_EVENT(&p, (enum decode_event)cases[i].ev);
        }
        CHECK(decode_checksum_check(&p));
    }

    n = mk_ipv4(ip, 1, NULL, 0, l4, 7);
    CHECK_INT(dec(&p, DLT_RAW, ip, n), 0);
    CHECK_EVENT(&p, DE_ICMPV4_PKT_TOO_SMALL);
    CHECK_INT(p.flags, PKT_IPV4 | PKT_INVALID);
    n = mk_ipv6(ip, 0, NULL, 0, 58, l4, 7);
    CHECK_INT(dec(&p, DLT_RAW, ip, n), 0);
    CHECK_EVENT(&p, DE_ICMPV6_PKT_TOO_SMALL);
    CHECK_INT(p.flags, PKT_IPV6 | PKT_INVALID);
}

/* ------------------------------------------------------------------------ */
/* checksums                                                                */

TEST(checksums)
{
    uint8_t l4[128], ip[256], f[300];
    struct packet p;
    size_t n, tl;

    /* IPv4 header checksum */
    n = pkt_v4_tcp(ip);
    CHECK_INT(dec(&p, DLT_RAW, ip, n), 0);
    CHECK(decode_checksum_check(&p));
    heap_copy[10] ^= 0x01;
    CHECK(!decode_checksum_check(&p));
    CHECK_INT(p.flags & (PKT_IP_CSUM_BAD | PKT_L4_CSUM_BAD), PKT_IP_CSUM_BAD);
    heap_copy[10] ^= 0x01;
    CHECK(decode_checksum_check(&p));
    CHECK_INT(p.flags & (PKT_IP_CSUM_BAD | PKT_L4_CSUM_BAD), 0);

    /* TCP over IPv4, odd payload length */
    heap_copy[n - 1] ^= 0x80;
    CHECK(!decode_checksum_check(&p));
    CHECK_INT(p.flags & (PKT_IP_CSUM_BAD | PKT_L4_CSUM_BAD), PKT_L4_CSUM_BAD);

    /* UDP over IPv4: zero means "none"; otherwise judged */
    tl = mk_udp(l4, 1, 2, "odd", 3);
    n = mk_ipv4(ip, 17, NULL, 0, l4, tl);
    CHECK_INT(dec(&p, DLT_RAW, ip, n), 0);
    CHECK(decode_checksum_check(&p));
    put16(heap_copy + 26, 0);
    CHECK(decode_checksum_check(&p));
    put16(heap_copy + 26, 0x1234);
    CHECK(!decode_checksum_check(&p));

    /* UDP over IPv6: zero is not allowed */
    n = pkt_v6_udp(ip);
    CHECK_INT(dec(&p, DLT_RAW, ip, n), 0);
    CHECK(decode_checksum_check(&p));
    put16(heap_copy + 46, 0);
    CHECK(!decode_checksum_check(&p));
    CHECK_INT(p.flags & PKT_L4_CSUM_BAD, PKT_L4_CSUM_BAD);

    /* ICMPv4 and ICMPv6 */
    tl = mk_icmp(l4, 0, 0, 1, 2, "pong", 4);
    n = mk_eth(f, 0x0800, ip, mk_ipv4(ip, 1, NULL, 0, l4, tl));
    CHECK_INT(dec(&p, DLT_EN10MB, f, n), 0);
    CHECK(decode_checksum_check(&p));
    heap_copy[n - 2] ^= 0x10;
    CHECK(!decode_checksum_check(&p));
    tl = mk_icmp(l4, 129, 0, 1, 2, "pong6", 5);
    n = mk_eth(f, 0x86dd, ip, mk_ipv6(ip, 0, NULL, 0, 58, l4, tl));
    CHECK_INT(dec(&p, DLT_EN10MB, f, n), 0);
    CHECK(decode_checksum_check(&p));
    p.src.a[0] ^= 0x01; /* the pseudo-header counts */
    CHECK(!decode_checksum_check(&p));
    CHECK_INT(p.flags & PKT_L4_CSUM_BAD, PKT_L4_CSUM_BAD);

    /* A packet that never decoded has nothing to judge. */
    CHECK_INT(dec(&p, DLT_EN10MB, f, 10), -EINVAL);
    CHECK(decode_checksum_check(&p));
}

/* ------------------------------------------------------------------------ */
/* truncation at every byte                                                 */

/*
 * Decodes every prefix of frame[0..n) whose valid headers end at hdr_end.
 * A cut inside the headers must fail or raise an event and never set the
 * L4 flag; any cut of a packet that claims more bytes must raise an event;
 * the same cut marked as a snaplen cut (wirelen n) must not raise events
 * once the headers are complete.
 */
static void truncate_all(int dlt, const uint8_t *frame, size_t n, size_t hdr_end, uint32_t l4flag)
{
    struct packet p;
    struct packet full;

    CHECK_INT(dec(&full, dlt, frame, n), 0);
    CHECK_INT(full.nevents, 0);
    CHECK_INT(full.flags & l4flag, l4flag);
    for (size_t cut = 0; cut < n; cut++) {
        int rc = dec(&p, dlt, frame, cut);

        if (!(rc == -EINVAL || p.nevents > 0)) {
            fprintf(stderr, "dlt %d cut %zu/%zu: rc %d, no event\n", dlt, cut, n, rc);
            test_cur_failed = 1;
        }
        if (cut < hdr_end && (p.flags & l4flag)) {
            fprintf(stderr, "dlt %d cut %zu: L4 flag inside the headers\n", dlt, cut);
            test_cur_failed = 1;
        }
        decode_checksum_check(&p);

        rc = dec_wire(&p, dlt, frame, cut, n);
        decode_checksum_check(&p);
        CHECK_INT(p.flags & PKT_L4_CSUM_BAD, 0);
        if (cut >= hdr_end && (rc != 0 || p.nevents != 0 || !(p.flags & l4flag))) {
            fprintf(stderr, "dlt %d snaplen cut %zu/%zu: rc %d, %d events\n", dlt, cut, n, rc,
                    p.nevents);
            test_cur_failed = 1;
        }
    }
}

TEST(truncation_every_byte)
{
    uint8_t l4[256], ip[512], f[600], ext[128];
    size_t n, tl, e, il;
    static const uint16_t qinq[] = {0x88a8, 10, 0x8100, 20};
    static const uint8_t opts[] = {7, 7, 4, 0, 0, 0, 0, 1, 68, 12, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0};

    memset(&st, 0, sizeof(st));
    il = pkt_v4_tcp(ip);
    n = mk_eth(f, 0x0800, ip, il);
    truncate_all(DLT_EN10MB, f, n, n - 5, PKT_TCP);
    n = mk_eth_vlan(f, qinq, 2, 0x0800, ip, il);
    truncate_all(DLT_EN10MB, f, n, n - 5, PKT_TCP);
    n = mk_sll(f, 0x0800, ip, il);
    truncate_all(DLT_LINUX_SLL, f, n, n - 5, PKT_TCP);
    n = mk_null(f, 2, false, ip, il);
    truncate_all(DLT_NULL, f, n, n - 5, PKT_TCP);

    /* IPv4 options + UDP */
    tl = mk_udp(l4, 1, 2, "payload", 7);
    n = mk_eth(f, 0x0800, ip, mk_ipv4(ip, 17, opts, sizeof(opts), l4, tl));
    truncate_all(DLT_EN10MB, f, n, n - 7, PKT_UDP);

    /* ICMP echo */
    tl = mk_icmp(l4, 8, 0, 1, 1, "abcdefgh", 8);
    n = mk_ipv4(ip, 1, NULL, 0, l4, tl);
    truncate_all(DLT_RAW, ip, n, n - 8, PKT_ICMPV4);

    /* IPv6 with extension headers + TCP, via SLL2 */
    e = ext_opts(ext, 43, 8);
    e += ext_routing(ext + e, 60, 0);
    e += ext_opts(ext + e, 6, 16);
    tl = mk_tcp(l4, 5, 6, TH_SYN, tcp_opts_syn, sizeof(tcp_opts_syn), "zz", 2);
    il = mk_ipv6(ip, 0, ext, e, 6, l4, tl);
    n = mk_sll2(f, 0x86dd, ip, il);
    truncate_all(DLT_LINUX_SLL2, f, n, n - 2, PKT_TCP);

    /* ICMPv6 echo, raw */
    tl = mk_icmp(l4, 128, 0, 1, 1, "abc", 3);
    n = mk_ipv6(ip, 0, NULL, 0, 58, l4, tl);
    truncate_all(DLT_IPV6, ip, n, n - 3, PKT_ICMPV6);
}

/* ------------------------------------------------------------------------ */
/* events, names, addresses                                                 */

TEST(event_bookkeeping)
{
    struct packet p;
    /* six option problems in one header: 5 unknown kinds, then a bad length */
    static const uint8_t opts[] = {99, 2, 99, 2, 99, 2, 99, 2, 99, 2, 7, 9, 0, 0, 0, 0};

    memset(&st, 0, sizeof(st));
    CHECK_INT(dec_v4_opts(&p, opts, sizeof(opts)), 0);
    CHECK_INT(p.nevents, PACKET_MAX_EVENTS);
    CHECK_INT(p.events[0], DE_IPV4_OPT_UNKNOWN);
    CHECK_INT(st.events[DE_IPV4_OPT_UNKNOWN], 5);
    CHECK_INT(st.events[DE_IPV4_OPT_INVALID_LEN], 1);
    CHECK_INT(st.invalid, 1);
    CHECK_INT(p.flags & PKT_INVALID, PKT_INVALID);

    /* The next packet starts clean. */
    CHECK_INT(dec_v4_opts(&p, NULL, 0), 0);
    CHECK_INT(p.nevents, 0);
    CHECK_INT(p.flags, PKT_IPV4 | PKT_TCP);
    CHECK_INT(p.ipopts, 0);
    CHECK_INT(st.invalid, 1);
    CHECK_INT(st.pkts, 2);
}

TEST(event_names)
{
    CHECK_STR(decode_event_name(DE_IPV4_TRUNC_PKT), "decoder.ipv4.trunc_pkt");
    CHECK_STR(decode_event_name(DE_ETH_PKT_TOO_SMALL), "decoder.ethernet.pkt_too_small");
    CHECK_STR(decode_event_name(DE_ICMPV6_UNKNOWN_CODE), "decoder.icmpv6.unknown_code");
    CHECK_STR(decode_event_name(DE_MAX), "decoder.unknown");
    CHECK_STR(decode_event_name((enum decode_event) - 1), "decoder.unknown");
    for (int i = 0; i < DE_MAX; i++) {
        const char *s = decode_event_name((enum decode_event)i);
        CHECK(s != NULL && strncmp(s, "decoder.", 8) == 0);
        for (int j = 0; j < i; j++)
            if (strcmp(s, decode_event_name((enum decode_event)j)) == 0) {
                fprintf(stderr, "duplicate event name %s\n", s);
                test_cur_failed = 1;
            }
    }
}

TEST(addr_str)
{
    struct kanshi_addr a = {0};
    char buf[INET6_ADDRSTRLEN], small[8];

    a.family = AF_INET;
    a.a[0] = 10, a.a[3] = 255;
    CHECK_STR(kanshi_addr_str(&a, buf, sizeof(buf)), "10.0.0.255");
    a.family = AF_INET6;
    memset(a.a, 0, 16);
    a.a[0] = 0xfe, a.a[1] = 0x80, a.a[15] = 0x42;
    CHECK_STR(kanshi_addr_str(&a, buf, sizeof(buf)), "fe80::42");
    memset(a.a, 0xff, 16);
    CHECK_STR(kanshi_addr_str(&a, buf, sizeof(buf)), "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
    CHECK_STR(kanshi_addr_str(&a, small, sizeof(small)), "");
    a.family = 0;
    CHECK_STR(kanshi_addr_str(&a, buf, sizeof(buf)), "");
    CHECK_STR(kanshi_addr_str(NULL, buf, sizeof(buf)), "");
    CHECK_STR(kanshi_addr_str(&a, NULL, 0), "");
}

/* ------------------------------------------------------------------------ */
/* the shared pcap corpus                                                   */

TEST(pcap_corpus)
{
    const char *path = test_shared_path("data/pcaps/corpus-ether.pcap");
    char err[PCAP_ERRBUF_SIZE];
    struct pcap_pkthdr *h;
    const u_char *data;
    struct decode_stats cs;
    struct packet p;
    pcap_t *pc;
    uint64_t n = 0, ok = 0, bad_csum = 0;
    int rc;

    if (path == NULL)
        SKIP("data/pcaps/corpus-ether.pcap not found");
    pc = pcap_open_offline(path, err);
    CHECK(pc != NULL);
    if (pc == NULL)
        return;
    memset(&cs, 0, sizeof(cs));
    while ((rc = pcap_next_ex(pc, &h, &data)) == 1) {
        if (decode_packet(&p, pcap_datalink(pc), data, h->caplen, h->len,
                          (uint64_t)h->ts.tv_sec * 1000000 + (uint64_t)h->ts.tv_usec, &cs) == 0)
            ok++;
        if (!decode_checksum_check(&p))
            bad_csum++;
        n++;
    }
    CHECK_INT(rc, PCAP_ERROR_BREAK);
    pcap_close(pc);
    CHECK_INT(n, 268525);
    CHECK_INT(cs.pkts, n);
    CHECK_INT(cs.ethernet + cs.events[DE_ETH_PKT_TOO_SMALL], n);
    CHECK(ok > n / 2);
    CHECK(cs.ipv4 + cs.ipv6 == ok);
    CHECK(cs.tcp > 0 && cs.udp > 0);
    fprintf(stderr,
            "pcap_corpus: %" PRIu64 " packets, %" PRIu64 " IP, %" PRIu64 " tcp, %" PRIu64
            " udp, %" PRIu64 " icmp, %" PRIu64 " ipv6, %" PRIu64 " invalid, %" PRIu64
            " bad checksums\n",
            n, ok, cs.tcp, cs.udp, cs.icmpv4 + cs.icmpv6, cs.ipv6, cs.invalid, bad_csum);
    if (getenv("DECODE_TEST_VERBOSE") != NULL)
        for (int i = 0; i < DE_MAX; i++)
            if (cs.events[i])
                fprintf(stderr, "  %s: %" PRIu64 "\n", decode_event_name((enum decode_event)i),
                        cs.events[i]);
}

int main(void)
{
    RUN(eth_ipv4_tcp);
    RUN(eth_ipv4_udp_padded);
    RUN(eth_ipv4_icmp_echo);
    RUN(eth_ipv6_tcp_udp_icmpv6);
    RUN(vlan_and_qinq);
    RUN(eth_non_ip);
    RUN(cooked_linux);
    RUN(bsd_loopback);
    RUN(raw_ip);
    RUN(ipv4_options_valid);
    RUN(ipv4_options_malformed);
    RUN(ipv4_header_malformed);
    RUN(ipv4_snaplen_cut);
    RUN(ipv4_fragments);
    RUN(ipv4_other_protocols);
    RUN(ipv6_extension_headers);
    RUN(ipv6_pseudo_header_addresses);
    RUN(ipv6_fragments);
    RUN(ipv6_extension_malformed);
    RUN(tcp_header_and_options);
    RUN(udp_lengths);
    RUN(icmp_types_and_codes);
    RUN(checksums);
    RUN(truncation_every_byte);
    RUN(event_bookkeeping);
    RUN(event_names);
    RUN(addr_str);
    RUN(pcap_corpus);
    free(heap_copy);
    return test_summary("decode");
}
