/*
 * fuzz_dns.c — fuzz target of the DNS parser and DNS/TCP framing
 * (sensor/app_dns.c), and of protocol detection (sensor/app_detect.c) over
 * the same bytes.
 *
 * Input: byte 0 sets the TCP chunking (low 6 bits: chunk size - 1; bit 6:
 * a gap after the first chunk); the rest is the data.  The data is parsed
 * as one UDP message, then fed as a TCP stream twice: whole, and in chunks.
 * Checked:
 *   - every kept string lies in the arena, '\0'-terminated, at most 253
 *     bytes for a name and 255 for rdata; counts within their caps;
 *   - a successful parse kept min(qdcount, DNS_MAX_QUESTIONS) questions;
 *   - both feeds deliver the same messages (framing is independent of how
 *     the stream is cut), unless a gap was made, after which none come;
 *   - app_probe returns NEED_MORE or a protocol in range.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "kanshi/app.h"
#include "kanshi/app_dns.h"
#include "kanshi/kanshi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct dns_msg msg;
static struct dns_tcp whole, chunked;

struct seen {
    size_t n;
    uint64_t hash; /* of every message's length and bytes, in order */
};

static void check_name(const struct dns_msg *m, const struct dns_name *n, size_t max)
{
    if (n->s == NULL || n->len > max || n->s < m->arena ||
        n->s + n->len >= m->arena + m->arena_used || n->s[n->len] != '\0')
        __builtin_trap();
}

static void check_msg(const struct dns_msg *m, int r)
{
    if (m->arena_used > sizeof(m->arena) || m->nq > DNS_MAX_QUESTIONS || m->nan > DNS_MAX_ANSWERS ||
        m->nq > m->qdcount || m->nan > m->ancount)
        __builtin_trap();
    if (r == 0 && m->nq != (m->qdcount < DNS_MAX_QUESTIONS ? m->qdcount : DNS_MAX_QUESTIONS))
        __builtin_trap();
    if (r != 0 && (r != KANSHI_EPARSE || m->events == 0 || m->nan != 0))
        __builtin_trap();
    if (m->events >> DNS_EV_COUNT)
        __builtin_trap();
    for (size_t i = 0; i < m->nq; i++)
        check_name(m, &m->q[i].name, 253);
    for (size_t i = 0; i < m->nan; i++) {
        check_name(m, &m->an[i].name, 253);
        check_name(m, &m->an[i].rdata, 255);
    }
}

static void on_msg(void *arg, const uint8_t *p, size_t len)
{
    struct seen *s = arg;
    uint64_t h = s->hash ^ (len + 0x9e3779b97f4a7c15ull);

    for (size_t i = 0; i < len; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    s->hash = h;
    s->n++;
    check_msg(&msg, dns_parse(&msg, p, len));
}

static void check_probe(int r)
{
    if (r != APP_PROBE_NEED_MORE && (r <= APP_PROTO_UNKNOWN || r >= APP_PROTO_COUNT))
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct seen a = {0, 0}, b = {0, 0};
    size_t chunk, n, got;
    bool gap;

    if (size < 1 || size > 70000)
        return 0;
    chunk = (size_t)(data[0] & 0x3f) + 1;
    gap = (data[0] & 0x40) != 0;
    data++;
    size--;

    check_msg(&msg, dns_parse(&msg, data, size));

    dns_tcp_init(&whole);
    n = dns_tcp_feed(&whole, data, size, on_msg, &a);
    if (n != a.n)
        __builtin_trap();

    dns_tcp_init(&chunked);
    got = 0;
    for (size_t off = 0; off < size; off += chunk) {
        size_t l = size - off < chunk ? size - off : chunk;

        got += dns_tcp_feed(&chunked, data + off, l, on_msg, &b);
        if (gap && off == 0)
            dns_tcp_gap(&chunked);
    }
    if (got != b.n)
        __builtin_trap();
    if (!gap && (a.n != b.n || a.hash != b.hash || whole.have != chunked.have))
        __builtin_trap();
    if (gap && b.n > a.n)
        __builtin_trap();

    for (int dir = 0; dir < 2; dir++) {
        check_probe(app_probe(data, size, dir, 17, 53, 40000));
        check_probe(app_probe(data, size, dir, 6, 40000, 53));
        check_probe(app_probe(data, size, dir, 6, 21, 25));
    }
    return 0;
}
