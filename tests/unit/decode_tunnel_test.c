/*
 * decode_tunnel_test.c — unit tests of the tunnel and link-layer step
 * decoders (sensor/decode_tunnel.c and its dispatch from the Ethernet, IP
 * and UDP decoders).
 *
 * Frames are built inside out, byte by byte, by the small wrappers below,
 * then decoded from an exactly sized heap copy so the sanitizer build
 * catches any read past the capture.  For each tunnel: the outer packet as
 * itself, the inner packet through decode_tunnel_packet() (addresses, ports,
 * payload), truncation at each header, malformed headers with their
 * Suricata event names, and the nesting limits.  The last test decodes the
 * shared pcap corpus with every inner packet.
 */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "kanshi/decode.h"
#include "kanshi/packet.h"
#include "test.h"

#ifndef DLT_IPV4
#define DLT_IPV4 228
#endif
#ifndef DLT_IPV6
#define DLT_IPV6 229
#endif

#define OUT_SRC 0xc0000201u /* 192.0.2.1 */
#define OUT_DST 0xc0000202u /* 192.0.2.2 */
#define IN_SRC 0x0a000001u  /* 10.0.0.1 */
#define IN_DST 0x0a000002u  /* 10.0.0.2 */

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static struct decode_stats st;
static uint8_t *heap_copy;
static size_t heap_len;

/* ------------------------------------------------------------------------ */
/* builders: each writes its header into o, then the n bytes of in after it */

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

static uint32_t get32(const uint8_t *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* Any header given as bytes. */
static size_t w_hdr(uint8_t *o, const uint8_t *h, size_t hn, const uint8_t *in, size_t n)
{
    memcpy(o, h, hn);
    memcpy(o + hn, in, n);
    return hn + n;
}

static size_t w_tcp(uint8_t *o, uint16_t sp, uint16_t dp, uint8_t flags, const char *pl)
{
    size_t n = strlen(pl);

    memset(o, 0, 20);
    put16(o, sp);
    put16(o + 2, dp);
    put32(o + 4, 1000);
    o[12] = 5 << 4;
    o[13] = flags;
    put16(o + 14, 8192);
    memcpy(o + 20, pl, n);
    return 20 + n;
}

static size_t w_udp(uint8_t *o, uint16_t sp, uint16_t dp, const uint8_t *in, size_t n)
{
    put16(o, sp);
    put16(o + 2, dp);
    put16(o + 4, (uint16_t)(8 + n));
    put16(o + 6, 0);
    memcpy(o + 8, in, n);
    return 8 + n;
}

static size_t w_ip4(uint8_t *o, uint8_t proto, uint32_t src, uint32_t dst, const uint8_t *in,
                    size_t n)
{
    memset(o, 0, 20);
    o[0] = 0x45;
    put16(o + 2, (uint16_t)(20 + n));
    put16(o + 4, 0x4242);
    o[8] = 64;
    o[9] = proto;
    put32(o + 12, src);
    put32(o + 16, dst);
    memcpy(o + 20, in, n);
    return 20 + n;
}

/* IPv6 with addresses 2001:db8::<src> and 2001:db8::<dst>. */
static size_t w_ip6(uint8_t *o, uint8_t nh, uint8_t src, uint8_t dst, const uint8_t *in, size_t n)
{
    memset(o, 0, 40);
    o[0] = 0x60;
    put16(o + 4, (uint16_t)n);
    o[6] = nh;
    o[7] = 64;
    o[8] = 0x20, o[9] = 0x01, o[10] = 0x0d, o[11] = 0xb8, o[23] = src;
    o[24] = 0x20, o[25] = 0x01, o[26] = 0x0d, o[27] = 0xb8, o[39] = dst;
    memcpy(o + 40, in, n);
    return 40 + n;
}

static size_t w_eth(uint8_t *o, uint16_t type, const uint8_t *in, size_t n)
{
    static const uint8_t macs[12] = {2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2};

    memcpy(o, macs, 12);
    put16(o + 12, type);
    memcpy(o + 14, in, n);
    return 14 + n;
}

/* GRE version 0 with the given flag byte (key, sequence, checksum filled). */
static size_t w_gre0(uint8_t *o, uint8_t flags, uint16_t proto, const uint8_t *in, size_t n)
{
    size_t h = 4;

    o[0] = flags;
    o[1] = 0;
    put16(o + 2, proto);
    if (flags & 0xc0) {
        put32(o + h, 0);
        h += 4;
    }
    if (flags & 0x20) {
        put32(o + h, 0x11223344);
        h += 4;
    }
    if (flags & 0x10) {
        put32(o + h, 7);
        h += 4;
    }
    memcpy(o + h, in, n);
    return h + n;
}

/* An inner IPv4/TCP packet 10.0.0.1:1234 -> 10.0.0.2:80 carrying pl. */
static size_t inner_v4_tcp(uint8_t *o, const char *pl)
{
    uint8_t t[1500];
    size_t n = w_tcp(t, 1234, 80, TH_ACK | TH_PUSH, pl);

    return w_ip4(o, 6, IN_SRC, IN_DST, t, n);
}

/* An inner IPv6/UDP packet 2001:db8::1:5353 -> 2001:db8::2:53 carrying pl. */
static size_t inner_v6_udp(uint8_t *o, const char *pl)
{
    uint8_t t[1500];
    size_t n = w_udp(t, 5353, 53, (const uint8_t *)pl, strlen(pl));

    return w_ip6(o, 17, 1, 2, t, n);
}

/* IPv4 outer (192.0.2.1 -> 192.0.2.2) in Ethernet around an IP payload. */
static size_t outer_v4(uint8_t *o, uint8_t proto, const uint8_t *in, size_t n)
{
    uint8_t t[2048];

    n = w_ip4(t, proto, OUT_SRC, OUT_DST, in, n);
    return w_eth(o, 0x0800, t, n);
}

/* IPv4/UDP outer in Ethernet around a UDP payload. */
static size_t outer_udp(uint8_t *o, uint16_t sp, uint16_t dp, const uint8_t *in, size_t n)
{
    uint8_t t[2048];

    n = w_udp(t, sp, dp, in, n);
    return outer_v4(o, 17, t, n);
}

/* ------------------------------------------------------------------------ */
/* decoding helpers                                                         */

static int dec_wire(struct packet *p, int dlt, const uint8_t *b, size_t n, size_t wirelen)
{
    free(heap_copy);
    heap_copy = malloc(n ? n : 1);
    heap_len = n;
    if (n)
        memcpy(heap_copy, b, n);
    return decode_packet(p, dlt, heap_copy, (uint32_t)n, (uint32_t)wirelen, 1000, &st);
}

static int dec(struct packet *p, const uint8_t *b, size_t n)
{
    return dec_wire(p, DLT_EN10MB, b, n, n);
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

/* The tunnel of p lies inside the capture. */
static bool tunnel_inside(const struct packet *p)
{
    return p->tunnel_data >= heap_copy && p->tunnel_len <= heap_len &&
           p->tunnel_data + p->tunnel_len <= heap_copy + heap_len;
}

/* Checks that q is the inner IPv4/TCP packet inner_v4_tcp() built with pl. */
static void check_inner_v4_tcp(const struct packet *q, const char *pl, int line)
{
    bool ok = (q->flags & (PKT_IPV4 | PKT_TCP)) == (PKT_IPV4 | PKT_TCP) &&
              !(q->flags & PKT_INVALID) && get32(q->src.a) == IN_SRC && get32(q->dst.a) == IN_DST &&
              q->sp == 1234 && q->dp == 80 && q->payload_len == strlen(pl) &&
              memcmp(q->payload, pl, strlen(pl)) == 0;

    if (!ok) {
        fprintf(stderr, "%s:%d: %s: inner packet is not 10.0.0.1:1234 -> 10.0.0.2:80 \"%s\"\n",
                __FILE__, line, test_cur_name, pl);
        test_cur_failed = 1;
    }
}

static void check_inner_v6_udp(const struct packet *q, const char *pl, int line)
{
    bool ok = (q->flags & (PKT_IPV6 | PKT_UDP)) == (PKT_IPV6 | PKT_UDP) &&
              q->src.family == AF_INET6 && q->src.a[15] == 1 && q->dst.a[15] == 2 &&
              q->sp == 5353 && q->dp == 53 && q->payload_len == strlen(pl) &&
              memcmp(q->payload, pl, strlen(pl)) == 0;

    if (!ok) {
        fprintf(stderr, "%s:%d: %s: inner packet is not [2001:db8::1]:5353 -> ::2:53 \"%s\"\n",
                __FILE__, line, test_cur_name, pl);
        test_cur_failed = 1;
    }
}

#define CHECK_INNER_V4_TCP(q, pl) check_inner_v4_tcp((q), (pl), __LINE__)
#define CHECK_INNER_V6_UDP(q, pl) check_inner_v6_udp((q), (pl), __LINE__)

/* The outer IPv4 packet kept its own fields. */
#define CHECK_OUTER_V4(p)                                                                          \
    do {                                                                                           \
        CHECK(((p)->flags & PKT_IPV4) != 0);                                                       \
        CHECK_INT(get32((p)->src.a), OUT_SRC);                                                     \
        CHECK_INT(get32((p)->dst.a), OUT_DST);                                                     \
    } while (0)

/* ------------------------------------------------------------------------ */
/* GRE                                                                      */

TEST(gre_ipv4_in_ipv4)
{
    uint8_t a[2048], b[2048];
    struct packet p, q;
    size_t n;

    memset(&st, 0, sizeof(st));
    n = inner_v4_tcp(a, "GET / HTTP/1.1\r\n");
    n = w_gre0(b, 0xb0, 0x0800, a, n); /* checksum, key, sequence */
    n = outer_v4(a, 47, b, n);
    CHECK_INT(dec(&p, a, n), 0);
    CHECK_OUTER_V4(&p);
    CHECK_INT(p.flags, PKT_IPV4 | PKT_TUNNEL);
    CHECK_INT(p.ip_proto, 47);
    CHECK_INT(p.nevents, 0);
    CHECK_INT(p.tunnel_linktype, DLT_IPV4);
    CHECK(p.tunnel_data == heap_copy + 14 + 20 + 16);
    CHECK_INT(p.tunnel_len, 20 + 20 + 16);
    CHECK_INT(p.tunnel_depth, 0);
    CHECK_INT(st.gre, 1);
    CHECK_INT(st.other_l4, 1); /* GRE is not TCP, UDP or ICMP */

    CHECK_INT(decode_tunnel_packet(&q, &p, &st), 0);
    CHECK_INNER_V4_TCP(&q, "GET / HTTP/1.1\r\n");
    CHECK_INT(q.tunnel_depth, 1);
    CHECK_INT(q.linktype, DLT_IPV4);
    CHECK(q.data == p.tunnel_data);
    CHECK_INT(q.caplen, p.tunnel_len);
    CHECK_INT(q.ts_usec, 1000);
    CHECK(!(q.flags & PKT_TUNNEL));
    CHECK_INT(st.tunnel_pkts, 1);
    CHECK_INT(st.pkts, 1); /* inner packets are not captured packets */
    CHECK_INT(st.ipv4, 2);
    CHECK_INT(st.tcp, 1);
}

TEST(gre_other_payloads)
{
    uint8_t a[2048], b[2048];
    struct packet p, q;
    size_t n;

    memset(&st, 0, sizeof(st));
    /* Transparent Ethernet bridging: an Ethernet frame. */
    n = inner_v4_tcp(a, "teb");
    n = w_eth(b, 0x0800, a, n);
    n = w_gre0(a, 0x20, 0x6558, b, n);
    n = outer_v4(b, 47, a, n);
    CHECK_INT(dec(&p, b, n), 0);
    CHECK_INT(p.tunnel_linktype, DLT_EN10MB);
    CHECK_INT(decode_tunnel_packet(&q, &p, &st), 0);
    CHECK_INNER_V4_TCP(&q, "teb");
    CHECK_INT(st.ethernet, 2);

    /* IPv6 inside, over an IPv6 outer header. */
    n = inner_v6_udp(a, "v6 in gre");
    n = w_gre0(b, 0, 0x86dd, a, n);
    n = w_ip6(a, 47, 0x11, 0x22, b, n);
    n = w_eth(b, 0x86dd, a, n);
    CHECK_INT(dec(&p, b, n), 0);
    CHECK_INT(p.flags, PKT_IPV6 | PKT_TUNNEL);
    CHECK_INT(p.src.a[15], 0x11);
    CHECK_INT(p.tunnel_linktype, DLT_IPV6);
    CHECK_INT(decode_tunnel_packet(&q, &p, &st), 0);
    CHECK_INNER_V6_UDP(&q, "v6 in gre");

    /* Protocols kanshi does not inspect: the outer packet alone. */
    n = w_gre0(a, 0, 0x0806, (const uint8_t *)"arp.........................", 28);
    n = outer_v4(b, 47, a, n);
    CHECK_INT(dec(&p, b, n), 0);
    CHECK_INT(p.flags, PKT_IPV4);
    CHECK_INT(p.nevents, 0);
    CHECK_INT(decode_tunnel_packet(&q, &p, &st), -EINVAL);
    n = w_gre0(a, 0, 0x8200, (const uint8_t *)"aruba", 5);
    n = outer_v4(b, 47, a, n);
    CHECK_INT(dec(&p, b, n), 0);
    CHECK_INT(p.flags, PKT_IPV4);
    CHECK_INT(st.gre, 4);
}

TEST(gre_source_routes)
{
    /* Routing present: checksum/offset, then two SREs and the null one. */
    static const uint8_t hdr[] = {0x40, 0,    0x08, 0x00, 0, 0, 0, 0, /* csum, offset */
                                  0x08, 0x00, 0,    4,    1, 2, 3, 4, /* IP SRE, 4 bytes */
                                  0x08, 0x00, 0,    0,                /* AF IP, length 0 */
                                  0,    0,    0,    0};               /* null SRE */
    uint8_t a[2048], b[2048];
    struct packet p, q;
    size_t n, m;

    memset(&st, 0, sizeof(st));
    m = inner_v4_tcp(a, "routed");
    n = w_hdr(b, hdr, sizeof(hdr), a, m);
    n = outer_v4(a, 47, b, n);
    CHECK_INT(dec(&p, a, n), 0);
    CHECK(p.flags & PKT_TUNNEL);
    CHECK(p.tunnel_data == heap_copy + 34 + sizeof(hdr));
    CHECK_INT(decode_tunnel_packet(&q, &p, &st), 0);
    CHECK_INNER_V4_TCP(&q, "routed");

    /* No null SRE before the end, or an SRE longer than what is left. */
    for (size_t cut = 8; cut < sizeof(hdr); cut++) {
        n = outer_v4(a, 47, hdr, cut);
        CHECK_INT(dec(&p, a, n), 0);
        CHECK_EVENT(&p, DE_GRE_VERSION0_MALFORMED_SRE_HDR);
        CHECK_INT(p.flags, PKT_IPV4 | PKT_INVALID);
    }
}

TEST(gre_malformed)
{
    static const uint8_t full[12] = {0x30, 0, 0x08, 0, 1, 2, 3, 4, 0, 0, 0, 9}; /* key, seq */
    static const struct {
        uint8_t b0, b1;
        uint16_t proto;
        enum decode_event ev;
    } bad[] = {
        {0x01, 0x00, 0x0800, DE_GRE_VERSION0_RECUR},
        {0x07, 0x00, 0x0800, DE_GRE_VERSION0_RECUR},
        {0x00, 0x08, 0x0800, DE_GRE_VERSION0_FLAGS},
        {0x00, 0x40, 0x0800, DE_GRE_VERSION0_FLAGS},
        {0x00, 0x02, 0x0800, DE_GRE_WRONG_VERSION},
        {0x00, 0x07, 0x0800, DE_GRE_WRONG_VERSION},
        {0xa0, 0x01, 0x880b, DE_GRE_VERSION1_CHKSUM},
        {0x60, 0x01, 0x880b, DE_GRE_VERSION1_ROUTE},
        {0x28, 0x01, 0x880b, DE_GRE_VERSION1_SSR},
        {0x21, 0x01, 0x880b, DE_GRE_VERSION1_RECUR},
        {0x20, 0x11, 0x880b, DE_GRE_VERSION1_FLAGS},
        {0x20, 0x01, 0x0800, DE_GRE_VERSION1_WRONG_PROTOCOL},
        {0x00, 0x01, 0x880b, DE_GRE_VERSION1_NO_KEY},
    };
    uint8_t a[256], g[64];
    struct packet p;
    size_t n;

    memset(&st, 0, sizeof(st));
    /* Cut inside the fixed header, then inside the optional fields. */
    for (size_t cut = 0; cut < sizeof(full); cut++) {
        n = outer_v4(a, 47, full, cut);
        CHECK_INT(dec(&p, a, n), 0);
        CHECK_OUTER_V4(&p);
        CHECK_EVENT(&p, cut < 4 ? DE_GRE_PKT_TOO_SMALL : DE_GRE_VERSION0_HDR_TOO_BIG);
        CHECK_INT(p.flags, PKT_IPV4 | PKT_INVALID);
        CHECK(p.tunnel_data == NULL);
    }
    CHECK_INT(st.gre, sizeof(full));

    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        memset(g, 0, sizeof(g));
        g[0] = bad[i].b0;
        g[1] = bad[i].b1;
        put16(g + 2, bad[i].proto);
        n = outer_v4(a, 47, g, 40);
        CHECK_INT(dec(&p, a, n), 0);
        CHECK_EVENT(&p, bad[i].ev);
        CHECK_INT(p.flags, PKT_IPV4 | PKT_INVALID);
        CHECK_INT(p.nevents, 1);
    }

    /* Version 1: key present, sequence and acknowledgement announced but
     * cut off. */
    g[0] = 0x30;
    g[1] = 0x81;
    put16(g + 2, 0x880b);
    for (size_t cut = 8; cut < 16; cut++) {
        n = outer_v4(a, 47, g, cut);
        CHECK_INT(dec(&p, a, n), 0);
        CHECK_EVENT(&p, DE_GRE_VERSION1_HDR_TOO_BIG);
    }
}

/* PPTP: enhanced GRE carrying PPP. */
TEST(gre_pptp_ppp)
{
    uint8_t a[2048], b[2048], g[16] = {0x30, 0x81, 0x88, 0x0b};
    struct packet p, q;
    size_t n, m;

    memset(&st, 0, sizeof(st));
    /* Full PPP header ff 03 00 21 and an IPv4 packet. */
    m = inner_v4_tcp(a, "pptp");
    b[0] = 0xff, b[1] = 0x03, b[2] = 0x00, b[3] = 0x21;
    memcpy(b + 4, a, m);
    m += 4;
    put16(g + 4, (uint16_t)m); /* payload length */
    n = w_hdr(a, g, 16, b, m);
    n = outer_v4(b, 47, a, n);
    CHECK_INT(dec(&p, b, n), 0);
    CHECK_INT(p.flags, PKT_IPV4 | PKT_TUNNEL);
    CHECK_INT(p.tunnel_linktype, DLT_PPP);
    CHECK_INT(p.tunnel_len, m);
    CHECK_INT(decode_tunnel_packet(&q, &p, &st), 0);
    CHECK_INNER_V4_TCP(&q, "pptp");
    CHECK_INT(st.ppp, 1);

    /* Address and control left out, protocol compressed to one byte. */
    m = inner_v4_tcp(a, "acfc");
    b[0] = 0x21;
    memcpy(b + 1, a, m);
    m += 1;
    put16(g + 4, (uint16_t)m);
    n = w_hdr(a, g, 16, b, m);
    n = outer_v4(b, 47, a, n);
    CHECK_INT(dec(&p, b, n), 0);
    CHECK_INT(decode_tunnel_packet(&q, &p, &st), 0);
    CHECK_INNER_V4_TCP(&q, "acfc");

    /* A zero payload length is an acknowledgement only. */
    put16(g + 4, 0);
    n = outer_v4(b, 47, g, 16);
    CHECK_INT(dec(&p, b, n), 0);
    CHECK_INT(p.flags, PKT_IPV4);
    CHECK_INT(p.nevents, 0);
}

/* The PPP frame decoded on its own (DLT_PPP), including what is wrong. */
TEST(ppp_frames)
{
    static const struct {
        uint8_t b[8];
        size_t n;
        enum decode_event ev;
    } bad[] = {
        {{0xff}, 1, DE_PPP_PKT_TOO_SMALL},
        {{0xff, 0x03, 0x00}, 3, DE_PPP_PKT_TOO_SMALL},
        {{0x00}, 1, DE_PPP_PKT_TOO_SMALL},
        {{0xff, 0x03, 0xc0, 0x21, 1, 1, 0, 4}, 8, DE_PPP_UNSUP_PROTO}, /* LCP */
        {{0x80, 0x21, 1, 1, 0, 4}, 6, DE_PPP_UNSUP_PROTO},             /* IPCP */
        {{0xff, 0x03, 0x12, 0x34, 0, 0}, 6, DE_PPP_WRONG_TYPE},
        {{0xff, 0x03, 0x00, 0x21, 0x45, 0}, 6, DE_PPPIPV4_PKT_TOO_SMALL},
        {{0xff, 0x03, 0x00, 0x57, 0x60, 0}, 6, DE_PPPIPV6_PKT_TOO_SMALL},
        {{0xff, 0x03, 0x00, 0x2f, 0x45}, 5, DE_PPPVJU_PKT_TOO_SMALL},
    };
    struct packet p, q;

    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        memset(&p, 0, sizeof(p));
        p.flags = PKT_TUNNEL;
        p.tunnel_data = bad[i].b;
        p.tunnel_len = (uint32_t)bad[i].n;
        p.tunnel_linktype = DLT_PPP;
        CHECK_INT(decode_tunnel_packet(&q, &p, &st), -EINVAL);
        CHECK_EVENT(&q, bad[i].ev);
        CHECK_INT(q.nevents, 1);
    }
}

TEST(erspan)
{
    uint8_t a[2048], b[2048], e[8] = {0x10, 42, 0x01, 0x23, 0, 0, 0, 1}; /* v1, VLAN 42 */
    struct packet p, q;
    size_t n, m;

    memset(&st, 0, sizeof(st));
    m = inner_v4_tcp(a, "mirrored");
    m = w_eth(b, 0x0800, a, m);
    n = w_hdr(a, e, 8, b, m);
    n = w_gre0(b, 0x10, 0x88be, a, n); /* type II: sequence number */
    n = outer_v4(a, 47, b, n);
    CHECK_INT(dec(&p, a, n), 0);
    CHECK_INT(p.tunnel_linktype, DECODE_LINKTYPE_ERSPAN2);
    CHECK_INT(decode_tunnel_packet(&q, &p, &st), 0);
    CHECK_INNER_V4_TCP(&q, "mirrored");
    CHECK_INT(q.vlan_count, 1);
    CHECK_INT(q.vlan_id[0], 42);
    CHECK(q.flags & PKT_VLAN);
    CHECK_INT(st.erspan, 1);

    /* Type I: no ERSPAN header, the frame right after GRE. */
    m = inner_v4_tcp(a, "mirrored");
    m = w_eth(b, 0x0800, a, m);
    n = w_gre0(a, 0, 0x88be, b, m);
    n = outer_v4(b, 47, a, n);
    CHECK_INT(dec(&p, b, n), 0);
    CHECK_INT(p.tunnel_linktype, DLT_EN10MB);
    CHECK_INT(decode_tunnel_packet(&q, &p, &st), 0);
    CHECK_INNER_V4_TCP(&q, "mirrored");
    CHECK_INT(q.vlan_count, 0);

    /* Header cut short, wrong version, VLAN on top of two outer ones. */
    memset(&p, 0, sizeof(p));
    p.flags = PKT_TUNNEL;
    p.tunnel_linktype = DECODE_LINKTYPE_ERSPAN2;
    p.tunnel_data = e;
    for (uint32_t cut = 0; cut < 8; cut++) {
        p.tunnel_len = cut;
        CHECK_INT(decode_tunnel_packet(&q, &p, &st), -EINVAL);
        CHECK_EVENT(&q, DE_ERSPAN_HEADER_TOO_SMALL);
    }
    e[0] = 0x20;
    p.tunnel_len = 8;
    CHECK_INT(decode_tunnel_packet(&q, &p, &st), -EINVAL);
    CHECK_EVENT(&q, DE_ERSPAN_UNSUPPORTED_VERSION);
    e[0] = 0x10;
    p.flags |= PKT_VLAN;
    p.vlan_count = 2;
    p.vlan_id[0] = 1;
    p.vlan_id[1] = 2;
    CHECK_INT(decode_tunnel_packet(&q, &p, &st), -EINVAL);
    CHECK_EVENT(&q, DE_ERSPAN_TOO_MANY_VLAN_LAYERS);
}

/* ------------------------------------------------------------------------ */
/* IP in IP                                                                 */

TEST(ip_in_ip)
{
    uint8_t a[2048], b[2048];
    struct packet p, q;
    size_t n;

    memset(&st, 0, sizeof(st));
    /* IPv4 in IPv4 (4), IPv6 in IPv4 (41): no events of their own. */
    n = inner_v4_tcp(a, "ipip");
    n = outer_v4(b, 4, a, n);
    CHECK_INT(dec(&p, b, n), 0);
    CHECK_INT(p.flags, PKT_IPV4 | PKT_TUNNEL);
    CHECK_INT(p.tunnel_linktype, DLT_IPV4);
    CHECK_INT(decode_tunnel_packet(&q, &p, &st), 0);
    CHECK_INNER_V4_TCP(&q, "ipip");

    n = inner_v6_udp(a, "6in4");
    n = outer_v4(b, 41, a, n);
    CHECK_INT(dec(&p, b, n), 0);
    CHECK_INT(p.tunnel_linktype, DLT_IPV6);
    CHECK_INT(decode_tunnel_packet(&q, &p, &st), 0);
    CHECK_INNER_V6_UDP(&q, "6in4");

    /* A version that does not match the protocol: the inner decoder says so. */
    n = inner_v4_tcp(a, "x");
    n = outer_v4(b, 41, a, n);
    CHECK_INT(dec(&p, b, n), 0);
    CHECK_INT(decode_tunnel_packet(&q, &p, &st), -EINVAL);
    CHECK_EVENT(&q, DE_IPV6_WRONG_IP_VER);

    /* IPv4 and IPv6 in IPv6. */
    n = inner_v4_tcp(a, "4in6");
    n = w_ip6(b, 4, 1, 2, a, n);
    CHECK_INT(dec_wire(&p, DLT_RAW, b, n, n), 0);
    CHECK_INT(p.flags, PKT_IPV6 | PKT_TUNNEL);
    CHECK_INT(decode_tunnel_packet(&q, &p, &st), 0);
    CHECK_INNER_V4_TCP(&q, "4in6");
    n = inner_v6_udp(a, "6in6");
    n = w_ip6(b, 41, 7, 8, a, n);
    CHECK_INT(dec_wire(&p, DLT_RAW, b, n, n), 0);
    CHECK_INT(decode_tunnel_packet(&q, &p, &st), 0);
    CHECK_INNER_V6_UDP(&q, "6in6");
    CHECK_INT(st.ipip, 5);

    /* Under an IPv6 header, Suricata's ipv4/ipv6_in_ipv6 events. */
    n = w_ip6(b, 4, 1, 2, a, 19);
    CHECK_INT(dec_wire(&p, DLT_RAW, b, n, n), 0);
    CHECK_EVENT(&p, DE_IPV4_IN_IPV6_PKT_TOO_SMALL);
    CHECK_INT(p.flags, PKT_IPV6 | PKT_INVALID);
    n = w_ip6(b, 41, 1, 2, a, 39);
    CHECK_INT(dec_wire(&p, DLT_RAW, b, n, n), 0);
    CHECK_EVENT(&p, DE_IPV6_IN_IPV6_PKT_TOO_SMALL);
    n = inner_v6_udp(a, "wrong");
    n = w_ip6(b, 4, 1, 2, a, n);
    CHECK_INT(dec_wire(&p, DLT_RAW, b, n, n), 0);
    CHECK_EVENT(&p, DE_IPV4_IN_IPV6_WRONG_IP_VER);
    CHECK_INT(p.flags, PKT_IPV6);
    n = inner_v4_tcp(a, "wrong");
    n = w_ip6(b, 41, 1, 2, a, n);
    CHECK_INT(dec_wire(&p, DLT_RAW, b, n, n), 0);
    CHECK_EVENT(&p, DE_IPV6_IN_IPV6_WRONG_IP_VER);
    CHECK(!(p.flags & PKT_TUNNEL));
}

/* ------------------------------------------------------------------------ */
/* UDP tunnels                                                              */

TEST(vxlan)
{
    static const uint8_t vx[8] = {0x08, 0, 0, 0, 0, 0x12, 0x34, 0};
    uint8_t a[2048], b[2048], f[2048];
    struct packet p, q;
    size_t n, m;

    memset(&st, 0, sizeof(st));
    m = inner_v4_tcp(a, "overlay");
    m = w_eth(f, 0x0800, a, m);
    n = w_hdr(a, vx, 8, f, m);
    n = outer_udp(b, 49152, 4789, a, n);
    CHECK_INT(dec(&p, b, n), 0);
    /* The outer datagram is a UDP packet as ever: flows, ports, payload. */
    CHECK_INT(p.flags, PKT_IPV4 | PKT_UDP | PKT_TUNNEL);
    CHECK_INT(p.dp, 4789);
    CHECK_INT(p.payload_len, 8 + m);
    CHECK_INT(p.tunnel_linktype, DLT_EN10MB);
    CHECK(p.tunnel_data == p.payload + 8);
    CHECK_INT(p.tunnel_len, m);
    CHECK_INT(st.vxlan, 1);
    CHECK_INT(decode_tunnel_packet(&q, &p, &st), 0);
    CHECK_INNER_V4_TCP(&q, "overlay");

    /* Either port, and an inner VLAN tag. */
    m = inner_v4_tcp(a, "tagged");
    b[0] = 0, b[1] = 5, b[2] = 0x08, b[3] = 0x00;
    memcpy(b + 4, a, m);
    m = w_eth(f, 0x8100, b, m + 4);
    n = w_hdr(a, vx, 8, f, m);
    n = outer_udp(b, 4789, 40000, a, n);
    CHECK_INT(dec(&p, b, n), 0);
    CHECK(p.flags & PKT_TUNNEL);
    CHECK_INT(decode_tunnel_packet(&q, &p, &st), 0);
    CHECK_INNER_V4_TCP(&q, "tagged");
    CHECK_INT(q.vlan_id[0], 5);

    /* ARP is counted; another ethertype is an event, the UDP flow stays. */
    m = w_eth(f, 0x0806, (const uint8_t *)"arp arp arp arp arp arp arp.", 28);
    n = w_hdr(a, vx, 8, f, m);
    n = outer_udp(b, 1, 4789, a, n);
    CHECK_INT(dec(&p, b, n), 0);
    CHECK_INT(p.flags, PKT_IPV4 | PKT_UDP);
    CHECK_INT(p.nevents, 0);
    m = w_eth(f, 0x88cc, (const uint8_t *)"lldp", 4);
    n = w_hdr(a, vx, 8, f, m);
    n = outer_udp(b, 1, 4789, a, n);
    CHECK_INT(dec(&p, b, n), 0);
    CHECK_EVENT(&p, DE_VXLAN_UNKNOWN_PAYLOAD_TYPE);
    CHECK_INT(p.flags, PKT_IPV4 | PKT_UDP);
    CHECK_INT(st.vxlan, 4);

    /* Not VXLAN: no I flag, reserved byte set, too short for a frame, or
     * another port.  Plain UDP, no event, not counted. */
    m = inner_v4_tcp(a, "x");
    m = w_eth(f, 0x0800, a, m);
    for (int i = 0; i < 4; i++) {
        uint8_t h[8];

        memcpy(h, vx, 8);
        if (i == 0)
            h[0] = 0;
        if (i == 1)
            h[7] = 1;
        n = w_hdr(a, h, 8, f, i == 2 ? 13 : m);
        n = outer_udp(b, 1, i == 3 ? 4790 : 4789, a, n);
        CHECK_INT(dec(&p, b, n), 0);
        CHECK_INT(p.flags, PKT_IPV4 | PKT_UDP);
        CHECK_INT(p.nevents, 0);
    }
    CHECK_INT(st.vxlan, 4);
}

TEST(geneve)
{
    /* Version 0, 4 words of options, protocol, VNI, then two options of 8
     * bytes (class, type, length 1 word, data). */
    uint8_t gh[24] = {0x04, 0, 0x08, 0x00, 0,    0,    0x25, 0,    0x01, 0x08, 0x00, 0x01,
                      1,    1, 1,    1,    0x01, 0x08, 0x00, 0x01, 2,    2,    2,    2};
    uint8_t a[2048], b[2048], f[2048];
    struct packet p, q;
    size_t n, m;

    memset(&st, 0, sizeof(st));
    m = inner_v4_tcp(a, "geneve ip");
    n = w_hdr(f, gh, 24, a, m);
    n = outer_udp(b, 1000, 6081, f, n);
    CHECK_INT(dec(&p, b, n), 0);
    CHECK_INT(p.flags, PKT_IPV4 | PKT_UDP | PKT_TUNNEL);
    CHECK_INT(p.tunnel_linktype, DLT_IPV4);
    CHECK(p.tunnel_data == p.payload + 24);
    CHECK_INT(decode_tunnel_packet(&q, &p, &st), 0);
    CHECK_INNER_V4_TCP(&q, "geneve ip");

    /* Ethernet (0x6558) and IPv6 payloads, no options. */
    m = inner_v4_tcp(a, "geneve eth");
    m = w_eth(f, 0x0800, a, m);
    gh[0] = 0;
    put16(gh + 2, 0x6558);
    n = w_hdr(a, gh, 8, f, m);
    n = outer_udp(b, 6081, 1000, a, n);
    CHECK_INT(dec(&p, b, n), 0);
    CHECK_INT(p.tunnel_linktype, DLT_EN10MB);
    CHECK_INT(decode_tunnel_packet(&q, &p, &st), 0);
    CHECK_INNER_V4_TCP(&q, "geneve eth");
    m = inner_v6_udp(a, "geneve v6");
    put16(gh + 2, 0x86dd);
    n = w_hdr(f, gh, 8, a, m);
    n = outer_udp(b, 1000, 6081, f, n);
    CHECK_INT(dec(&p, b, n), 0);
    CHECK_INT(decode_tunnel_packet(&q, &p, &st), 0);
    CHECK_INNER_V6_UDP(&q, "geneve v6");

    /* Unknown protocol: event, no tunnel; ARP: neither. */
    put16(gh + 2, 0x1234);
    n = w_hdr(f, gh, 8, a, m);
    n = outer_udp(b, 1000, 6081, f, n);
    CHECK_INT(dec(&p, b, n), 0);
    CHECK_EVENT(&p, DE_GENEVE_UNKNOWN_PAYLOAD_TYPE);
    CHECK_INT(p.flags, PKT_IPV4 | PKT_UDP);
    put16(gh + 2, 0x0806);
    n = w_hdr(f, gh, 8, a, m);
    n = outer_udp(b, 1000, 6081, f, n);
    CHECK_INT(dec(&p, b, n), 0);
    CHECK_INT(p.flags, PKT_IPV4 | PKT_UDP);
    CHECK_INT(p.nevents, 0);
    CHECK_INT(st.geneve, 5);

    /* Not Geneve: version 1, reserved flag bits, reserved byte, options
     * longer than the datagram or not adding up, header cut short. */
    put16(gh + 2, 0x0800);
    for (int i = 0; i < 6; i++) {
        uint8_t h[24];
        size_t hn = 24;

        memcpy(h, gh, 24);
        h[0] = 0x04;
        if (i == 0)
            h[0] |= 0x40;
        if (i == 1)
            h[1] = 0x01;
        if (i == 2)
            h[7] = 1;
        if (i == 3)
            h[0] = 0x3f;
        if (i == 4)
            h[11] = 0x02; /* first option claims 12 bytes: 4 words do not add up */
        if (i == 5)
            hn = 7;
        n = w_hdr(f, h, hn, a, i == 3 || i == 5 ? 0 : 8);
        n = outer_udp(b, 1000, 6081, f, n);
        CHECK_INT(dec(&p, b, n), 0);
        CHECK_INT(p.flags, PKT_IPV4 | PKT_UDP);
        CHECK_INT(p.nevents, 0);
    }
    CHECK_INT(st.geneve, 5);
}

TEST(teredo)
{
    uint8_t a[2048], b[2048], f[2048];
    uint8_t origin[8] = {0, 0, 0xf2, 0x27, 0x41, 0x37, 0x9e, 0x50};
    uint8_t auth[13] = {0, 1, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 0};
    struct packet p, q;
    size_t n, m;

    memset(&st, 0, sizeof(st));
    m = inner_v6_udp(a, "teredo");
    n = outer_udp(b, 3797, 3544, a, m);
    CHECK_INT(dec(&p, b, n), 0);
    CHECK_INT(p.flags, PKT_IPV4 | PKT_UDP | PKT_TUNNEL);
    CHECK_INT(p.tunnel_linktype, DLT_IPV6);
    CHECK(p.tunnel_data == p.payload);
    CHECK_INT(decode_tunnel_packet(&q, &p, &st), 0);
    CHECK_INNER_V6_UDP(&q, "teredo");

    /* After an origin indication, from the server port. */
    n = w_hdr(f, origin, 8, a, m);
    n = outer_udp(b, 3544, 3797, f, n);
    CHECK_INT(dec(&p, b, n), 0);
    CHECK(p.tunnel_data == p.payload + 8);
    CHECK_INT(decode_tunnel_packet(&q, &p, &st), 0);
    CHECK_INNER_V6_UDP(&q, "teredo");
    CHECK_INT(st.teredo, 2);

    /* Not Teredo, plain UDP without events: an authentication header
     * (qualification), a length that does not match, hop limit 0, a
     * hop-by-hop header with no room, IPv4, another port, too short. */
    for (int i = 0; i < 8; i++) {
        memcpy(f, a, m);
        n = m;
        if (i == 0)
            n = w_hdr(f, auth, 13, a, m);
        if (i == 1)
            put16(f + 4, (uint16_t)(m - 40 + 1));
        if (i == 2)
            f[7] = 0;
        if (i == 3) {
            f[6] = 0;
            put16(f + 4, 4);
            n = 44;
        }
        if (i == 4)
            f[0] = 0x45;
        if (i == 6)
            n = 39;
        if (i == 7) {
            n = w_hdr(f, origin, 8, a, 39);
        }
        n = outer_udp(b, 3797, i == 5 ? 3545 : 3544, f, n);
        CHECK_INT(dec(&p, b, n), 0);
        CHECK_INT(p.flags, PKT_IPV4 | PKT_UDP);
        CHECK_INT(p.nevents, 0);
    }
    CHECK_INT(st.teredo, 2);
}

/* ------------------------------------------------------------------------ */
/* MPLS and PPPoE: link-layer steps, decoded inline                         */

TEST(mpls)
{
    uint8_t a[2048], b[2048], f[2048];
    uint8_t stack[8] = {0x00, 0x06, 0x40, 0x40, 0x00, 0x0c, 0x81, 0x40}; /* 100, 200 BoS */
    struct packet p;
    size_t n, m;

    memset(&st, 0, sizeof(st));
    m = inner_v4_tcp(a, "label switched");
    n = w_hdr(f, stack, 8, a, m);
    n = w_eth(b, 0x8847, f, n);
    CHECK_INT(dec(&p, b, n), 0);
    /* Inline: the packet is the IP packet the labels carry. */
    CHECK_INNER_V4_TCP(&p, "label switched");
    CHECK(!(p.flags & PKT_TUNNEL));
    CHECK_INT(st.mpls, 1);

    /* Explicit null labels: 0 IPv4, 2 IPv6; multicast ethertype. */
    stack[4] = 0, stack[5] = 0, stack[6] = 0x01;
    n = w_hdr(f, stack, 8, a, m);
    n = w_eth(b, 0x8848, f, n);
    CHECK_INT(dec(&p, b, n), 0);
    CHECK_INNER_V4_TCP(&p, "label switched");
    m = inner_v6_udp(a, "v6 null");
    stack[5] = 0x20;
    n = w_hdr(f, stack, 8, a, m);
    n = w_eth(b, 0x8847, f, n);
    CHECK_INT(dec(&p, b, n), 0);
    CHECK_INNER_V6_UDP(&p, "v6 null");

    /* A guessed IPv6 payload under an ordinary label. */
    stack[5] = 0x0c, stack[6] = 0x81;
    n = w_hdr(f, stack, 8, a, m);
    n = w_eth(b, 0x8847, f, n);
    CHECK_INT(dec(&p, b, n), 0);
    CHECK_INNER_V6_UDP(&p, "v6 null");

    /* A pseudowire: control word, then an Ethernet frame. */
    m = inner_v4_tcp(a, "pseudowire");
    m = w_eth(f, 0x0800, a, m);
    memset(a, 0, 4);
    memcpy(a + 4, f, m);
    n = w_hdr(f, stack, 8, a, m + 4);
    n = w_eth(b, 0x8847, f, n);
    CHECK_INT(dec(&p, b, n), 0);
    CHECK_INNER_V4_TCP(&p, "pseudowire");

    /* Reserved labels at the bottom: events, nothing decoded. */
    static const struct {
        uint8_t label;
        enum decode_event ev;
    } res[] = {
        {1, DE_MPLS_BAD_LABEL_ROUTER_ALERT},
        {3, DE_MPLS_BAD_LABEL_IMPLICIT_NULL},
        {7, DE_MPLS_BAD_LABEL_RESERVED},
        {14, DE_MPLS_BAD_LABEL_RESERVED},
    };
    m = inner_v4_tcp(a, "x");
    for (size_t i = 0; i < ARRAY_LEN(res); i++) {
        stack[4] = 0, stack[5] = (uint8_t)(res[i].label >> 4);
        stack[6] = (uint8_t)(res[i].label << 4 | 1);
        n = w_hdr(f, stack, 8, a, m);
        n = w_eth(b, 0x8847, f, n);
        CHECK_INT(dec(&p, b, n), -EINVAL);
        CHECK_EVENT(&p, res[i].ev);
        CHECK(!(p.flags & PKT_INVALID));
    }
    /* Label 15 is the first that is not reserved. */
    stack[5] = 0, stack[6] = 0xf1;
    n = w_hdr(f, stack, 8, a, m);
    n = w_eth(b, 0x8847, f, n);
    CHECK_INT(dec(&p, b, n), 0);
    CHECK_INT(p.nevents, 0);

    /* Truncated inside the stack, right after it, unknown payload. */
    stack[5] = 0x0c, stack[6] = 0x81;
    for (size_t cut = 0; cut < 8; cut++) {
        n = w_eth(b, 0x8847, stack, cut);
        CHECK_INT(dec(&p, b, n), -EINVAL);
        CHECK_EVENT(&p, DE_MPLS_HEADER_TOO_SMALL);
        CHECK_INT(p.flags, PKT_INVALID);
    }
    for (size_t extra = 0; extra < 4; extra++) {
        n = w_hdr(f, stack, 8, a, extra);
        n = w_eth(b, 0x8847, f, n);
        CHECK_INT(dec(&p, b, n), -EINVAL);
        CHECK_EVENT(&p, DE_MPLS_PKT_TOO_SMALL);
    }
    a[0] = 0x15;
    n = w_hdr(f, stack, 8, a, 20);
    n = w_eth(b, 0x8847, f, n);
    CHECK_INT(dec(&p, b, n), -EINVAL);
    CHECK_EVENT(&p, DE_MPLS_UNKNOWN_PAYLOAD_TYPE);
}

/* MPLS pseudowires nest Ethernet in MPLS in Ethernet: at most
 * DECODE_MAX_LAYERS steps, then decoder.too_many_layers. */
TEST(mpls_layer_limit)
{
    static uint8_t a[8192], b[8192];
    static const uint8_t pw[8] = {0x00, 0x06, 0x41, 0x40, 0, 0, 0, 0}; /* label, CW */
    struct packet p;
    size_t n;

    for (int layers = DECODE_MAX_LAYERS; layers <= DECODE_MAX_LAYERS + 1; layers++) {
        memset(&st, 0, sizeof(st));
        n = inner_v4_tcp(a, "deep");
        n = w_eth(b, 0x0800, a, n);
        for (int i = 0; i < layers; i++) {
            n = w_hdr(a, pw, 8, b, n);
            n = w_eth(b, 0x8847, a, n);
        }
        if (layers == DECODE_MAX_LAYERS) {
            CHECK_INT(dec(&p, b, n), 0);
            CHECK_INNER_V4_TCP(&p, "deep");
        } else {
            CHECK_INT(dec(&p, b, n), -EINVAL);
            CHECK_EVENT(&p, DE_TOO_MANY_LAYERS);
        }
        CHECK_INT(st.mpls, layers);
        CHECK_INT(st.ethernet, 1); /* the frames inside pseudowires are not packets */
    }

    /* At the limit, a UDP tunnel still opens and the datagram stays valid. */
    {
        static const uint8_t vx[8] = {0x08, 0, 0, 0, 0, 0, 1, 0};
        uint8_t f[2048];

        n = inner_v4_tcp(a, "deep vxlan");
        n = w_eth(f, 0x0800, a, n);
        n = w_hdr(a, vx, 8, f, n);
        n = w_udp(f, 1, 4789, a, n);
        n = w_ip4(a, 17, OUT_SRC, OUT_DST, f, n);
        n = w_eth(b, 0x0800, a, n);
        for (int i = 0; i < DECODE_MAX_LAYERS; i++) {
            n = w_hdr(a, pw, 8, b, n);
            n = w_eth(b, 0x8847, a, n);
        }
        CHECK_INT(dec(&p, b, n), 0);
        CHECK_INT(p.flags, PKT_IPV4 | PKT_UDP | PKT_TUNNEL);
    }
}

TEST(pppoe_session)
{
    uint8_t a[2048], b[2048], f[2048];
    uint8_t hdr[8] = {0x11, 0x00, 0x12, 0x34, 0, 0, 0x00, 0x21};
    struct packet p;
    size_t n, m;

    memset(&st, 0, sizeof(st));
    m = inner_v4_tcp(a, "dsl");
    put16(hdr + 4, (uint16_t)(m + 2));
    n = w_hdr(f, hdr, 8, a, m);
    n = w_eth(b, 0x8864, f, n);
    CHECK_INT(dec(&p, b, n), 0);
    CHECK_INNER_V4_TCP(&p, "dsl");
    CHECK(!(p.flags & PKT_TUNNEL));
    CHECK_INT(st.pppoe, 1);

    /* IPv6, and a compressed one-byte protocol; under two VLAN tags. */
    m = inner_v6_udp(a, "dsl6");
    put16(hdr + 6, 0x0057);
    n = w_hdr(f, hdr, 8, a, m);
    n = w_eth(b, 0x8864, f, n);
    CHECK_INT(dec(&p, b, n), 0);
    CHECK_INNER_V6_UDP(&p, "dsl6");
    m = inner_v4_tcp(a, "short proto");
    hdr[6] = 0x21;
    n = w_hdr(f, hdr, 7, a, m);
    b[0] = 0, b[1] = 10, b[2] = 0x81, b[3] = 0x00, b[4] = 0, b[5] = 20, b[6] = 0x88, b[7] = 0x64;
    memcpy(b + 8, f, n);
    n = w_eth(f, 0x88a8, b, n + 8);
    CHECK_INT(dec(&p, f, n), 0);
    CHECK_INNER_V4_TCP(&p, "short proto");
    CHECK_INT(p.vlan_count, 2);

    /* Control protocols, unknown ones, zero length, cut headers. */
    hdr[6] = 0xc0, hdr[7] = 0x21; /* LCP */
    n = w_hdr(f, hdr, 8, a, 10);
    n = w_eth(b, 0x8864, f, n);
    CHECK_INT(dec(&p, b, n), -EINVAL);
    CHECK_EVENT(&p, DE_PPP_UNSUP_PROTO);
    hdr[6] = 0x12, hdr[7] = 0x34;
    n = w_hdr(f, hdr, 8, a, 10);
    n = w_eth(b, 0x8864, f, n);
    CHECK_INT(dec(&p, b, n), -EINVAL);
    CHECK_EVENT(&p, DE_PPP_WRONG_TYPE);
    hdr[6] = 0x00, hdr[7] = 0x21;
    put16(hdr + 4, 0);
    n = w_hdr(f, hdr, 8, a, m);
    n = w_eth(b, 0x8864, f, n);
    CHECK_INT(dec(&p, b, n), -EINVAL);
    CHECK_INT(p.nevents, 0);
    put16(hdr + 4, 100);
    for (size_t cut = 0; cut < 7; cut++) {
        n = w_eth(b, 0x8864, hdr, cut);
        CHECK_INT(dec(&p, b, n), -EINVAL);
        CHECK_EVENT(&p, DE_PPPOE_PKT_TOO_SMALL);
    }
    n = w_hdr(f, hdr, 8, a, 19);
    n = w_eth(b, 0x8864, f, n);
    CHECK_INT(dec(&p, b, n), -EINVAL);
    CHECK_EVENT(&p, DE_PPPIPV4_PKT_TOO_SMALL);
}

TEST(pppoe_discovery)
{
    /* PADI with a service-name tag (empty) and a host-uniq tag (4 bytes). */
    uint8_t padi[18] = {0x11, 0x09, 0, 0, 0, 12, 0x01, 0x01, 0, 0, 0x01, 0x03, 0, 4, 1, 2, 3, 4};
    uint8_t b[256], d[18];
    struct packet p;
    size_t n;

    memset(&st, 0, sizeof(st));
    n = w_eth(b, 0x8863, padi, sizeof(padi));
    CHECK_INT(dec(&p, b, n), -EINVAL);
    CHECK_INT(p.nevents, 0);
    CHECK_INT(st.pppoe, 1);
    CHECK_INT(st.events[DE_ETH_UNKNOWN_ETHERTYPE], 0);

    memcpy(d, padi, sizeof(d));
    d[1] = 0x42;
    n = w_eth(b, 0x8863, d, sizeof(d));
    CHECK_INT(dec(&p, b, n), -EINVAL);
    CHECK_EVENT(&p, DE_PPPOE_WRONG_CODE);
    memcpy(d, padi, sizeof(d));
    d[5] = 13; /* longer than the frame */
    n = w_eth(b, 0x8863, d, sizeof(d));
    CHECK_INT(dec(&p, b, n), -EINVAL);
    CHECK_EVENT(&p, DE_PPPOE_MALFORMED_TAGS);
    d[5] = 12;
    d[13] = 5; /* the last tag runs past the length */
    n = w_eth(b, 0x8863, d, sizeof(d));
    CHECK_INT(dec(&p, b, n), -EINVAL);
    CHECK_EVENT(&p, DE_PPPOE_MALFORMED_TAGS);
    d[13] = 4;
    d[5] = 10; /* the length ends inside a tag header */
    n = w_eth(b, 0x8863, d, sizeof(d));
    CHECK_INT(dec(&p, b, n), -EINVAL);
    CHECK_EVENT(&p, DE_PPPOE_MALFORMED_TAGS);
    for (size_t cut = 0; cut < 6; cut++) {
        n = w_eth(b, 0x8863, padi, cut);
        CHECK_INT(dec(&p, b, n), -EINVAL);
        CHECK_EVENT(&p, DE_PPPOE_PKT_TOO_SMALL);
    }
}

/* ------------------------------------------------------------------------ */
/* inner packets in general                                                 */

/* GRE in GRE in ...: DECODE_TUNNEL_MAX_DEPTH inner packets, then
 * decoder.too_many_layers. */
TEST(nesting_depth_limit)
{
    uint8_t a[4096], b[4096];
    struct packet q[DECODE_TUNNEL_MAX_DEPTH + 2];
    uint32_t addr;
    size_t n;
    int d;

    memset(&st, 0, sizeof(st));
    n = inner_v4_tcp(a, "innermost");
    for (d = 0; d < DECODE_TUNNEL_MAX_DEPTH + 1; d++) {
        addr = 0xac100000u + (uint32_t)d; /* 172.16.0.d: which level is which */
        n = w_gre0(b, 0, 0x0800, a, n);
        n = w_ip4(a, 47, addr, addr + 0x100, b, n);
    }
    n = w_eth(b, 0x0800, a, n);
    CHECK_INT(dec(&q[0], b, n), 0);
    CHECK_INT(get32(q[0].src.a), 0xac100000u + DECODE_TUNNEL_MAX_DEPTH);
    for (d = 1; d <= DECODE_TUNNEL_MAX_DEPTH; d++) {
        CHECK_INT(decode_tunnel_packet(&q[d], &q[d - 1], &st), 0);
        CHECK_INT(q[d].tunnel_depth, d);
        CHECK_INT(get32(q[d].src.a), 0xac100000u + DECODE_TUNNEL_MAX_DEPTH - (uint32_t)d);
        CHECK(q[d].flags & PKT_TUNNEL);
    }
    CHECK_INT(decode_tunnel_packet(&q[d], &q[d - 1], &st), -EINVAL);
    CHECK_EVENT(&q[d], DE_TOO_MANY_LAYERS);
    CHECK_INT(st.events[DE_TOO_MANY_LAYERS], 1);
    CHECK_INT(st.tunnel_pkts, DECODE_TUNNEL_MAX_DEPTH);

    /* One level less and the innermost TCP packet is reached. */
    n = inner_v4_tcp(a, "innermost");
    for (d = 0; d < DECODE_TUNNEL_MAX_DEPTH; d++) {
        n = w_gre0(b, 0, 0x0800, a, n);
        n = w_ip4(a, 47, OUT_SRC, OUT_DST, b, n);
    }
    CHECK_INT(dec_wire(&q[0], DLT_RAW, a, n, n), 0);
    for (d = 1; d <= DECODE_TUNNEL_MAX_DEPTH; d++)
        CHECK_INT(decode_tunnel_packet(&q[d], &q[d - 1], &st), 0);
    CHECK_INNER_V4_TCP(&q[DECODE_TUNNEL_MAX_DEPTH], "innermost");
}

TEST(inner_inherits_and_refuses)
{
    uint8_t a[2048], b[2048], f[2048];
    struct packet p, q;
    size_t n;

    memset(&st, 0, sizeof(st));
    /* VLAN ids go with the inner packet: its flows stay apart per VLAN. */
    n = inner_v4_tcp(a, "vlan");
    n = w_gre0(b, 0, 0x0800, a, n);
    n = w_ip4(a, 47, OUT_SRC, OUT_DST, b, n);
    f[0] = 0, f[1] = 7, f[2] = 0x08, f[3] = 0x00;
    memcpy(f + 4, a, n);
    n = w_eth(b, 0x8100, f, n + 4);
    CHECK_INT(dec(&p, b, n), 0);
    CHECK_INT(decode_tunnel_packet(&q, &p, &st), 0);
    CHECK_INT(q.vlan_count, 1);
    CHECK_INT(q.vlan_id[0], 7);
    CHECK(q.flags & PKT_VLAN);

    /* No tunnel: nothing decoded, nothing counted. */
    n = inner_v4_tcp(a, "plain");
    n = w_eth(b, 0x0800, a, n);
    CHECK_INT(dec(&p, b, n), 0);
    CHECK_INT(decode_tunnel_packet(&q, &p, &st), -EINVAL);
    CHECK_INT(q.flags, 0);
    CHECK_INT(st.tunnel_pkts, 1);

    /* A link type no tunnel decoder knows. */
    p.flags |= PKT_TUNNEL;
    p.tunnel_data = heap_copy;
    p.tunnel_len = 14;
    p.tunnel_linktype = 147;
    CHECK_INT(decode_tunnel_packet(&q, &p, &st), -EINVAL);
    CHECK_EVENT(&q, DE_LINKTYPE_UNSUPPORTED);
}

/* The inner packet cut at every length: the inner decoders' events, and
 * nothing read past the capture (sanitizer build). */
TEST(inner_truncated)
{
    uint8_t a[2048], b[2048], f[2048];
    struct packet p, q;
    size_t n, m, full;

    memset(&st, 0, sizeof(st));
    full = inner_v4_tcp(a, "truncated inner");
    for (m = 0; m <= full; m++) {
        n = w_gre0(b, 0, 0x0800, a, m);
        n = outer_v4(f, 47, b, n);
        CHECK_INT(dec(&p, f, n), 0);
        CHECK(p.flags & PKT_TUNNEL);
        CHECK_INT(p.tunnel_len, m);
        CHECK(tunnel_inside(&p));
        if (m < full) {
            CHECK_INT(decode_tunnel_packet(&q, &p, &st), -EINVAL);
            CHECK_EVENT(&q, m < 20 ? DE_IPV4_PKT_TOO_SMALL : DE_IPV4_TRUNC_PKT);
        } else {
            CHECK_INT(decode_tunnel_packet(&q, &p, &st), 0);
            CHECK_INNER_V4_TCP(&q, "truncated inner");
        }
    }

    /* Cut by the snaplen instead: the inner packet is decoded as far as it
     * was captured, as a captured packet would be. */
    n = w_gre0(b, 0, 0x0800, a, full);
    n = outer_v4(f, 47, b, n);
    CHECK_INT(dec_wire(&p, DLT_EN10MB, f, n - 5, n), 0);
    CHECK(p.flags & PKT_TUNNEL);
    CHECK_INT(p.tunnel_len, full - 5);
    CHECK_INT(decode_tunnel_packet(&q, &p, &st), 0);
    CHECK_INT(q.wirelen, full);
    CHECK(q.flags & PKT_TCP);
    CHECK_INT(q.nevents, 0);
    CHECK_INT(q.payload_len, strlen("truncated inner") - 5);
}

/* Valid frames of every kind, each cut at every length, with and without a
 * snaplen explanation; every tunnel found is followed to the end. */
TEST(truncation_every_byte)
{
    static uint8_t frames[10][2048];
    size_t len[10], nf = 0, n, m;
    uint8_t a[2048], b[2048];
    static const uint8_t vx[8] = {0x08, 0, 0, 0, 0, 0, 1, 0};
    static const uint8_t gn[16] = {0x02, 0, 0x65, 0x58, 0, 0, 1, 0, 0, 1, 2, 0x01, 9, 9, 9, 9};
    static const uint8_t lab[8] = {0x00, 0x06, 0x40, 0x40, 0x00, 0x0c, 0x81, 0x40};
    uint8_t pppoe[8] = {0x11, 0, 0, 1, 0, 0, 0x00, 0x21};
    uint8_t pptp[16] = {0x30, 0x81, 0x88, 0x0b};
    static const uint8_t er[8] = {0x10, 9, 0, 1, 0, 0, 0, 0};

    m = inner_v4_tcp(a, "payload");
    n = w_gre0(b, 0xb0, 0x0800, a, m);
    len[nf] = outer_v4(frames[nf], 47, b, n), nf++;
    n = w_eth(b, 0x0800, a, m);
    n = w_hdr(frames[9], vx, 8, b, n);
    len[nf] = outer_udp(frames[nf], 1, 4789, frames[9], n), nf++;
    n = w_eth(b, 0x0800, a, m);
    n = w_hdr(frames[9], gn, 16, b, n);
    len[nf] = outer_udp(frames[nf], 6081, 1, frames[9], n), nf++;
    n = inner_v6_udp(b, "teredo");
    len[nf] = outer_udp(frames[nf], 3544, 1, b, n), nf++;
    n = w_hdr(b, lab, 8, a, m);
    len[nf] = w_eth(frames[nf], 0x8847, b, n), nf++;
    put16(pppoe + 4, (uint16_t)(m + 2));
    n = w_hdr(b, pppoe, 8, a, m);
    len[nf] = w_eth(frames[nf], 0x8864, b, n), nf++;
    b[0] = 0xff, b[1] = 0x03, b[2] = 0x00, b[3] = 0x21;
    memcpy(b + 4, a, m);
    put16(pptp + 4, (uint16_t)(m + 4));
    n = w_hdr(frames[9], pptp, 16, b, m + 4);
    len[nf] = outer_v4(frames[nf], 47, frames[9], n), nf++;
    n = w_eth(b, 0x0800, a, m);
    n = w_hdr(frames[9], er, 8, b, n);
    n = w_gre0(b, 0x10, 0x88be, frames[9], n);
    len[nf] = outer_v4(frames[nf], 47, b, n), nf++;
    n = inner_v6_udp(b, "6in4");
    len[nf] = outer_v4(frames[nf], 41, b, n), nf++;

    memset(&st, 0, sizeof(st));
    for (size_t i = 0; i < nf; i++) {
        for (size_t cut = 0; cut <= len[i]; cut++) {
            for (int wire = 0; wire < 2; wire++) {
                struct packet q[DECODE_TUNNEL_MAX_DEPTH + 1];
                int d = 0;

                dec_wire(&q[0], DLT_EN10MB, frames[i], cut, wire ? len[i] : cut);
                while (q[d].flags & PKT_TUNNEL) {
                    CHECK(tunnel_inside(&q[d]));
                    if (d == DECODE_TUNNEL_MAX_DEPTH ||
                        decode_tunnel_packet(&q[d + 1], &q[d], &st) != 0)
                        break;
                    d++;
                    CHECK(q[d].l3_len <= cut);
                    CHECK(q[d].payload == NULL ||
                          q[d].payload + q[d].payload_len <= heap_copy + cut);
                }
                /* A whole frame reaches its innermost TCP or UDP packet. */
                if (cut == len[i])
                    CHECK(q[d].flags & (PKT_TCP | PKT_UDP));
            }
        }
    }
    CHECK(st.tunnel_pkts > 0);
}

TEST(event_names)
{
    static const struct {
        enum decode_event ev;
        const char *name;
    } names[] = {
        {DE_GRE_PKT_TOO_SMALL, "decoder.gre.pkt_too_small"},
        {DE_GRE_VERSION0_RECUR, "decoder.gre.version0_recur"},
        {DE_GRE_VERSION1_NO_KEY, "decoder.gre.version1_no_key"},
        {DE_VXLAN_UNKNOWN_PAYLOAD_TYPE, "decoder.vxlan.unknown_payload_type"},
        {DE_GENEVE_UNKNOWN_PAYLOAD_TYPE, "decoder.geneve.unknown_payload_type"},
        {DE_MPLS_BAD_LABEL_ROUTER_ALERT, "decoder.mpls.bad_label_router_alert"},
        {DE_PPPOE_WRONG_CODE, "decoder.pppoe.wrong_code"},
        {DE_PPPIPV4_PKT_TOO_SMALL, "decoder.ppp.ip4_pkt_too_small"},
        {DE_ERSPAN_UNSUPPORTED_VERSION, "decoder.erspan.unsupported_version"},
        {DE_IPV4_IN_IPV6_WRONG_IP_VER, "decoder.ipv6.ipv4_in_ipv6_wrong_version"},
        {DE_TOO_MANY_LAYERS, "decoder.too_many_layers"},
    };

    for (size_t i = 0; i < ARRAY_LEN(names); i++)
        CHECK_STR(decode_event_name(names[i].ev), names[i].name);
    /* Every name is a decoder event and none is used twice. */
    for (int i = 0; i < DE_MAX; i++) {
        const char *a = decode_event_name((enum decode_event)i);

        CHECK(strncmp(a, "decoder.", 8) == 0);
        for (int j = i + 1; j < DE_MAX; j++)
            CHECK(strcmp(a, decode_event_name((enum decode_event)j)) != 0);
    }
}

/* The shared corpus, every inner packet included (as the worker does). */
TEST(pcap_corpus)
{
    const char *path = test_shared_path("data/pcaps/corpus-ether.pcap");
    char err[PCAP_ERRBUF_SIZE];
    struct pcap_pkthdr *h;
    const u_char *data;
    uint64_t n = 0, inner_ok = 0;
    pcap_t *pc;
    int rc;

    if (path == NULL)
        SKIP("data/pcaps/corpus-ether.pcap not found");
    pc = pcap_open_offline(path, err);
    CHECK(pc != NULL);
    if (pc == NULL)
        return;
    memset(&st, 0, sizeof(st));
    while ((rc = pcap_next_ex(pc, &h, &data)) == 1) {
        struct packet q[DECODE_TUNNEL_MAX_DEPTH + 2];
        int d = 0;

        decode_packet(&q[0], pcap_datalink(pc), data, h->caplen, h->len, 0, &st);
        while (q[d].flags & PKT_TUNNEL) {
            if (q[d].tunnel_data < data || q[d].tunnel_data + q[d].tunnel_len > data + h->caplen)
                CHECK(!"tunnel outside the capture");
            if (decode_tunnel_packet(&q[d + 1], &q[d], &st) != 0)
                break;
            d++;
            inner_ok++;
        }
        n++;
    }
    CHECK_INT(rc, PCAP_ERROR_BREAK);
    pcap_close(pc);
    CHECK_INT(n, 268525);
    CHECK_INT(st.pkts, n);
    /* What the corpus holds, as tshark counts it and Suricata decodes it. */
    CHECK_INT(st.vxlan, 149);
    CHECK_INT(st.geneve, 73);
    CHECK_INT(st.teredo, 3);
    CHECK_INT(st.erspan, 124);
    CHECK_INT(st.mpls, 49);
    CHECK_INT(st.pppoe, 218);
    CHECK(st.gre >= 5000 && st.ipip >= 50 && st.ppp >= 1000);
    CHECK(inner_ok > 3000 && inner_ok <= st.tunnel_pkts);
    CHECK_INT(st.events[DE_TOO_MANY_LAYERS], 1); /* an MPLS pseudowire loop */
    fprintf(stderr,
            "pcap_corpus: %" PRIu64 " packets, %" PRIu64 " inner packets decoded of %" PRIu64
            "; gre %" PRIu64 " vxlan %" PRIu64 " geneve %" PRIu64 " teredo %" PRIu64
            " ipip %" PRIu64 " mpls %" PRIu64 " pppoe %" PRIu64 "\n",
            n, inner_ok, st.tunnel_pkts, st.gre, st.vxlan, st.geneve, st.teredo, st.ipip, st.mpls,
            st.pppoe);
}

int main(void)
{
    RUN(gre_ipv4_in_ipv4);
    RUN(gre_other_payloads);
    RUN(gre_source_routes);
    RUN(gre_malformed);
    RUN(gre_pptp_ppp);
    RUN(ppp_frames);
    RUN(erspan);
    RUN(ip_in_ip);
    RUN(vxlan);
    RUN(geneve);
    RUN(teredo);
    RUN(mpls);
    RUN(mpls_layer_limit);
    RUN(pppoe_session);
    RUN(pppoe_discovery);
    RUN(nesting_depth_limit);
    RUN(inner_inherits_and_refuses);
    RUN(inner_truncated);
    RUN(truncation_every_byte);
    RUN(event_names);
    RUN(pcap_corpus);
    free(heap_copy);
    return test_summary("decode_tunnel");
}
