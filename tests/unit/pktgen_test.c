/*
 * pktgen_test.c — unit tests of the packet crafting library of tests/tools/.
 *
 * Every other test that builds traffic trusts pktgen, so this one checks its
 * output independently: checksums are recomputed here with a separate
 * implementation, the pcap file is read back byte by byte, and the TCP
 * session helper's sequence numbers are followed packet by packet.  The
 * sensor's own decoder is run over the frames as a second opinion.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "../tools/pktgen.h"
#include "kanshi/decode.h"
#include "test.h"

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t rd32le(const uint8_t *p)
{
    return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

/* A deliberately different checksum: a 64-bit accumulator over the whole
 * concatenation, folded once at the end.  A correct packet sums to 0xffff
 * when its checksum field is included. */
static uint16_t ref_sum(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    uint8_t buf[70000];
    uint64_t s = 0;
    size_t i, n = alen + blen;

    if (alen > 0)
        memcpy(buf, a, alen);
    if (blen > 0)
        memcpy(buf + alen, b, blen);
    if (n & 1)
        buf[n++] = 0;
    for (i = 0; i < n; i += 2)
        s += (uint64_t)buf[i] << 8 | buf[i + 1];
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)s;
}

/* Pseudo-header of the IP packet at ip (v4 or v6) for an L4 of len bytes. */
static size_t ref_pseudo(const uint8_t *ip, uint8_t proto, size_t len, uint8_t *ph)
{
    if ((ip[0] >> 4) == 4) {
        memcpy(ph, ip + 12, 8);
        ph[8] = 0;
        ph[9] = proto;
        ph[10] = (uint8_t)(len >> 8);
        ph[11] = (uint8_t)len;
        return 12;
    }
    memcpy(ph, ip + 8, 32);
    ph[32] = (uint8_t)(len >> 24);
    ph[33] = (uint8_t)(len >> 16);
    ph[34] = (uint8_t)(len >> 8);
    ph[35] = (uint8_t)len;
    ph[36] = ph[37] = ph[38] = 0;
    ph[39] = proto;
    return 40;
}

static struct kanshi_addr addr(const char *s)
{
    struct kanshi_addr a;

    memset(&a, 0, sizeof(a));
    if (pktgen_addr_parse(&a, s) != 0)
        fprintf(stderr, "bad test address %s\n", s);
    return a;
}

static const uint8_t http_req[] = "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n";

TEST(test_inet_csum_rfc1071)
{
    /* The worked example of RFC 1071 section 3: sum 0xddf2. */
    static const uint8_t v[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
    static const uint8_t odd[] = {0x01};

    CHECK_INT(pktgen_inet_csum(v, sizeof(v)), 0x220d);
    CHECK_INT(pktgen_inet_csum(odd, 1), 0xfeff);
    CHECK_INT(pktgen_inet_csum(NULL, 0), 0xffff);
}

TEST(test_addr_parse)
{
    struct kanshi_addr a;

    CHECK_INT(pktgen_addr_parse(&a, "10.1.2.3"), 0);
    CHECK_INT(a.family, AF_INET);
    CHECK(memcmp(a.a, "\x0a\x01\x02\x03", 4) == 0);
    CHECK_INT(pktgen_addr_parse(&a, "2001:db8::1"), 0);
    CHECK_INT(a.family, AF_INET6);
    CHECK_INT(a.a[0], 0x20);
    CHECK_INT(a.a[15], 0x01);
    a.family = 99;
    CHECK_INT(pktgen_addr_parse(&a, "10.1.2"), -EINVAL);
    CHECK_INT(a.family, 99); /* untouched on error */
    CHECK_INT(pktgen_addr_parse(&a, "10.1.2.3:80"), -EINVAL);
    CHECK_INT(pktgen_addr_parse(&a, ""), -EINVAL);
    CHECK_INT(pktgen_addr_parse(&a, NULL), -EINVAL);
}

TEST(test_build_tcp_ipv4)
{
    struct kanshi_addr s = addr("10.0.0.5"), d = addr("198.51.100.7");
    struct pktgen_pkt pk;
    uint8_t buf[2048], ph[40];
    const uint8_t *ip = buf + 14, *tcp = buf + 34;
    size_t tcplen = 20 + sizeof(http_req) - 1;
    int n;

    pktgen_pkt_init(&pk, IPPROTO_TCP, &s, 40000, &d, 80);
    pk.seq = 0x01020304;
    pk.ack = 0xa0b0c0d0;
    pk.tcp_flags = TH_ACK | TH_PUSH;
    pk.ip_id = 0x1234;
    pk.payload = http_req;
    pk.payload_len = sizeof(http_req) - 1;
    n = pktgen_build(buf, sizeof(buf), &pk);
    CHECK_INT(n, 14 + 20 + tcplen);
    /* Ethernet */
    CHECK_INT(rd16(buf + 12), 0x0800);
    CHECK_INT(buf[0] & 1, 0); /* unicast */
    CHECK_INT(buf[6] & 1, 0);
    /* IPv4 */
    CHECK_INT(ip[0], 0x45);
    CHECK_INT(rd16(ip + 2), 20 + tcplen);
    CHECK_INT(rd16(ip + 4), 0x1234);
    CHECK_INT(rd16(ip + 6), 0x4000); /* DF */
    CHECK_INT(ip[8], 64);
    CHECK_INT(ip[9], IPPROTO_TCP);
    CHECK(memcmp(ip + 12, s.a, 4) == 0);
    CHECK(memcmp(ip + 16, d.a, 4) == 0);
    CHECK_INT(ref_sum(ip, 20, NULL, 0), 0xffff);
    /* TCP */
    CHECK_INT(rd16(tcp), 40000);
    CHECK_INT(rd16(tcp + 2), 80);
    CHECK_INT(rd32(tcp + 4), 0x01020304);
    CHECK_INT(rd32(tcp + 8), 0xa0b0c0d0);
    CHECK_INT(tcp[12] >> 4, 5);
    CHECK_INT(tcp[13], TH_ACK | TH_PUSH);
    CHECK_INT(rd16(tcp + 14), 64240);
    CHECK(memcmp(tcp + 20, http_req, sizeof(http_req) - 1) == 0);
    CHECK_INT(ref_sum(ph, ref_pseudo(ip, IPPROTO_TCP, tcplen, ph), tcp, tcplen), 0xffff);

    /* A flipped payload byte must break the checksum the test computes. */
    buf[n - 1] ^= 0x20;
    CHECK(ref_sum(ph, ref_pseudo(ip, IPPROTO_TCP, tcplen, ph), tcp, tcplen) != 0xffff);
}

TEST(test_build_tcp_options_and_odd_payload)
{
    static const uint8_t opts[8] = {2, 4, 0x05, 0xb4, 1, 1, 4, 2};
    static const uint8_t odd[3] = {'a', 'b', 'c'};
    struct kanshi_addr s = addr("192.168.1.2"), d = addr("203.0.113.9");
    struct pktgen_pkt pk;
    uint8_t buf[256], ph[40];
    int n;

    pktgen_pkt_init(&pk, IPPROTO_TCP, &s, 1025, &d, 443);
    pk.tcp_flags = TH_SYN;
    pk.tcp_opts = opts;
    pk.tcp_opts_len = sizeof(opts);
    pk.payload = odd;
    pk.payload_len = sizeof(odd);
    n = pktgen_build(buf, sizeof(buf), &pk);
    CHECK_INT(n, 14 + 20 + 28 + 3);
    CHECK_INT(buf[34 + 12] >> 4, 7);
    CHECK(memcmp(buf + 34 + 20, opts, sizeof(opts)) == 0);
    CHECK_INT(ref_sum(ph, ref_pseudo(buf + 14, IPPROTO_TCP, 31, ph), buf + 34, 31), 0xffff);
}

TEST(test_build_udp_ipv6_and_vlan)
{
    static const uint8_t q[] = "\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00"
                               "\x07"
                               "example\x03"
                               "com\x00\x00\x01\x00\x01";
    struct kanshi_addr s = addr("2001:db8::5"), d = addr("2001:db8:ffff::53");
    struct pktgen_pkt pk;
    uint8_t buf[256], ph[40];
    const uint8_t *ip = buf + 18, *udp = buf + 58;
    size_t ulen = 8 + sizeof(q) - 1;
    int n;

    pktgen_pkt_init(&pk, IPPROTO_UDP, &s, 5353, &d, 53);
    pk.vlan = 110;
    pk.payload = q;
    pk.payload_len = sizeof(q) - 1;
    n = pktgen_build(buf, sizeof(buf), &pk);
    CHECK_INT(n, 18 + 40 + ulen);
    CHECK_INT(rd16(buf + 12), 0x8100);
    CHECK_INT(rd16(buf + 14), 110);
    CHECK_INT(rd16(buf + 16), 0x86dd);
    CHECK_INT(ip[0] >> 4, 6);
    CHECK_INT(rd16(ip + 4), ulen);
    CHECK_INT(ip[6], IPPROTO_UDP);
    CHECK_INT(ip[7], 64);
    CHECK(memcmp(ip + 8, s.a, 16) == 0);
    CHECK(memcmp(ip + 24, d.a, 16) == 0);
    CHECK_INT(rd16(udp), 5353);
    CHECK_INT(rd16(udp + 2), 53);
    CHECK_INT(rd16(udp + 4), ulen);
    CHECK(rd16(udp + 6) != 0);
    CHECK_INT(ref_sum(ph, ref_pseudo(ip, IPPROTO_UDP, ulen, ph), udp, ulen), 0xffff);
}

TEST(test_udp_zero_checksum_sent_as_ffff)
{
    struct kanshi_addr s = addr("10.0.0.1"), d = addr("10.0.0.2");
    struct pktgen_pkt pk;
    uint8_t buf[128], pl[2] = {0, 0}, ph[40];
    uint16_t c;

    pktgen_pkt_init(&pk, IPPROTO_UDP, &s, 1000, &d, 2000);
    pk.payload = pl;
    pk.payload_len = 2;
    CHECK_INT(pktgen_build(buf, sizeof(buf), &pk), 14 + 20 + 10);
    /* Adding the complement of the sum as a payload word makes the
     * computed checksum 0, which UDP must send as 0xffff. */
    c = rd16(buf + 34 + 6);
    pl[0] = (uint8_t)(c >> 8);
    pl[1] = (uint8_t)c;
    CHECK_INT(pktgen_build(buf, sizeof(buf), &pk), 14 + 20 + 10);
    CHECK_INT(rd16(buf + 34 + 6), 0xffff);
    CHECK_INT(ref_sum(ph, ref_pseudo(buf + 14, IPPROTO_UDP, 10, ph), buf + 34, 10), 0xffff);
}

TEST(test_build_icmp_v4_v6)
{
    struct kanshi_addr s4 = addr("10.0.0.1"), d4 = addr("198.51.100.1");
    struct kanshi_addr s6 = addr("2001:db8::1"), d6 = addr("2001:db8::2");
    static const uint8_t data[5] = {1, 2, 3, 4, 5};
    struct pktgen_pkt pk;
    uint8_t buf[256], ph[40];

    pktgen_pkt_init(&pk, IPPROTO_ICMP, &s4, 0, &d4, 0);
    pk.icmp_type = 8;
    pk.icmp_id = 0x4b53;
    pk.icmp_seq = 7;
    pk.payload = data;
    pk.payload_len = sizeof(data);
    CHECK_INT(pktgen_build(buf, sizeof(buf), &pk), 14 + 20 + 8 + 5);
    CHECK_INT(buf[14 + 9], IPPROTO_ICMP);
    CHECK_INT(rd16(buf + 14 + 6), 0); /* no DF for ICMP */
    CHECK_INT(buf[34], 8);
    CHECK_INT(rd16(buf + 38), 0x4b53);
    CHECK_INT(rd16(buf + 40), 7);
    CHECK_INT(ref_sum(buf + 34, 13, NULL, 0), 0xffff);

    pktgen_pkt_init(&pk, IPPROTO_ICMPV6, &s6, 0, &d6, 0);
    pk.icmp_type = 128;
    pk.payload = data;
    pk.payload_len = sizeof(data);
    CHECK_INT(pktgen_build(buf, sizeof(buf), &pk), 14 + 40 + 8 + 5);
    CHECK_INT(buf[14 + 6], IPPROTO_ICMPV6);
    /* ICMPv6 includes the pseudo-header; plain ICMP would not sum right. */
    CHECK_INT(ref_sum(ph, ref_pseudo(buf + 14, IPPROTO_ICMPV6, 13, ph), buf + 54, 13), 0xffff);
    CHECK(ref_sum(buf + 54, 13, NULL, 0) != 0xffff);
}

TEST(test_build_errors)
{
    struct kanshi_addr s4 = addr("10.0.0.1"), d4 = addr("10.0.0.2"), d6 = addr("2001:db8::2");
    static const uint8_t opts[3] = {1, 1, 1};
    static uint8_t big[65536];
    struct pktgen_pkt pk;
    uint8_t buf[64];

    pktgen_pkt_init(&pk, IPPROTO_TCP, &s4, 1, &d6, 2);
    CHECK_INT(pktgen_build(buf, sizeof(buf), &pk), -EINVAL);
    pktgen_pkt_init(&pk, IPPROTO_TCP, NULL, 1, NULL, 2);
    CHECK_INT(pktgen_build(buf, sizeof(buf), &pk), -EINVAL);
    pktgen_pkt_init(&pk, IPPROTO_ICMPV6, &s4, 0, &d4, 0);
    CHECK_INT(pktgen_build(buf, sizeof(buf), &pk), -EINVAL);
    pktgen_pkt_init(&pk, IPPROTO_GRE, &s4, 0, &d4, 0);
    CHECK_INT(pktgen_build(buf, sizeof(buf), &pk), -EINVAL);
    pktgen_pkt_init(&pk, IPPROTO_UDP, &s4, 1, &d4, 2);
    pk.vlan = 4095;
    CHECK_INT(pktgen_build(buf, sizeof(buf), &pk), -EINVAL);
    pktgen_pkt_init(&pk, IPPROTO_TCP, &s4, 1, &d4, 2);
    pk.tcp_opts = opts;
    pk.tcp_opts_len = sizeof(opts);
    CHECK_INT(pktgen_build(buf, sizeof(buf), &pk), -EINVAL);
    pktgen_pkt_init(&pk, IPPROTO_UDP, &s4, 1, &d4, 2);
    pk.payload_len = 4;
    CHECK_INT(pktgen_build(buf, sizeof(buf), &pk), -EINVAL);
    /* IPv4 total length would exceed 65535. */
    pk.payload = big;
    pk.payload_len = 65535 - 20 - 8 + 1;
    CHECK_INT(pktgen_build(big, sizeof(big), &pk), -EMSGSIZE);
    /* Fits IP, not the buffer; buf stays untouched. */
    memset(buf, 0xaa, sizeof(buf));
    pk.payload_len = 100;
    CHECK_INT(pktgen_build(buf, sizeof(buf), &pk), -ENOBUFS);
    CHECK_INT(buf[0], 0xaa);
    CHECK_INT(buf[sizeof(buf) - 1], 0xaa);
    /* Exactly fitting works. */
    pk.payload_len = sizeof(buf) - 14 - 20 - 8;
    CHECK_INT(pktgen_build(buf, sizeof(buf), &pk), (int)sizeof(buf));
}

/* The sensor's decoder must agree with what was built. */
TEST(test_decoder_roundtrip)
{
    struct kanshi_addr s = addr("2001:db8::5"), d = addr("2001:db8::80");
    struct decode_stats st;
    struct packet p;
    struct pktgen_pkt pk;
    uint8_t buf[512];
    int n;

    memset(&st, 0, sizeof(st));
    pktgen_pkt_init(&pk, IPPROTO_TCP, &s, 40001, &d, 80);
    pk.vlan = 42;
    pk.seq = 1000;
    pk.ack = 2000;
    pk.tcp_flags = TH_ACK | TH_PUSH;
    pk.payload = http_req;
    pk.payload_len = sizeof(http_req) - 1;
    n = pktgen_build(buf, sizeof(buf), &pk);
    CHECK(n > 0);
    CHECK_INT(decode_packet(&p, 1 /* DLT_EN10MB */, buf, (uint32_t)n, (uint32_t)n, 0, &st), 0);
    CHECK(p.flags & PKT_IPV6);
    CHECK(p.flags & PKT_TCP);
    CHECK(p.flags & PKT_VLAN);
    CHECK_INT(p.vlan_id[0], 42);
    CHECK_INT(p.sp, 40001);
    CHECK_INT(p.dp, 80);
    CHECK_INT(p.tcp_seq, 1000);
    CHECK_INT(p.tcp_ack, 2000);
    CHECK_INT(p.payload_len, sizeof(http_req) - 1);
    CHECK_INT(p.nevents, 0);
    CHECK(decode_checksum_check(&p));

    pktgen_pkt_init(&pk, IPPROTO_ICMP, NULL, 0, NULL, 0);
    pk.src = addr("10.0.0.1");
    pk.dst = addr("10.0.0.2");
    pk.icmp_type = 8;
    pk.payload = http_req;
    pk.payload_len = 10;
    n = pktgen_build(buf, sizeof(buf), &pk);
    CHECK_INT(decode_packet(&p, 1, buf, (uint32_t)n, (uint32_t)n, 0, &st), 0);
    CHECK(p.flags & PKT_ICMPV4);
    CHECK_INT(p.icmp_type, 8);
    CHECK_INT(p.nevents, 0);
    CHECK(decode_checksum_check(&p));
}

/* --- pcap files --------------------------------------------------------- */

struct rec {
    uint32_t sec, usec, caplen, len;
    const uint8_t *data;
};

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    uint8_t *b;
    long n;

    if (fp == NULL)
        return NULL;
    fseek(fp, 0, SEEK_END);
    n = ftell(fp);
    rewind(fp);
    b = malloc((size_t)n + 1);
    if (b != NULL && fread(b, 1, (size_t)n, fp) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(fp);
    *len = (size_t)n;
    return b;
}

/* Splits a little-endian classic pcap into records; returns the count or
 * -1 when the layout is wrong. */
static int read_records(const uint8_t *b, size_t len, struct rec *r, int max)
{
    size_t off = 24;
    int n = 0;

    if (len < 24 || rd32le(b) != 0xa1b2c3d4)
        return -1;
    while (off < len) {
        if (n == max || len - off < 16)
            return -1;
        r[n].sec = rd32le(b + off);
        r[n].usec = rd32le(b + off + 4);
        r[n].caplen = rd32le(b + off + 8);
        r[n].len = rd32le(b + off + 12);
        r[n].data = b + off + 16;
        off += 16;
        if (r[n].caplen > len - off)
            return -1;
        off += r[n].caplen;
        n++;
    }
    return n;
}

static char tmp_path[256];

static const char *tmpfile_path(const char *name)
{
    snprintf(tmp_path, sizeof(tmp_path), "%s/kanshi-pktgen-test-%d-%s",
             getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp", (int)getpid(), name);
    return tmp_path;
}

TEST(test_pcap_layout_and_clock)
{
    struct kanshi_addr s = addr("10.0.0.1"), d = addr("10.0.0.2");
    const char *path = tmpfile_path("layout.pcap");
    struct pktgen *g = NULL;
    struct rec r[8];
    uint8_t *b, frame[3] = {1, 2, 3};
    size_t len;
    int n;

    CHECK_INT(pktgen_open(&g, path), 0);
    if (g == NULL)
        return;
    CHECK_INT(pktgen_clock(g), PKTGEN_DEFAULT_START_USEC);
    CHECK_INT(pktgen_udp(g, &s, 1000, &d, 53, "abc", 3), 0);
    pktgen_sleep(g, 2500000);
    pktgen_set_step(g, 250);
    CHECK_INT(pktgen_write_frame(g, frame, sizeof(frame)), 0);
    CHECK_INT(pktgen_write_frame(g, frame, sizeof(frame)), 0);
    pktgen_set_clock(g, 1000000ull * 1700000000 + 999999);
    CHECK_INT(pktgen_icmp_echo(g, &s, &d, 1, 1, "x", 1, true), 0);
    CHECK_INT(pktgen_count(g), 5);
    CHECK_INT(pktgen_close(g), 0);

    b = slurp(path, &len);
    CHECK(b != NULL);
    if (b == NULL)
        return;
    /* Global header, little endian. */
    CHECK(memcmp(b, "\xd4\xc3\xb2\xa1\x02\x00\x04\x00", 8) == 0);
    CHECK_INT(rd32le(b + 8), 0);
    CHECK_INT(rd32le(b + 12), 0);
    CHECK_INT(rd32le(b + 16), PKTGEN_SNAPLEN);
    CHECK_INT(rd32le(b + 20), 1);
    n = read_records(b, len, r, 8);
    CHECK_INT(n, 5);
    if (n == 5) {
        CHECK_INT(r[0].sec, 1705309200);
        CHECK_INT(r[0].usec, 0);
        CHECK_INT(r[0].caplen, 14 + 20 + 8 + 3);
        CHECK_INT(r[0].len, r[0].caplen);
        CHECK(memcmp(r[0].data + 42, "abc", 3) == 0);
        /* step 1 ms after the first packet, then the 2.5 s sleep */
        CHECK_INT(r[1].sec, 1705309202);
        CHECK_INT(r[1].usec, 501000);
        CHECK_INT(r[1].caplen, 3);
        CHECK_INT(r[2].usec, 501250);
        /* usec rolls into seconds correctly */
        CHECK_INT(r[3].sec, 1700000000);
        CHECK_INT(r[3].usec, 999999);
        CHECK_INT(r[4].sec, 1700000001);
        CHECK_INT(r[4].usec, 249);
        /* echo request then reply with swapped addresses */
        CHECK_INT(r[3].data[34], 8);
        CHECK_INT(r[4].data[34], 0);
        CHECK(memcmp(r[3].data + 26, r[4].data + 30, 4) == 0);
        /* IPv4 ids advance per packet */
        CHECK(rd16(r[3].data + 18) != rd16(r[4].data + 18));
    }
    free(b);
    remove(path);
}

TEST(test_pcap_errors)
{
    struct pktgen *g = (struct pktgen *)&g;
    static uint8_t huge[PKTGEN_SNAPLEN + 1];
    struct kanshi_addr s = addr("10.0.0.1"), d6 = addr("2001:db8::1");

    CHECK_INT(pktgen_open(&g, "/nonexistent-dir/x.pcap"), -ENOENT);
    CHECK(g == (struct pktgen *)&g); /* *out untouched on failure */
    CHECK_INT(pktgen_close(NULL), 0);

    CHECK_INT(pktgen_open(&g, tmpfile_path("err.pcap")), 0);
    CHECK_INT(pktgen_write_frame(g, huge, sizeof(huge)), -EMSGSIZE);
    CHECK_INT(pktgen_udp(g, &s, 1, &d6, 2, "x", 1), -EINVAL);
    CHECK_INT(pktgen_count(g), 0);
    CHECK_INT(pktgen_close(g), 0);
    remove(tmpfile_path("err.pcap"));

    /* A full disk shows up at close at the latest. */
    if (access("/dev/full", W_OK) == 0) {
        int i, rc = 0;
        CHECK_INT(pktgen_open(&g, "/dev/full"), 0);
        for (i = 0; i < 2000 && rc == 0; i++)
            rc = pktgen_udp(g, &s, 1, &s, 2, huge, 1000);
        CHECK_INT(pktgen_close(g), -ENOSPC);
    }
}

/* Follows a whole TCP session through the file. */
TEST(test_tcp_session_seq_ack)
{
    struct kanshi_addr c = addr("10.1.20.11"), s = addr("203.0.113.80");
    const char *path = tmpfile_path("tcp.pcap");
    static const char req[] = "0123456789abcdefghijklmnopqrstuvwxyz"; /* 36 bytes */
    static const char resp[] = "HTTP/1.1 200 OK\r\n\r\n";             /* 19 bytes */
    struct pktgen *g = NULL;
    struct pktgen_tcp t;
    struct rec r[32];
    uint32_t cisn, sisn;
    uint8_t *b;
    size_t len;
    int n, i;

    CHECK_INT(pktgen_open(&g, path), 0);
    if (g == NULL)
        return;
    pktgen_set_vlan(g, 7);
    pktgen_tcp_init(&t, g, &c, 50000, &s, 80);
    cisn = t.cli_isn;
    sisn = t.srv_isn;
    CHECK(cisn != sisn);
    t.seg_size = 10;
    CHECK_INT(pktgen_tcp_handshake(&t), 0);
    CHECK_INT(pktgen_tcp_send(&t, PKTGEN_TO_SERVER, req, 36), 0);
    CHECK_INT(t.cli_next, cisn + 1 + 36);
    t.seg_size = PKTGEN_DEFAULT_MSS;
    CHECK_INT(pktgen_tcp_send(&t, PKTGEN_TO_CLIENT, resp, 19), 0);
    CHECK_INT(pktgen_tcp_send(&t, PKTGEN_TO_CLIENT, NULL, 0), 0);
    CHECK_INT(pktgen_tcp_send(&t, PKTGEN_TO_CLIENT, NULL, 3), -EINVAL);
    CHECK_INT(pktgen_tcp_close(&t), 0);
    CHECK_INT(t.srv_next, sisn + 1 + 19 + 1);
    CHECK_INT(pktgen_close(g), 0);

    b = slurp(path, &len);
    if (b == NULL) {
        CHECK(b != NULL);
        return;
    }
    /* 3 handshake + 4 data + 1 ack + 1 data + 1 ack + 3 teardown */
    n = read_records(b, len, r, 32);
    CHECK_INT(n, 13);
    if (n == 13) {
        /* flags, seq, ack, payload length, from client? */
        static const struct {
            uint8_t flags;
            uint32_t seq_off, ack_off;
            uint32_t plen;
            int from_client;
        } want[13] = {
            {TH_SYN, 0, 0, 0, 1},
            {TH_SYN | TH_ACK, 0, 1, 0, 0},
            {TH_ACK, 1, 1, 0, 1},
            {TH_ACK, 1, 1, 10, 1},
            {TH_ACK, 11, 1, 10, 1},
            {TH_ACK, 21, 1, 10, 1},
            {TH_ACK | TH_PUSH, 31, 1, 6, 1},
            {TH_ACK, 1, 37, 0, 0},
            {TH_ACK | TH_PUSH, 1, 37, 19, 0},
            {TH_ACK, 37, 20, 0, 1},
            {TH_FIN | TH_ACK, 37, 20, 0, 1},
            {TH_FIN | TH_ACK, 20, 38, 0, 0},
            {TH_ACK, 38, 21, 0, 1},
        };
        for (i = 0; i < 13; i++) {
            const uint8_t *ip = r[i].data + 18, *tcp = ip + 20;
            uint32_t my = want[i].from_client ? cisn : sisn;
            uint32_t peer = want[i].from_client ? sisn : cisn;
            uint8_t ph[40];
            size_t tlen = (size_t)rd16(ip + 2) - 20;

            CHECK_INT(rd16(r[i].data + 12), 0x8100);
            CHECK_INT(rd16(r[i].data + 14), 7);
            CHECK_INT(tcp[13], want[i].flags);
            CHECK_INT(rd32(tcp + 4), (uint32_t)(my + want[i].seq_off));
            if (want[i].flags & TH_ACK)
                CHECK_INT(rd32(tcp + 8), (uint32_t)(peer + want[i].ack_off));
            else
                CHECK_INT(rd32(tcp + 8), 0);
            CHECK_INT(tlen - (size_t)(tcp[12] >> 4) * 4, want[i].plen);
            CHECK(memcmp(ip + 12, want[i].from_client ? c.a : s.a, 4) == 0);
            CHECK_INT(rd16(tcp), want[i].from_client ? 50000 : 80);
            CHECK_INT(ref_sum(ip, 20, NULL, 0), 0xffff);
            CHECK_INT(ref_sum(ph, ref_pseudo(ip, IPPROTO_TCP, tlen, ph), tcp, tlen), 0xffff);
        }
        /* The split segments carry the request in order. */
        CHECK(memcmp(r[3].data + 18 + 40, req, 10) == 0);
        CHECK(memcmp(r[6].data + 18 + 40, req + 30, 6) == 0);
        /* SYN carries MSS 1460. */
        CHECK_INT(r[0].data[18 + 20 + 20], 2);
        CHECK_INT(rd16(r[0].data + 18 + 20 + 22), 1460);
    }
    free(b);
    remove(path);
}

TEST(test_tcp_isn_deterministic)
{
    struct kanshi_addr c = addr("10.0.0.1"), s = addr("10.0.0.2");
    struct pktgen_tcp a, b, other;

    pktgen_tcp_init(&a, NULL, &c, 1000, &s, 80);
    pktgen_tcp_init(&b, NULL, &c, 1000, &s, 80);
    pktgen_tcp_init(&other, NULL, &c, 1001, &s, 80);
    CHECK_INT(a.cli_isn, b.cli_isn);
    CHECK_INT(a.srv_isn, b.srv_isn);
    CHECK(a.cli_isn != other.cli_isn);
    CHECK_INT(a.seg_size, PKTGEN_DEFAULT_MSS);
    CHECK_INT(a.cli_next, a.cli_isn);
}

/* Parses word as a segment; returns pktgen_seg_parse()'s code and leaves
 * the message in err. */
static int seg_parse(struct pktgen_seg *seg, bool *has_data, const char *word, char *err,
                     size_t errlen)
{
    err[0] = '\0';
    return pktgen_seg_parse(seg, has_data, word, err, errlen);
}

TEST(test_seg_parse)
{
    struct pktgen_seg seg;
    bool has_data = true;
    char err[256];

    /* The sender alone: defaults everywhere, no data. */
    CHECK_INT(seg_parse(&seg, &has_data, "client", err, sizeof(err)), 0);
    CHECK_INT(seg.dir, PKTGEN_TO_SERVER);
    CHECK(!seg.has_off && !seg.has_ack && !seg.has_flags && !seg.bad_csum && !seg.drop);
    CHECK(!has_data);
    CHECK(seg.data == NULL && seg.len == 0);
    CHECK_INT(seg_parse(&seg, &has_data, "server:", err, sizeof(err)), 0);
    CHECK_INT(seg.dir, PKTGEN_TO_CLIENT);
    CHECK(has_data);

    /* Everything at once, flags in either case, the largest offsets. */
    CHECK_INT(seg_parse(&seg, &has_data,
                        "server@4294967295,ack=17,flags=fSrPaUeC,badsum,drop:", err, sizeof(err)),
              0);
    CHECK_INT(seg.dir, PKTGEN_TO_CLIENT);
    CHECK(seg.has_off && seg.off == 4294967295u);
    CHECK(seg.has_ack && seg.ack == 17);
    CHECK(seg.has_flags);
    CHECK_INT(seg.flags, TH_FIN | TH_SYN | TH_RST | TH_PUSH | TH_ACK | TH_URG | TH_ECE | TH_CWR);
    CHECK(seg.bad_csum && seg.drop && has_data);
    CHECK_INT(
        seg_parse(&seg, &has_data, "client@0,flags=R,flags=FA,ack=4294967295", err, sizeof(err)),
        0);
    CHECK(seg.has_off && seg.off == 0);
    CHECK_INT(seg.flags, TH_FIN | TH_ACK); /* the last value counts */
    CHECK(seg.ack == 4294967295u && !has_data);

    /* Malformed words: each names the word and what is wrong. */
    static const struct {
        const char *word, *msg;
    } bad[] = {
        {"clent", "'clent': a segment starts with client or server"},
        {"", "'': a segment starts with client or server"},
        {"client@", "'client@': @ needs an offset from 0 to 4294967295"},
        {"client@x:", "'client@x:': @ needs an offset"},
        {"client@4294967296", "'client@4294967296': @ needs an offset"},
        {"client@-1", "'client@-1': @ needs an offset"},
        {"client,ack=", "'client,ack=': ack= needs an offset from 0 to 4294967295"},
        {"client,ack=1x", "'client,ack=1x': ack= needs an offset from 0 to 4294967295"},
        {"client,ack=99999999999", "ack= needs an offset"},
        {"client,flags=", "'client,flags=': flags= needs letters among FSRPAUEC"},
        {"client,flags=AQ:", "'client,flags=AQ:': unknown TCP flag 'Q' (use F S R P A U E C)"},
        {"server,bogus", "'server,bogus': unknown segment attribute 'bogus'"},
        {"server,badsums", "unknown segment attribute 'badsums'"},
        {"server,", "'server,': unknown segment attribute ''"},
        {"client:x", "'client:x': unexpected 'x' (expected @OFF, ,ATTR or a final ':')"},
        {"clientele", "'clientele': unexpected 'ele'"},
        {"client@3@4", "'client@3@4': unexpected '@4'"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CHECK_INT(seg_parse(&seg, &has_data, bad[i].word, err, sizeof(err)), -EINVAL);
        CHECK_CONTAINS(err, bad[i].msg);
    }
    /* A short message buffer is cut, never overrun. */
    err[5] = 'x';
    CHECK_INT(pktgen_seg_parse(&seg, &has_data, "clent", err, 5), -EINVAL);
    CHECK_INT(strlen(err), 4);
    CHECK_INT(err[5], 'x');
}

/* Explicit segments land where they say, and the session's next sequence
 * numbers follow them. */
TEST(test_tcp_segment)
{
    struct kanshi_addr c = addr("10.1.20.11"), s = addr("203.0.113.80");
    const char *path = tmpfile_path("seg.pcap");
    struct pktgen *g = NULL;
    struct pktgen_tcp t;
    struct pktgen_seg seg;
    struct rec r[16];
    uint32_t cisn, sisn;
    uint8_t *b;
    size_t len;
    int n, i;

    CHECK_INT(pktgen_open(&g, path), 0);
    if (g == NULL)
        return;
    pktgen_tcp_init(&t, g, &c, 50001, &s, 4444);
    cisn = t.cli_isn;
    sisn = t.srv_isn;
    CHECK_INT(pktgen_tcp_handshake(&t), 0);
    /* 1: "CK" at offset 4, ahead of the rest: next moves to 6. */
    memset(&seg, 0, sizeof(seg));
    seg.dir = PKTGEN_TO_SERVER;
    seg.has_off = true;
    seg.off = 4;
    seg.data = (const uint8_t *)"CK";
    seg.len = 2;
    CHECK_INT(pktgen_tcp_segment(&t, &seg), 0);
    CHECK_INT(t.cli_next, cisn + 1 + 6);
    /* 2: "AT" at 0 does not move next back. */
    seg.off = 0;
    seg.data = (const uint8_t *)"AT";
    CHECK_INT(pktgen_tcp_segment(&t, &seg), 0);
    CHECK_INT(t.cli_next, cisn + 1 + 6);
    /* 3: dropped "XY" at next: not written, next moves on. */
    seg.has_off = false;
    seg.drop = true;
    seg.data = (const uint8_t *)"XY";
    CHECK_INT(pktgen_tcp_segment(&t, &seg), 0);
    CHECK_INT(t.cli_next, cisn + 1 + 8);
    /* 4: "Z" with a bad checksum and FIN: seq 8, next 10 (FIN counts). */
    seg.drop = false;
    seg.bad_csum = true;
    seg.has_flags = true;
    seg.flags = TH_FIN | TH_ACK;
    seg.data = (const uint8_t *)"Z";
    seg.len = 1;
    CHECK_INT(pktgen_tcp_segment(&t, &seg), 0);
    CHECK_INT(t.cli_next, cisn + 1 + 10);
    /* 5: the server acknowledges offset 2 only, no data: a pure ACK. */
    memset(&seg, 0, sizeof(seg));
    seg.dir = PKTGEN_TO_CLIENT;
    seg.has_ack = true;
    seg.ack = 2;
    CHECK_INT(pktgen_tcp_segment(&t, &seg), 0);
    CHECK_INT(t.srv_next, sisn + 1);
    /* 6: a RST without ACK from the server, at offset 0. */
    seg.has_ack = false;
    seg.has_flags = true;
    seg.flags = TH_RST;
    CHECK_INT(pktgen_tcp_segment(&t, &seg), 0);
    /* Bad arguments write nothing. */
    seg.data = NULL;
    seg.len = 3;
    CHECK_INT(pktgen_tcp_segment(&t, &seg), -EINVAL);
    CHECK_INT(pktgen_count(g), 3 + 5);
    CHECK_INT(pktgen_close(g), 0);

    b = slurp(path, &len);
    if (b == NULL) {
        CHECK(b != NULL);
        return;
    }
    n = read_records(b, len, r, 16);
    CHECK_INT(n, 8);
    if (n == 8) {
        static const struct {
            uint8_t flags;
            uint32_t seq_off, ack_off; /* from ISN + 1 */
            const char *data;
            int from_client, csum_ok;
        } want[5] = {
            {TH_ACK | TH_PUSH, 4, 0, "CK", 1, 1},
            {TH_ACK | TH_PUSH, 0, 0, "AT", 1, 1},
            {TH_FIN | TH_ACK, 8, 0, "Z", 1, 0},
            {TH_ACK, 0, 2, "", 0, 1},
            {TH_RST, 0, 0, "", 0, 1},
        };
        for (i = 0; i < 5; i++) {
            const uint8_t *ip = r[3 + i].data + 14, *tcp = ip + 20;
            uint32_t my = want[i].from_client ? cisn : sisn;
            uint32_t peer = want[i].from_client ? sisn : cisn;
            size_t tlen = (size_t)rd16(ip + 2) - 20, plen = strlen(want[i].data);
            uint8_t ph[40];

            CHECK_INT(tcp[13], want[i].flags);
            CHECK_INT(rd32(tcp + 4), (uint32_t)(my + 1 + want[i].seq_off));
            if (want[i].flags & TH_ACK)
                CHECK_INT(rd32(tcp + 8), (uint32_t)(peer + 1 + want[i].ack_off));
            else
                CHECK_INT(rd32(tcp + 8), 0);
            CHECK_INT(tlen, 20 + plen);
            CHECK(memcmp(tcp + 20, want[i].data, plen) == 0);
            CHECK_INT(rd16(tcp), want[i].from_client ? 50001 : 4444);
            CHECK_INT(ref_sum(ip, 20, NULL, 0), 0xffff);
            if (want[i].csum_ok)
                CHECK_INT(ref_sum(ph, ref_pseudo(ip, IPPROTO_TCP, tlen, ph), tcp, tlen), 0xffff);
            else
                CHECK(ref_sum(ph, ref_pseudo(ip, IPPROTO_TCP, tlen, ph), tcp, tlen) != 0xffff);
        }
    }
    free(b);
    remove(path);
}

int main(void)
{
    RUN(test_inet_csum_rfc1071);
    RUN(test_addr_parse);
    RUN(test_build_tcp_ipv4);
    RUN(test_build_tcp_options_and_odd_payload);
    RUN(test_build_udp_ipv6_and_vlan);
    RUN(test_udp_zero_checksum_sent_as_ffff);
    RUN(test_build_icmp_v4_v6);
    RUN(test_build_errors);
    RUN(test_decoder_roundtrip);
    RUN(test_pcap_layout_and_clock);
    RUN(test_pcap_errors);
    RUN(test_tcp_session_seq_ack);
    RUN(test_tcp_isn_deterministic);
    RUN(test_seg_parse);
    RUN(test_tcp_segment);
    return test_summary("pktgen");
}
