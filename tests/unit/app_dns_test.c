/*
 * app_dns_test.c — DNS message decoding and DNS/TCP framing: queries,
 * responses with compressed names and every rdata kept as text, every kind
 * of compression-pointer loop, the name and label length limits, truncated
 * and nonsense messages, the question/answer/arena caps, and the TCP
 * framing over split, joined and lost stream bytes.
 *
 * Messages are built byte by byte here (struct mb), so each test says on
 * the wire what it feeds the parser.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "kanshi/app_dns.h"
#include "kanshi/kanshi.h"
#include "test.h"

#define EV(e) (1u << (e))

/* A message under construction. */
struct mb {
    uint8_t b[70000];
    size_t n;
};

static struct mb mb;
static struct dns_msg msg;

static void put8(struct mb *m, unsigned v)
{
    m->b[m->n++] = (uint8_t)v;
}

static void put16(struct mb *m, unsigned v)
{
    put8(m, v >> 8);
    put8(m, v);
}

static void put32(struct mb *m, uint32_t v)
{
    put16(m, v >> 16);
    put16(m, v & 0xffff);
}

static void putraw(struct mb *m, const void *p, size_t n)
{
    memcpy(m->b + m->n, p, n);
    m->n += n;
}

/* Labels of a dotted name, without the root byte (so a pointer may follow). */
static void putlabels(struct mb *m, const char *dotted)
{
    while (*dotted != '\0') {
        const char *dot = strchr(dotted, '.');
        size_t l = dot ? (size_t)(dot - dotted) : strlen(dotted);

        put8(m, (unsigned)l);
        putraw(m, dotted, l);
        dotted += l + (dot ? 1 : 0);
    }
}

static void putname(struct mb *m, const char *dotted)
{
    putlabels(m, dotted);
    put8(m, 0);
}

static void putptr(struct mb *m, size_t off)
{
    put16(m, 0xc000u | (unsigned)off);
}

static void header(struct mb *m, unsigned id, unsigned flags, unsigned qd, unsigned an, unsigned ns,
                   unsigned ar)
{
    m->n = 0;
    put16(m, id);
    put16(m, flags);
    put16(m, qd);
    put16(m, an);
    put16(m, ns);
    put16(m, ar);
}

/* Record header after its name; returns the offset of the rdlength field. */
static size_t rr(struct mb *m, unsigned type, uint32_t ttl, unsigned rdlen)
{
    size_t at;

    put16(m, type);
    put16(m, 1);
    put32(m, ttl);
    at = m->n;
    put16(m, rdlen);
    return at;
}

/* Sets the rdlength at at to the bytes written since. */
static void rdlen_fix(struct mb *m, size_t at)
{
    size_t l = m->n - at - 2;

    m->b[at] = (uint8_t)(l >> 8);
    m->b[at + 1] = (uint8_t)l;
}

static bool name_is(const struct dns_name *n, const char *s)
{
    size_t l = strlen(s);

    return n->s != NULL && n->len == l && memcmp(n->s, s, l) == 0 && n->s[l] == '\0';
}

/* Every kept string lies in the arena, '\0'-terminated, within arena_used. */
static bool arena_ok(const struct dns_msg *m)
{
    const struct dns_name *names[DNS_MAX_QUESTIONS + 2 * DNS_MAX_ANSWERS];
    size_t k = 0;

    for (size_t i = 0; i < m->nq; i++)
        names[k++] = &m->q[i].name;
    for (size_t i = 0; i < m->nan; i++) {
        names[k++] = &m->an[i].name;
        names[k++] = &m->an[i].rdata;
    }
    for (size_t i = 0; i < k; i++) {
        const char *s = names[i]->s;

        if (s == NULL || s < m->arena || s + names[i]->len >= m->arena + m->arena_used ||
            s[names[i]->len] != '\0')
            return false;
    }
    return m->arena_used <= sizeof(m->arena);
}

TEST(test_simple_query)
{
    header(&mb, 0x1234, 0x0100, 1, 0, 0, 0);
    putname(&mb, "www.example.com");
    put16(&mb, 1);
    put16(&mb, 1);

    CHECK_INT(dns_parse(&msg, mb.b, mb.n), 0);
    CHECK_INT(msg.id, 0x1234);
    CHECK(!msg.response);
    CHECK_INT(msg.opcode, 0);
    CHECK_INT(msg.flags, 0x0100);
    CHECK_INT(msg.qdcount, 1);
    CHECK_INT(msg.ancount, 0);
    CHECK_INT(msg.nq, 1);
    CHECK_INT(msg.nan, 0);
    CHECK_INT(msg.events, 0);
    CHECK(name_is(&msg.q[0].name, "www.example.com"));
    CHECK_INT(msg.q[0].type, 1);
    CHECK_INT(msg.q[0].class, 1);
    CHECK(arena_ok(&msg));

    /* the root name is "" */
    header(&mb, 7, 0, 1, 0, 0, 0);
    put8(&mb, 0);
    put16(&mb, 2);
    put16(&mb, 1);
    CHECK_INT(dns_parse(&msg, mb.b, mb.n), 0);
    CHECK_INT(msg.nq, 1);
    CHECK(name_is(&msg.q[0].name, ""));
    CHECK_INT(msg.q[0].type, 2);
}

/* A response using compression in answer names and in rdata names. */
static void build_response(struct mb *m)
{
    size_t at, cname_rd, q = 12;

    header(m, 0xbeef, 0x8180, 1, 9, 1, 1);
    putname(m, "www.example.com"); /* 12; "example.com" at 16 */
    put16(m, 1);
    put16(m, 1);

    putptr(m, q); /* www.example.com CNAME cdn.example.com */
    at = rr(m, 5, 300, 0);
    cname_rd = m->n;
    putlabels(m, "cdn");
    putptr(m, 16);
    rdlen_fix(m, at);

    putptr(m, cname_rd); /* cdn.example.com A 192.0.2.1 */
    rr(m, 1, 60, 4);
    putraw(m, "\xc0\x00\x02\x01", 4);

    putptr(m, cname_rd); /* AAAA 2001:db8::1 */
    rr(m, 28, 60, 16);
    putraw(m, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01", 16);

    putptr(m, 16); /* example.com MX 10 mail.example.com */
    at = rr(m, 15, 3600, 0);
    put16(m, 10);
    putlabels(m, "mail");
    putptr(m, 16);
    rdlen_fix(m, at);

    putptr(m, 16); /* TXT: the first string only */
    at = rr(m, 16, 3600, 0);
    put8(m, 11);
    putraw(m, "v=spf1 -all", 11);
    put8(m, 3);
    putraw(m, "two", 3);
    rdlen_fix(m, at);

    putlabels(m, "1.2.0.192.in-addr"); /* PTR, name partly inline */
    putname(m, "arpa");
    at = rr(m, 12, 10, 0);
    putptr(m, q);
    rdlen_fix(m, at);

    putptr(m, 16); /* NS */
    at = rr(m, 2, 10, 0);
    putlabels(m, "ns1");
    putptr(m, 16);
    rdlen_fix(m, at);

    putptr(m, 16); /* SOA: no text */
    at = rr(m, 6, 10, 0);
    putlabels(m, "ns1");
    putptr(m, 16);
    putptr(m, 16);
    put32(m, 1);
    put32(m, 2);
    put32(m, 3);
    put32(m, 4);
    put32(m, 5);
    rdlen_fix(m, at);

    putptr(m, q); /* A with a bad rdlength: kept, no text */
    rr(m, 1, 10, 5);
    putraw(m, "\x01\x02\x03\x04\x05", 5);

    putptr(m, 16); /* authority NS */
    at = rr(m, 2, 10, 0);
    putptr(m, 16);
    rdlen_fix(m, at);

    put8(m, 0); /* additional: EDNS OPT */
    put16(m, 41);
    put16(m, 1232);
    put32(m, 0);
    put16(m, 0);
}

TEST(test_response_compressed)
{
    build_response(&mb);
    CHECK_INT(dns_parse(&msg, mb.b, mb.n), 0);
    CHECK_INT(msg.events, 0);
    CHECK(msg.response);
    CHECK_INT(msg.rcode, 0);
    CHECK_STR(dns_rcode_name(msg.rcode), "NOERROR");
    CHECK_INT(msg.id, 0xbeef);
    CHECK_INT(msg.ancount, 9);
    CHECK_INT(msg.nscount, 1);
    CHECK_INT(msg.arcount, 1);
    CHECK_INT(msg.nq, 1);
    CHECK_INT(msg.nan, 9);
    CHECK(arena_ok(&msg));
    if (msg.nan != 9)
        return;
    CHECK(name_is(&msg.an[0].name, "www.example.com"));
    CHECK_INT(msg.an[0].type, 5);
    CHECK_INT(msg.an[0].ttl, 300);
    CHECK_INT(msg.an[0].class, 1);
    CHECK(name_is(&msg.an[0].rdata, "cdn.example.com"));
    CHECK(name_is(&msg.an[1].name, "cdn.example.com"));
    CHECK(name_is(&msg.an[1].rdata, "192.0.2.1"));
    CHECK_INT(msg.an[1].ttl, 60);
    CHECK(name_is(&msg.an[2].rdata, "2001:db8::1"));
    CHECK(name_is(&msg.an[3].name, "example.com"));
    CHECK(name_is(&msg.an[3].rdata, "mail.example.com"));
    CHECK(name_is(&msg.an[4].rdata, "v=spf1 -all"));
    CHECK(name_is(&msg.an[5].name, "1.2.0.192.in-addr.arpa"));
    CHECK(name_is(&msg.an[5].rdata, "www.example.com"));
    CHECK(name_is(&msg.an[6].rdata, "ns1.example.com"));
    CHECK_INT(msg.an[7].type, 6);
    CHECK_INT(msg.an[7].rdata.len, 0);
    CHECK_INT(msg.an[8].rdata.len, 0);
    CHECK_STR(dns_type_name(msg.an[7].type), "SOA");

    /* NXDOMAIN, answer-less */
    header(&mb, 1, 0x8183, 1, 0, 0, 0);
    putname(&mb, "nope.example");
    put16(&mb, 28);
    put16(&mb, 1);
    CHECK_INT(dns_parse(&msg, mb.b, mb.n), 0);
    CHECK_INT(msg.rcode, 3);
    CHECK_STR(dns_rcode_name(msg.rcode), "NXDOMAIN");
}

/* Every prefix of a good response is refused or flagged, never misread. */
TEST(test_truncated)
{
    struct mb *full = malloc(sizeof(*full));
    size_t answers_at;

    if (full == NULL)
        SKIP("out of memory");
    build_response(full);
    for (size_t n = 0; n < full->n; n++) {
        int r = dns_parse(&msg, full->b, n);

        if (n < 12) {
            CHECK_INT(r, KANSHI_EPARSE);
            CHECK_INT(msg.events, EV(DNS_EV_NOT_DNS));
        } else {
            CHECK(r == KANSHI_EPARSE || (msg.events & EV(DNS_EV_TRUNCATED)));
        }
        CHECK(arena_ok(&msg));
        CHECK(msg.nan <= 9);
    }

    /* cut inside the question: not a DNS message */
    CHECK_INT(dns_parse(&msg, full->b, 12 + 8), KANSHI_EPARSE);
    CHECK_INT(msg.events, EV(DNS_EV_TRUNCATED));
    CHECK_INT(msg.nq, 0);

    /* cut after the question and one and a half answers */
    answers_at = 12 + 17 + 4;
    CHECK_INT(dns_parse(&msg, full->b, answers_at + 18 + 9), 0);
    CHECK_INT(msg.events, EV(DNS_EV_TRUNCATED));
    CHECK_INT(msg.nq, 1);
    CHECK_INT(msg.nan, 1);
    CHECK(name_is(&msg.an[0].rdata, "cdn.example.com"));

    /* cut inside the additional section: every answer kept */
    CHECK_INT(dns_parse(&msg, full->b, full->n - 3), 0);
    CHECK_INT(msg.events, EV(DNS_EV_TRUNCATED));
    CHECK_INT(msg.nan, 9);

    /* the last record's rdata cut short: the record is not kept */
    header(&mb, 1, 0x8180, 1, 1, 0, 0);
    putname(&mb, "a");
    put32(&mb, 0x00010001);
    putptr(&mb, 12);
    rr(&mb, 1, 1, 4);
    putraw(&mb, "\x01\x02\x03\x04", 4);
    CHECK_INT(dns_parse(&msg, mb.b, mb.n - 2), 0);
    CHECK_INT(msg.events, EV(DNS_EV_TRUNCATED));
    CHECK_INT(msg.nan, 0);
    CHECK_INT(dns_parse(&msg, mb.b, mb.n), 0);
    CHECK_INT(msg.events, 0);
    CHECK_INT(msg.nan, 1);

    /* more questions than bytes can hold */
    header(&mb, 1, 0, 0xffff, 0, 0, 0);
    putname(&mb, "a");
    put32(&mb, 0x00010001);
    CHECK_INT(dns_parse(&msg, mb.b, mb.n), KANSHI_EPARSE);
    CHECK_INT(msg.events, EV(DNS_EV_NOT_DNS));
    CHECK_INT(dns_parse(&msg, NULL, 0), KANSHI_EPARSE);
    CHECK_INT(msg.events, EV(DNS_EV_NOT_DNS));
    free(full);
}

TEST(test_pointer_self)
{
    header(&mb, 1, 0, 1, 0, 0, 0);
    putptr(&mb, 12); /* the question's name points at itself */
    put32(&mb, 0x00010001);
    CHECK_INT(dns_parse(&msg, mb.b, mb.n), KANSHI_EPARSE);
    CHECK_INT(msg.events, EV(DNS_EV_POINTER_LOOP));
    CHECK_INT(msg.nq, 0);

    /* a label, then a pointer back to that same name's start */
    header(&mb, 1, 0, 1, 0, 0, 0);
    putlabels(&mb, "abc");
    putptr(&mb, 12);
    put32(&mb, 0x00010001);
    CHECK_INT(dns_parse(&msg, mb.b, mb.n), KANSHI_EPARSE);
    CHECK_INT(msg.events, EV(DNS_EV_POINTER_LOOP));
}

TEST(test_pointer_forward)
{
    header(&mb, 1, 0, 1, 0, 0, 0);
    putptr(&mb, 18); /* forward, to a valid name after the question */
    put32(&mb, 0x00010001);
    putname(&mb, "x");
    CHECK_INT(dns_parse(&msg, mb.b, mb.n), KANSHI_EPARSE);
    CHECK_INT(msg.events, EV(DNS_EV_POINTER_LOOP));

    /* past the end of the message */
    header(&mb, 1, 0, 1, 0, 0, 0);
    putptr(&mb, 0x3fff);
    put32(&mb, 0x00010001);
    CHECK_INT(dns_parse(&msg, mb.b, mb.n), KANSHI_EPARSE);
    CHECK_INT(msg.events, EV(DNS_EV_POINTER_LOOP));

    /* a forward pointer in a CNAME's rdata: the record stays, without text */
    header(&mb, 1, 0x8180, 1, 1, 0, 0);
    putname(&mb, "a.example");
    put32(&mb, 0x00010001);
    putptr(&mb, 12);
    rr(&mb, 5, 1, 2);
    putptr(&mb, mb.n + 2);
    CHECK_INT(dns_parse(&msg, mb.b, mb.n), 0);
    CHECK_INT(msg.events, EV(DNS_EV_POINTER_LOOP));
    CHECK_INT(msg.nan, 1);
    CHECK(name_is(&msg.an[0].name, "a.example"));
    CHECK_INT(msg.an[0].rdata.len, 0);
}

TEST(test_pointer_cycle)
{
    size_t rd;

    /* Two pointers that point at each other, reached from an answer name:
     * the answer's pointer goes back to the second, which goes back to the
     * first, which goes forward again to the second. */
    header(&mb, 1, 0x8180, 1, 2, 0, 0);
    putname(&mb, "a");
    put32(&mb, 0x00010001);
    putptr(&mb, 12);
    rr(&mb, 0xff00, 1, 4);
    rd = mb.n;
    putptr(&mb, rd + 2);
    putptr(&mb, rd);
    putptr(&mb, rd + 2);
    rr(&mb, 1, 1, 4);
    putraw(&mb, "\x01\x02\x03\x04", 4);
    CHECK_INT(dns_parse(&msg, mb.b, mb.n), 0);
    CHECK_INT(msg.events, EV(DNS_EV_POINTER_LOOP));
    CHECK_INT(msg.nan, 1); /* the record before the loop */

    /* a label that runs back over the pointer that led to it */
    header(&mb, 1, 0x8180, 1, 2, 0, 0);
    putname(&mb, "a");
    put32(&mb, 0x00010001);
    putptr(&mb, 12);
    rr(&mb, 0xff00, 1, 4);
    rd = mb.n;
    putlabels(&mb, "x");
    putptr(&mb, rd);
    putptr(&mb, rd);
    rr(&mb, 1, 1, 4);
    putraw(&mb, "\x01\x02\x03\x04", 4);
    CHECK_INT(dns_parse(&msg, mb.b, mb.n), 0);
    CHECK_INT(msg.events, EV(DNS_EV_POINTER_LOOP));
    CHECK_INT(msg.nan, 1);
}

/* A chain of backward pointers: an answer name that takes jumps jumps. */
static void build_chain(struct mb *m, unsigned jumps)
{
    size_t rd, at, prev;

    header(m, 1, 0x8180, 1, 2, 0, 0);
    putname(m, "a");
    put32(m, 0x00010001);
    putptr(m, 12);
    at = rr(m, 0xff00, 1, 0);
    rd = m->n;
    putname(m, "end"); /* the chain's end: a plain name */
    prev = rd;
    for (unsigned i = 1; i < jumps; i++) {
        size_t here = m->n;

        putptr(m, prev);
        prev = here;
    }
    rdlen_fix(m, at);
    putptr(m, prev); /* the answer name: the first jump */
    rr(m, 1, 1, 4);
    putraw(m, "\x0a\x00\x00\x01", 4);
}

TEST(test_pointer_too_many)
{
    build_chain(&mb, DNS_MAX_JUMPS);
    CHECK_INT(dns_parse(&msg, mb.b, mb.n), 0);
    CHECK_INT(msg.events, 0);
    CHECK_INT(msg.nan, 2);
    if (msg.nan == 2)
        CHECK(name_is(&msg.an[1].name, "end"));

    build_chain(&mb, DNS_MAX_JUMPS + 1);
    CHECK_INT(dns_parse(&msg, mb.b, mb.n), 0);
    CHECK_INT(msg.events, EV(DNS_EV_POINTER_LOOP));
    CHECK_INT(msg.nan, 1);
}

/* A name of wire length wire (labels of 63 and a shorter last one). */
static void long_name(char *dotted, size_t wire)
{
    size_t left = wire - 1, k = 0; /* less the root byte */

    while (left > 0) {
        size_t l = left - 1 > 63 ? 63 : left - 1;

        if (k > 0)
            dotted[k++] = '.';
        memset(dotted + k, 'a' + (int)(left % 26), l);
        k += l;
        left -= l + 1;
    }
    dotted[k] = '\0';
}

TEST(test_name_length)
{
    char name[300];

    long_name(name, 255);
    CHECK_INT(strlen(name), 253);
    header(&mb, 1, 0, 1, 0, 0, 0);
    putname(&mb, name);
    CHECK_INT(mb.n - 12, 255);
    put32(&mb, 0x00010001);
    CHECK_INT(dns_parse(&msg, mb.b, mb.n), 0);
    CHECK_INT(msg.events, 0);
    CHECK(name_is(&msg.q[0].name, name));

    long_name(name, 256);
    header(&mb, 1, 0, 1, 0, 0, 0);
    putname(&mb, name);
    CHECK_INT(mb.n - 12, 256);
    put32(&mb, 0x00010001);
    CHECK_INT(dns_parse(&msg, mb.b, mb.n), KANSHI_EPARSE);
    CHECK_INT(msg.events, EV(DNS_EV_BAD_NAME));

    /* past 255 bytes through a pointer: the limit counts the whole name */
    long_name(name, 255);
    header(&mb, 1, 0x8180, 1, 1, 0, 0);
    putname(&mb, name);
    put32(&mb, 0x00010001);
    putlabels(&mb, "b");
    putptr(&mb, 12);
    rr(&mb, 1, 1, 4);
    putraw(&mb, "\x01\x02\x03\x04", 4);
    CHECK_INT(dns_parse(&msg, mb.b, mb.n), 0);
    CHECK_INT(msg.events, EV(DNS_EV_BAD_NAME));
    CHECK_INT(msg.nan, 0);
}

TEST(test_label_length)
{
    char label[70];

    memset(label, 'x', 63);
    label[63] = '\0';
    header(&mb, 1, 0, 1, 0, 0, 0);
    putname(&mb, label);
    put32(&mb, 0x00010001);
    CHECK_INT(dns_parse(&msg, mb.b, mb.n), 0);
    CHECK_INT(msg.q[0].name.len, 63);

    /* 64 is the reserved 0x40 label type */
    memset(label, 'x', 64);
    label[64] = '\0';
    header(&mb, 1, 0, 1, 0, 0, 0);
    putname(&mb, label);
    put32(&mb, 0x00010001);
    CHECK_INT(dns_parse(&msg, mb.b, mb.n), KANSHI_EPARSE);
    CHECK_INT(msg.events, EV(DNS_EV_BAD_NAME));

    header(&mb, 1, 0, 1, 0, 0, 0);
    put8(&mb, 0x80);
    put8(&mb, 0x01);
    put8(&mb, 0);
    put32(&mb, 0x00010001);
    CHECK_INT(dns_parse(&msg, mb.b, mb.n), KANSHI_EPARSE);
    CHECK_INT(msg.events, EV(DNS_EV_BAD_NAME));
}

/* Label bytes are kept as they are: '\0' and '.' do not cut or split. */
TEST(test_odd_bytes)
{
    header(&mb, 1, 0, 1, 0, 0, 0);
    put8(&mb, 5);
    putraw(&mb, "a\0b.\xff", 5);
    putname(&mb, "com");
    put32(&mb, 0x00100001);
    CHECK_INT(dns_parse(&msg, mb.b, mb.n), 0);
    CHECK_INT(msg.q[0].name.len, 9);
    CHECK(msg.q[0].name.s != NULL && memcmp(msg.q[0].name.s, "a\0b.\xff.com", 9) == 0);
    CHECK_INT(msg.q[0].type, 16);

    /* TXT with a '\0' inside */
    header(&mb, 1, 0x8180, 0, 1, 0, 0);
    put8(&mb, 0);
    rr(&mb, 16, 1, 4);
    put8(&mb, 3);
    putraw(&mb, "x\0y", 3);
    CHECK_INT(dns_parse(&msg, mb.b, mb.n), 0);
    CHECK_INT(msg.nan, 1);
    CHECK_INT(msg.an[0].rdata.len, 3);
    CHECK(msg.an[0].rdata.s != NULL && memcmp(msg.an[0].rdata.s, "x\0y", 3) == 0);

    /* a TXT string longer than its rdata */
    header(&mb, 1, 0x8180, 0, 1, 0, 0);
    put8(&mb, 0);
    rr(&mb, 16, 1, 2);
    put8(&mb, 9);
    put8(&mb, 'x');
    CHECK_INT(dns_parse(&msg, mb.b, mb.n), 0);
    CHECK_INT(msg.events, EV(DNS_EV_TRUNCATED));
    CHECK_INT(msg.an[0].rdata.len, 0);
}

TEST(test_too_many)
{
    char name[32];

    header(&mb, 1, 0, 20, 0, 0, 0);
    for (int i = 0; i < 20; i++) {
        snprintf(name, sizeof(name), "q%d.example", i);
        putname(&mb, name);
        put32(&mb, 0x00010001);
    }
    CHECK_INT(dns_parse(&msg, mb.b, mb.n), 0);
    CHECK_INT(msg.events, EV(DNS_EV_TOO_MANY));
    CHECK_INT(msg.qdcount, 20);
    CHECK_INT(msg.nq, DNS_MAX_QUESTIONS);
    CHECK(name_is(&msg.q[15].name, "q15.example"));

    /* 40 answers: 32 kept, the rest walked */
    header(&mb, 1, 0x8180, 1, 40, 0, 1);
    putname(&mb, "many.example");
    put32(&mb, 0x00010001);
    for (unsigned i = 0; i < 40; i++) {
        putptr(&mb, 12);
        rr(&mb, 1, i, 4);
        put32(&mb, 0x0a000000u + i);
    }
    put8(&mb, 0);
    rr(&mb, 41, 0, 0);
    CHECK_INT(dns_parse(&msg, mb.b, mb.n), 0);
    CHECK_INT(msg.events, EV(DNS_EV_TOO_MANY));
    CHECK_INT(msg.nan, DNS_MAX_ANSWERS);
    CHECK(name_is(&msg.an[31].rdata, "10.0.0.31"));
    CHECK(arena_ok(&msg));
}

/* Long names and long TXT strings fill the arena before 32 answers. */
TEST(test_arena_full)
{
    char name[300], txt[255];

    long_name(name, 255);
    memset(txt, 't', sizeof(txt));
    header(&mb, 1, 0x8180, 1, 32, 0, 0);
    putname(&mb, name);
    put32(&mb, 0x00100001);
    for (int i = 0; i < 32; i++) {
        putptr(&mb, 12);
        rr(&mb, 16, 1, 256);
        put8(&mb, 255);
        putraw(&mb, txt, 255);
    }
    CHECK_INT(dns_parse(&msg, mb.b, mb.n), 0);
    CHECK_INT(msg.events, EV(DNS_EV_TOO_MANY));
    /* 254 for the question, then 254 + 256 per answer */
    CHECK_INT(msg.nan, (DNS_NAME_ARENA - 254) / (254 + 256));
    CHECK(arena_ok(&msg));
    CHECK(msg.nan > 0 && msg.an[msg.nan - 1].rdata.len == 255);
}

TEST(test_names)
{
    CHECK_STR(dns_type_name(1), "A");
    CHECK_STR(dns_type_name(2), "NS");
    CHECK_STR(dns_type_name(5), "CNAME");
    CHECK_STR(dns_type_name(6), "SOA");
    CHECK_STR(dns_type_name(12), "PTR");
    CHECK_STR(dns_type_name(15), "MX");
    CHECK_STR(dns_type_name(16), "TXT");
    CHECK_STR(dns_type_name(28), "AAAA");
    CHECK_STR(dns_type_name(33), "SRV");
    CHECK_STR(dns_type_name(35), "NAPTR");
    CHECK_STR(dns_type_name(43), "DS");
    CHECK_STR(dns_type_name(46), "RRSIG");
    CHECK_STR(dns_type_name(47), "NSEC");
    CHECK_STR(dns_type_name(48), "DNSKEY");
    CHECK_STR(dns_type_name(50), "NSEC3");
    CHECK_STR(dns_type_name(64), "SVCB");
    CHECK_STR(dns_type_name(65), "HTTPS");
    CHECK_STR(dns_type_name(252), "AXFR");
    CHECK_STR(dns_type_name(255), "ANY");
    CHECK(dns_type_name(0) == NULL);
    CHECK(dns_type_name(12345) == NULL);
    CHECK_STR(dns_rcode_name(0), "NOERROR");
    CHECK_STR(dns_rcode_name(2), "SERVFAIL");
    CHECK_STR(dns_rcode_name(5), "REFUSED");
    CHECK(dns_rcode_name(15) == NULL);
    CHECK(dns_rcode_name(200) == NULL);
    for (int e = 0; e < DNS_EV_COUNT; e++)
        CHECK(dns_event_name((enum dns_event)e) != NULL);
    CHECK_STR(dns_event_name(DNS_EV_POINTER_LOOP), "pointer_loop");
}

/* --- TCP framing ----------------------------------------------------------- */

struct got {
    size_t n;
    size_t len[8];
    uint8_t first[8]; /* the first byte of each */
    uint16_t id[8];
};

static void on_msg(void *arg, const uint8_t *m, size_t len)
{
    struct got *g = arg;

    if (g->n < 8) {
        g->len[g->n] = len;
        g->first[g->n] = len > 0 ? m[0] : 0;
        g->id[g->n] = dns_parse(&msg, m, len) == 0 ? msg.id : 0;
    }
    g->n++;
}

/* A query framed for TCP: 2-byte length then the message. */
static size_t framed(uint8_t *out, unsigned id, const char *name)
{
    header(&mb, id, 0x0100, 1, 0, 0, 0);
    putname(&mb, name);
    put32(&mb, 0x00010001);
    out[0] = (uint8_t)(mb.n >> 8);
    out[1] = (uint8_t)mb.n;
    memcpy(out + 2, mb.b, mb.n);
    return mb.n + 2;
}

TEST(test_tcp_split)
{
    static struct dns_tcp t;
    uint8_t s[512];
    struct got g = {0};
    size_t n = framed(s, 0x0101, "split.example.com");

    dns_tcp_init(&t);
    /* half the length prefix, then part of the message, then the rest */
    CHECK_INT(dns_tcp_feed(&t, s, 1, on_msg, &g), 0);
    CHECK_INT(dns_tcp_feed(&t, s + 1, 10, on_msg, &g), 0);
    CHECK_INT(g.n, 0);
    CHECK_INT(dns_tcp_feed(&t, s + 11, n - 11, on_msg, &g), 1);
    CHECK_INT(g.n, 1);
    CHECK_INT(g.len[0], n - 2);
    CHECK_INT(g.id[0], 0x0101);
    CHECK_INT(t.have, 0);
}

TEST(test_tcp_joined)
{
    static struct dns_tcp t;
    uint8_t s[1024];
    struct got g = {0};
    size_t n1 = framed(s, 0x0201, "one.example");
    size_t n2 = framed(s + n1, 0x0202, "two.example");
    size_t n3 = framed(s + n1 + n2, 0x0203, "three.example");

    dns_tcp_init(&t);
    /* two whole messages and the start of a third in one feed */
    CHECK_INT(dns_tcp_feed(&t, s, n1 + n2 + 5, on_msg, &g), 2);
    CHECK_INT(g.n, 2);
    CHECK_INT(g.id[0], 0x0201);
    CHECK_INT(g.id[1], 0x0202);
    CHECK_INT(t.have, 5);
    CHECK_INT(dns_tcp_feed(&t, s + n1 + n2 + 5, n3 - 5, on_msg, &g), 1);
    CHECK_INT(g.n, 3);
    CHECK_INT(g.id[2], 0x0203);

    /* one byte at a time */
    memset(&g, 0, sizeof(g));
    for (size_t i = 0; i < n1 + n2 + n3; i++)
        dns_tcp_feed(&t, s + i, 1, on_msg, &g);
    CHECK_INT(g.n, 3);
    CHECK_INT(g.id[0], 0x0201);
    CHECK_INT(g.id[2], 0x0203);

    /* an empty message is delivered as such */
    memset(&g, 0, sizeof(g));
    CHECK_INT(dns_tcp_feed(&t, (const uint8_t *)"\0\0", 2, on_msg, &g), 1);
    CHECK_INT(g.len[0], 0);
}

TEST(test_tcp_gap)
{
    static struct dns_tcp t;
    uint8_t s[512];
    struct got g = {0};
    size_t n = framed(s, 0x0301, "gap.example");

    dns_tcp_init(&t);
    CHECK_INT(dns_tcp_feed(&t, s, 7, on_msg, &g), 0);
    dns_tcp_gap(&t);
    CHECK(t.lost);
    /* after a gap, even a whole message is ignored */
    CHECK_INT(dns_tcp_feed(&t, s, n, on_msg, &g), 0);
    CHECK_INT(g.n, 0);
    dns_tcp_init(&t);
    CHECK_INT(dns_tcp_feed(&t, s, n, on_msg, &g), 1);
    CHECK_INT(g.id[0], 0x0301);

    /* the largest message fills the buffer exactly */
    {
        static uint8_t big[65535 + 2];

        memset(big, 0, sizeof(big));
        big[0] = 0xff;
        big[1] = 0xff;
        big[2] = 0x77;
        memset(&g, 0, sizeof(g));
        dns_tcp_init(&t);
        CHECK_INT(dns_tcp_feed(&t, big, 3, on_msg, &g), 0);
        CHECK_INT(dns_tcp_feed(&t, big + 3, sizeof(big) - 3, on_msg, &g), 1);
        CHECK_INT(g.len[0], 65535);
        CHECK_INT(g.first[0], 0x77);
    }
}

int main(void)
{
    RUN(test_simple_query);
    RUN(test_response_compressed);
    RUN(test_truncated);
    RUN(test_pointer_self);
    RUN(test_pointer_forward);
    RUN(test_pointer_cycle);
    RUN(test_pointer_too_many);
    RUN(test_name_length);
    RUN(test_label_length);
    RUN(test_odd_bytes);
    RUN(test_too_many);
    RUN(test_arena_full);
    RUN(test_names);
    RUN(test_tcp_split);
    RUN(test_tcp_joined);
    RUN(test_tcp_gap);
    return test_summary("app_dns_test");
}
