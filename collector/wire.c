/*
 * wire.c — encoder and decoders of the sensor ↔ collector protocol, byte for
 * byte as include/kanshi/wire.h documents it.
 *
 * Both ends link this one file, so the sensor can only send what the
 * collector accepts.  Decoders read outside input (a frame off the network):
 * every field is bounds-checked before it is read, a frame is validated whole
 * before anything is written to the caller's output, and the first thing that
 * is not exactly as specified rejects it with a named reason.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kanshi/kanshi.h"
#include "kanshi/wire.h"

/* Record overhead inside an ALERTS body: seq (8) + length (4). */
#define WIRE_ALERT_HDR 12u
#define WIRE_COUNTER_LEN 10u

static uint16_t wire_get16(const uint8_t *p)
{
    return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static uint32_t wire_get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t wire_get64(const uint8_t *p)
{
    return (uint64_t)wire_get32(p) << 32 | wire_get32(p + 4);
}

static void wire_put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void wire_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void wire_put64(uint8_t *p, uint64_t v)
{
    wire_put32(p, (uint32_t)(v >> 32));
    wire_put32(p + 4, (uint32_t)v);
}

const char *wire_strerror(int err)
{
    static const char *const names[] = {
        [WIRE_ESHORT - WIRE_ESHORT] = "frame shorter than the header",
        [WIRE_EMAGIC - WIRE_ESHORT] = "bad magic",
        [WIRE_EVERSION - WIRE_ESHORT] = "unsupported protocol version",
        [WIRE_ETYPE - WIRE_ESHORT] = "unknown or unsupported message type",
        [WIRE_ELENGTH - WIRE_ESHORT] = "body length does not match the frame",
        [WIRE_ETOOBIG - WIRE_ESHORT] = "frame larger than the maximum",
        [WIRE_ETRUNC - WIRE_ESHORT] = "body ends inside a field",
        [WIRE_ECOUNT - WIRE_ESHORT] = "count out of range",
        [WIRE_ESEQ - WIRE_ESHORT] = "sequence number zero or not increasing",
        [WIRE_EALERTLEN - WIRE_ESHORT] = "alert length zero or over the maximum",
        [WIRE_ESTR - WIRE_ESHORT] = "string too long or holding a NUL byte",
        [WIRE_ETRAILING - WIRE_ESHORT] = "bytes after the last field",
        [WIRE_EVALUE - WIRE_ESHORT] = "field value out of range",
    };

    if (err >= WIRE_ESHORT && err <= WIRE_EVALUE)
        return names[err - WIRE_ESHORT];
    return kanshi_strerror(err);
}

/* ---- decoding ------------------------------------------------------------------------------ */

int wire_decode_header(const uint8_t *p, size_t len, enum wire_type *type, const uint8_t **body,
                       size_t *body_len)
{
    uint32_t n;

    if (p == NULL || len < WIRE_HDR_LEN)
        return WIRE_ESHORT;
    if (p[0] != WIRE_MAGIC0 || p[1] != WIRE_MAGIC1)
        return WIRE_EMAGIC;
    if (p[2] != WIRE_VERSION)
        return WIRE_EVERSION;
    if (p[3] < WIRE_HELLO || p[3] > WIRE_RESULT)
        return WIRE_ETYPE;
    n = wire_get32(p + 4);
    if (len > WIRE_MAX_FRAME || n > WIRE_MAX_FRAME - WIRE_HDR_LEN)
        return WIRE_ETOOBIG;
    if ((size_t)n != len - WIRE_HDR_LEN)
        return WIRE_ELENGTH;
    *type = (enum wire_type)p[3];
    *body = p + WIRE_HDR_LEN;
    *body_len = n;
    return 0;
}

/* Reads one u16-length string of at most max bytes at *off into dst
 * (max + 1 bytes). */
static int wire_get_strn(const uint8_t *body, size_t len, size_t *off, char *dst, size_t max)
{
    uint16_t n;

    if (len - *off < 2)
        return WIRE_ETRUNC;
    n = wire_get16(body + *off);
    *off += 2;
    if (n > max)
        return WIRE_ESTR;
    if (len - *off < n)
        return WIRE_ETRUNC;
    /* A NUL would silently cut the string short in every C consumer. */
    if (memchr(body + *off, '\0', n) != NULL)
        return WIRE_ESTR;
    memcpy(dst, body + *off, n);
    dst[n] = '\0';
    *off += n;
    return 0;
}

static int wire_get_str(const uint8_t *body, size_t len, size_t *off, char *dst)
{
    return wire_get_strn(body, len, off, dst, WIRE_MAX_STR);
}

int wire_decode_hello(const uint8_t *body, size_t len, struct wire_hello *out)
{
    struct wire_hello h;
    char *strs[] = {h.software, h.firmware, h.ruleset, h.schema};
    size_t off = 32;
    int rc;

    if (body == NULL || len < 32)
        return WIRE_ETRUNC;
    h.next_seq = wire_get64(body);
    h.acked_seq = wire_get64(body + 8);
    h.spool_bytes = wire_get64(body + 16);
    h.spool_alerts = wire_get64(body + 24);
    for (size_t i = 0; i < KANSHI_ARRAY_LEN(strs); i++)
        if ((rc = wire_get_str(body, len, &off, strs[i])) != 0)
            return rc;
    if (off != len)
        return WIRE_ETRAILING;
    *out = h;
    return 0;
}

/* One pass over an ALERTS body; fills out[] only when out != NULL. */
static int wire_walk_alerts(const uint8_t *body, size_t len, struct wire_alert *out, size_t max,
                            uint32_t *count)
{
    size_t off = 4;
    uint64_t prev = 0;
    uint32_t c;

    if (body == NULL || len < 4)
        return WIRE_ETRUNC;
    c = wire_get32(body);
    if (c < 1 || c > WIRE_MAX_BATCH || c > max)
        return WIRE_ECOUNT;
    for (uint32_t i = 0; i < c; i++) {
        uint64_t seq;
        uint32_t l;

        if (len - off < WIRE_ALERT_HDR)
            return WIRE_ETRUNC;
        seq = wire_get64(body + off);
        l = wire_get32(body + off + 8);
        if (seq == 0 || seq <= prev)
            return WIRE_ESEQ;
        if (l < 1 || l > WIRE_MAX_ALERT)
            return WIRE_EALERTLEN;
        off += WIRE_ALERT_HDR;
        if (len - off < l)
            return WIRE_ETRUNC;
        if (out != NULL)
            out[i] = (struct wire_alert){.seq = seq, .data = body + off, .len = l};
        off += l;
        prev = seq;
    }
    if (off != len)
        return WIRE_ETRAILING;
    *count = c;
    return 0;
}

int wire_decode_alerts(const uint8_t *body, size_t len, struct wire_alert *out, size_t max,
                       size_t *n)
{
    uint32_t c;
    int rc;

    /* Validate first, so a rejected frame leaves nothing half-written. */
    if ((rc = wire_walk_alerts(body, len, NULL, out != NULL ? max : 0, &c)) != 0)
        return rc;
    wire_walk_alerts(body, len, out, max, &c);
    *n = c;
    return 0;
}

int wire_decode_ack(const uint8_t *body, size_t len, uint64_t *seq)
{
    if (body == NULL || len < 8)
        return WIRE_ETRUNC;
    if (len > 8)
        return WIRE_ETRAILING;
    *seq = wire_get64(body);
    return 0;
}

int wire_decode_stats(const uint8_t *body, size_t len, struct wire_stats *out)
{
    uint16_t k;

    if (body == NULL || len < 10)
        return WIRE_ETRUNC;
    k = wire_get16(body + 8);
    if (k > WIRE_MAX_COUNTERS)
        return WIRE_ECOUNT;
    if (len - 10 < (size_t)k * WIRE_COUNTER_LEN)
        return WIRE_ETRUNC;
    if (len - 10 > (size_t)k * WIRE_COUNTER_LEN)
        return WIRE_ETRAILING;
    out->uptime = wire_get64(body);
    out->n = k;
    for (uint16_t i = 0; i < k; i++) {
        const uint8_t *c = body + 10 + (size_t)i * WIRE_COUNTER_LEN;
        out->c[i].id = wire_get16(c);
        out->c[i].value = wire_get64(c + 2);
    }
    return 0;
}

int wire_decode_offer(const uint8_t *body, size_t len, struct wire_offer *out)
{
    struct wire_offer o;
    size_t off = 52;
    int rc;

    if (body == NULL || len < 52)
        return WIRE_ETRUNC;
    o.version = wire_get64(body);
    o.size = wire_get64(body + 8);
    memcpy(o.sha256, body + 16, WIRE_SHA256_LEN);
    o.chunk = wire_get32(body + 48);
    if ((rc = wire_get_str(body, len, &off, o.kind)) != 0)
        return rc;
    if (off != len)
        return WIRE_ETRAILING;
    if (o.version == 0 || o.size == 0 || o.size > WIRE_MAX_BUNDLE || o.chunk == 0 ||
        o.chunk > WIRE_MAX_CHUNK)
        return WIRE_EVALUE;
    *out = o;
    return 0;
}

int wire_decode_fetch(const uint8_t *body, size_t len, struct wire_fetch *out)
{
    if (body == NULL || len < 16)
        return WIRE_ETRUNC;
    if (len > 16)
        return WIRE_ETRAILING;
    if (wire_get64(body) == 0)
        return WIRE_EVALUE;
    out->version = wire_get64(body);
    out->offset = wire_get64(body + 8);
    return 0;
}

int wire_decode_chunk(const uint8_t *body, size_t len, struct wire_chunk *out)
{
    uint32_t l;

    if (body == NULL || len < 20)
        return WIRE_ETRUNC;
    l = wire_get32(body + 16);
    if (l < 1 || l > WIRE_MAX_CHUNK)
        return WIRE_EVALUE;
    if (len - 20 < l)
        return WIRE_ETRUNC;
    if (len - 20 > l)
        return WIRE_ETRAILING;
    if (wire_get64(body) == 0)
        return WIRE_EVALUE;
    out->version = wire_get64(body);
    out->offset = wire_get64(body + 8);
    out->len = l;
    out->data = body + 20;
    return 0;
}

int wire_decode_result(const uint8_t *body, size_t len, struct wire_result *out)
{
    char reason[WIRE_MAX_REASON + 1];
    size_t off = 9;
    int rc;

    if (body == NULL || len < 9)
        return WIRE_ETRUNC;
    if ((rc = wire_get_strn(body, len, &off, reason, WIRE_MAX_REASON)) != 0)
        return rc;
    if (off != len)
        return WIRE_ETRAILING;
    if (wire_get64(body) == 0 ||
        (body[8] != WIRE_RESULT_APPLIED && body[8] != WIRE_RESULT_REJECTED))
        return WIRE_EVALUE;
    out->version = wire_get64(body);
    out->status = body[8];
    memcpy(out->reason, reason, off - 11 + 1);
    return 0;
}

/* ---- encoding ------------------------------------------------------------------------------ */

void wire_buf_init(struct wire_buf *b)
{
    b->p = NULL;
    b->len = 0;
    b->cap = 0;
}

void wire_buf_fini(struct wire_buf *b)
{
    free(b->p);
    wire_buf_init(b);
}

/* Makes room for n more bytes; never beyond WIRE_MAX_FRAME. */
static int wire_buf_reserve(struct wire_buf *b, size_t n)
{
    size_t cap;
    uint8_t *p;

    if (n > WIRE_MAX_FRAME - b->len)
        return -E2BIG;
    if (b->len + n <= b->cap)
        return 0;
    cap = b->cap != 0 ? b->cap : 256;
    while (cap < b->len + n)
        cap *= 2;
    if (cap > WIRE_MAX_FRAME)
        cap = WIRE_MAX_FRAME;
    if ((p = realloc(b->p, cap)) == NULL)
        return -ENOMEM;
    b->p = p;
    b->cap = cap;
    return 0;
}

/* Starts a frame of the given type with an empty body. */
static int wire_begin(struct wire_buf *b, enum wire_type type)
{
    int rc;

    b->len = 0;
    if ((rc = wire_buf_reserve(b, WIRE_HDR_LEN)) != 0)
        return rc;
    b->p[0] = WIRE_MAGIC0;
    b->p[1] = WIRE_MAGIC1;
    b->p[2] = WIRE_VERSION;
    b->p[3] = (uint8_t)type;
    wire_put32(b->p + 4, 0);
    b->len = WIRE_HDR_LEN;
    return 0;
}

static void wire_end(struct wire_buf *b)
{
    wire_put32(b->p + 4, (uint32_t)(b->len - WIRE_HDR_LEN));
}

int wire_encode_hello(struct wire_buf *b, const struct wire_hello *h)
{
    const char *strs[] = {h->software, h->firmware, h->ruleset, h->schema};
    size_t lens[KANSHI_ARRAY_LEN(strs)], total = 32;
    uint8_t *q;
    int rc;

    for (size_t i = 0; i < KANSHI_ARRAY_LEN(strs); i++) {
        lens[i] = strnlen(strs[i], WIRE_MAX_STR + 1);
        if (lens[i] > WIRE_MAX_STR)
            return -EINVAL;
        total += 2 + lens[i];
    }
    if ((rc = wire_begin(b, WIRE_HELLO)) != 0 || (rc = wire_buf_reserve(b, total)) != 0)
        return rc;
    q = b->p + b->len;
    wire_put64(q, h->next_seq);
    wire_put64(q + 8, h->acked_seq);
    wire_put64(q + 16, h->spool_bytes);
    wire_put64(q + 24, h->spool_alerts);
    q += 32;
    for (size_t i = 0; i < KANSHI_ARRAY_LEN(strs); i++) {
        wire_put16(q, (uint16_t)lens[i]);
        memcpy(q + 2, strs[i], lens[i]);
        q += 2 + lens[i];
    }
    b->len += total;
    wire_end(b);
    return 0;
}

int wire_alerts_begin(struct wire_buf *b)
{
    int rc;

    if ((rc = wire_begin(b, WIRE_ALERTS)) != 0 || (rc = wire_buf_reserve(b, 4)) != 0)
        return rc;
    wire_put32(b->p + b->len, 0);
    b->len += 4;
    return 0;
}

uint32_t wire_alerts_count(const struct wire_buf *b)
{
    if (b->p == NULL || b->len < WIRE_HDR_LEN + 4 || b->p[3] != WIRE_ALERTS)
        return 0;
    return wire_get32(b->p + WIRE_HDR_LEN);
}

int wire_alerts_add(struct wire_buf *b, uint64_t seq, const uint8_t *data, uint32_t len)
{
    uint32_t c;
    int rc;

    if (b->p == NULL || b->len < WIRE_HDR_LEN + 4 || b->p[3] != WIRE_ALERTS)
        return -EINVAL;
    if (seq == 0 || len < 1 || len > WIRE_MAX_ALERT || data == NULL)
        return -EINVAL;
    c = wire_alerts_count(b);
    if (c >= WIRE_MAX_BATCH)
        return -E2BIG;
    if ((rc = wire_buf_reserve(b, WIRE_ALERT_HDR + (size_t)len)) != 0)
        return rc;
    wire_put64(b->p + b->len, seq);
    wire_put32(b->p + b->len + 8, len);
    memcpy(b->p + b->len + WIRE_ALERT_HDR, data, len);
    b->len += WIRE_ALERT_HDR + (size_t)len;
    wire_put32(b->p + WIRE_HDR_LEN, c + 1);
    return 0;
}

int wire_alerts_end(struct wire_buf *b)
{
    uint32_t c;

    if (b->p == NULL || b->len < WIRE_HDR_LEN + 4 || b->p[3] != WIRE_ALERTS)
        return -EINVAL;
    wire_end(b);
    /* The one check add cannot make without remembering the last record:
     * sequences must increase, or the collector would reject the frame. */
    if (wire_walk_alerts(b->p + WIRE_HDR_LEN, b->len - WIRE_HDR_LEN, NULL, WIRE_MAX_BATCH, &c) !=
        0)
        return -EINVAL;
    return 0;
}

int wire_encode_ack(struct wire_buf *b, uint64_t seq)
{
    int rc;

    if ((rc = wire_begin(b, WIRE_ACK)) != 0 || (rc = wire_buf_reserve(b, 8)) != 0)
        return rc;
    wire_put64(b->p + b->len, seq);
    b->len += 8;
    wire_end(b);
    return 0;
}

int wire_encode_stats(struct wire_buf *b, const struct wire_stats *s)
{
    size_t total;
    uint8_t *q;
    int rc;

    if (s->n > WIRE_MAX_COUNTERS)
        return -EINVAL;
    total = 10 + (size_t)s->n * WIRE_COUNTER_LEN;
    if ((rc = wire_begin(b, WIRE_STATS)) != 0 || (rc = wire_buf_reserve(b, total)) != 0)
        return rc;
    q = b->p + b->len;
    wire_put64(q, s->uptime);
    wire_put16(q + 8, s->n);
    for (uint16_t i = 0; i < s->n; i++) {
        wire_put16(q + 10 + (size_t)i * WIRE_COUNTER_LEN, s->c[i].id);
        wire_put64(q + 12 + (size_t)i * WIRE_COUNTER_LEN, s->c[i].value);
    }
    b->len += total;
    wire_end(b);
    return 0;
}

int wire_encode_offer(struct wire_buf *b, const struct wire_offer *o)
{
    size_t kl = strnlen(o->kind, WIRE_MAX_STR + 1), total;
    uint8_t *q;
    int rc;

    if (kl > WIRE_MAX_STR || o->version == 0 || o->size == 0 || o->size > WIRE_MAX_BUNDLE ||
        o->chunk == 0 || o->chunk > WIRE_MAX_CHUNK)
        return -EINVAL;
    total = 54 + kl;
    if ((rc = wire_begin(b, WIRE_OFFER)) != 0 || (rc = wire_buf_reserve(b, total)) != 0)
        return rc;
    q = b->p + b->len;
    wire_put64(q, o->version);
    wire_put64(q + 8, o->size);
    memcpy(q + 16, o->sha256, WIRE_SHA256_LEN);
    wire_put32(q + 48, o->chunk);
    wire_put16(q + 52, (uint16_t)kl);
    memcpy(q + 54, o->kind, kl);
    b->len += total;
    wire_end(b);
    return 0;
}

int wire_encode_fetch(struct wire_buf *b, const struct wire_fetch *f)
{
    int rc;

    if (f->version == 0)
        return -EINVAL;
    if ((rc = wire_begin(b, WIRE_FETCH)) != 0 || (rc = wire_buf_reserve(b, 16)) != 0)
        return rc;
    wire_put64(b->p + b->len, f->version);
    wire_put64(b->p + b->len + 8, f->offset);
    b->len += 16;
    wire_end(b);
    return 0;
}

int wire_encode_chunk(struct wire_buf *b, uint64_t version, uint64_t offset, const uint8_t *data,
                      uint32_t len)
{
    int rc;

    if (version == 0 || data == NULL || len < 1 || len > WIRE_MAX_CHUNK)
        return -EINVAL;
    if ((rc = wire_begin(b, WIRE_CHUNK)) != 0 || (rc = wire_buf_reserve(b, 20 + (size_t)len)) != 0)
        return rc;
    wire_put64(b->p + b->len, version);
    wire_put64(b->p + b->len + 8, offset);
    wire_put32(b->p + b->len + 16, len);
    memcpy(b->p + b->len + 20, data, len);
    b->len += 20 + (size_t)len;
    wire_end(b);
    return 0;
}

int wire_encode_result(struct wire_buf *b, const struct wire_result *r)
{
    size_t rl = strnlen(r->reason, WIRE_MAX_REASON + 1);
    uint8_t *q;
    int rc;

    if (rl > WIRE_MAX_REASON || r->version == 0 ||
        (r->status != WIRE_RESULT_APPLIED && r->status != WIRE_RESULT_REJECTED))
        return -EINVAL;
    if ((rc = wire_begin(b, WIRE_RESULT)) != 0 || (rc = wire_buf_reserve(b, 11 + rl)) != 0)
        return rc;
    q = b->p + b->len;
    wire_put64(q, r->version);
    q[8] = r->status;
    wire_put16(q + 9, (uint16_t)rl);
    memcpy(q + 11, r->reason, rl);
    b->len += 11 + rl;
    wire_end(b);
    return 0;
}
