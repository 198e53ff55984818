/*
 * fuzz_wire.c — libFuzzer target for the sensor ↔ collector frame decoders
 * (collector/wire.c), the parsers every byte from the network goes through.
 *
 * The first input byte picks a body decoder (of the eight message types) and the rest is fed to it as a
 * body; the rest is also decoded as a whole frame (header, then the body
 * decoder its type names).  Whatever decodes must re-encode to exactly the
 * same bytes: the format has a single spelling of every message, so anything
 * else means a decoder accepted what it should have refused.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kanshi/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct wire_alert fuzz_alerts[WIRE_MAX_BATCH];
static struct wire_stats fuzz_stats;
static struct wire_hello fuzz_hello;
static struct wire_offer fuzz_offer;
static struct wire_result fuzz_result;

/* The body must equal the body of the frame in b. */
static void fuzz_same(const struct wire_buf *b, const uint8_t *body, size_t len)
{
    if (b->len != WIRE_HDR_LEN + len || memcmp(b->p + WIRE_HDR_LEN, body, len) != 0)
        abort();
}

static void fuzz_body(int which, const uint8_t *body, size_t len)
{
    struct wire_buf b;
    uint64_t seq;
    size_t n;

    wire_buf_init(&b);
    switch (which) {
    case WIRE_HELLO:
        if (wire_decode_hello(body, len, &fuzz_hello) == 0) {
            if (wire_encode_hello(&b, &fuzz_hello) != 0)
                abort();
            fuzz_same(&b, body, len);
        }
        break;
    case WIRE_ALERTS:
        if (wire_decode_alerts(body, len, fuzz_alerts, WIRE_MAX_BATCH, &n) == 0) {
            if (n < 1 || n > WIRE_MAX_BATCH || wire_alerts_begin(&b) != 0)
                abort();
            for (size_t i = 0; i < n; i++) {
                const struct wire_alert *a = &fuzz_alerts[i];
                if (a->data < body || a->data + a->len > body + len ||
                    wire_alerts_add(&b, a->seq, a->data, a->len) != 0)
                    abort();
            }
            if (wire_alerts_end(&b) != 0)
                abort();
            fuzz_same(&b, body, len);
        }
        break;
    case WIRE_ACK:
        if (wire_decode_ack(body, len, &seq) == 0) {
            if (wire_encode_ack(&b, seq) != 0)
                abort();
            fuzz_same(&b, body, len);
        }
        break;
    case WIRE_STATS:
        if (wire_decode_stats(body, len, &fuzz_stats) == 0) {
            if (fuzz_stats.n > WIRE_MAX_COUNTERS || wire_encode_stats(&b, &fuzz_stats) != 0)
                abort();
            fuzz_same(&b, body, len);
        }
        break;
    case WIRE_OFFER:
        if (wire_decode_offer(body, len, &fuzz_offer) == 0) {
            if (wire_encode_offer(&b, &fuzz_offer) != 0)
                abort();
            fuzz_same(&b, body, len);
        }
        break;
    case WIRE_FETCH: {
        struct wire_fetch f;
        if (wire_decode_fetch(body, len, &f) == 0) {
            if (wire_encode_fetch(&b, &f) != 0)
                abort();
            fuzz_same(&b, body, len);
        }
        break;
    }
    case WIRE_CHUNK: {
        struct wire_chunk c;
        if (wire_decode_chunk(body, len, &c) == 0) {
            if (c.data < body || c.data + c.len > body + len ||
                wire_encode_chunk(&b, c.version, c.offset, c.data, c.len) != 0)
                abort();
            fuzz_same(&b, body, len);
        }
        break;
    }
    case WIRE_RESULT:
        if (wire_decode_result(body, len, &fuzz_result) == 0) {
            if (wire_encode_result(&b, &fuzz_result) != 0)
                abort();
            fuzz_same(&b, body, len);
        }
        break;
    default:
        break;
    }
    wire_buf_fini(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    enum wire_type type;
    const uint8_t *body;
    size_t blen;

    if (size < 1)
        return 0;
    fuzz_body(1 + data[0] % 8, data + 1, size - 1);
    if (wire_decode_header(data + 1, size - 1, &type, &body, &blen) == 0) {
        if (body != data + 1 + WIRE_HDR_LEN || blen != size - 1 - WIRE_HDR_LEN)
            abort();
        fuzz_body((int)type, body, blen);
    }
    return 0;
}
