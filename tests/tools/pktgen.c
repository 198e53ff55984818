/*
 * pktgen.c — packet crafting and a small pcap writer for kanshi's tests and
 * demo (see pktgen.h for the contract and the layouts built).
 *
 * Frames are assembled back to front in thought but front to back in code:
 * headers first with zeroed checksums, then the payload, then the L4 and IP
 * checksums.  The writer needs no libpcap: the classic pcap format is two
 * fixed little structures, written here little endian byte by byte.
 */
#include "pktgen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define ETH_HDR_LEN 14
#define VLAN_TAG_LEN 4
#define IPV4_HDR_LEN 20
#define IPV6_HDR_LEN 40
#define TCP_HDR_LEN 20
#define UDP_HDR_LEN 8
#define ICMP_HDR_LEN 8

struct pktgen {
    FILE *fp;
    uint64_t clock, step;
    uint64_t count;
    uint16_t vlan;
    uint16_t next_ip_id;
    int err; /* first write error, sticky */
    uint8_t frame[PKTGEN_MAX_FRAME];
};

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void put32le(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static void put16le(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

/* One's complement sum of data, not yet folded; the caller chains sums of
 * the pseudo-header and the segment.  Odd lengths pad with a zero byte, as
 * RFC 1071 says, which only works for the last chunk of a chain. */
static uint32_t csum_add(uint32_t sum, const uint8_t *data, size_t len)
{
    size_t i;

    for (i = 0; i + 1 < len; i += 2)
        sum += (uint32_t)data[i] << 8 | data[i + 1];
    if (len & 1)
        sum += (uint32_t)data[len - 1] << 8;
    /* Fold early so a 64 KiB chunk cannot overflow 32 bits. */
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return sum;
}

static uint16_t csum_finish(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

uint16_t pktgen_inet_csum(const uint8_t *data, size_t len)
{
    return csum_finish(csum_add(0, data, len));
}

/* Pseudo-header sum for TCP/UDP/ICMPv6 (RFC 793, RFC 768, RFC 8200 8.1). */
static uint32_t csum_pseudo(const struct pktgen_pkt *pk, size_t l4len)
{
    uint8_t ph[40];
    uint32_t sum = 0;

    if (pk->src.family == AF_INET) {
        memcpy(ph, pk->src.a, 4);
        memcpy(ph + 4, pk->dst.a, 4);
        ph[8] = 0;
        ph[9] = pk->proto;
        put16(ph + 10, (uint16_t)l4len);
        sum = csum_add(sum, ph, 12);
    } else {
        memcpy(ph, pk->src.a, 16);
        memcpy(ph + 16, pk->dst.a, 16);
        put32(ph + 32, (uint32_t)l4len);
        ph[36] = ph[37] = ph[38] = 0;
        ph[39] = pk->proto;
        sum = csum_add(sum, ph, 40);
    }
    return sum;
}

/* A locally administered unicast MAC derived from an IP address, so each
 * host keeps one MAC through a capture. */
static void mac_from_addr(uint8_t *mac, const struct kanshi_addr *a)
{
    const uint8_t *tail = a->family == AF_INET ? a->a : a->a + 12;

    mac[0] = 0x02;
    mac[1] = a->family == AF_INET ? 0x00 : 0x06;
    memcpy(mac + 2, tail, 4);
}

void pktgen_pkt_init(struct pktgen_pkt *pk, uint8_t proto, const struct kanshi_addr *src,
                     uint16_t sp, const struct kanshi_addr *dst, uint16_t dp)
{
    memset(pk, 0, sizeof(*pk));
    pk->proto = proto;
    if (src != NULL)
        pk->src = *src;
    if (dst != NULL)
        pk->dst = *dst;
    pk->sp = sp;
    pk->dp = dp;
    pk->ttl = 64;
    pk->win = 64240;
    pk->df = proto == IPPROTO_TCP;
}

static size_t l4_hdr_len(const struct pktgen_pkt *pk)
{
    switch (pk->proto) {
    case IPPROTO_TCP:
        return TCP_HDR_LEN + pk->tcp_opts_len;
    case IPPROTO_UDP:
        return UDP_HDR_LEN;
    default:
        return ICMP_HDR_LEN;
    }
}

static int pkt_check(const struct pktgen_pkt *pk)
{
    if (pk->src.family != pk->dst.family)
        return -EINVAL;
    if (pk->src.family != AF_INET && pk->src.family != AF_INET6)
        return -EINVAL;
    switch (pk->proto) {
    case IPPROTO_TCP:
    case IPPROTO_UDP:
        break;
    case IPPROTO_ICMP:
        if (pk->src.family != AF_INET)
            return -EINVAL;
        break;
    case IPPROTO_ICMPV6:
        if (pk->src.family != AF_INET6)
            return -EINVAL;
        break;
    default:
        return -EINVAL;
    }
    if (pk->vlan > 4094)
        return -EINVAL;
    if (pk->proto == IPPROTO_TCP && (pk->tcp_opts_len % 4 != 0 || pk->tcp_opts_len > 40 ||
                                     (pk->tcp_opts_len > 0 && pk->tcp_opts == NULL)))
        return -EINVAL;
    if (pk->payload == NULL && pk->payload_len > 0)
        return -EINVAL;
    return 0;
}

int pktgen_build(uint8_t *buf, size_t cap, const struct pktgen_pkt *pk)
{
    size_t l2len, l3hdr, l4hdr, l4len, iplen, total;
    uint8_t *ip, *l4;
    uint32_t sum;
    uint16_t csum;
    int rc;

    if ((rc = pkt_check(pk)) != 0)
        return rc;
    l2len = ETH_HDR_LEN + (pk->vlan != 0 ? VLAN_TAG_LEN : 0);
    l3hdr = pk->src.family == AF_INET ? IPV4_HDR_LEN : IPV6_HDR_LEN;
    l4hdr = l4_hdr_len(pk);
    if (pk->payload_len > 65535)
        return -EMSGSIZE;
    l4len = l4hdr + pk->payload_len;
    /* IPv4 total length covers the header; IPv6 payload length does not. */
    iplen = pk->src.family == AF_INET ? l3hdr + l4len : l4len;
    if (iplen > 65535)
        return -EMSGSIZE;
    total = l2len + l3hdr + l4len;
    if (total > cap)
        return -ENOBUFS;

    memset(buf, 0, l2len + l3hdr + l4hdr);

    /* Ethernet, optional 802.1Q. */
    mac_from_addr(buf, &pk->dst);
    mac_from_addr(buf + 6, &pk->src);
    if (pk->vlan != 0) {
        put16(buf + 12, 0x8100);
        put16(buf + 14, pk->vlan);
    }
    put16(buf + l2len - 2, pk->src.family == AF_INET ? 0x0800 : 0x86dd);

    ip = buf + l2len;
    l4 = ip + l3hdr;
    if (pk->src.family == AF_INET) {
        ip[0] = 0x45;
        put16(ip + 2, (uint16_t)iplen);
        put16(ip + 4, pk->ip_id);
        put16(ip + 6, pk->df ? 0x4000 : 0);
        ip[8] = pk->ttl;
        ip[9] = pk->proto;
        memcpy(ip + 12, pk->src.a, 4);
        memcpy(ip + 16, pk->dst.a, 4);
        put16(ip + 10, pktgen_inet_csum(ip, IPV4_HDR_LEN));
    } else {
        put32(ip, 6u << 28);
        put16(ip + 4, (uint16_t)iplen);
        ip[6] = pk->proto;
        ip[7] = pk->ttl;
        memcpy(ip + 8, pk->src.a, 16);
        memcpy(ip + 24, pk->dst.a, 16);
    }

    if (pk->payload_len > 0)
        memcpy(l4 + l4hdr, pk->payload, pk->payload_len);

    switch (pk->proto) {
    case IPPROTO_TCP:
        put16(l4, pk->sp);
        put16(l4 + 2, pk->dp);
        put32(l4 + 4, pk->seq);
        put32(l4 + 8, pk->ack);
        l4[12] = (uint8_t)((l4hdr / 4) << 4);
        l4[13] = pk->tcp_flags;
        put16(l4 + 14, pk->win);
        if (pk->tcp_opts_len > 0)
            memcpy(l4 + TCP_HDR_LEN, pk->tcp_opts, pk->tcp_opts_len);
        sum = csum_pseudo(pk, l4len);
        csum = csum_finish(csum_add(sum, l4, l4len));
        put16(l4 + 16, pk->bad_tcp_csum ? csum ^ 0x5a5a : csum);
        break;
    case IPPROTO_UDP:
        put16(l4, pk->sp);
        put16(l4 + 2, pk->dp);
        put16(l4 + 4, (uint16_t)l4len);
        sum = csum_pseudo(pk, l4len);
        csum = csum_finish(csum_add(sum, l4, l4len));
        /* 0 means "no checksum" in UDP; the same value is sent as 0xffff. */
        put16(l4 + 6, csum == 0 ? 0xffff : csum);
        break;
    default: /* ICMP / ICMPv6 */
        l4[0] = pk->icmp_type;
        l4[1] = pk->icmp_code;
        put16(l4 + 4, pk->icmp_id);
        put16(l4 + 6, pk->icmp_seq);
        sum = pk->proto == IPPROTO_ICMPV6 ? csum_pseudo(pk, l4len) : 0;
        put16(l4 + 2, csum_finish(csum_add(sum, l4, l4len)));
        break;
    }
    return (int)total;
}

int pktgen_addr_parse(struct kanshi_addr *out, const char *text)
{
    struct kanshi_addr a;

    memset(&a, 0, sizeof(a));
    if (text == NULL)
        return -EINVAL;
    if (inet_pton(AF_INET, text, a.a) == 1) {
        a.family = AF_INET;
    } else if (inet_pton(AF_INET6, text, a.a) == 1) {
        a.family = AF_INET6;
    } else {
        return -EINVAL;
    }
    *out = a;
    return 0;
}

/* ------------------------------------------------------------------------ */

static int write_all(struct pktgen *g, const uint8_t *p, size_t len)
{
    if (g->err != 0)
        return g->err;
    if (len > 0 && fwrite(p, 1, len, g->fp) != len) {
        g->err = errno != 0 ? -errno : -EIO;
        return g->err;
    }
    return 0;
}

int pktgen_open(struct pktgen **out, const char *path)
{
    struct pktgen *g;
    uint8_t hdr[24];
    int rc;

    g = calloc(1, sizeof(*g));
    if (g == NULL)
        return -ENOMEM;
    g->fp = fopen(path, "wb");
    if (g->fp == NULL) {
        rc = -errno;
        free(g);
        return rc;
    }
    g->clock = PKTGEN_DEFAULT_START_USEC;
    g->step = PKTGEN_DEFAULT_STEP_USEC;
    g->next_ip_id = 0x1000;

    put32le(hdr, 0xa1b2c3d4);
    put16le(hdr + 4, 2);
    put16le(hdr + 6, 4);
    put32le(hdr + 8, 0);  /* thiszone */
    put32le(hdr + 12, 0); /* sigfigs */
    put32le(hdr + 16, PKTGEN_SNAPLEN);
    put32le(hdr + 20, 1); /* LINKTYPE_ETHERNET */
    if ((rc = write_all(g, hdr, sizeof(hdr))) != 0) {
        fclose(g->fp);
        free(g);
        return rc;
    }
    *out = g;
    return 0;
}

int pktgen_close(struct pktgen *g)
{
    int rc;

    if (g == NULL)
        return 0;
    rc = g->err;
    if (fflush(g->fp) != 0 && rc == 0)
        rc = -errno;
    if (fclose(g->fp) != 0 && rc == 0)
        rc = -errno;
    free(g);
    return rc;
}

uint64_t pktgen_clock(const struct pktgen *g)
{
    return g->clock;
}

void pktgen_set_clock(struct pktgen *g, uint64_t usec)
{
    g->clock = usec;
}

void pktgen_set_step(struct pktgen *g, uint64_t usec)
{
    g->step = usec;
}

void pktgen_sleep(struct pktgen *g, uint64_t usec)
{
    g->clock += usec;
}

void pktgen_set_vlan(struct pktgen *g, uint16_t vlan)
{
    g->vlan = vlan;
}

uint64_t pktgen_count(const struct pktgen *g)
{
    return g->count;
}

int pktgen_write_frame(struct pktgen *g, const uint8_t *frame, size_t len)
{
    uint8_t rec[16];
    int rc;

    if (len > PKTGEN_SNAPLEN)
        return -EMSGSIZE;
    put32le(rec, (uint32_t)(g->clock / 1000000));
    put32le(rec + 4, (uint32_t)(g->clock % 1000000));
    put32le(rec + 8, (uint32_t)len);
    put32le(rec + 12, (uint32_t)len);
    if ((rc = write_all(g, rec, sizeof(rec))) != 0)
        return rc;
    if ((rc = write_all(g, frame, len)) != 0)
        return rc;
    g->count++;
    g->clock += g->step;
    return 0;
}

int pktgen_emit(struct pktgen *g, const struct pktgen_pkt *pk)
{
    struct pktgen_pkt copy = *pk;
    int n;

    if (copy.src.family == AF_INET && copy.ip_id == 0) {
        copy.ip_id = g->next_ip_id++;
        if (g->next_ip_id == 0)
            g->next_ip_id = 1;
    }
    n = pktgen_build(g->frame, sizeof(g->frame), &copy);
    if (n < 0)
        return n;
    return pktgen_write_frame(g, g->frame, (size_t)n);
}

/* ------------------------------------------------------------------------ */

/* FNV-1a over the 4-tuple: a fixed ISN per connection makes files
 * reproducible while different connections still look different. */
static uint32_t tuple_hash(const struct pktgen_tcp *s, uint32_t salt)
{
    uint32_t h = 2166136261u ^ salt;
    uint8_t ports[4];
    size_t i;

    put16(ports, s->cport);
    put16(ports + 2, s->sport);
    for (i = 0; i < 16; i++)
        h = (h ^ s->cli.a[i]) * 16777619u;
    for (i = 0; i < 16; i++)
        h = (h ^ s->srv.a[i]) * 16777619u;
    for (i = 0; i < 4; i++)
        h = (h ^ ports[i]) * 16777619u;
    return h;
}

void pktgen_tcp_init(struct pktgen_tcp *s, struct pktgen *g, const struct kanshi_addr *cli,
                     uint16_t cport, const struct kanshi_addr *srv, uint16_t sport)
{
    memset(s, 0, sizeof(*s));
    s->g = g;
    s->cli = *cli;
    s->srv = *srv;
    s->cport = cport;
    s->sport = sport;
    s->cli_isn = tuple_hash(s, 0x6b616e73);
    s->srv_isn = tuple_hash(s, 0x68690000);
    s->cli_next = s->cli_isn;
    s->srv_next = s->srv_isn;
    s->seg_size = PKTGEN_DEFAULT_MSS;
}

/* One segment from `dir`'s sender carrying the sender's next seq and
 * acknowledging everything the peer sent so far. */
static int tcp_segment(struct pktgen_tcp *s, enum pktgen_dir dir, uint8_t flags,
                       const uint8_t *data, size_t len, const uint8_t *opts, size_t optlen)
{
    struct pktgen_pkt pk;
    bool to_srv = dir == PKTGEN_TO_SERVER;

    if (to_srv)
        pktgen_pkt_init(&pk, IPPROTO_TCP, &s->cli, s->cport, &s->srv, s->sport);
    else
        pktgen_pkt_init(&pk, IPPROTO_TCP, &s->srv, s->sport, &s->cli, s->cport);
    pk.vlan = s->g->vlan;
    pk.seq = to_srv ? s->cli_next : s->srv_next;
    pk.ack = (flags & TH_ACK) ? (to_srv ? s->srv_next : s->cli_next) : 0;
    pk.tcp_flags = flags;
    pk.tcp_opts = opts;
    pk.tcp_opts_len = optlen;
    pk.payload = data;
    pk.payload_len = len;
    return pktgen_emit(s->g, &pk);
}

int pktgen_tcp_handshake(struct pktgen_tcp *s)
{
    /* MSS 1460, NOP, NOP, SACK permitted: what most stacks send. */
    static const uint8_t opts[8] = {2, 4, 0x05, 0xb4, 1, 1, 4, 2};
    int rc;

    if ((rc = tcp_segment(s, PKTGEN_TO_SERVER, TH_SYN, NULL, 0, opts, sizeof(opts))) != 0)
        return rc;
    s->cli_next++;
    if ((rc = tcp_segment(s, PKTGEN_TO_CLIENT, TH_SYN | TH_ACK, NULL, 0, opts, sizeof(opts))) != 0)
        return rc;
    s->srv_next++;
    return tcp_segment(s, PKTGEN_TO_SERVER, TH_ACK, NULL, 0, NULL, 0);
}

int pktgen_tcp_send(struct pktgen_tcp *s, enum pktgen_dir dir, const void *data, size_t len)
{
    const uint8_t *p = data;
    uint32_t *next = dir == PKTGEN_TO_SERVER ? &s->cli_next : &s->srv_next;
    size_t off, n;
    int rc;

    if ((data == NULL && len > 0) || s->seg_size == 0)
        return -EINVAL;
    if (len == 0)
        return 0;
    for (off = 0; off < len; off += n) {
        n = len - off < s->seg_size ? len - off : s->seg_size;
        rc = tcp_segment(s, dir, TH_ACK | (off + n == len ? TH_PUSH : 0), p + off, n, NULL, 0);
        if (rc != 0)
            return rc;
        *next += (uint32_t)n;
    }
    /* The peer acknowledges what it got. */
    return tcp_segment(s, dir == PKTGEN_TO_SERVER ? PKTGEN_TO_CLIENT : PKTGEN_TO_SERVER, TH_ACK,
                       NULL, 0, NULL, 0);
}

int pktgen_tcp_close(struct pktgen_tcp *s)
{
    int rc;

    if ((rc = tcp_segment(s, PKTGEN_TO_SERVER, TH_FIN | TH_ACK, NULL, 0, NULL, 0)) != 0)
        return rc;
    s->cli_next++;
    if ((rc = tcp_segment(s, PKTGEN_TO_CLIENT, TH_FIN | TH_ACK, NULL, 0, NULL, 0)) != 0)
        return rc;
    s->srv_next++;
    return tcp_segment(s, PKTGEN_TO_SERVER, TH_ACK, NULL, 0, NULL, 0);
}

/* Parses a decimal uint32 from *pp up to a non-digit; advances *pp. */
static int seg_number(const char **pp, uint32_t *out)
{
    const char *p = *pp;
    uint64_t v = 0;

    if (*p < '0' || *p > '9')
        return -EINVAL;
    for (; *p >= '0' && *p <= '9'; p++) {
        v = v * 10 + (uint64_t)(*p - '0');
        if (v > UINT32_MAX)
            return -EINVAL;
    }
    *out = (uint32_t)v;
    *pp = p;
    return 0;
}

static int seg_error(char *err, size_t errlen, const char *word, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int seg_error(char *err, size_t errlen, const char *word, const char *fmt, ...)
{
    char msg[200];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    snprintf(err, errlen, "'%s': %s", word, msg);
    return -EINVAL;
}

/* True when the n bytes at p are the attribute name. */
static bool seg_attr_is(const char *p, size_t n, const char *name)
{
    return strlen(name) == n && strncmp(p, name, n) == 0;
}

int pktgen_seg_parse(struct pktgen_seg *seg, bool *has_data, const char *word, char *err,
                     size_t errlen)
{
    /* Flag letters in the order of their bits, TH_FIN first. */
    static const char letters[] = "FSRPAUEC";
    const char *p = word, *end, *q, *l;
    size_t n;

    memset(seg, 0, sizeof(*seg));
    *has_data = false;
    if (strncmp(p, "client", 6) == 0)
        seg->dir = PKTGEN_TO_SERVER;
    else if (strncmp(p, "server", 6) == 0)
        seg->dir = PKTGEN_TO_CLIENT;
    else
        return seg_error(err, errlen, word, "a segment starts with client or server");
    p += 6;
    if (*p == '@') {
        p++;
        if (seg_number(&p, &seg->off) != 0)
            return seg_error(err, errlen, word, "@ needs an offset from 0 to 4294967295");
        seg->has_off = true;
    }
    while (*p == ',') {
        p++;
        end = p + strcspn(p, ",:");
        n = (size_t)(end - p);
        if (n >= 4 && strncmp(p, "ack=", 4) == 0) {
            q = p + 4;
            if (seg_number(&q, &seg->ack) != 0 || q != end)
                return seg_error(err, errlen, word, "ack= needs an offset from 0 to 4294967295");
            seg->has_ack = true;
        } else if (n >= 6 && strncmp(p, "flags=", 6) == 0) {
            if (n == 6)
                return seg_error(err, errlen, word, "flags= needs letters among FSRPAUEC");
            seg->flags = 0;
            for (q = p + 6; q < end; q++) {
                char c = (char)(*q >= 'a' && *q <= 'z' ? *q - 'a' + 'A' : *q);
                if ((l = strchr(letters, c)) == NULL)
                    return seg_error(err, errlen, word,
                                     "unknown TCP flag '%c' (use F S R P A U E C)", *q);
                seg->flags |= (uint8_t)(1u << (l - letters));
            }
            seg->has_flags = true;
        } else if (seg_attr_is(p, n, "badsum")) {
            seg->bad_csum = true;
        } else if (seg_attr_is(p, n, "drop")) {
            seg->drop = true;
        } else {
            return seg_error(err, errlen, word, "unknown segment attribute '%.*s'", (int)n, p);
        }
        p = end;
    }
    if (*p == ':') {
        *has_data = true;
        p++;
    }
    if (*p != '\0')
        return seg_error(err, errlen, word, "unexpected '%s' (expected @OFF, ,ATTR or a final ':')",
                         p);
    return 0;
}

int pktgen_tcp_segment(struct pktgen_tcp *s, const struct pktgen_seg *seg)
{
    struct pktgen_pkt pk;
    bool to_srv = seg->dir == PKTGEN_TO_SERVER;
    uint32_t *next = to_srv ? &s->cli_next : &s->srv_next;
    uint32_t isn = to_srv ? s->cli_isn : s->srv_isn;
    uint32_t peer_isn = to_srv ? s->srv_isn : s->cli_isn;
    uint32_t peer_next = to_srv ? s->srv_next : s->cli_next;
    uint32_t end;
    int rc;

    if (seg->data == NULL && seg->len > 0)
        return -EINVAL;
    if (to_srv)
        pktgen_pkt_init(&pk, IPPROTO_TCP, &s->cli, s->cport, &s->srv, s->sport);
    else
        pktgen_pkt_init(&pk, IPPROTO_TCP, &s->srv, s->sport, &s->cli, s->cport);
    pk.vlan = s->g->vlan;
    pk.tcp_flags = seg->has_flags ? seg->flags : (uint8_t)(TH_ACK | (seg->len > 0 ? TH_PUSH : 0));
    pk.seq = seg->has_off ? isn + 1 + seg->off : *next;
    if (seg->has_ack)
        pk.ack = peer_isn + 1 + seg->ack;
    else if (pk.tcp_flags & TH_ACK)
        pk.ack = peer_next;
    pk.payload = seg->data;
    pk.payload_len = seg->len;
    pk.bad_tcp_csum = seg->bad_csum;
    if (!seg->drop && (rc = pktgen_emit(s->g, &pk)) != 0)
        return rc;
    /* Sequence space used: the data, and one number each for SYN and FIN. */
    end = pk.seq + (uint32_t)seg->len + ((pk.tcp_flags & TH_SYN) ? 1u : 0u) +
          ((pk.tcp_flags & TH_FIN) ? 1u : 0u);
    if ((int32_t)(end - *next) > 0)
        *next = end;
    return 0;
}

int pktgen_udp(struct pktgen *g, const struct kanshi_addr *src, uint16_t sp,
               const struct kanshi_addr *dst, uint16_t dp, const void *data, size_t len)
{
    struct pktgen_pkt pk;

    pktgen_pkt_init(&pk, IPPROTO_UDP, src, sp, dst, dp);
    pk.vlan = g->vlan;
    pk.payload = data;
    pk.payload_len = len;
    return pktgen_emit(g, &pk);
}

int pktgen_icmp_echo(struct pktgen *g, const struct kanshi_addr *src, const struct kanshi_addr *dst,
                     uint16_t id, uint16_t seq, const void *data, size_t len, bool reply)
{
    struct pktgen_pkt pk;
    bool v6 = src->family == AF_INET6;
    int rc;

    pktgen_pkt_init(&pk, v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP, src, 0, dst, 0);
    pk.vlan = g->vlan;
    pk.icmp_type = v6 ? 128 : 8;
    pk.icmp_id = id;
    pk.icmp_seq = seq;
    pk.payload = data;
    pk.payload_len = len;
    if ((rc = pktgen_emit(g, &pk)) != 0 || !reply)
        return rc;
    pk.src = *dst;
    pk.dst = *src;
    pk.icmp_type = v6 ? 129 : 0;
    pk.ip_id = 0;
    return pktgen_emit(g, &pk);
}
