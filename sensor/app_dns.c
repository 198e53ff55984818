/*
 * app_dns.c — DNS message decoding and DNS/TCP framing (see
 * include/kanshi/app_dns.h).
 *
 * Names are kept as the raw label bytes joined with '.', as Suricata's DNS
 * parser keeps them (its dns.query buffer is those bytes): nothing is
 * escaped here, a label may hold any byte, '\0' and '.' included, and every
 * length is explicit.  Escaping for output is the EVE writer's job.  Each
 * string in the arena is also followed by a '\0' so that a name without odd
 * bytes can be printed as is.
 *
 * Compression pointers: a pointer must land strictly before the first byte
 * of the labels being read when it is met (the start of the name, or the
 * target of the previous pointer).  Targets therefore strictly decrease, so
 * no pointer sequence can loop — a pointer to itself, a forward pointer, a
 * cycle of two pointers, and a label that runs back over the pointer that
 * led to it are all refused — and DNS_MAX_JUMPS bounds the work besides.
 * Every encoder that follows RFC 1035 only points at names written earlier,
 * which satisfies the rule.
 *
 * Name length: the wire length (length bytes, label bytes and the root
 * byte) may be at most 255; its dotted form is then at most 253 bytes.
 *
 * Only the question and answer sections are kept; the authority and
 * additional sections are walked to see that the message holds what its
 * counts say (DNS_EV_TRUNCATED otherwise).
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "kanshi/app_dns.h"
#include "kanshi/kanshi.h"

#define DNS_HDR_LEN 12
#define DNS_MAX_NAME_WIRE 255
#define DNS_NAME_BUF 256   /* dotted name (at most 253 bytes) or TXT string, and '\0' */
#define DNS_MIN_QUESTION 5 /* root name, type, class */
#define DNS_RR_FIXED 10    /* type, class, ttl, rdlength */

#define DNS_TYPE_A 1
#define DNS_TYPE_NS 2
#define DNS_TYPE_CNAME 5
#define DNS_TYPE_PTR 12
#define DNS_TYPE_MX 15
#define DNS_TYPE_TXT 16
#define DNS_TYPE_AAAA 28

static const char *const dns_event_names[DNS_EV_COUNT] = {
    [DNS_EV_TRUNCATED] = "truncated",       [DNS_EV_BAD_NAME] = "bad_name",
    [DNS_EV_POINTER_LOOP] = "pointer_loop", [DNS_EV_TOO_MANY] = "too_many",
    [DNS_EV_NOT_DNS] = "not_dns",
};

const char *dns_event_name(enum dns_event ev)
{
    if ((unsigned)ev >= DNS_EV_COUNT)
        return "unknown";
    return dns_event_names[ev];
}

static const struct {
    uint16_t type;
    const char *name;
} dns_types[] = {
    {1, "A"},       {2, "NS"},        {3, "MD"},          {4, "MF"},          {5, "CNAME"},
    {6, "SOA"},     {7, "MB"},        {8, "MG"},          {9, "MR"},          {10, "NULL"},
    {11, "WKS"},    {12, "PTR"},      {13, "HINFO"},      {14, "MINFO"},      {15, "MX"},
    {16, "TXT"},    {17, "RP"},       {18, "AFSDB"},      {19, "X25"},        {20, "ISDN"},
    {21, "RT"},     {22, "NSAP"},     {23, "NSAP-PTR"},   {24, "SIG"},        {25, "KEY"},
    {26, "PX"},     {27, "GPOS"},     {28, "AAAA"},       {29, "LOC"},        {30, "NXT"},
    {33, "SRV"},    {34, "ATMA"},     {35, "NAPTR"},      {36, "KX"},         {37, "CERT"},
    {38, "A6"},     {39, "DNAME"},    {41, "OPT"},        {42, "APL"},        {43, "DS"},
    {44, "SSHFP"},  {45, "IPSECKEY"}, {46, "RRSIG"},      {47, "NSEC"},       {48, "DNSKEY"},
    {49, "DHCID"},  {50, "NSEC3"},    {51, "NSEC3PARAM"}, {52, "TLSA"},       {53, "SMIMEA"},
    {55, "HIP"},    {59, "CDS"},      {60, "CDNSKEY"},    {61, "OPENPGPKEY"}, {62, "CSYNC"},
    {63, "ZONEMD"}, {64, "SVCB"},     {65, "HTTPS"},      {99, "SPF"},        {108, "EUI48"},
    {109, "EUI64"}, {249, "TKEY"},    {250, "TSIG"},      {251, "IXFR"},      {252, "AXFR"},
    {253, "MAILB"}, {254, "MAILA"},   {255, "ANY"},       {256, "URI"},       {257, "CAA"},
    {32768, "TA"},  {32769, "DLV"},
};

const char *dns_type_name(uint16_t type)
{
    for (size_t i = 0; i < sizeof(dns_types) / sizeof(dns_types[0]); i++)
        if (dns_types[i].type == type)
            return dns_types[i].name;
    return NULL;
}

/* RFC 6895; 16 and up only come with EDNS's extended RCODE. */
static const char *const dns_rcodes[] = {
    [0] = "NOERROR",  [1] = "FORMERR",    [2] = "SERVFAIL", [3] = "NXDOMAIN",  [4] = "NOTIMP",
    [5] = "REFUSED",  [6] = "YXDOMAIN",   [7] = "YXRRSET",  [8] = "NXRRSET",   [9] = "NOTAUTH",
    [10] = "NOTZONE", [11] = "DSOTYPENI", [16] = "BADVERS", [17] = "BADKEY",   [18] = "BADTIME",
    [19] = "BADMODE", [20] = "BADNAME",   [21] = "BADALG",  [22] = "BADTRUNC", [23] = "BADCOOKIE",
};

const char *dns_rcode_name(uint8_t rcode)
{
    if (rcode >= sizeof(dns_rcodes) / sizeof(dns_rcodes[0]))
        return NULL;
    return dns_rcodes[rcode];
}

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void dns_set(struct dns_msg *m, enum dns_event ev)
{
    m->events |= 1u << ev;
}

static bool dns_fail(enum dns_event *ev, enum dns_event what)
{
    *ev = what;
    return false;
}

/*
 * Reads the name at msg[pos]: inline labels must end before limit (the end
 * of the rdata for a name inside rdata), the labels a pointer leads to
 * before msg_len.  Writes the dotted form into out[DNS_NAME_BUF] ('\0'
 * after it), its length into *out_len and the offset just past the name as
 * it sits at pos into *next.  Returns true, or false with *ev the event that
 * refuses the name.
 */
static bool dns_name_read(const uint8_t *msg, size_t msg_len, size_t pos, size_t limit, char *out,
                          uint16_t *out_len, size_t *next, enum dns_event *ev)
{
    size_t seg_start = pos, end = 0, olen = 0, wire = 0, lim = limit;
    unsigned jumps = 0;

    for (;;) {
        uint8_t b;

        if (pos >= lim)
            return dns_fail(ev, DNS_EV_TRUNCATED);
        b = msg[pos];
        if (b == 0) {
            pos++;
            break;
        }
        switch (b & 0xc0) {
        case 0x00:
            if (b > lim - pos - 1)
                return dns_fail(ev, DNS_EV_TRUNCATED);
            wire += 1u + b;
            if (wire + 1 > DNS_MAX_NAME_WIRE)
                return dns_fail(ev, DNS_EV_BAD_NAME);
            if (olen > 0)
                out[olen++] = '.';
            memcpy(out + olen, msg + pos + 1, b);
            olen += b;
            pos += 1u + b;
            break;
        case 0xc0: {
            size_t target;

            if (lim - pos < 2)
                return dns_fail(ev, DNS_EV_TRUNCATED);
            target = (size_t)(b & 0x3f) << 8 | msg[pos + 1];
            if (target >= seg_start || ++jumps > DNS_MAX_JUMPS)
                return dns_fail(ev, DNS_EV_POINTER_LOOP);
            if (end == 0)
                end = pos + 2;
            pos = seg_start = target;
            lim = msg_len;
            break;
        }
        default: /* 0x40 extended and 0x80 reserved label types */
            return dns_fail(ev, DNS_EV_BAD_NAME);
        }
    }
    out[olen] = '\0';
    *out_len = (uint16_t)olen;
    *next = end != 0 ? end : pos;
    return true;
}

/* Copies n bytes and a '\0' into the arena; NULL when they do not fit. */
static const char *dns_arena_put(struct dns_msg *m, const char *s, size_t n)
{
    char *d;

    if (n + 1 > sizeof(m->arena) - m->arena_used)
        return NULL;
    d = m->arena + m->arena_used;
    memcpy(d, s, n);
    d[n] = '\0';
    m->arena_used += n + 1;
    return d;
}

/* The text form of one record's rdata into out; its length, 0 for none. */
static uint16_t dns_rdata_text(struct dns_msg *m, const uint8_t *msg, size_t msg_len, uint16_t type,
                               size_t rd, size_t rdlen, char *out)
{
    uint16_t n = 0;
    size_t next;
    enum dns_event ev;

    out[0] = '\0';
    switch (type) {
    case DNS_TYPE_A:
        if (rdlen == 4 && inet_ntop(AF_INET, msg + rd, out, DNS_NAME_BUF) != NULL)
            n = (uint16_t)strlen(out);
        break;
    case DNS_TYPE_AAAA:
        if (rdlen == 16 && inet_ntop(AF_INET6, msg + rd, out, DNS_NAME_BUF) != NULL)
            n = (uint16_t)strlen(out);
        break;
    case DNS_TYPE_MX:
        if (rdlen < 3) {
            dns_set(m, DNS_EV_TRUNCATED);
            break;
        }
        rd += 2;
        rdlen -= 2;
        /* fall through */
    case DNS_TYPE_CNAME:
    case DNS_TYPE_NS:
    case DNS_TYPE_PTR:
        if (!dns_name_read(msg, msg_len, rd, rd + rdlen, out, &n, &next, &ev)) {
            dns_set(m, ev);
            out[0] = '\0';
            n = 0;
        }
        break;
    case DNS_TYPE_TXT:
        if (rdlen < 1 || msg[rd] > rdlen - 1) {
            dns_set(m, DNS_EV_TRUNCATED);
            break;
        }
        n = msg[rd];
        memcpy(out, msg + rd + 1, n);
        out[n] = '\0';
        break;
    default:
        break;
    }
    return n;
}

/*
 * Walks count records from *pos; keeps them in m->an when keep.  Returns 0,
 * or -1 when the section cannot be walked to its end (event set), after
 * which nothing further can be located.
 */
static int dns_records(struct dns_msg *m, const uint8_t *msg, size_t len, size_t *pos,
                       unsigned count, bool keep)
{
    char name[DNS_NAME_BUF], rdata[DNS_NAME_BUF];

    for (unsigned i = 0; i < count; i++) {
        uint16_t nlen, type, rdlen, tlen;
        size_t next;
        enum dns_event ev;

        if (!dns_name_read(msg, len, *pos, len, name, &nlen, &next, &ev)) {
            dns_set(m, ev);
            return -1;
        }
        if (len - next < DNS_RR_FIXED) {
            dns_set(m, DNS_EV_TRUNCATED);
            return -1;
        }
        type = rd16(msg + next);
        rdlen = rd16(msg + next + 8);
        if (len - next - DNS_RR_FIXED < rdlen) {
            dns_set(m, DNS_EV_TRUNCATED);
            return -1;
        }
        *pos = next + DNS_RR_FIXED + rdlen;
        if (!keep)
            continue;
        if (m->nan >= DNS_MAX_ANSWERS) {
            dns_set(m, DNS_EV_TOO_MANY);
            keep = false;
            continue;
        }
        tlen = dns_rdata_text(m, msg, len, type, next + DNS_RR_FIXED, rdlen, rdata);
        if ((size_t)nlen + tlen + 2 > sizeof(m->arena) - m->arena_used) {
            /* the arena is full: the rest is counted, not kept */
            dns_set(m, DNS_EV_TOO_MANY);
            keep = false;
            continue;
        }
        struct dns_answer *a = &m->an[m->nan++];
        a->name.s = dns_arena_put(m, name, nlen);
        a->name.len = nlen;
        a->type = type;
        a->class = rd16(msg + next + 2);
        a->ttl = rd32(msg + next + 4);
        a->rdata.s = dns_arena_put(m, rdata, tlen);
        a->rdata.len = tlen;
    }
    return 0;
}

int dns_parse(struct dns_msg *m, const uint8_t *data, size_t len)
{
    char name[DNS_NAME_BUF];
    size_t pos = DNS_HDR_LEN;

    m->id = 0;
    m->response = false;
    m->opcode = m->rcode = 0;
    m->flags = m->qdcount = m->ancount = m->nscount = m->arcount = 0;
    m->nq = m->nan = 0;
    m->events = 0;
    m->arena_used = 0;
    m->arena[0] = '\0';

    if (data == NULL || len < DNS_HDR_LEN) {
        dns_set(m, DNS_EV_NOT_DNS);
        return KANSHI_EPARSE;
    }
    m->id = rd16(data);
    m->flags = rd16(data + 2);
    m->response = (m->flags & 0x8000) != 0;
    m->opcode = (uint8_t)((m->flags >> 11) & 0xf);
    m->rcode = (uint8_t)(m->flags & 0xf);
    m->qdcount = rd16(data + 4);
    m->ancount = rd16(data + 6);
    m->nscount = rd16(data + 8);
    m->arcount = rd16(data + 10);

    /* Counts that the bytes cannot hold even at minimum size say that this
     * is no DNS header (a question takes at least 5 bytes). */
    if ((size_t)m->qdcount * DNS_MIN_QUESTION > len - DNS_HDR_LEN) {
        dns_set(m, DNS_EV_NOT_DNS);
        return KANSHI_EPARSE;
    }

    for (unsigned i = 0; i < m->qdcount; i++) {
        uint16_t nlen;
        size_t next;
        enum dns_event ev;
        bool ok = dns_name_read(data, len, pos, len, name, &nlen, &next, &ev);

        if (ok && len - next < 4)
            ok = dns_fail(&ev, DNS_EV_TRUNCATED);
        if (!ok) {
            dns_set(m, ev);
            return KANSHI_EPARSE;
        }
        if (m->nq < DNS_MAX_QUESTIONS) {
            struct dns_question *q = &m->q[m->nq];

            /* 16 names of at most 253 bytes always fit the arena */
            q->name.s = dns_arena_put(m, name, nlen);
            if (q->name.s != NULL) {
                q->name.len = nlen;
                q->type = rd16(data + next);
                q->class = rd16(data + next + 2);
                m->nq++;
            }
        } else {
            dns_set(m, DNS_EV_TOO_MANY);
        }
        pos = next + 4;
    }

    if (dns_records(m, data, len, &pos, m->ancount, true) == 0 &&
        dns_records(m, data, len, &pos, m->nscount, false) == 0)
        dns_records(m, data, len, &pos, m->arcount, false);
    return 0;
}

/* --- DNS over TCP ---------------------------------------------------------- */

void dns_tcp_init(struct dns_tcp *t)
{
    t->have = 0;
    t->lost = false;
}

void dns_tcp_gap(struct dns_tcp *t)
{
    t->have = 0;
    t->lost = true;
}

size_t dns_tcp_feed(struct dns_tcp *t, const uint8_t *data, size_t len,
                    void (*cb)(void *arg, const uint8_t *msg, size_t len), void *arg)
{
    size_t delivered = 0;

    if (t->lost || data == NULL)
        return 0;
    while (len > 0) {
        size_t need, take;

        /* Whole messages at the start of data go out without a copy. */
        if (t->have == 0 && len >= 2) {
            size_t mlen = rd16(data);

            if (len - 2 >= mlen) {
                cb(arg, data + 2, mlen);
                delivered++;
                data += 2 + mlen;
                len -= 2 + mlen;
                continue;
            }
        }
        need = t->have < 2 ? 2 - t->have : 2 + (size_t)rd16(t->buf) - t->have;
        take = len < need ? len : need;
        memcpy(t->buf + t->have, data, take);
        t->have += take;
        data += take;
        len -= take;
        if (t->have >= 2 && t->have == 2 + (size_t)rd16(t->buf)) {
            cb(arg, t->buf + 2, t->have - 2);
            delivered++;
            t->have = 0;
        }
    }
    return delivered;
}
