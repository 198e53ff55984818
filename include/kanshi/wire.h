/*
 * wire.h — the sensor ↔ collector protocol (owned by collector/, wire.c).
 *
 * Transport: one ZeroMQ connection per sensor, sensor DEALER → collector
 * ROUTER over TCP, always with CURVE.  Each kanshi message is exactly one
 * ZeroMQ frame (the ROUTER's routing-id frame is ZeroMQ's, not ours).  The
 * collector learns who sent a frame from the ZAP-authenticated CURVE key,
 * never from the frame.
 *
 * Every integer is big-endian (network order).  A frame is:
 *
 *   offset  size  field
 *   0       2     magic 0x4b 0x53 ("KS")
 *   2       1     protocol version, WIRE_VERSION (1)
 *   3       1     type (enum wire_type)
 *   4       4     body length N; the frame is exactly 8 + N bytes
 *   8       N     body, by type:
 *
 * HELLO (sensor → collector), sent on connect and after every reconnect:
 *   0   8   next_seq     the sequence number the sensor will give its next alert
 *   8   8   acked_seq    highest sequence the sensor holds as acknowledged (0: none)
 *   16  8   spool_bytes  bytes in the spool
 *   24  8   spool_alerts alerts in the spool not yet acknowledged
 *   32  ... strings, each as u16 length + bytes, in this order: software version,
 *           firmware version, ruleset version, schema version (WIRE_SCHEMA).
 *           Each at most WIRE_MAX_STR bytes, none of them NUL.
 *
 * ALERTS (sensor → collector):
 *   0   4   count C (1 ≤ C ≤ WIRE_MAX_BATCH)
 *   then C records:
 *   0   8   seq           the alert's 64-bit sequence number (≥ 1, strictly increasing
 *                         within the batch)
 *   8   4   length L      1 ≤ L ≤ WIRE_MAX_ALERT
 *   12  L   the alert: one EVE JSON object (no newline)
 *
 * ACK (collector → sensor):
 *   0   8   seq           every alert with a sequence ≤ seq is stored durably
 *
 * STATS (sensor → collector), a heartbeat every few seconds:
 *   0   8   uptime seconds
 *   8   2   count K (≤ WIRE_MAX_COUNTERS)
 *   10  ... K × { u16 counter id (enum wire_counter), u64 value }
 *           Unknown ids are skipped by the receiver (newer sensors may send more).
 *
 * OFFER (collector → sensor): a signed bundle (bundle.h) the sensor may fetch.
 *   0   8   version      the bundle's version (≥ 1), as its manifest says
 *   8   8   size         the bundle file's length in bytes
 *                        (1 ≤ size ≤ WIRE_MAX_BUNDLE)
 *   16  32  sha256       SHA-256 of the whole bundle file
 *   48  4   chunk        the most bytes one CHUNK carries (1 ≤ chunk ≤ WIRE_MAX_CHUNK)
 *   52  ... kind         string (u16 length + bytes, ≤ WIRE_MAX_STR, no NUL),
 *                        e.g. "rules" or "firmware"
 *   The collector names a version only with the bytes it will serve for it:
 *   the SHA-256 ties the CHUNKs to this OFFER, and the bundle's own Ed25519
 *   signature (checked by the sensor, never by the wire) ties it to a
 *   release key.
 *
 * FETCH (sensor → collector): asks for the bytes of an offered bundle.
 *   0   8   version      ≥ 1
 *   8   8   offset       first byte wanted (< the offered size; the
 *                        collector checks that, the wire cannot)
 *
 * CHUNK (collector → sensor): the answer to a FETCH.
 *   0   8   version      ≥ 1
 *   8   8   offset       where the bytes go in the bundle file
 *   16  4   length L     1 ≤ L ≤ WIRE_MAX_CHUNK
 *   20  L   the bytes
 *   A sensor writes a chunk only at the offset it asked for; the SHA-256 of
 *   the OFFER decides whether the assembled file is the bundle.
 *
 * RESULT (sensor → collector): what became of an offered bundle.
 *   0   8   version      ≥ 1
 *   8   1   status       WIRE_RESULT_APPLIED (1) or WIRE_RESULT_REJECTED (2)
 *   9   ... reason       string (u16 length + bytes, ≤ WIRE_MAX_REASON, no NUL):
 *                        empty or a note when applied, why when rejected
 *                        (e.g. "rollback: version 3 is not above 4")
 *
 * A version of 0, a size or chunk length out of range or an unknown status is
 * WIRE_EVALUE.  A frame type a peer does not send in its direction (an OFFER
 * from a sensor) is valid wire and refused by the receiver.
 *
 * Anything else — a wrong magic, version or type, a length that does not
 * match the frame, a count or length out of range, trailing bytes — is
 * rejected whole with a named reason (wire_strerror) and counted; nothing of
 * a rejected frame is used.
 */
#ifndef KANSHI_WIRE_H
#define KANSHI_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define WIRE_MAGIC0 0x4b
#define WIRE_MAGIC1 0x53
#define WIRE_VERSION 1
#define WIRE_SCHEMA "eve-kanshi-1"
#define WIRE_HDR_LEN 8
#define WIRE_MAX_FRAME (8u << 20)  /* 8 MiB */
#define WIRE_MAX_BATCH 2000u       /* alerts per ALERTS frame */
#define WIRE_MAX_ALERT (256u << 10) /* bytes per alert */
#define WIRE_MAX_STR 256u
#define WIRE_MAX_COUNTERS 256u
#define WIRE_MAX_CHUNK (1u << 20)              /* bytes per CHUNK */
#define WIRE_MAX_BUNDLE ((uint64_t)1 << 30)    /* bytes per offered bundle (BUNDLE_MAX_SIZE) */
#define WIRE_MAX_REASON 1024u                  /* bytes of a RESULT's reason */
#define WIRE_SHA256_LEN 32

enum wire_type {
    WIRE_HELLO = 1,
    WIRE_ALERTS = 2,
    WIRE_ACK = 3,
    WIRE_STATS = 4,
    WIRE_OFFER = 5,
    WIRE_FETCH = 6,
    WIRE_CHUNK = 7,
    WIRE_RESULT = 8,
};

/* STATS counter ids.  Never renumber; add at the end. */
enum wire_counter {
    WC_PACKETS = 1,
    WC_BYTES = 2,
    WC_KERNEL_DROPS = 3,
    WC_IF_DROPS = 4,
    WC_DECODE_INVALID = 5,
    WC_FLOWS_ACTIVE = 6,
    WC_FLOW_MEMCAP_DROPS = 7,
    WC_ALERTS = 8,
    WC_SPOOL_BYTES = 9,
    WC_SPOOL_ALERTS = 10,
    WC_SPOOL_DROPPED = 11, /* alerts lost because the spool was full */
    WC_UPLINK_SENT = 12,
    WC_UPLINK_ACKED = 13,
};

/* Reasons a frame is rejected (negative, distinct from -errno). */
enum wire_error {
    WIRE_ESHORT = -2000,   /* shorter than the header */
    WIRE_EMAGIC,           /* bad magic */
    WIRE_EVERSION,         /* unsupported version */
    WIRE_ETYPE,            /* unknown or unsupported type */
    WIRE_ELENGTH,          /* body length does not match the frame */
    WIRE_ETOOBIG,          /* frame larger than WIRE_MAX_FRAME */
    WIRE_ETRUNC,           /* body ends inside a field */
    WIRE_ECOUNT,           /* count out of range */
    WIRE_ESEQ,             /* sequence 0 or not increasing */
    WIRE_EALERTLEN,        /* alert length 0 or over WIRE_MAX_ALERT */
    WIRE_ESTR,             /* string over WIRE_MAX_STR */
    WIRE_ETRAILING,        /* bytes after the last field */
    WIRE_EVALUE,           /* a field out of its range (version 0, bad status, ...) */
};

enum wire_result_status {
    WIRE_RESULT_APPLIED = 1,
    WIRE_RESULT_REJECTED = 2,
};

const char *wire_strerror(int err);

struct wire_hello {
    uint64_t next_seq, acked_seq, spool_bytes, spool_alerts;
    char software[WIRE_MAX_STR + 1], firmware[WIRE_MAX_STR + 1];
    char ruleset[WIRE_MAX_STR + 1], schema[WIRE_MAX_STR + 1];
};

/* One alert of a decoded ALERTS frame: points into the frame. */
struct wire_alert {
    uint64_t seq;
    const uint8_t *data;
    uint32_t len;
};

struct wire_counter_val {
    uint16_t id;
    uint64_t value;
};

struct wire_stats {
    uint64_t uptime;
    uint16_t n;
    struct wire_counter_val c[WIRE_MAX_COUNTERS];
};

struct wire_offer {
    uint64_t version, size;
    uint8_t sha256[WIRE_SHA256_LEN];
    uint32_t chunk;
    char kind[WIRE_MAX_STR + 1];
};

struct wire_fetch {
    uint64_t version, offset;
};

/* A decoded CHUNK: data points into the frame. */
struct wire_chunk {
    uint64_t version, offset;
    const uint8_t *data;
    uint32_t len;
};

struct wire_result {
    uint64_t version;
    uint8_t status; /* enum wire_result_status */
    char reason[WIRE_MAX_REASON + 1];
};

/* Checks the header of a frame of len bytes; on success sets *type and
 * *body and *body_len.  Returns 0 or a wire_error. */
int wire_decode_header(const uint8_t *p, size_t len, enum wire_type *type, const uint8_t **body,
                       size_t *body_len);

/* Body decoders: each validates the whole body first. */
int wire_decode_hello(const uint8_t *body, size_t len, struct wire_hello *out);
/* Fills up to max alerts; *n gets the count.  Returns 0 or a wire_error
 * (WIRE_ECOUNT when the frame holds more than max). */
int wire_decode_alerts(const uint8_t *body, size_t len, struct wire_alert *out, size_t max,
                       size_t *n);
int wire_decode_ack(const uint8_t *body, size_t len, uint64_t *seq);
int wire_decode_stats(const uint8_t *body, size_t len, struct wire_stats *out);
int wire_decode_offer(const uint8_t *body, size_t len, struct wire_offer *out);
int wire_decode_fetch(const uint8_t *body, size_t len, struct wire_fetch *out);
int wire_decode_chunk(const uint8_t *body, size_t len, struct wire_chunk *out);
int wire_decode_result(const uint8_t *body, size_t len, struct wire_result *out);

/* Encoders write a whole frame (header included) into a growable buffer. */
struct wire_buf {
    uint8_t *p;
    size_t len, cap;
};
void wire_buf_init(struct wire_buf *b);
void wire_buf_fini(struct wire_buf *b);

int wire_encode_hello(struct wire_buf *b, const struct wire_hello *h);
/* ALERTS is built incrementally: begin, add (returns -E2BIG when the frame
 * would pass WIRE_MAX_FRAME or WIRE_MAX_BATCH), end. */
int wire_alerts_begin(struct wire_buf *b);
int wire_alerts_add(struct wire_buf *b, uint64_t seq, const uint8_t *data, uint32_t len);
int wire_alerts_end(struct wire_buf *b);
uint32_t wire_alerts_count(const struct wire_buf *b);
int wire_encode_ack(struct wire_buf *b, uint64_t seq);
int wire_encode_stats(struct wire_buf *b, const struct wire_stats *s);
/* The bundle messages; -EINVAL for a value the decoder would refuse (so an
 * encoded frame always decodes). */
int wire_encode_offer(struct wire_buf *b, const struct wire_offer *o);
int wire_encode_fetch(struct wire_buf *b, const struct wire_fetch *f);
int wire_encode_chunk(struct wire_buf *b, uint64_t version, uint64_t offset, const uint8_t *data,
                      uint32_t len);
int wire_encode_result(struct wire_buf *b, const struct wire_result *r);

#endif
