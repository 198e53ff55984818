/*
 * defrag_test.c — IP fragment reassembly: orders, duplicates, every overlap
 * policy byte by byte (Sturges/Novak's pattern, as Suricata's tests use it),
 * holes, timeouts, the memcap and pools, IPv6 extension headers before the
 * fragment header, tiny fragments and the size and sanity limits.
 *
 * Fragments are real packets built here (original datagrams come from
 * pktgen, fragmented by hand) and decoded with decode_packet(), so the test
 * also covers what the decoder hands to the reassembler.  A reassembled
 * datagram of an original without DF must equal that original byte for byte.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pcap/dlt.h>
#include <string.h>

#include "../tools/pktgen.h"
#include "kanshi/decode.h"
#include "kanshi/defrag.h"
#include "kanshi/kanshi.h"
#include "test.h"

#define T0 1700000000000000ull /* packet time of the first fragment */
#define SEC 1000000ull

static struct decode_stats dst;

/* One fragment in packet form. */
struct frag {
    uint8_t b[2048];
    uint32_t len;
};

static void addr4(struct kanshi_addr *a, const char *s)
{
    memset(a, 0, sizeof(*a));
    a->family = AF_INET;
    inet_pton(AF_INET, s, a->a);
}

static void addr6(struct kanshi_addr *a, const char *s)
{
    memset(a, 0, sizeof(*a));
    a->family = AF_INET6;
    inet_pton(AF_INET6, s, a->a);
}

/* The IP packet (no Ethernet) of a UDP datagram from pktgen; DF is clear. */
static uint32_t orig_udp(uint8_t *out, int family, const uint8_t *data, size_t len)
{
    static uint8_t frame[PKTGEN_MAX_FRAME];
    struct kanshi_addr s, d;
    struct pktgen_pkt pk;
    int n;

    if (family == AF_INET) {
        addr4(&s, "192.0.2.1");
        addr4(&d, "198.51.100.2");
    } else {
        addr6(&s, "2001:db8::1");
        addr6(&d, "2001:db8::2");
    }
    pktgen_pkt_init(&pk, IPPROTO_UDP, &s, 5353, &d, 53);
    pk.ip_id = 0x4242;
    pk.payload = data;
    pk.payload_len = len;
    n = pktgen_build(frame, sizeof(frame), &pk);
    if (n < 14)
        return 0;
    memcpy(out, frame + 14, (size_t)n - 14);
    return (uint32_t)n - 14;
}

static void wr16(uint8_t *b, uint32_t v)
{
    b[0] = (uint8_t)(v >> 8);
    b[1] = (uint8_t)v;
}

/* An IPv4 fragment of the datagram whose header is hdr (hl bytes): data
 * bytes [off, off + len) taken from data, with MF as given. */
static void frag4(struct frag *fr, const uint8_t *hdr, uint32_t hl, uint32_t off, int mf,
                  const uint8_t *data, uint32_t len)
{
    uint8_t *b = fr->b;

    memcpy(b, hdr, hl);
    memcpy(b + hl, data, len);
    wr16(b + 2, hl + len);
    wr16(b + 6, (mf ? 0x2000u : 0) | (off / 8));
    wr16(b + 10, 0);
    wr16(b + 10, pktgen_inet_csum(b, hl));
    fr->len = hl + len;
}

/* An IPv6 fragment: the unfragmentable part uf (ufl bytes; nh_pos is the
 * byte naming what follows it), a fragment header with next header nh. */
static void frag6(struct frag *fr, const uint8_t *uf, uint32_t ufl, uint32_t nh_pos, uint8_t nh,
                  uint32_t id, uint32_t off, int mf, const uint8_t *data, uint32_t len)
{
    uint8_t *b = fr->b;

    memcpy(b, uf, ufl);
    b[nh_pos] = 44;
    b[ufl] = nh;
    b[ufl + 1] = 0;
    wr16(b + ufl + 2, off | (mf ? 1u : 0));
    b[ufl + 4] = (uint8_t)(id >> 24);
    b[ufl + 5] = (uint8_t)(id >> 16);
    b[ufl + 6] = (uint8_t)(id >> 8);
    b[ufl + 7] = (uint8_t)id;
    memcpy(b + ufl + 8, data, len);
    wr16(b + 4, ufl - 40 + 8 + len);
    fr->len = ufl + 8 + len;
}

/* Decodes fr and feeds it; returns defrag_process()'s value. */
static int feed(struct defrag *d, const struct frag *fr, uint64_t ts, struct defrag_result *res)
{
    struct packet p;

    decode_packet(&p, DLT_RAW, fr->b, fr->len, fr->len, ts, &dst);
    return defrag_process(d, &p, res);
}

static struct defrag *mkdefrag(enum defrag_policy pol)
{
    struct defrag_config c;
    struct defrag *d = NULL;

    defrag_config_default(&c);
    c.policy = pol;
    if (defrag_create(&d, &c) != 0)
        return NULL;
    return d;
}

/* Splits the IPv4 packet o (olen bytes) into fragments of `step` data bytes. */
static int split4(struct frag *fr, const uint8_t *o, uint32_t olen, uint32_t step)
{
    uint32_t hl = (uint32_t)(o[0] & 0x0f) * 4, plen = olen - hl;
    int n = 0;

    for (uint32_t off = 0; off < plen; off += step) {
        uint32_t len = plen - off < step ? plen - off : step;
        frag4(&fr[n++], o, hl, off, off + len < plen, o + hl + off, len);
    }
    return n;
}

static int split6(struct frag *fr, const uint8_t *o, uint32_t olen, uint32_t ufl, uint32_t nh_pos,
                  uint32_t id, uint32_t step)
{
    uint32_t plen = olen - ufl;
    int n = 0;

    for (uint32_t off = 0; off < plen; off += step) {
        uint32_t len = plen - off < step ? plen - off : step;
        frag6(&fr[n++], o, ufl, nh_pos, o[nh_pos], id, off, off + len < plen, o + ufl + off, len);
    }
    return n;
}

static uint8_t payload[4000];

static void fill_payload(void)
{
    for (size_t i = 0; i < sizeof(payload); i++)
        payload[i] = (uint8_t)(i * 7 + i / 251);
}

/* Feeds fragments in the order given; the last must complete and the result
 * must equal the original. */
static void run_order(int family, const int *order, int n, struct frag *fr, const uint8_t *o,
                      uint32_t olen)
{
    struct defrag *d = mkdefrag(DEFRAG_POLICY_BSD);
    struct defrag_result res;
    struct packet p;

    CHECK(d != NULL);
    if (d == NULL)
        return;
    for (int i = 0; i < n; i++) {
        int rc = feed(d, &fr[order[i]], T0 + (uint64_t)i, &res);
        CHECK_INT(rc, i == n - 1 ? 1 : 0);
        CHECK_INT(res.events, 0);
    }
    CHECK_INT(res.len, olen);
    CHECK(res.data != NULL && memcmp(res.data, o, olen) == 0);
    /* The result decodes as a UDP packet with good checksums. */
    CHECK_INT(decode_packet(&p, DLT_RAW, res.data, res.len, res.len, T0, &dst), 0);
    CHECK(p.flags & PKT_UDP);
    CHECK(!(p.flags & (PKT_FRAGMENT | PKT_INVALID)));
    CHECK(decode_checksum_check(&p));
    CHECK_INT(p.payload_len, 3000);
    CHECK(p.payload != NULL && memcmp(p.payload, payload, 3000) == 0);
    if (family == AF_INET)
        CHECK_INT(defrag_stats(d)->reassembled4, 1);
    else
        CHECK_INT(defrag_stats(d)->reassembled6, 1);
    CHECK_INT(defrag_stats(d)->trackers_active, 0);
    CHECK_INT(defrag_stats(d)->frags_active, 0);
    defrag_destroy(d);
}

TEST(ipv4_in_order_reverse_shuffled)
{
    static uint8_t o[4096];
    static struct frag fr[8];
    uint32_t olen = orig_udp(o, AF_INET, payload, 3000);
    int n = split4(fr, o, olen, 1000); /* 3008 bytes of UDP: 4 fragments */
    int inorder[] = {0, 1, 2, 3}, reverse[] = {3, 2, 1, 0}, shuf1[] = {2, 0, 3, 1},
        shuf2[] = {1, 3, 0, 2};

    CHECK_INT(n, 4);
    run_order(AF_INET, inorder, n, fr, o, olen);
    run_order(AF_INET, reverse, n, fr, o, olen);
    run_order(AF_INET, shuf1, n, fr, o, olen);
    run_order(AF_INET, shuf2, n, fr, o, olen);
}

TEST(ipv6_in_order_reverse_shuffled)
{
    static uint8_t o[4096];
    static struct frag fr[8];
    uint32_t olen = orig_udp(o, AF_INET6, payload, 3000);
    int n = split6(fr, o, olen, 40, 6, 0xdeadbeef, 1232);
    int inorder[] = {0, 1, 2}, reverse[] = {2, 1, 0}, shuf[] = {1, 2, 0};

    CHECK_INT(n, 3);
    run_order(AF_INET6, inorder, n, fr, o, olen);
    run_order(AF_INET6, reverse, n, fr, o, olen);
    run_order(AF_INET6, shuf, n, fr, o, olen);
}

/* IPv6 with hop-by-hop and destination options before the fragment header:
 * they stay, the destination options header's next header is fixed up. */
TEST(ipv6_extension_headers_before_fragment)
{
    static uint8_t u[4096], o[4096];
    static struct frag fr[8];
    uint32_t ulen = orig_udp(u, AF_INET6, payload, 3000), olen;
    static const uint8_t hop[8] = {60, 0, 1, 4, 0, 0, 0, 0};  /* -> dst opts, PadN */
    static const uint8_t dsto[8] = {17, 0, 1, 4, 0, 0, 0, 0}; /* -> UDP, PadN */
    struct defrag *d = mkdefrag(DEFRAG_POLICY_BSD);
    struct defrag_result res;
    struct packet p;
    int n, rc = 0;

    /* The original with the two headers inserted. */
    memcpy(o, u, 40);
    o[6] = 0;
    memcpy(o + 40, hop, 8);
    memcpy(o + 48, dsto, 8);
    memcpy(o + 56, u + 40, ulen - 40);
    olen = ulen + 16;
    wr16(o + 4, olen - 40);
    n = split6(fr, o, olen, 56, 48, 7, 1000);
    CHECK_INT(n, 4);
    /* What the decoder makes of a fragment: data after the fragment header. */
    decode_packet(&p, DLT_RAW, fr[1].b, fr[1].len, fr[1].len, T0, &dst);
    CHECK(p.flags & PKT_FRAGMENT);
    CHECK_INT(p.l3_hdr_len, 64);
    CHECK_INT(p.ip_proto, 17);
    for (int i = n - 1; i >= 0; i--)
        rc = feed(d, &fr[i], T0, &res);
    CHECK_INT(rc, 1);
    CHECK_INT(res.len, olen);
    CHECK(memcmp(res.data, o, olen) == 0);
    CHECK_INT(decode_packet(&p, DLT_RAW, res.data, res.len, res.len, T0, &dst), 0);
    CHECK(p.flags & PKT_UDP);
    CHECK_INT(p.l3_hdr_len, 56);
    CHECK(decode_checksum_check(&p));
    defrag_destroy(d);
}

/* Without extension headers the IPv6 header's own next header is fixed. */
TEST(ipv6_next_header_in_base_header)
{
    static uint8_t o[4096];
    static struct frag fr[4];
    uint32_t olen = orig_udp(o, AF_INET6, payload, 100);
    struct defrag *d = mkdefrag(DEFRAG_POLICY_BSD);
    struct defrag_result res;

    CHECK_INT(split6(fr, o, olen, 40, 6, 9, 64), 2);
    CHECK_INT(feed(d, &fr[0], T0, &res), 0);
    CHECK_INT(feed(d, &fr[1], T0, &res), 1);
    CHECK_INT(res.data[6], 17);
    CHECK(memcmp(res.data, o, olen) == 0);
    defrag_destroy(d);
}

TEST(duplicates_raise_overlap_and_change_nothing)
{
    static uint8_t o[4096];
    static struct frag fr[8];
    uint32_t olen = orig_udp(o, AF_INET, payload, 3000);
    int n = split4(fr, o, olen, 1000);
    struct defrag *d = mkdefrag(DEFRAG_POLICY_BSD);
    struct defrag_result res;

    CHECK_INT(feed(d, &fr[0], T0, &res), 0);
    CHECK_INT(res.events, 0);
    CHECK_INT(feed(d, &fr[0], T0, &res), 0);
    CHECK_INT(res.events, DEFRAG_EV_OVERLAP);
    CHECK_INT(feed(d, &fr[2], T0, &res), 0);
    CHECK_INT(feed(d, &fr[1], T0, &res), 0);
    CHECK_INT(feed(d, &fr[2], T0, &res), 0);
    CHECK_INT(res.events, DEFRAG_EV_OVERLAP);
    CHECK_INT(feed(d, &fr[n - 1], T0, &res), 1);
    CHECK_INT(res.events, 0);
    CHECK(res.len == olen && memcmp(res.data, o, olen) == 0);
    CHECK_INT(defrag_stats(d)->overlaps, 2);
    /* The same datagram again (a retransmission) is a new datagram. */
    for (int i = 0; i < n; i++)
        CHECK_INT(feed(d, &fr[i], T0, &res), i == n - 1);
    CHECK_INT(defrag_stats(d)->reassembled4, 2);
    defrag_destroy(d);
}

/*
 * Sturges/Novak ("Target-Based Fragmentation Reassembly"): nine original
 * fragments, then eight overlapping ones; the result of each policy.  Slots
 * are 8 bytes: <1> A at 0-2, <2> B at 4-5, <3> C at 6-8, D at 10, E at
 * 13-14, F at 15-17, G at 18-19, H at 20-21, I at 22; then J at 1-4, K at
 * 6-8, L at 9-11, M at 12-14, N at 16, O at 19, P at 20, Q at 22-23 (last).
 */
static const struct {
    char c;
    uint32_t slot, nslots;
} sn_frags[] = {
    {'A', 0, 3},  {'B', 4, 2},  {'C', 6, 3},  {'D', 10, 1}, {'E', 13, 2}, {'F', 15, 3},
    {'G', 18, 2}, {'H', 20, 2}, {'I', 22, 1}, {'J', 1, 4},  {'K', 6, 3},  {'L', 9, 3},
    {'M', 12, 3}, {'N', 16, 1}, {'O', 19, 1}, {'P', 20, 1}, {'Q', 22, 2},
};

static const struct {
    enum defrag_policy pol;
    const char *slots; /* one letter per 8-byte slot of the result */
} sn_expect[] = {
    {DEFRAG_POLICY_BSD, "AAAJJBCCCLLLMMMFFFGGHHIQ"},
    {DEFRAG_POLICY_LINUX, "AAAJJBKKKLLLMMMFFFGGPHQQ"},
    {DEFRAG_POLICY_WINDOWS, "AAAJBBCCCLLLMEEFFFGGHHIQ"},
    {DEFRAG_POLICY_SOLARIS, "AAAJBBCCCLLLMMMFFFGGHHIQ"},
    {DEFRAG_POLICY_FIRST, "AAAJBBCCCLDLMEEFFFGGHHIQ"},
    {DEFRAG_POLICY_LAST, "AJJJJBKKKLLLMMMFNFGOPHQQ"},
};

static void sturges_novak(int family)
{
    static uint8_t hdr[40];
    static struct frag fr;

    memset(hdr, 0, sizeof(hdr));
    if (family == AF_INET) {
        hdr[0] = 0x45;
        hdr[8] = 64;
        hdr[9] = IPPROTO_ICMP;
        wr16(hdr + 4, 1);
        memcpy(hdr + 12, "\xc0\x00\x02\x01\xc0\x00\x02\x02", 8);
    } else {
        hdr[0] = 0x60;
        hdr[6] = 58;
        hdr[7] = 64;
        hdr[8] = 0x20, hdr[9] = 0x01, hdr[23] = 1;
        hdr[24] = 0x20, hdr[25] = 0x01, hdr[39] = 2;
    }
    for (size_t k = 0; k < KANSHI_ARRAY_LEN(sn_expect); k++) {
        struct defrag *d = mkdefrag(sn_expect[k].pol);
        struct defrag_result res;
        uint8_t data[32], want[192];
        int overlaps = 0, rc = 0;
        uint32_t hl = family == AF_INET ? 20 : 40;

        for (size_t i = 0; i < KANSHI_ARRAY_LEN(sn_frags); i++) {
            uint32_t len = sn_frags[i].nslots * 8, off = sn_frags[i].slot * 8;
            int mf = i + 1 < KANSHI_ARRAY_LEN(sn_frags);

            memset(data, sn_frags[i].c, len);
            if (family == AF_INET)
                frag4(&fr, hdr, 20, off, mf, data, len);
            else
                frag6(&fr, hdr, 40, 6, 58, 1, off, mf, data, len);
            rc = feed(d, &fr, T0, &res);
            if (i + 1 < KANSHI_ARRAY_LEN(sn_frags))
                CHECK_INT(rc, 0);
            /* No overlap among the originals; overlaps among the others. */
            if (i < 9)
                CHECK_INT(res.events, 0);
            else if (res.events & DEFRAG_EV_OVERLAP)
                overlaps++;
        }
        CHECK_INT(rc, 1);
        CHECK_INT(overlaps, 8);
        for (int s = 0; s < 24; s++)
            memset(want + s * 8, sn_expect[k].slots[s], 8);
        CHECK_INT(res.len, hl + 192);
        if (res.len == hl + 192 && memcmp(res.data + hl, want, 192) != 0) {
            fprintf(stderr, "policy %s (%s): got ", defrag_policy_name(sn_expect[k].pol),
                    family == AF_INET ? "v4" : "v6");
            for (int s = 0; s < 24; s++)
                fputc(res.data[hl + s * 8], stderr);
            fprintf(stderr, ", want %s\n", sn_expect[k].slots);
            CHECK(0);
        }
        if (family == AF_INET)
            CHECK_INT((res.data[2] << 8) | res.data[3], 212);
        else
            CHECK_INT((res.data[4] << 8) | res.data[5], 192);
        defrag_destroy(d);
    }
}

TEST(policies_sturges_novak_ipv4)
{
    sturges_novak(AF_INET);
}

TEST(policies_sturges_novak_ipv6)
{
    sturges_novak(AF_INET6);
}

/* A later fragment 0 with another header: the header follows the policy's
 * winner of byte 0 (bsd: the first; last: the last). */
TEST(header_of_byte_zero_winner)
{
    static uint8_t hdr[20];
    static struct frag a, b, c;
    uint8_t da[16], db[16], dc[8];
    struct defrag_result res;
    enum defrag_policy pols[] = {DEFRAG_POLICY_BSD, DEFRAG_POLICY_LAST};

    memset(hdr, 0, sizeof(hdr));
    hdr[0] = 0x45;
    hdr[8] = 64;
    hdr[9] = 253;
    memcpy(hdr + 12, "\x0a\x00\x00\x01\x0a\x00\x00\x02", 8);
    memset(da, 'a', sizeof(da));
    memset(db, 'b', sizeof(db));
    memset(dc, 'c', sizeof(dc));
    for (int k = 0; k < 2; k++) {
        struct defrag *d = mkdefrag(pols[k]);

        frag4(&a, hdr, 20, 0, 1, da, 16);
        hdr[8] = 99; /* the second fragment 0 says TTL 99 */
        frag4(&b, hdr, 20, 0, 1, db, 16);
        hdr[8] = 64;
        frag4(&c, hdr, 20, 16, 0, dc, 8);
        CHECK_INT(feed(d, &a, T0, &res), 0);
        CHECK_INT(feed(d, &b, T0, &res), 0);
        CHECK_INT(res.events, DEFRAG_EV_OVERLAP);
        CHECK_INT(feed(d, &c, T0, &res), 1);
        CHECK_INT(res.len, 44);
        CHECK_INT(res.data[8], k == 0 ? 64 : 99);
        CHECK_INT(res.data[20], k == 0 ? 'a' : 'b');
        CHECK_INT(res.data[36], 'c');
        CHECK_INT(pktgen_inet_csum(res.data, 20), 0);
        defrag_destroy(d);
    }
}

TEST(holes_never_complete_then_time_out)
{
    static uint8_t o[4096];
    static struct frag fr[8];
    uint32_t olen = orig_udp(o, AF_INET, payload, 3000);
    int n = split4(fr, o, olen, 1000);
    struct defrag *d = mkdefrag(DEFRAG_POLICY_BSD);
    struct defrag_result res;

    /* Fragment 1 is missing: last and first in, still nothing. */
    CHECK_INT(feed(d, &fr[n - 1], T0, &res), 0);
    CHECK_INT(feed(d, &fr[0], T0, &res), 0);
    CHECK_INT(feed(d, &fr[2], T0, &res), 0);
    CHECK_INT(feed(d, &fr[2], T0 + 10 * SEC, &res), 0);
    CHECK_INT(defrag_stats(d)->trackers_active, 1);
    CHECK_INT(defrag_stats(d)->frags_active, 4);
    /* Renewed by the fragment at +10 s: still there at +70 s, gone after. */
    CHECK_INT(defrag_timeout(d, T0 + 70 * SEC), 0);
    CHECK_INT(defrag_timeout(d, T0 + 70 * SEC + 1), 1);
    CHECK_INT(defrag_stats(d)->timeouts, 1);
    CHECK_INT(defrag_stats(d)->trackers_active, 0);
    CHECK_INT(defrag_stats(d)->frags_active, 0);
    /* The missing fragment alone now starts a new datagram. */
    CHECK_INT(feed(d, &fr[1], T0 + 71 * SEC, &res), 0);
    CHECK_INT(defrag_stats(d)->trackers, 2);
    defrag_destroy(d);
}

TEST(timeout_by_packet_time)
{
    static uint8_t o[4096];
    static struct frag fr[8];
    uint32_t olen = orig_udp(o, AF_INET, payload, 3000);
    int n = split4(fr, o, olen, 1000);
    struct defrag *d = mkdefrag(DEFRAG_POLICY_BSD);
    struct defrag_result res;

    CHECK_INT(feed(d, &fr[0], T0, &res), 0);
    /* 61 s later the first fragment is gone: the rest cannot complete. */
    for (int i = 1; i < n; i++)
        CHECK_INT(feed(d, &fr[i], T0 + 61 * SEC, &res), 0);
    CHECK_INT(defrag_stats(d)->timeouts, 1);
    /* Within the timeout, a resent first fragment completes it. */
    CHECK_INT(feed(d, &fr[0], T0 + 100 * SEC, &res), 1);
    CHECK(res.len == olen && memcmp(res.data, o, olen) == 0);
    defrag_destroy(d);
}

TEST(tiny_fragments)
{
    static uint8_t frame[256], o[256];
    static struct frag fr[64];
    struct kanshi_addr s, dd;
    struct pktgen_pkt pk;
    struct defrag *d = mkdefrag(DEFRAG_POLICY_BSD);
    struct defrag_result res;
    struct packet p;
    uint32_t olen;
    int n, fl, rc = 0;

    /* A TCP segment whose header is cut into 8-byte fragments. */
    addr4(&s, "10.1.1.1");
    addr4(&dd, "10.2.2.2");
    pktgen_pkt_init(&pk, IPPROTO_TCP, &s, 1234, &dd, 80);
    pk.df = false;
    pk.tcp_flags = TH_ACK | TH_PUSH;
    pk.payload = (const uint8_t *)"GET /evil HTTP/1.0\r\n\r\n";
    pk.payload_len = 22;
    fl = pktgen_build(frame, sizeof(frame), &pk);
    CHECK(fl > 14);
    olen = (uint32_t)fl - 14;
    memcpy(o, frame + 14, olen);
    n = split4(fr, o, olen, 8);
    CHECK_INT(n, 6); /* 42 bytes: 5 of 8 and one of 2 */
    decode_packet(&p, DLT_RAW, fr[0].b, fr[0].len, fr[0].len, T0, &dst);
    CHECK(p.flags & PKT_FRAGMENT);
    CHECK(!(p.flags & PKT_TCP));
    for (int i = 0; i < n; i++)
        rc = feed(d, &fr[i], T0, &res);
    CHECK_INT(rc, 1);
    CHECK(res.len == olen && memcmp(res.data, o, olen) == 0);
    CHECK_INT(decode_packet(&p, DLT_RAW, res.data, res.len, res.len, T0, &dst), 0);
    CHECK(p.flags & PKT_TCP);
    CHECK_INT(p.dp, 80);
    CHECK_INT(p.payload_len, 22);
    CHECK(decode_checksum_check(&p));
    defrag_destroy(d);
}

TEST(too_large_rejected)
{
    static uint8_t hdr[40], data[200];
    static struct frag fr;
    struct defrag *d = mkdefrag(DEFRAG_POLICY_BSD);
    struct defrag_result res;

    memset(hdr, 0, sizeof(hdr));
    hdr[0] = 0x45;
    hdr[8] = 64;
    hdr[9] = 17;
    memcpy(hdr + 12, "\x0a\x00\x00\x01\x0a\x00\x00\x02", 8);
    /* Ends at 65520 + 100 > 65535 - 20. */
    frag4(&fr, hdr, 20, 65520, 0, data, 100);
    CHECK_INT(feed(d, &fr, T0, &res), 0);
    CHECK_INT(res.events, DEFRAG_EV_TOO_LARGE);
    CHECK_INT(defrag_stats(d)->too_large, 1);
    CHECK_INT(defrag_stats(d)->trackers, 0);
    /* Exactly at the limit is fine: 65504 + 11 = 65515 = 65535 - 20. */
    frag4(&fr, hdr, 20, 65504, 0, data, 11);
    CHECK_INT(feed(d, &fr, T0, &res), 0);
    CHECK_INT(res.events, 0);
    CHECK_INT(defrag_stats(d)->trackers, 1);

    hdr[0] = 0x60;
    hdr[6] = 17;
    hdr[7] = 64;
    frag6(&fr, hdr, 40, 6, 17, 5, 65528, 0, data, 16);
    CHECK_INT(feed(d, &fr, T0, &res), 0);
    CHECK_INT(res.events, DEFRAG_EV_TOO_LARGE);
    CHECK_INT(defrag_stats(d)->too_large, 2);
    CHECK_STR(defrag_event_name(DEFRAG_EV_TOO_LARGE, AF_INET6), "decoder.ipv6.frag_pkt_too_large");
    defrag_destroy(d);
}

/* A datagram whose first fragment has IPv4 options and whose data reaches
 * the 65515-byte limit would exceed 65535 bytes: dropped when rebuilt. */
TEST(too_large_with_header_options)
{
    static uint8_t hdr[24], data[1500];
    static struct frag fr;
    struct defrag_config c;
    struct defrag *d;
    struct defrag_result res;
    uint32_t off;
    int rc = 0;

    defrag_config_default(&c);
    c.max_frags_per_datagram = 100;
    CHECK_INT(defrag_create(&d, &c), 0);
    memset(hdr, 0, sizeof(hdr));
    hdr[0] = 0x46; /* 24-byte header: one NOP option and EOLs */
    hdr[8] = 64;
    hdr[9] = 17;
    hdr[20] = 1;
    memcpy(hdr + 12, "\x0a\x00\x00\x01\x0a\x00\x00\x02", 8);
    for (off = 0; off + 1480 < 65515; off += 1480) {
        frag4(&fr, hdr, 24, off, 1, data, 1480);
        rc = feed(d, &fr, T0, &res);
        CHECK_INT(rc, 0);
    }
    frag4(&fr, hdr, 24, off, 0, data, 65515 - off);
    CHECK_INT(feed(d, &fr, T0, &res), 0);
    CHECK_INT(res.events, DEFRAG_EV_TOO_LARGE);
    CHECK_INT(defrag_stats(d)->trackers_active, 0);
    defrag_destroy(d);
}

TEST(fragment_after_last)
{
    static uint8_t o[4096];
    static struct frag fr[8], extra;
    uint32_t olen = orig_udp(o, AF_INET, payload, 3000);
    int n = split4(fr, o, olen, 1000);
    uint32_t hl = 20;
    struct defrag *d = mkdefrag(DEFRAG_POLICY_BSD);
    struct defrag_result res;

    CHECK_INT(feed(d, &fr[n - 1], T0, &res), 0); /* data 3000..3008, last */
    /* A fragment past the end is refused. */
    frag4(&extra, o, hl, 3008, 1, payload, 16);
    CHECK_INT(feed(d, &extra, T0, &res), 0);
    CHECK_INT(res.events, DEFRAG_EV_AFTER_LAST);
    /* So is another "last" fragment with another end. */
    frag4(&extra, o, hl, 2000, 0, payload, 16);
    CHECK_INT(feed(d, &extra, T0, &res), 0);
    CHECK_INT(res.events, DEFRAG_EV_AFTER_LAST);
    CHECK_INT(defrag_stats(d)->after_last, 2);
    for (int i = 0; i < n - 1; i++)
        CHECK_INT(feed(d, &fr[i], T0, &res), i == n - 2);
    CHECK(res.len == olen && memcmp(res.data, o, olen) == 0);

    /* A last fragment ending before data already held is refused too. */
    CHECK_INT(feed(d, &fr[2], T0, &res), 0);
    frag4(&extra, o, hl, 1000, 0, o + hl + 1000, 8);
    CHECK_INT(feed(d, &extra, T0, &res), 0);
    CHECK_INT(res.events, DEFRAG_EV_AFTER_LAST);
    CHECK_STR(defrag_event_name(DEFRAG_EV_AFTER_LAST, AF_INET), "decoder.ipv4.frag_after_last");
    defrag_destroy(d);
}

TEST(too_many_fragments)
{
    static uint8_t o[4096];
    static struct frag fr[64];
    uint32_t olen = orig_udp(o, AF_INET, payload, 200);
    int n = split4(fr, o, olen, 8);
    struct defrag_config c;
    struct defrag *d;
    struct defrag_result res;

    defrag_config_default(&c);
    c.max_frags_per_datagram = 10;
    CHECK_INT(defrag_create(&d, &c), 0);
    CHECK(n > 10);
    for (int i = 0; i < n; i++) {
        CHECK_INT(feed(d, &fr[i], T0, &res), 0);
        CHECK_INT(res.events, i < 10 ? 0 : DEFRAG_EV_TOO_MANY);
    }
    CHECK_INT(defrag_stats(d)->too_many, n - 10);
    CHECK_INT(defrag_stats(d)->frags_active, 10);
    defrag_destroy(d);
}

TEST(memcap_and_pools)
{
    static uint8_t o[4096], big[4096];
    static struct frag fr[8];
    struct defrag_config c;
    struct defrag *d;
    struct defrag_result res;
    uint32_t olen = orig_udp(o, AF_INET, payload, 3000);

    /* Room for two 2 KiB blocks: the third datagram evicts the oldest. */
    defrag_config_default(&c);
    c.memcap = 4096;
    CHECK_INT(defrag_create(&d, &c), 0);
    for (uint32_t id = 1; id <= 3; id++) {
        wr16(o + 4, id);
        split4(fr, o, olen, 1000);
        CHECK_INT(feed(d, &fr[0], T0 + id, &res), 0);
        CHECK_INT(res.events, 0);
    }
    CHECK_INT(defrag_stats(d)->evicted, 1);
    CHECK_INT(defrag_stats(d)->trackers_active, 2);
    CHECK_INT(defrag_stats(d)->bytes_active, 4096);
    /* Datagram 1 is gone: its other fragments start it anew; 2 completes. */
    wr16(o + 4, 2);
    split4(fr, o, olen, 1000);
    CHECK_INT(feed(d, &fr[1], T0 + 5, &res), 0); /* evicts 3 */
    CHECK_INT(feed(d, &fr[2], T0 + 5, &res), 0); /* nothing left to evict but 2 itself */
    CHECK_INT(res.events, DEFRAG_EV_IGNORED);
    CHECK_INT(defrag_stats(d)->memcap_drops, 1);
    CHECK_STR(defrag_event_name(DEFRAG_EV_IGNORED, AF_INET), "decoder.ipv4.frag_ignored");
    defrag_destroy(d);

    /* A fragment bigger than the memcap is never stored. */
    defrag_config_default(&c);
    c.memcap = 3000;
    CHECK_INT(defrag_create(&d, &c), 0);
    frag4(&fr[0], o, 20, 0, 1, big, 1600); /* 1620 bytes: fits a 2 KiB block */
    CHECK_INT(feed(d, &fr[0], T0, &res), 0);
    CHECK_INT(res.events, 0);
    wr16(o + 4, 77);
    {
        static uint8_t pkt[4096];
        struct packet p;

        /* 3020-byte fragment, built directly (struct frag holds 2 KiB). */
        memcpy(pkt, o, 20);
        wr16(pkt + 2, 20 + 3000);
        wr16(pkt + 6, 0x2000);
        wr16(pkt + 10, 0);
        wr16(pkt + 10, pktgen_inet_csum(pkt, 20));
        decode_packet(&p, DLT_RAW, pkt, 3020, 3020, T0, &dst);
        CHECK_INT(defrag_process(d, &p, &res), 0);
        CHECK_INT(res.events, DEFRAG_EV_IGNORED);
    }
    CHECK_INT(defrag_stats(d)->trackers_active, 0); /* both given up */
    CHECK_INT(defrag_stats(d)->evicted, 1);
    defrag_destroy(d);

    /* Tracker pool of 2: the third datagram evicts the oldest. */
    defrag_config_default(&c);
    c.max_trackers = 2;
    CHECK_INT(defrag_create(&d, &c), 0);
    for (uint32_t id = 1; id <= 3; id++) {
        wr16(o + 4, id);
        split4(fr, o, olen, 1000);
        CHECK_INT(feed(d, &fr[0], T0, &res), 0);
    }
    CHECK_INT(defrag_stats(d)->evicted, 1);
    CHECK_INT(defrag_stats(d)->trackers_active, 2);
    defrag_destroy(d);

    /* Fragment pool of 3 fragments. */
    defrag_config_default(&c);
    c.max_frags = 3;
    CHECK_INT(defrag_create(&d, &c), 0);
    wr16(o + 4, 1);
    split4(fr, o, olen, 1000);
    for (int i = 0; i < 3; i++)
        CHECK_INT(feed(d, &fr[i], T0, &res), 0);
    CHECK_INT(feed(d, &fr[3], T0, &res), 0);
    CHECK_INT(res.events, DEFRAG_EV_IGNORED);
    CHECK_INT(defrag_stats(d)->frags_active, 3);
    defrag_destroy(d);
}

TEST(keys_separate_datagrams)
{
    static uint8_t o[4096];
    static struct frag fr[8];
    uint32_t olen = orig_udp(o, AF_INET, payload, 3000);
    int n = split4(fr, o, olen, 1000);
    struct defrag *d = mkdefrag(DEFRAG_POLICY_BSD);
    struct defrag_result res;
    struct packet p;

    /* Same addresses and id but another VLAN, or another protocol: apart. */
    decode_packet(&p, DLT_RAW, fr[0].b, fr[0].len, fr[0].len, T0, &dst);
    p.vlan_id[0] = 10;
    CHECK_INT(defrag_process(d, &p, &res), 0);
    fr[1].b[9] = 6;
    wr16(fr[1].b + 10, 0);
    wr16(fr[1].b + 10, pktgen_inet_csum(fr[1].b, 20));
    for (int i = 1; i < n; i++)
        CHECK_INT(feed(d, &fr[i], T0, &res), 0);
    CHECK_INT(defrag_stats(d)->trackers_active, 3);
    CHECK_INT(defrag_stats(d)->reassembled4, 0);
    defrag_destroy(d);
}

TEST(invalid_input)
{
    static uint8_t o[4096];
    static struct frag fr[8], empty;
    uint32_t olen = orig_udp(o, AF_INET, payload, 3000);
    struct defrag *d = mkdefrag(DEFRAG_POLICY_BSD);
    struct defrag_result res;
    struct packet p;

    split4(fr, o, olen, 1000);
    /* Not a fragment. */
    decode_packet(&p, DLT_RAW, o, olen, olen, T0, &dst);
    CHECK_INT(defrag_process(d, &p, &res), -EINVAL);
    memset(&p, 0, sizeof(p));
    CHECK_INT(defrag_process(d, &p, &res), -EINVAL);
    /* Snaplen cut: not all of the fragment was captured. */
    decode_packet(&p, DLT_RAW, fr[1].b, 500, fr[1].len, T0, &dst);
    CHECK(p.flags & PKT_FRAGMENT);
    CHECK_INT(defrag_process(d, &p, &res), 0);
    CHECK_INT(defrag_stats(d)->invalid, 1);
    /* No data (offset > 0, last): ignored, nothing kept. */
    frag4(&empty, o, 20, 1000, 0, payload, 0);
    CHECK_INT(feed(d, &empty, T0, &res), 0);
    CHECK_INT(defrag_stats(d)->invalid, 2);
    CHECK_INT(defrag_stats(d)->trackers, 0);
    /* IPv6 fragment with MF and a length not a multiple of 8: the decoder
     * marks it invalid; not reassembled. */
    {
        static uint8_t h6[40], data[13];
        static struct frag f6;

        h6[0] = 0x60;
        h6[6] = 17;
        h6[7] = 64;
        frag6(&f6, h6, 40, 6, 17, 3, 0, 1, data, 13);
        decode_packet(&p, DLT_RAW, f6.b, f6.len, f6.len, T0, &dst);
        CHECK(p.flags & PKT_INVALID);
        CHECK_INT(defrag_process(d, &p, &res), 0);
        CHECK_INT(defrag_stats(d)->invalid, 3);
        /* A broken extension chain in front of the fragment header. */
        decode_packet(&p, DLT_RAW, f6.b, f6.len, f6.len, T0, &dst);
        p.flags &= ~(uint32_t)PKT_INVALID;
        p.l3_hdr_len = 52; /* claims 4 bytes of headers before it */
        CHECK_INT(defrag_process(d, &p, &res), 0);
        CHECK_INT(defrag_stats(d)->invalid, 4);
    }
    CHECK_INT(defrag_stats(d)->fragments4, 2);
    CHECK_INT(defrag_stats(d)->fragments6, 2);
    defrag_destroy(d);
}

TEST(config_and_names)
{
    struct defrag_config c;
    struct defrag *d = (struct defrag *)1;
    enum defrag_policy pol;

    defrag_config_default(&c);
    CHECK_INT(c.timeout, 60);
    CHECK_INT(c.policy, DEFRAG_POLICY_BSD);
    c.memcap = 0;
    CHECK_INT(defrag_create(&d, &c), -EINVAL);
    defrag_config_default(&c);
    c.max_frags_per_datagram = 8193;
    CHECK_INT(defrag_create(&d, &c), -EINVAL);
    defrag_config_default(&c);
    c.timeout = 0;
    CHECK_INT(defrag_create(&d, &c), -EINVAL);
    defrag_config_default(&c);
    c.policy = DEFRAG_POLICY_COUNT;
    CHECK_INT(defrag_create(&d, &c), -EINVAL);
    CHECK(d == (struct defrag *)1); /* untouched on error */
    defrag_destroy(NULL);

    CHECK_INT(defrag_policy_parse("Windows", &pol), 0);
    CHECK_INT(pol, DEFRAG_POLICY_WINDOWS);
    CHECK_INT(defrag_policy_parse("bsd-right", &pol), -EINVAL);
    CHECK_INT(defrag_policy_parse(NULL, &pol), -EINVAL);
    CHECK_STR(defrag_policy_name(DEFRAG_POLICY_SOLARIS), "solaris");
    CHECK_STR(defrag_policy_name(DEFRAG_POLICY_COUNT), "unknown");
    CHECK_STR(defrag_event_name(DEFRAG_EV_OVERLAP, AF_INET), "decoder.ipv4.frag_overlap");
    CHECK_STR(defrag_event_name(DEFRAG_EV_TOO_MANY, AF_INET6), "decoder.ipv6.frag_too_many");
    CHECK_STR(defrag_event_name(DEFRAG_EV_OVERLAP, 0), "decoder.unknown");
    CHECK_STR(defrag_event_name(1u << 20, AF_INET), "decoder.unknown");
}

int main(void)
{
    fill_payload();
    RUN(ipv4_in_order_reverse_shuffled);
    RUN(ipv6_in_order_reverse_shuffled);
    RUN(ipv6_extension_headers_before_fragment);
    RUN(ipv6_next_header_in_base_header);
    RUN(duplicates_raise_overlap_and_change_nothing);
    RUN(policies_sturges_novak_ipv4);
    RUN(policies_sturges_novak_ipv6);
    RUN(header_of_byte_zero_winner);
    RUN(holes_never_complete_then_time_out);
    RUN(timeout_by_packet_time);
    RUN(tiny_fragments);
    RUN(too_large_rejected);
    RUN(too_large_with_header_options);
    RUN(fragment_after_last);
    RUN(too_many_fragments);
    RUN(memcap_and_pools);
    RUN(keys_separate_datagrams);
    RUN(invalid_input);
    RUN(config_and_names);
    return test_summary("defrag");
}
