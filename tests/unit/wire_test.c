/*
 * wire_test.c — the sensor ↔ collector frames (collector/wire.c): exact byte
 * layout, round trips, every rejection reason with a crafted frame, the
 * limits, and truncation of valid frames at every byte offset.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kanshi/kanshi.h"
#include "kanshi/wire.h"
#include "test.h"

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

static void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)(v >> 32));
    put32(p + 4, (uint32_t)v);
}

/* Builds a raw frame: header with the given fields around body. */
static size_t raw_frame(uint8_t *out, uint8_t type, const uint8_t *body, size_t blen)
{
    out[0] = WIRE_MAGIC0;
    out[1] = WIRE_MAGIC1;
    out[2] = WIRE_VERSION;
    out[3] = type;
    put32(out + 4, (uint32_t)blen);
    if (blen > 0)
        memcpy(out + 8, body, blen);
    return 8 + blen;
}

static void fill_hello(struct wire_hello *h)
{
    memset(h, 0, sizeof(*h));
    h->next_seq = 1001;
    h->acked_seq = 900;
    h->spool_bytes = 123456;
    h->spool_alerts = 100;
    strcpy(h->software, "0.1.0");
    strcpy(h->firmware, "fw-2024.1");
    strcpy(h->ruleset, "et-open-10432");
    strcpy(h->schema, WIRE_SCHEMA);
}

/* Decodes a whole frame, checking the header first. */
static int decode_frame(const struct wire_buf *b, enum wire_type want, const uint8_t **body,
                        size_t *blen)
{
    enum wire_type t;
    int rc = wire_decode_header(b->p, b->len, &t, body, blen);

    if (rc == 0 && t != want)
        return -1;
    return rc;
}

TEST(ack_layout_and_round_trip)
{
    struct wire_buf b;
    const uint8_t *body;
    size_t blen;
    uint64_t seq = 0;
    static const uint8_t want[] = {0x4b, 0x53, 1, 3, 0, 0, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8};

    wire_buf_init(&b);
    CHECK_INT(wire_encode_ack(&b, 0x0102030405060708ull), 0);
    CHECK_INT(b.len, sizeof(want));
    CHECK(b.len == sizeof(want) && memcmp(b.p, want, sizeof(want)) == 0);
    CHECK_INT(decode_frame(&b, WIRE_ACK, &body, &blen), 0);
    CHECK_INT(blen, 8);
    CHECK_INT(wire_decode_ack(body, blen, &seq), 0);
    CHECK(seq == 0x0102030405060708ull);
    /* A second encode into the same buffer replaces the frame. */
    CHECK_INT(wire_encode_ack(&b, 7), 0);
    CHECK_INT(b.len, 16);
    wire_buf_fini(&b);
    CHECK(b.p == NULL && b.len == 0);
}

TEST(hello_layout_and_round_trip)
{
    struct wire_hello h, d;
    struct wire_buf b;
    const uint8_t *body;
    size_t blen;

    fill_hello(&h);
    wire_buf_init(&b);
    CHECK_INT(wire_encode_hello(&b, &h), 0);
    CHECK_INT(decode_frame(&b, WIRE_HELLO, &body, &blen), 0);
    CHECK_INT(blen, 32 + 2 + 5 + 2 + 9 + 2 + 13 + 2 + strlen(WIRE_SCHEMA));
    /* Byte layout: next_seq big-endian first, then the first string's length. */
    CHECK(body[7] == (1001 & 0xff) && body[6] == (1001 >> 8));
    CHECK(body[32] == 0 && body[33] == 5 && memcmp(body + 34, "0.1.0", 5) == 0);
    memset(&d, 0x55, sizeof(d));
    CHECK_INT(wire_decode_hello(body, blen, &d), 0);
    CHECK(d.next_seq == 1001 && d.acked_seq == 900 && d.spool_bytes == 123456 &&
          d.spool_alerts == 100);
    CHECK_STR(d.software, "0.1.0");
    CHECK_STR(d.firmware, "fw-2024.1");
    CHECK_STR(d.ruleset, "et-open-10432");
    CHECK_STR(d.schema, WIRE_SCHEMA);

    /* Empty strings and strings of exactly WIRE_MAX_STR are fine. */
    memset(h.firmware, 0, sizeof(h.firmware));
    memset(h.ruleset, 'r', WIRE_MAX_STR);
    h.ruleset[WIRE_MAX_STR] = '\0';
    CHECK_INT(wire_encode_hello(&b, &h), 0);
    CHECK_INT(decode_frame(&b, WIRE_HELLO, &body, &blen), 0);
    CHECK_INT(wire_decode_hello(body, blen, &d), 0);
    CHECK_STR(d.firmware, "");
    CHECK_INT(strlen(d.ruleset), WIRE_MAX_STR);
    wire_buf_fini(&b);
}

TEST(alerts_round_trip)
{
    struct wire_buf b;
    struct wire_alert a[8];
    const uint8_t *body;
    size_t blen, n = 0;
    const char *txt[] = {"{\"a\":1}", "{\"b\":22}", "{}"};
    uint64_t seqs[] = {5, 6, 900};

    wire_buf_init(&b);
    CHECK_INT(wire_alerts_begin(&b), 0);
    CHECK_INT(wire_alerts_count(&b), 0);
    for (int i = 0; i < 3; i++)
        CHECK_INT(wire_alerts_add(&b, seqs[i], (const uint8_t *)txt[i], (uint32_t)strlen(txt[i])),
                  0);
    CHECK_INT(wire_alerts_count(&b), 3);
    CHECK_INT(wire_alerts_end(&b), 0);
    CHECK_INT(decode_frame(&b, WIRE_ALERTS, &body, &blen), 0);
    /* count, then seq (8) and length (4) before each alert */
    CHECK(body[3] == 3 && body[11] == 5 && body[15] == 7 && memcmp(body + 16, txt[0], 7) == 0);
    CHECK_INT(wire_decode_alerts(body, blen, a, 8, &n), 0);
    CHECK_INT(n, 3);
    for (size_t i = 0; i < n && i < 3; i++) {
        CHECK(a[i].seq == seqs[i]);
        CHECK_INT(a[i].len, strlen(txt[i]));
        CHECK(memcmp(a[i].data, txt[i], a[i].len) == 0);
        CHECK(a[i].data >= body && a[i].data + a[i].len <= body + blen);
    }
    /* More alerts than the caller has room for. */
    CHECK_INT(wire_decode_alerts(body, blen, a, 2, &n), WIRE_ECOUNT);
    wire_buf_fini(&b);
}

TEST(stats_round_trip)
{
    static struct wire_stats s, d;
    struct wire_buf b;
    const uint8_t *body;
    size_t blen;

    memset(&s, 0, sizeof(s));
    s.uptime = 3600;
    s.n = 3;
    s.c[0] = (struct wire_counter_val){WC_PACKETS, 1000000};
    s.c[1] = (struct wire_counter_val){WC_KERNEL_DROPS, 7};
    s.c[2] = (struct wire_counter_val){999, UINT64_MAX}; /* unknown ids pass through */
    wire_buf_init(&b);
    CHECK_INT(wire_encode_stats(&b, &s), 0);
    CHECK_INT(decode_frame(&b, WIRE_STATS, &body, &blen), 0);
    CHECK_INT(blen, 10 + 3 * 10);
    CHECK_INT(wire_decode_stats(body, blen, &d), 0);
    CHECK(d.uptime == 3600 && d.n == 3);
    CHECK(d.c[0].id == WC_PACKETS && d.c[0].value == 1000000);
    CHECK(d.c[1].id == WC_KERNEL_DROPS && d.c[1].value == 7);
    CHECK(d.c[2].id == 999 && d.c[2].value == UINT64_MAX);

    s.n = 0;
    CHECK_INT(wire_encode_stats(&b, &s), 0);
    CHECK_INT(decode_frame(&b, WIRE_STATS, &body, &blen), 0);
    CHECK_INT(wire_decode_stats(body, blen, &d), 0);
    CHECK_INT(d.n, 0);

    s.n = WIRE_MAX_COUNTERS;
    for (unsigned i = 0; i < WIRE_MAX_COUNTERS; i++)
        s.c[i] = (struct wire_counter_val){(uint16_t)(i + 1), i};
    CHECK_INT(wire_encode_stats(&b, &s), 0);
    CHECK_INT(decode_frame(&b, WIRE_STATS, &body, &blen), 0);
    CHECK_INT(wire_decode_stats(body, blen, &d), 0);
    CHECK_INT(d.n, WIRE_MAX_COUNTERS);
    CHECK(d.c[255].id == 256 && d.c[255].value == 255);
    s.n = WIRE_MAX_COUNTERS + 1;
    CHECK_INT(wire_encode_stats(&b, &s), -EINVAL);
    wire_buf_fini(&b);
}

TEST(header_errors)
{
    uint8_t f[64];
    enum wire_type t;
    const uint8_t *body;
    size_t blen, n;
    uint8_t ack[8] = {0};

    n = raw_frame(f, WIRE_ACK, ack, 8);
    CHECK_INT(wire_decode_header(f, n, &t, &body, &blen), 0);
    for (size_t len = 0; len < WIRE_HDR_LEN; len++)
        CHECK_INT(wire_decode_header(f, len, &t, &body, &blen), WIRE_ESHORT);
    CHECK_INT(wire_decode_header(NULL, 0, &t, &body, &blen), WIRE_ESHORT);

    f[0] = 'X';
    CHECK_INT(wire_decode_header(f, n, &t, &body, &blen), WIRE_EMAGIC);
    f[0] = WIRE_MAGIC0;
    f[1] = 'x';
    CHECK_INT(wire_decode_header(f, n, &t, &body, &blen), WIRE_EMAGIC);
    f[1] = WIRE_MAGIC1;
    f[2] = 0;
    CHECK_INT(wire_decode_header(f, n, &t, &body, &blen), WIRE_EVERSION);
    f[2] = 2;
    CHECK_INT(wire_decode_header(f, n, &t, &body, &blen), WIRE_EVERSION);
    f[2] = WIRE_VERSION;

    /* Unknown types. */
    {
        const uint8_t bad[] = {0, WIRE_RESULT + 1, 9, 0xff};
        for (size_t i = 0; i < sizeof(bad); i++) {
            f[3] = bad[i];
            CHECK_INT(wire_decode_header(f, n, &t, &body, &blen), WIRE_ETYPE);
        }
        f[3] = WIRE_ACK;
    }

    /* Body length one more or one less than the frame holds. */
    put32(f + 4, 9);
    CHECK_INT(wire_decode_header(f, n, &t, &body, &blen), WIRE_ELENGTH);
    put32(f + 4, 7);
    CHECK_INT(wire_decode_header(f, n, &t, &body, &blen), WIRE_ELENGTH);
    put32(f + 4, 0);
    CHECK_INT(wire_decode_header(f, 8, &t, &body, &blen), 0);
    CHECK_INT(blen, 0);
    /* A body length that could never fit in a frame. */
    put32(f + 4, WIRE_MAX_FRAME - WIRE_HDR_LEN + 1);
    CHECK_INT(wire_decode_header(f, n, &t, &body, &blen), WIRE_ETOOBIG);
    put32(f + 4, UINT32_MAX);
    CHECK_INT(wire_decode_header(f, n, &t, &body, &blen), WIRE_ETOOBIG);
}

TEST(frame_size_limit)
{
    size_t big = (size_t)WIRE_MAX_FRAME + 1;
    uint8_t *f = calloc(1, big);
    enum wire_type t;
    const uint8_t *body;
    size_t blen;

    CHECK(f != NULL);
    if (f == NULL)
        return;
    /* Exactly WIRE_MAX_FRAME is allowed, one byte more is not. */
    raw_frame(f, WIRE_ALERTS, NULL, 0);
    put32(f + 4, WIRE_MAX_FRAME - WIRE_HDR_LEN);
    CHECK_INT(wire_decode_header(f, WIRE_MAX_FRAME, &t, &body, &blen), 0);
    CHECK_INT(blen, WIRE_MAX_FRAME - WIRE_HDR_LEN);
    put32(f + 4, WIRE_MAX_FRAME - WIRE_HDR_LEN + 1);
    CHECK_INT(wire_decode_header(f, big, &t, &body, &blen), WIRE_ETOOBIG);
    free(f);
}

TEST(hello_errors)
{
    uint8_t body[400];
    struct wire_hello d;
    size_t off;

    /* Fixed part cut short. */
    memset(body, 0, sizeof(body));
    for (size_t len = 0; len < 32; len++)
        CHECK_INT(wire_decode_hello(body, len, &d), WIRE_ETRUNC);
    /* Four empty strings: the smallest valid HELLO. */
    CHECK_INT(wire_decode_hello(body, 40, &d), 0);
    CHECK_INT(wire_decode_hello(body, 41, &d), WIRE_ETRAILING);
    /* String length field cut. */
    CHECK_INT(wire_decode_hello(body, 33, &d), WIRE_ETRUNC);
    /* String bytes cut. */
    put16(body + 32, 10);
    CHECK_INT(wire_decode_hello(body, 40, &d), WIRE_ETRUNC);
    /* Longer than WIRE_MAX_STR. */
    put16(body + 32, WIRE_MAX_STR + 1);
    memset(body + 34, 'a', WIRE_MAX_STR + 1);
    off = 34 + WIRE_MAX_STR + 1;
    memset(body + off, 0, 6);
    CHECK_INT(wire_decode_hello(body, off + 6, &d), WIRE_ESTR);
    /* A NUL inside a string. */
    put16(body + 32, 3);
    memcpy(body + 34, "a\0b", 3);
    memset(body + 37, 0, 6);
    CHECK_INT(wire_decode_hello(body, 43, &d), WIRE_ESTR);
    memcpy(body + 34, "abc", 3);
    CHECK_INT(wire_decode_hello(body, 43, &d), 0);
    CHECK_STR(d.software, "abc");
    /* Nothing is written into a rejected frame's output. */
    memset(&d, 0x5a, sizeof(d));
    CHECK_INT(wire_decode_hello(body, 44, &d), WIRE_ETRAILING);
    CHECK(d.next_seq == 0x5a5a5a5a5a5a5a5aull);
}

/* Builds an ALERTS body by hand: records given as (seq, len) with len bytes of 'x'. */
static size_t alerts_body(uint8_t *out, uint32_t count, const uint64_t *seq, const uint32_t *len,
                          size_t nrec)
{
    size_t off = 4;

    put32(out, count);
    for (size_t i = 0; i < nrec; i++) {
        put64(out + off, seq[i]);
        put32(out + off + 8, len[i]);
        memset(out + off + 12, 'x', len[i]);
        off += 12 + len[i];
    }
    return off;
}

TEST(alerts_errors)
{
    uint8_t body[512];
    struct wire_alert a[4];
    size_t n = 99, len;
    uint64_t s2[] = {1, 2};
    uint32_t l2[] = {3, 4};

    len = alerts_body(body, 2, s2, l2, 2);
    CHECK_INT(wire_decode_alerts(body, len, a, 4, &n), 0);
    CHECK_INT(n, 2);

    /* Count field cut, record header cut, alert bytes cut. */
    for (size_t l = 0; l < 4; l++)
        CHECK_INT(wire_decode_alerts(body, l, a, 4, &n), WIRE_ETRUNC);
    CHECK_INT(wire_decode_alerts(body, 4 + 11, a, 4, &n), WIRE_ETRUNC);
    CHECK_INT(wire_decode_alerts(body, 4 + 12 + 2, a, 4, &n), WIRE_ETRUNC);
    /* Count says 3, two records present. */
    put32(body, 3);
    CHECK_INT(wire_decode_alerts(body, len, a, 4, &n), WIRE_ETRUNC);
    /* Count says 1, two records present. */
    put32(body, 1);
    CHECK_INT(wire_decode_alerts(body, len, a, 4, &n), WIRE_ETRAILING);
    /* Count 0 and over WIRE_MAX_BATCH. */
    put32(body, 0);
    CHECK_INT(wire_decode_alerts(body, len, a, 4, &n), WIRE_ECOUNT);
    put32(body, WIRE_MAX_BATCH + 1);
    CHECK_INT(wire_decode_alerts(body, len, a, 4, &n), WIRE_ECOUNT);
    put32(body, 2);

    /* Sequence 0, equal, decreasing. */
    {
        uint64_t bad[][2] = {{0, 1}, {1, 0}, {5, 5}, {6, 5}};
        for (size_t i = 0; i < 4; i++) {
            len = alerts_body(body, 2, bad[i], l2, 2);
            CHECK_INT(wire_decode_alerts(body, len, a, 4, &n), WIRE_ESEQ);
        }
    }
    /* Alert length 0 and over WIRE_MAX_ALERT (checked before reading data). */
    {
        uint32_t zero[] = {3, 0};
        len = alerts_body(body, 2, s2, zero, 2);
        CHECK_INT(wire_decode_alerts(body, len, a, 4, &n), WIRE_EALERTLEN);
        len = alerts_body(body, 1, s2, l2, 1);
        put32(body + 12, WIRE_MAX_ALERT + 1);
        CHECK_INT(wire_decode_alerts(body, len, a, 4, &n), WIRE_EALERTLEN);
        /* Exactly WIRE_MAX_ALERT claimed but absent is a truncation. */
        put32(body + 12, WIRE_MAX_ALERT);
        CHECK_INT(wire_decode_alerts(body, len, a, 4, &n), WIRE_ETRUNC);
    }
    /* A rejected frame leaves *n alone and out untouched. */
    n = 77;
    memset(a, 0, sizeof(a));
    {
        uint64_t s3[] = {1, 2, 2};
        uint32_t l3[] = {1, 1, 1};
        len = alerts_body(body, 3, s3, l3, 3);
        CHECK_INT(wire_decode_alerts(body, len, a, 4, &n), WIRE_ESEQ);
        CHECK_INT(n, 77);
        CHECK(a[0].data == NULL && a[0].seq == 0);
    }
    CHECK_INT(wire_decode_alerts(NULL, 0, a, 4, &n), WIRE_ETRUNC);
}

TEST(ack_and_stats_errors)
{
    uint8_t body[64];
    uint64_t seq;
    static struct wire_stats st;

    memset(body, 0, sizeof(body));
    for (size_t l = 0; l < 8; l++)
        CHECK_INT(wire_decode_ack(body, l, &seq), WIRE_ETRUNC);
    CHECK_INT(wire_decode_ack(body, 9, &seq), WIRE_ETRAILING);

    for (size_t l = 0; l < 10; l++)
        CHECK_INT(wire_decode_stats(body, l, &st), WIRE_ETRUNC);
    CHECK_INT(wire_decode_stats(body, 10, &st), 0);
    CHECK_INT(wire_decode_stats(body, 11, &st), WIRE_ETRAILING);
    put16(body + 8, 1);
    CHECK_INT(wire_decode_stats(body, 19, &st), WIRE_ETRUNC);
    CHECK_INT(wire_decode_stats(body, 20, &st), 0);
    CHECK_INT(wire_decode_stats(body, 21, &st), WIRE_ETRAILING);
    put16(body + 8, 2);
    CHECK_INT(wire_decode_stats(body, 20, &st), WIRE_ETRUNC);
    put16(body + 8, WIRE_MAX_COUNTERS + 1);
    CHECK_INT(wire_decode_stats(body, 20, &st), WIRE_ECOUNT);
    put16(body + 8, UINT16_MAX);
    CHECK_INT(wire_decode_stats(body, 20, &st), WIRE_ECOUNT);
}

TEST(encoder_errors)
{
    struct wire_buf b;
    struct wire_hello h;
    uint8_t x = 'x';

    wire_buf_init(&b);
    /* add/end without begin */
    CHECK_INT(wire_alerts_add(&b, 1, &x, 1), -EINVAL);
    CHECK_INT(wire_alerts_end(&b), -EINVAL);
    CHECK_INT(wire_alerts_count(&b), 0);
    /* add after another frame type */
    CHECK_INT(wire_encode_ack(&b, 1), 0);
    CHECK_INT(wire_alerts_add(&b, 1, &x, 1), -EINVAL);

    CHECK_INT(wire_alerts_begin(&b), 0);
    CHECK_INT(wire_alerts_end(&b), -EINVAL); /* an empty batch */
    CHECK_INT(wire_alerts_add(&b, 0, &x, 1), -EINVAL);
    CHECK_INT(wire_alerts_add(&b, 1, &x, 0), -EINVAL);
    CHECK_INT(wire_alerts_add(&b, 1, NULL, 1), -EINVAL);
    CHECK_INT(wire_alerts_add(&b, 1, &x, WIRE_MAX_ALERT + 1), -EINVAL);
    CHECK_INT(wire_alerts_add(&b, 10, &x, 1), 0);
    CHECK_INT(wire_alerts_add(&b, 10, &x, 1), 0);
    CHECK_INT(wire_alerts_end(&b), -EINVAL); /* not increasing */

    fill_hello(&h);
    memset(h.software, 'v', WIRE_MAX_STR + 1); /* no terminator within the limit */
    CHECK_INT(wire_encode_hello(&b, &h), -EINVAL);
    wire_buf_fini(&b);
}

TEST(max_batch)
{
    struct wire_buf b;
    struct wire_alert *a = calloc(WIRE_MAX_BATCH, sizeof(*a));
    const uint8_t *body;
    size_t blen, n = 0;
    const char *js = "{\"event_type\":\"alert\"}";

    wire_buf_init(&b);
    CHECK_INT(wire_alerts_begin(&b), 0);
    for (uint32_t i = 0; i < WIRE_MAX_BATCH; i++)
        if (wire_alerts_add(&b, 100 + i, (const uint8_t *)js, (uint32_t)strlen(js)) != 0)
            CHECK(!"add failed below WIRE_MAX_BATCH");
    CHECK_INT(wire_alerts_add(&b, 100 + WIRE_MAX_BATCH, (const uint8_t *)js, 1), -E2BIG);
    CHECK_INT(wire_alerts_count(&b), WIRE_MAX_BATCH);
    CHECK_INT(wire_alerts_end(&b), 0);
    CHECK_INT(decode_frame(&b, WIRE_ALERTS, &body, &blen), 0);
    CHECK_INT(wire_decode_alerts(body, blen, a, WIRE_MAX_BATCH, &n), 0);
    CHECK_INT(n, WIRE_MAX_BATCH);
    CHECK(a != NULL && a[WIRE_MAX_BATCH - 1].seq == 100 + WIRE_MAX_BATCH - 1);
    wire_buf_fini(&b);
    free(a);
}

TEST(max_alert_and_max_frame)
{
    struct wire_buf b;
    struct wire_alert a[64];
    uint8_t *big = malloc(WIRE_MAX_ALERT);
    const uint8_t *body;
    size_t blen, n = 0;
    uint32_t added = 0;
    int rc = 0;

    CHECK(big != NULL);
    if (big == NULL)
        return;
    memset(big, 'a', WIRE_MAX_ALERT);
    wire_buf_init(&b);
    CHECK_INT(wire_alerts_begin(&b), 0);
    /* Fill with maximal alerts until the frame limit refuses one. */
    while (added < 64 && (rc = wire_alerts_add(&b, added + 1, big, WIRE_MAX_ALERT)) == 0)
        added++;
    CHECK_INT(rc, -E2BIG);
    CHECK_INT(added, (WIRE_MAX_FRAME - 12) / (WIRE_MAX_ALERT + 12));
    CHECK(b.len <= WIRE_MAX_FRAME);
    /* A small one still fits in what is left. */
    CHECK_INT(wire_alerts_add(&b, added + 1, big, 100), 0);
    CHECK_INT(wire_alerts_end(&b), 0);
    CHECK_INT(decode_frame(&b, WIRE_ALERTS, &body, &blen), 0);
    CHECK_INT(wire_decode_alerts(body, blen, a, 64, &n), 0);
    CHECK_INT(n, added + 1);
    CHECK_INT(a[0].len, WIRE_MAX_ALERT);
    CHECK_INT(a[n - 1].len, 100);
    wire_buf_fini(&b);
    free(big);
}

static void fill_offer(struct wire_offer *o)
{
    memset(o, 0, sizeof(*o));
    o->version = 0x0102030405060708ull;
    o->size = 4096;
    for (int i = 0; i < WIRE_SHA256_LEN; i++)
        o->sha256[i] = (uint8_t)(0xa0 + i);
    o->chunk = 65536;
    strcpy(o->kind, "rules");
}

TEST(offer_layout_and_round_trip)
{
    struct wire_buf b;
    struct wire_offer o, d;
    const uint8_t *body;
    size_t blen;

    fill_offer(&o);
    wire_buf_init(&b);
    CHECK_INT(wire_encode_offer(&b, &o), 0);
    CHECK_INT(b.len, 8 + 52 + 2 + 5);
    CHECK_INT(b.p[3], WIRE_OFFER);
    CHECK_INT(decode_frame(&b, WIRE_OFFER, &body, &blen), 0);
    CHECK_INT(blen, 59);
    CHECK_INT(body[0], 1);
    CHECK_INT(body[7], 8);
    CHECK_INT(body[14], 0x10); /* size 4096, big-endian */
    CHECK_INT(body[15], 0);
    CHECK_INT(body[16], 0xa0);
    CHECK_INT(body[47], 0xa0 + 31);
    CHECK_INT(body[49], 1); /* chunk 65536 = 00 01 00 00 */
    CHECK_INT(body[50], 0);
    CHECK_INT(body[52], 0);
    CHECK_INT(body[53], 5);
    CHECK(memcmp(body + 54, "rules", 5) == 0);
    memset(&d, 0x55, sizeof(d));
    CHECK_INT(wire_decode_offer(body, blen, &d), 0);
    CHECK(d.version == o.version);
    CHECK_INT(d.size, 4096);
    CHECK(memcmp(d.sha256, o.sha256, WIRE_SHA256_LEN) == 0);
    CHECK_INT(d.chunk, 65536);
    CHECK_STR(d.kind, "rules");
    wire_buf_fini(&b);
}

TEST(offer_errors)
{
    struct wire_buf b;
    struct wire_offer o, d;
    uint8_t body[128];
    size_t blen;

    fill_offer(&o);
    wire_buf_init(&b);
    CHECK_INT(wire_encode_offer(&b, &o), 0);
    blen = b.len - 8;
    memcpy(body, b.p + 8, blen);

    memset(&d, 0x55, sizeof(d));
    put64(body, 0); /* version 0 */
    CHECK_INT(wire_decode_offer(body, blen, &d), WIRE_EVALUE);
    CHECK_INT(d.size, 0x5555555555555555ull); /* nothing written */
    put64(body, 1);
    put64(body + 8, 0);
    CHECK_INT(wire_decode_offer(body, blen, &d), WIRE_EVALUE);
    put64(body + 8, WIRE_MAX_BUNDLE + 1);
    CHECK_INT(wire_decode_offer(body, blen, &d), WIRE_EVALUE);
    put64(body + 8, WIRE_MAX_BUNDLE);
    CHECK_INT(wire_decode_offer(body, blen, &d), 0);
    put32(body + 48, 0);
    CHECK_INT(wire_decode_offer(body, blen, &d), WIRE_EVALUE);
    put32(body + 48, WIRE_MAX_CHUNK + 1);
    CHECK_INT(wire_decode_offer(body, blen, &d), WIRE_EVALUE);
    put32(body + 48, WIRE_MAX_CHUNK);
    CHECK_INT(wire_decode_offer(body, blen, &d), 0);
    CHECK_INT(d.chunk, WIRE_MAX_CHUNK);
    /* A NUL in the kind, a kind longer than the body, a trailing byte. */
    body[55] = 0;
    CHECK_INT(wire_decode_offer(body, blen, &d), WIRE_ESTR);
    body[55] = 'u';
    put16(body + 52, 6);
    CHECK_INT(wire_decode_offer(body, blen, &d), WIRE_ETRUNC);
    put16(body + 52, 5);
    body[blen] = 'x';
    CHECK_INT(wire_decode_offer(body, blen + 1, &d), WIRE_ETRAILING);
    put16(body + 52, WIRE_MAX_STR + 1);
    CHECK_INT(wire_decode_offer(body, blen, &d), WIRE_ESTR);

    /* The encoder refuses what the decoder would. */
    o.version = 0;
    CHECK_INT(wire_encode_offer(&b, &o), -EINVAL);
    fill_offer(&o);
    o.chunk = WIRE_MAX_CHUNK + 1;
    CHECK_INT(wire_encode_offer(&b, &o), -EINVAL);
    fill_offer(&o);
    o.size = 0;
    CHECK_INT(wire_encode_offer(&b, &o), -EINVAL);
    wire_buf_fini(&b);
}

TEST(fetch_chunk_result)
{
    struct wire_buf b;
    struct wire_fetch f = {.version = 9, .offset = 0x100000001ull}, fd;
    struct wire_chunk c;
    static struct wire_result r, rd;
    static uint8_t big[WIRE_MAX_CHUNK + 1];
    const uint8_t *body;
    size_t blen;
    static const uint8_t fetch_want[] = {0x4b, 0x53, 1, 6, 0, 0, 0, 16, 0, 0, 0, 0, 0, 0,
                                         0,    9,    0, 0, 0, 1, 0, 0, 0,  1};

    wire_buf_init(&b);
    CHECK_INT(wire_encode_fetch(&b, &f), 0);
    CHECK_INT(b.len, sizeof(fetch_want));
    CHECK(memcmp(b.p, fetch_want, sizeof(fetch_want)) == 0);
    CHECK_INT(decode_frame(&b, WIRE_FETCH, &body, &blen), 0);
    CHECK_INT(wire_decode_fetch(body, blen, &fd), 0);
    CHECK_INT(fd.version, 9);
    CHECK(fd.offset == 0x100000001ull);
    CHECK_INT(wire_decode_fetch(body, blen - 1, &fd), WIRE_ETRUNC);
    CHECK_INT(wire_decode_fetch(fetch_want + 8, 17, &fd), WIRE_ETRAILING);
    f.version = 0;
    CHECK_INT(wire_encode_fetch(&b, &f), -EINVAL);
    {
        uint8_t z[16] = {0};
        CHECK_INT(wire_decode_fetch(z, 16, &fd), WIRE_EVALUE);
    }

    /* CHUNK: layout, the data pointing into the frame, the length limits. */
    CHECK_INT(wire_encode_chunk(&b, 9, 4096, (const uint8_t *)"hello", 5), 0);
    CHECK_INT(b.len, 8 + 20 + 5);
    CHECK_INT(decode_frame(&b, WIRE_CHUNK, &body, &blen), 0);
    CHECK_INT(body[7], 9);
    CHECK_INT(body[14], 0x10);
    CHECK_INT(body[19], 5);
    CHECK_INT(wire_decode_chunk(body, blen, &c), 0);
    CHECK_INT(c.version, 9);
    CHECK_INT(c.offset, 4096);
    CHECK_INT(c.len, 5);
    CHECK(c.data == body + 20);
    CHECK(memcmp(c.data, "hello", 5) == 0);
    {
        uint8_t cb[32];
        memcpy(cb, body, blen);
        put32(cb + 16, 0);
        CHECK_INT(wire_decode_chunk(cb, 20, &c), WIRE_EVALUE);
        put32(cb + 16, 4);
        CHECK_INT(wire_decode_chunk(cb, blen, &c), WIRE_ETRAILING);
        put32(cb + 16, 6);
        CHECK_INT(wire_decode_chunk(cb, blen, &c), WIRE_ETRUNC);
        put32(cb + 16, WIRE_MAX_CHUNK + 1);
        CHECK_INT(wire_decode_chunk(cb, blen, &c), WIRE_EVALUE);
        put32(cb + 16, 5);
        put64(cb, 0);
        CHECK_INT(wire_decode_chunk(cb, blen, &c), WIRE_EVALUE);
    }
    CHECK_INT(wire_encode_chunk(&b, 9, 0, big, WIRE_MAX_CHUNK), 0);
    CHECK_INT(decode_frame(&b, WIRE_CHUNK, &body, &blen), 0);
    CHECK_INT(wire_decode_chunk(body, blen, &c), 0);
    CHECK_INT(c.len, WIRE_MAX_CHUNK);
    CHECK_INT(wire_encode_chunk(&b, 9, 0, big, WIRE_MAX_CHUNK + 1), -EINVAL);
    CHECK_INT(wire_encode_chunk(&b, 9, 0, big, 0), -EINVAL);
    CHECK_INT(wire_encode_chunk(&b, 0, 0, big, 1), -EINVAL);

    /* RESULT: both statuses, the longest reason, a bad status. */
    memset(&r, 0, sizeof(r));
    r.version = 12;
    r.status = WIRE_RESULT_REJECTED;
    strcpy(r.reason, "rollback: version 12 is not above 14");
    CHECK_INT(wire_encode_result(&b, &r), 0);
    CHECK_INT(b.len, 8 + 11 + strlen(r.reason));
    CHECK_INT(decode_frame(&b, WIRE_RESULT, &body, &blen), 0);
    CHECK_INT(body[8], 2);
    CHECK_INT(wire_decode_result(body, blen, &rd), 0);
    CHECK_INT(rd.version, 12);
    CHECK_INT(rd.status, WIRE_RESULT_REJECTED);
    CHECK_STR(rd.reason, r.reason);
    {
        uint8_t rb[64];
        memcpy(rb, body, blen);
        rb[8] = 0;
        CHECK_INT(wire_decode_result(rb, blen, &rd), WIRE_EVALUE);
        rb[8] = 3;
        CHECK_INT(wire_decode_result(rb, blen, &rd), WIRE_EVALUE);
        rb[8] = WIRE_RESULT_APPLIED;
        CHECK_INT(wire_decode_result(rb, blen, &rd), 0);
        CHECK_INT(rd.status, WIRE_RESULT_APPLIED);
        rb[12] = 0;
        CHECK_INT(wire_decode_result(rb, blen, &rd), WIRE_ESTR);
    }
    memset(r.reason, 'r', WIRE_MAX_REASON);
    r.reason[WIRE_MAX_REASON] = '\0';
    CHECK_INT(wire_encode_result(&b, &r), 0);
    CHECK_INT(decode_frame(&b, WIRE_RESULT, &body, &blen), 0);
    CHECK_INT(wire_decode_result(body, blen, &rd), 0);
    CHECK_INT(strlen(rd.reason), WIRE_MAX_REASON);
    {
        static uint8_t rb[16 + WIRE_MAX_REASON];
        memcpy(rb, body, blen);
        put16(rb + 9, WIRE_MAX_REASON + 1);
        rb[blen] = 'r';
        CHECK_INT(wire_decode_result(rb, blen + 1, &rd), WIRE_ESTR);
    }
    r.status = 0;
    CHECK_INT(wire_encode_result(&b, &r), -EINVAL);
    wire_buf_fini(&b);
}

/* Every proper prefix of a valid frame is rejected, both by the header
 * decoder (as a whole frame) and by the body decoder (as a body). */
static void check_truncations(const struct wire_buf *b, enum wire_type type)
{
    enum wire_type t;
    const uint8_t *body;
    size_t blen, n;
    static struct wire_hello h;
    static struct wire_stats st;
    struct wire_alert a[8];
    static struct wire_offer o;
    static struct wire_fetch f;
    static struct wire_chunk c;
    static struct wire_result r;
    uint64_t seq;

    for (size_t len = 0; len < b->len; len++) {
        int rc = wire_decode_header(b->p, len, &t, &body, &blen);
        if (len < WIRE_HDR_LEN)
            CHECK_INT(rc, WIRE_ESHORT);
        else
            CHECK_INT(rc, WIRE_ELENGTH);
    }
    for (size_t len = 0; len < b->len - WIRE_HDR_LEN; len++) {
        const uint8_t *p = b->p + WIRE_HDR_LEN;
        int rc = 0;
        switch (type) {
        case WIRE_HELLO:
            rc = wire_decode_hello(p, len, &h);
            break;
        case WIRE_ALERTS:
            rc = wire_decode_alerts(p, len, a, 8, &n);
            break;
        case WIRE_ACK:
            rc = wire_decode_ack(p, len, &seq);
            break;
        case WIRE_STATS:
            rc = wire_decode_stats(p, len, &st);
            break;
        case WIRE_OFFER:
            rc = wire_decode_offer(p, len, &o);
            break;
        case WIRE_FETCH:
            rc = wire_decode_fetch(p, len, &f);
            break;
        case WIRE_CHUNK:
            rc = wire_decode_chunk(p, len, &c);
            break;
        case WIRE_RESULT:
            rc = wire_decode_result(p, len, &r);
            break;
        default:
            break;
        }
        CHECK_INT(rc, WIRE_ETRUNC);
    }
}

TEST(truncation_at_every_offset)
{
    struct wire_buf b;
    struct wire_hello h;
    static struct wire_stats s;
    static struct wire_offer o;
    static struct wire_result r;
    const char *t[] = {"{\"x\":1}", "{\"y\":[1,2,3]}", "{\"z\":\"s\"}"};

    wire_buf_init(&b);
    fill_hello(&h);
    CHECK_INT(wire_encode_hello(&b, &h), 0);
    check_truncations(&b, WIRE_HELLO);

    CHECK_INT(wire_alerts_begin(&b), 0);
    for (int i = 0; i < 3; i++)
        CHECK_INT(wire_alerts_add(&b, (uint64_t)i + 1, (const uint8_t *)t[i],
                                  (uint32_t)strlen(t[i])),
                  0);
    CHECK_INT(wire_alerts_end(&b), 0);
    check_truncations(&b, WIRE_ALERTS);

    CHECK_INT(wire_encode_ack(&b, 42), 0);
    check_truncations(&b, WIRE_ACK);

    s.uptime = 5;
    s.n = 2;
    s.c[0] = (struct wire_counter_val){WC_ALERTS, 10};
    s.c[1] = (struct wire_counter_val){WC_BYTES, 20};
    CHECK_INT(wire_encode_stats(&b, &s), 0);
    check_truncations(&b, WIRE_STATS);

    fill_offer(&o);
    CHECK_INT(wire_encode_offer(&b, &o), 0);
    check_truncations(&b, WIRE_OFFER);
    CHECK_INT(wire_encode_fetch(&b, &(struct wire_fetch){.version = 3, .offset = 7}), 0);
    check_truncations(&b, WIRE_FETCH);
    CHECK_INT(wire_encode_chunk(&b, 3, 0, (const uint8_t *)"abc", 3), 0);
    check_truncations(&b, WIRE_CHUNK);
    memset(&r, 0, sizeof(r));
    r.version = 3;
    r.status = WIRE_RESULT_REJECTED;
    strcpy(r.reason, "rollback");
    CHECK_INT(wire_encode_result(&b, &r), 0);
    check_truncations(&b, WIRE_RESULT);
    wire_buf_fini(&b);
}

TEST(error_names)
{
    const char *seen[16];
    int n = 0;

    for (int e = WIRE_ESHORT; e <= WIRE_EVALUE; e++) {
        const char *s = wire_strerror(e);
        CHECK(s != NULL && s[0] != '\0');
        CHECK(strcmp(s, "unknown error") != 0);
        for (int i = 0; i < n; i++)
            CHECK(strcmp(seen[i], s) != 0);
        if (n < 16)
            seen[n++] = s;
    }
    CHECK_INT(n, WIRE_EVALUE - WIRE_ESHORT + 1);
    CHECK_STR(wire_strerror(WIRE_ETRUNC), "body ends inside a field");
    CHECK_STR(wire_strerror(-ENOMEM), strerror(ENOMEM));
    CHECK_STR(wire_strerror(KANSHI_ELIMIT), "limit reached");
}

int main(void)
{
    RUN(ack_layout_and_round_trip);
    RUN(hello_layout_and_round_trip);
    RUN(alerts_round_trip);
    RUN(stats_round_trip);
    RUN(header_errors);
    RUN(frame_size_limit);
    RUN(hello_errors);
    RUN(alerts_errors);
    RUN(ack_and_stats_errors);
    RUN(encoder_errors);
    RUN(max_batch);
    RUN(max_alert_and_max_frame);
    RUN(offer_layout_and_round_trip);
    RUN(offer_errors);
    RUN(fetch_chunk_result);
    RUN(truncation_at_every_offset);
    RUN(error_names);
    return test_summary("wire");
}
